"""In-process cost of observing what a cell changed in place, on large objects (no kernel).

Before and after every cell, the reactive kernel fingerprints the objects reachable from the
names the cell reads (``reactive_kernel.effects.watch`` before, ``effects.changes`` after),
and checks whether the global random generators moved (``random_state.probe()`` before and
after, compared; the full ``random_state.capture()`` only after a draw, or before and after
every cell in kernels without ``probe``). This measures those calls for a cell that only
reads one of three large objects, and the random generators' part on its own:

* ``dataframe``: a pandas DataFrame of 1,250,000 x 10 float64 (100 MB); cell ``n = len(df)``;
* ``array``: a 1 GiB float64 numpy array (``np.ones(2**27)``); cell ``v = big[0]``;
* ``model``: a plain Python class holding four 500 x 500 float64 weight matrices (10^6
  parameters, 8 MB); cell ``y = model.predict(x0)``, which only reads the weights.

The objects are built by the same setup code the kernel round-trip benchmark
(``kernel_bench.bench_objects``) sends to the kernels, in a plain dict standing for
``user_ns``; the names watched are the timed cell's reads as ``reactive_kernel.analysis``
finds them (what the kernel watches). Per object: the time of ``watch`` + ``changes`` (the
timed cell itself runs in between, untimed), median of ``runs`` after ``warmups``; and the
peak memory allocated during ``watch`` + ``changes`` above what was allocated before, with
tracemalloc (numpy reports its buffers to tracemalloc, so a copy of user data would show).

    python benchmarks/observation_bench.py            # target sizes (100 MB, 1 GiB, 10^6)
    python benchmarks/observation_bench.py --small    # ~10 MB objects, as --quick/--smoke
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The sizes the targets are stated for, and the reduced ones for --quick and --smoke.
FULL = {"rows": 1_250_000, "array": 2**27}
SMALL = {"rows": 125_000, "array": 10 * 2**17}  # a 10 MB frame, a 10 MiB array

MODEL_CLASS = '''
class Model:
    """A 4-layer perceptron: 4 x 500 x 500 float64 weights, 10^6 parameters."""

    def __init__(self, width=500, layers=4, seed=0):
        rng = np.random.default_rng(seed)
        self.weights = [rng.standard_normal((width, width)) / width**0.5
                        for _ in range(layers)]
        self.name = "mlp"

    def predict(self, x):
        for w in self.weights:
            x = np.tanh(w @ x)
        return x
'''


@dataclass(frozen=True)
class Case:
    key: str
    title: str  # what the object is, with its size
    short: str  # the same in a few words
    setup: str  # builds the object (run once, untimed)
    timed: str  # the cell that only reads it
    nbytes: int  # bytes of user data in the object
    full_size: bool  # the size the targets are stated for


def cases(small: bool = False) -> list[Case]:
    size = SMALL if small else FULL
    rows, n = size["rows"], size["array"]
    frame_bytes, array_bytes = rows * 10 * 8, n * 8
    return [
        Case(
            "dataframe",
            f"pandas DataFrame {rows:,} × 10 float64 ({_size(frame_bytes)})",
            f"{_size(frame_bytes)} DataFrame",
            "import numpy as np\nimport pandas as pd\n"
            f"df = pd.DataFrame(np.random.default_rng(0).random(({rows}, 10)),\n"
            "                  columns=[f'c{i}' for i in range(10)])\n",
            "n = len(df)",
            frame_bytes,
            not small,
        ),
        Case(
            "array",
            f"numpy float64 array of {n:,} ({_size(array_bytes)})",
            f"{_size(array_bytes)} array",
            f"import numpy as np\nbig = np.ones({n})\n",
            "v = big[0]",
            array_bytes,
            not small,
        ),
        Case(
            "model",
            "model object, 4 × 500 × 500 float64 weights (10⁶ parameters, 8 MB)",
            "10⁶-parameter model",
            "import numpy as np\n" + MODEL_CLASS + "model = Model()\nx0 = np.ones(500)\n",
            "y = model.predict(x0)",
            4 * 500 * 500 * 8 + 500 * 8,
            True,
        ),
    ]


def _size(nbytes: int) -> str:
    if nbytes >= 2**30 and nbytes % 2**30 == 0:
        return f"{nbytes // 2**30} GiB"
    if nbytes % 2**20 == 0:
        return f"{nbytes // 2**20} MiB"
    return f"{nbytes / 1e6:.0f} MB"


def reads(code: str) -> list[str]:
    """The names a cell reads, as the kernel's analysis finds them."""
    from reactive_kernel.analysis import analyse

    return sorted(analyse(code).reads)


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


def bench_case(case: Case, runs: int = 21, warmups: int = 2) -> dict[str, Any]:
    from reactive_kernel import effects

    ns: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(case.setup, "<setup>", "exec"), ns)  # noqa: S102 - our own benchmark code
    names = reads(case.timed)
    timed = compile(case.timed, "<cell>", "exec")
    watch_s, changes_s, total_s = [], [], []
    for i in range(warmups + runs):
        t0 = time.perf_counter()
        watched = effects.watch(ns, names)
        t1 = time.perf_counter()
        exec(timed, ns)  # noqa: S102
        t2 = time.perf_counter()
        found = effects.changes(ns, watched)
        t3 = time.perf_counter()
        if found.names:
            raise RuntimeError(f"{case.key}: a read-only cell was seen to change {found.names}")
        if i >= warmups:
            watch_s.append(t1 - t0)
            changes_s.append(t3 - t2)
            total_s.append((t1 - t0) + (t3 - t2))
    objects = len(watched.states)
    opaque = sorted(watched.opaque)
    peak = _peak_bytes(lambda: effects.changes(ns, effects.watch(ns, names)))
    result = {
        "key": case.key, "title": case.title, "short": case.short, "timed": case.timed,
        "names": names,
        "nbytes": case.nbytes, "full_size": case.full_size, "runs": runs, "warmups": warmups,
        "watch": watch_s, "changes": changes_s, "observe": total_s,
        "peak_bytes": peak, "objects": objects, "opaque": opaque,
    }
    return result


