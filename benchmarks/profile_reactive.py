"""Profile where the reactive kernel spends its time (used for docs/benchmarks.md findings).

    python benchmarks/profile_reactive.py [--cells 1000] [--history 10000] [--top 25]

1. In-process: cProfile of deciding what to run after an edit at the top (set_source + plan)
   in a chain and in an independent notebook of ``--cells`` cells.
2. In the kernel, over ZMQ: cProfile of the kernel's main thread (enabled from a cell; the
   profiler stays on for the requests that follow) while 100 more cells run in a notebook
   of ``--cells`` cells.
3. In the kernel: the cost of the per-run namespace snapshot, at start and after
   ``--history`` executions.
0. First, without a profiler: the reactive layer's own time per request (new cells and
   re-runs) at a few notebook sizes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import graph_bench  # noqa: E402
from driver import Kernel  # noqa: E402
from reactive_kernel.analysis import analyse  # noqa: E402


def in_process(n: int, top: int) -> None:
    for shape in graph_bench.SHAPES:
        graph, _, _ = graph_bench._sync(shape, n)
        graph_bench._ran_all(graph)
        profiler = cProfile.Profile()
        profiler.enable()
        for rep in range(20):
            src = f"v0 = {5000 + rep}"
            graph.set_source("c0", src, analyse(src))
            graph.plan("c0", auto=True)
        profiler.disable()
        print(f"\n=== in-process: 20 × (edit first cell + plan), {shape}, {n} cells ===")
        _print(profiler, top)


def _print(profiler: cProfile.Profile, top: int) -> None:
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(top)
    print(buffer.getvalue())


def in_kernel(n: int, top: int) -> None:
    k = Kernel("reactive", "reactive")
    k.start()
    try:
        k.execute_many(graph_bench_cells(n))
        k.execute("import cProfile as _cp\n_bench_prof = _cp.Profile()\n_bench_prof.enable()")
        times = [k.execute(f"w{j} = {j}", f"more-{j}").elapsed for j in range(100)]
        r = k.execute(
            "_bench_prof.disable()\nimport pstats as _ps\n"
            f"_ps.Stats(_bench_prof).sort_stats('tottime').print_stats({top})"
        )
        times.sort()
        print(f"\n=== in the kernel: 100 new cells in a {n}-cell notebook (median round trip "
              f"{times[50] * 1e3:.1f} ms under the profiler) ===")
        print(r.stdout)
    finally:
        k.stop()


def graph_bench_cells(n: int) -> list[tuple[str, str]]:
    return [(src, f"nb-{i}") for i, src in enumerate(graph_bench.sources("independent", n))]


OVERHEAD_PROBE = """
import time as _t
_ex = get_ipython().kernel.reactive
_orig = getattr(_ex, '_bench_orig', None) or _ex.execute
_ex._bench_orig = _orig
_bench = {'total': 0.0, 'inner': 0.0, 'n': 0}
async def _timed(run, *args, **kwargs):
    async def inner(*a, **kw):
        t0 = _t.perf_counter()
        try:
            return await run(*a, **kw)
        finally:
            _bench['inner'] += _t.perf_counter() - t0
    t0 = _t.perf_counter()
    try:
        return await _orig(inner, *args, **kwargs)
    finally:
        _bench['total'] += _t.perf_counter() - t0
        _bench['n'] += 1
_ex.execute = _timed
"""


def overhead(sizes: list[int], runs: int = 200) -> None:
    """The reactive layer's own time per request, measured in the kernel without a profiler:
    ``ReactiveExecutor.execute`` minus the wrapped ipykernel ``do_execute`` calls."""
    print("\n=== reactive layer time per request (execute minus the wrapped do_execute) ===")
    for shape in graph_bench.SHAPES:
        for n in sizes:
            k = Kernel("reactive", "reactive")
            k.start()
            try:
                cells = [(src, f"nb-{i}") for i, src in enumerate(graph_bench.sources(shape, n))]
                k.execute_many(cells)
                k.execute(OVERHEAD_PROBE)
                last = f"v{n - 1}"
                for j in range(runs):
                    k.execute(f"w{j} = {last}" if shape == "chain" else f"w{j} = {j}", f"new-{j}")
                new = k.execute("print('BENCH_INNER', (_bench['total'] - _bench['inner']) / "
                                "_bench['n'])").inner
                k.execute(OVERHEAD_PROBE)
                for _ in range(runs):
                    k.execute("y = 1", "rerun")
                rerun = k.execute("print('BENCH_INNER', (_bench['total'] - _bench['inner']) / "
                                  "_bench['n'])").inner
                print(f"{shape:12} {n:5} cells: new cell {new * 1e3:6.2f} ms, "
                      f"re-run of one cell {rerun * 1e3:6.2f} ms")
            finally:
                k.stop()


def snapshot_cost(history: int) -> None:
    probe = (
        "import timeit as _ti\n"
        "_r = get_ipython().kernel.reactive\n"
        "print('BENCH_INNER', _ti.timeit(_r._snapshot, number=50) / 50)\n"
        "print('names', len(get_ipython().user_ns))"
    )
    k = Kernel("reactive", "reactive")
    k.start()
    try:
        r = k.execute(probe)
        print(f"\n=== snapshot of the namespace (twice per cell run) ===\nat start: "
              f"{r.inner * 1e3:.3f} ms, {r.stdout.split('names')[-1].strip()} names")
        done = 0
        while done < history:
            batch = [(f"m{i % 100} = {i}", f"mem-{i % 100}") for i in range(done, done + 500)]
            k.execute_many(batch)
            done += 500
        r = k.execute(probe)
        print(f"after {history:,} executions: {r.inner * 1e3:.3f} ms, "
              f"{r.stdout.split('names')[-1].strip()} names in user_ns")
    finally:
        k.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--history", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--overhead-only", action="store_true")
    args = parser.parse_args()
    overhead([10, 100, args.cells])
    if args.overhead_only:
        return
    in_process(args.cells, args.top)
    in_kernel(args.cells, args.top)
    snapshot_cost(args.history)


if __name__ == "__main__":
    main()
