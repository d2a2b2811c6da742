"""Profile where the reactive kernel spends its time (used for docs/benchmarks.md findings).

    python benchmarks/profile_reactive.py [--cells 1000] [--history 10000] [--top 25]

1. In-process: cProfile of deciding what to run after an edit at the top (set_source + plan)
   in a chain and in an independent notebook of ``--cells`` cells.
2. In the kernel, over ZMQ: cProfile of the kernel's main thread (enabled from a cell; the
   profiler stays on for the requests that follow) while 100 more cells run in a notebook
   of ``--cells`` cells.
3. In the kernel: the cost of the per-run namespace snapshot, at start and after
   ``--history`` executions.
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
    args = parser.parse_args()
    in_process(args.cells, args.top)
    in_kernel(args.cells, args.top)
    snapshot_cost(args.history)


if __name__ == "__main__":
    main()