def bench_random(runs: int = 21, warmups: int = 2) -> dict[str, Any]:
    """The global random generators, with numpy imported (so both ``random``'s and
    ``numpy.random``'s are tracked). ``per_cell``: what the kernel does around every cell:
    ``random_state.probe()`` before and after, compared (kernels without ``probe`` capture
    the full states instead). ``capture``: ``random_state.capture()`` before and after, and
    the comparison of the two (the full states, which the kernel keeps after a draw)."""
    import numpy.random  # noqa: F401 - the kernel tracks numpy's generator once imported

    from reactive_kernel import random_state

    def captures() -> None:
        before = random_state.capture()
        after = random_state.capture()
        if _states_differ(random_state, before, after):
            raise RuntimeError("the random generators changed with nothing drawn")

    probe = getattr(random_state, "probe", None)

    def probes() -> None:
        before = probe()
        after = probe()
        if {n for n in after if before.get(n) != after[n]}:
            raise RuntimeError("the random generators changed with nothing drawn")

    per_cell = probes if probe is not None else captures
    out: dict[str, Any] = {
        "key": "random", "generators": sorted(random_state.capture()), "runs": runs,
        "warmups": warmups,
        "per_cell_how": "probe() ×2 + compare" if probe else "capture() ×2 + compare",
    }
    for key, action in (("per_cell", per_cell), ("capture", captures)):
        samples = []
        for i in range(warmups + runs):
            t0 = time.perf_counter()
            action()
            if i >= warmups:
                samples.append(time.perf_counter() - t0)
        out[key] = samples
        out[f"{key}_peak_bytes"] = _peak_bytes(action)
    # What the targets judge: the random state's share of every cell.
    out["observe"], out["peak_bytes"] = out["per_cell"], out["per_cell_peak_bytes"]
    return out


def _states_differ(random_state: Any, before: dict[str, Any], after: dict[str, Any]) -> bool:
    changed = getattr(random_state, "changed", None)
    if changed is not None:
        return bool(changed(before, after))

    def key(state: Any) -> Any:  # numpy's state holds an array
        if isinstance(state, tuple) and len(state) == 5 and hasattr(state[1], "tobytes"):
            return (state[0], state[1].tobytes(), *state[2:])
        return state

    return any(n not in before or key(before[n]) != key(after[n]) for n in after)


def _peak_bytes(action: Callable[[], Any]) -> int:
    """Peak memory allocated while ``action`` runs, above what was allocated before it (its
    result is dropped before measuring the end, so only the peak counts)."""
    gc.collect()
    started = tracemalloc.is_tracing()
    if not started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        action()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not started:
            tracemalloc.stop()
    return max(peak - base, 0)


def bench_observation(small: bool = False, runs: int = 21, warmups: int = 2,
                      log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every case, one after the other (each object is freed before the next is built)."""
    out: dict[str, Any] = {"cases": [], "random": {}}
    for case in cases(small):
        result = bench_case(case, runs, warmups)
        gc.collect()  # the object goes before the next one is built
        out["cases"].append(result)
        log(f"  observing {case.key}: {_median_ms(result['observe']):.2f} ms, "
            f"peak +{result['peak_bytes'] / 1024:.1f} KiB")
    out["random"] = rnd = bench_random(runs, warmups)
    log(f"  random state per cell ({rnd['per_cell_how']}): {_median_ms(rnd['per_cell']):.3f} ms, "
        f"peak +{rnd['per_cell_peak_bytes'] / 1024:.1f} KiB; capture() ×2 + compare: "
        f"{_median_ms(rnd['capture']):.3f} ms, peak +{rnd['capture_peak_bytes'] / 1024:.1f} KiB")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true",
                        help="~10 MB objects instead of the target sizes (as --quick/--smoke)")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--warmups", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results = bench_observation(args.small, args.runs, args.warmups,
                                log=lambda m: print(m, file=sys.stderr))
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    print(f"{'object':<72} {'names':<12} {'median ms':>9} {'min–max ms':>15} {'peak KiB':>9}")
    rnd = results["random"]
    rows = [(r["title"], ",".join(r["names"]), r["observe"], r["peak_bytes"])
            for r in results["cases"]]
    rows += [(f"random state per cell: {rnd['per_cell_how']}", "", rnd["per_cell"],
              rnd["per_cell_peak_bytes"]),
             ("random state: capture() ×2 + compare", "", rnd["capture"],
              rnd["capture_peak_bytes"])]
    for title, names, samples, peak in rows:
        s = [x * 1e3 for x in samples]
        print(f"{title:<72} {names:<12} {statistics.median(s):>9.3f} "
              f"{min(s):>7.3f}–{max(s):<7.3f} {peak / 1024:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
