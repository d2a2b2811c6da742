"""One notebook shape at one size: Run All, then new cells run one at a time with the kernels
interleaved cell by cell, then each kernel's RSS (a quick check of one row of the "notebook
size" table in docs/benchmarks.md).

    python benchmarks/size_point.py [--shape independent|chain] [--cells 10000] [--extra 40]
                                    [--against REV]

``--against REV`` adds a third kernel running reactive_kernel/ as committed at ``REV`` (a
frozen copy first on its PYTHONPATH): a change's effect, measured side by side.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from driver import Kernel  # noqa: E402
from kernel_bench import _check, notebook, rotated  # noqa: E402
from run import frozen_copy  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", choices=("independent", "chain"), default="independent")
    parser.add_argument("--cells", type=int, default=10_000)
    parser.add_argument("--extra", type=int, default=40)
    parser.add_argument("--against", metavar="REV", help="also reactive_kernel/ at REV")
    args = parser.parse_args()
    kernels = [Kernel("ipykernel", "python3"), Kernel("reactive", "reactive")]
    if args.against:
        kernels.append(Kernel(f"reactive@{args.against}", "reactive", frozen_copy(args.against)))
    live = {k.label: k for k in kernels}
    times: dict[str, list[float]] = {label: [] for label in live}
    try:
        for k in kernels:
            k.start()
            _check(k.execute("pass", "warm"), "warm-up")
            _, results = k.execute_many(notebook(args.shape, args.cells))
            bad = [r for r in results if r.status != "ok"]
            if bad:
                raise RuntimeError(f"{k.label}: {bad[0].status} {bad[0].errors}")
        last = f"v{args.cells - 1}"
        for j in range(args.extra):
            src = f"w{j} = {last}" if args.shape == "chain" else f"w{j} = {j}"
            for label in rotated(list(live), j):
                times[label].append(_check(live[label].execute(src, f"extra-{j}"), "extra").elapsed)
        rss = {label: k.rss_mb() for label, k in live.items()}
    finally:
        for k in kernels:
            k.stop()
    base = statistics.median(times["ipykernel"])
    rows = [f"{label} {statistics.median(times[label]) * 1e3:.2f} ms "
            f"({statistics.median(times[label]) / base:.3f}×), RSS {rss[label]:.1f} MiB "
            f"({rss[label] - rss['ipykernel']:+.1f})" for label in live]
    print(f"{args.shape}, {args.cells:,} cells, one more cell (median of {args.extra}): "
          + "; ".join(rows))


if __name__ == "__main__":
    main()
