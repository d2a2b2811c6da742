"""One notebook shape at one size: Run All, then new cells run one at a time with the kernels
interleaved cell by cell, then each kernel's RSS (a quick check of one row of the "notebook
size" table in docs/benchmarks.md).

    python benchmarks/size_point.py [--shape independent|chain] [--cells 10000] [--extra 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from driver import Kernel  # noqa: E402
from kernel_bench import _check, notebook, rotated  # noqa: E402

KERNELS = {"ipykernel": "python3", "reactive": "reactive"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", choices=("independent", "chain"), default="independent")
    parser.add_argument("--cells", type=int, default=10_000)
    parser.add_argument("--extra", type=int, default=40)
    args = parser.parse_args()
    live = {label: Kernel(label, spec) for label, spec in KERNELS.items()}
    times: dict[str, list[float]] = {label: [] for label in KERNELS}
    try:
        for k in live.values():
            k.start()
            _check(k.execute("pass", "warm"), "warm-up")
            _, results = k.execute_many(notebook(args.shape, args.cells))
            bad = [r for r in results if r.status != "ok"]
            if bad:
                raise RuntimeError(f"{k.label}: {bad[0].status} {bad[0].errors}")
        last = f"v{args.cells - 1}"
        for j in range(args.extra):
            src = f"w{j} = {last}" if args.shape == "chain" else f"w{j} = {j}"
            for label in rotated(list(KERNELS), j):
                times[label].append(_check(live[label].execute(src, f"extra-{j}"), "extra").elapsed)
        rss = {label: k.rss_mb() for label, k in live.items()}
    finally:
        for k in live.values():
            k.stop()
    base, reactive = (statistics.median(times[label]) for label in KERNELS)
    print(f"{args.shape}, {args.cells:,} cells: one more cell {base * 1e3:.2f} ms (ipykernel), "
          f"{reactive * 1e3:.2f} ms (reactive), {reactive / base:.3f}×; RSS {rss['ipykernel']:.1f}"
          f" / {rss['reactive']:.1f} MiB ({rss['reactive'] - rss['ipykernel']:+.1f})")


if __name__ == "__main__":
    main()
