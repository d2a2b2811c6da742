"""In-process cost of the reactive bookkeeping versus notebook size (no kernel, no ZMQ).

Uses the pure ``reactive_kernel.graph.Graph`` fed with analyses from
``reactive_kernel.analysis.analyse``, exactly the calls the kernel makes per request:

* sync: analyse every cell and ``Graph.set_source`` it, then compute every cell's status;
* decide after an edit at the top: ``set_source`` of the edited first cell, ``orphans`` and
  ``Graph.plan(first, auto=True)``, exactly the kernel's calls before it runs anything; then,
  separately, every cell's status from scratch (what a frontend's state message needs) and
  the plan once those are known;
* bookkeeping per executed cell: what the kernel does for one more cell run at the end of an
  N-cell notebook (``set_source`` + ``orphans`` + ``plan`` + ``to_clear`` + ``record_run`` + ``orphans``);
* cascade bookkeeping: ``to_clear`` + ``record_run`` + ``orphans`` for every cell the edit re-runs.

Two notebook shapes: ``independent`` (``v{i} = {i}``) and ``chain`` (``v{i} = v{i-1} + 1``),
so an edit at the top affects 1 cell or every cell.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from reactive_kernel.analysis import analyse
from reactive_kernel.graph import Graph

SHAPES = ("independent", "chain")


def sources(shape: str, n: int) -> list[str]:
    if shape == "independent":
        return [f"v{i} = {i}" for i in range(n)]
    return ["v0 = 0"] + [f"v{i} = v{i - 1} + 1" for i in range(1, n)]


def cell_ids(n: int, prefix: str = "c") -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def _sync(shape: str, n: int) -> tuple[Graph, float, float]:
    srcs = sources(shape, n)
    t0 = time.perf_counter()
    analyses = [analyse(src) for src in srcs]
    t1 = time.perf_counter()
    graph = Graph()
    for cid, src, analysis in zip(cell_ids(n), srcs, analyses):
        graph.set_source(cid, src, analysis)
    graph.status()
    t2 = time.perf_counter()
    return graph, t1 - t0, t2 - t0


def _request(graph: Graph) -> None:
    """What the kernel asks the graph once per execute_request, before planning."""
    if hasattr(graph, "orphans"):
        graph.orphans()


def _before_run(graph: Graph, cell_id: str) -> None:
    """What the kernel asks the graph just before each cell it runs (names to drop first).

    The API has changed names over versions; call whichever this graph has.
    """
    if hasattr(graph, "to_clear"):
        graph.to_clear(cell_id)
    elif hasattr(graph, "unavailable"):
        graph.unavailable(cell_id)
    elif hasattr(graph, "drop_orphans"):
        graph.drop_orphans(cell_id)
    elif hasattr(graph, "begin_run"):
        graph.begin_run(cell_id)


def _record(graph: Graph, cell_id: str) -> None:
    """The kernel's bookkeeping around one cell run that bound what the cell defines."""
    _before_run(graph, cell_id)
    graph.record_run(cell_id, ok=True, bound=graph.cells[cell_id].defines)
    if hasattr(graph, "to_clear"):  # since it exists, the kernel settles after every run
        graph.orphans()


def _ran_all(graph: Graph) -> None:
    """Record that every cell ran once, top to bottom (as a Run All would)."""
    for cid in graph.order:
        _record(graph, cid)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def bench_size(shape: str, n: int, reps: int) -> dict[str, Any]:
    """All in-process measurements for one notebook; each a list of ``reps`` samples (s)."""
    out: dict[str, Any] = {"shape": shape, "cells": n}
    analyse_s, sync_s = [], []
    graph = None
    for _ in range(reps):
        graph, a, s = _sync(shape, n)
        analyse_s.append(a)
        sync_s.append(s)
    assert graph is not None
    out["analyse"] = analyse_s
    out["sync"] = sync_s
    _ran_all(graph)
    assert all(st.state == "ok" for st in graph.status().values())

    # One more cell executed at the end of an up-to-date notebook: the kernel's per-request
    # bookkeeping.
    per_cell = []
    last = graph.order[-1]
    for rep in range(reps):
        cid = f"extra{rep}"
        src = f"w{rep} = v{n - 1}" if shape == "chain" else f"w{rep} = {rep}"
        analysis = analyse(src)

        def one_cell() -> None:
            graph.set_source(cid, src, analysis)
            _request(graph)
            plan = graph.plan(cid, auto=True)
            for planned in plan.cells:
                _record(graph, planned)

        t, _ = _timed(one_cell)
        per_cell.append(t)
    # The extra cells stay while sampling (deleting one re-indexes and drops every cached
    # status, which the next sample would pay for); they go before the edit benchmarks.
    graph.delete(graph.order[-reps:])
    _request(graph)
    assert graph.order[-1] == last
    out["per_cell"] = per_cell

    first = graph.order[0]
    decide, status_s, plan_s, set_s, affected = [], [], [], [], 0
    for rep in range(reps):
        src = f"v0 = {1000 + 2 * rep}"  # a new source every time: a real edit
        analysis = analyse(src)
        t_set, _ = _timed(lambda: graph.set_source(first, src, analysis))

        def decide_plan() -> Any:
            _request(graph)
            return graph.plan(first, auto=True)

        t_plan, plan = _timed(decide_plan)
        decide.append(t_set + t_plan)
        set_s.append(t_set)
        affected = len(plan.cells)
        # The same decision again, split: statuses from scratch, then the plan given them.
        src = f"v0 = {1001 + 2 * rep}"
        analysis = analyse(src)
        graph.set_source(first, src, analysis)
        t_status, _ = _timed(graph.status)
        t_plan_only, plan2 = _timed(lambda: graph.plan(first, auto=True))
        assert plan2.cells == plan.cells
        status_s.append(t_status)
        plan_s.append(t_plan_only)
    out["set_source"] = set_s
    out["decide"] = decide
    out["status"] = status_s
    out["plan"] = plan_s
    out["affected"] = affected
    expected = n if shape == "chain" else 1
    assert affected == expected, (shape, n, affected)


    # Cascade bookkeeping: record the re-runs each edit's plan asks for (mutates the graph).
    cascade_s = []
    for rep in range(reps):
        src = f"v0 = {-1 - rep}"
        graph.set_source(first, src, analyse(src))
        _request(graph)
        plan = graph.plan(first, auto=True)

        def cascade() -> None:
            for planned in plan.cells:
                _record(graph, planned)
            graph.status()

        t, _ = _timed(cascade)
        cascade_s.append(t)
    out["cascade"] = cascade_s
    assert all(st.state == "ok" for st in graph.status().values())
    return out


def summarise(samples: list[float]) -> tuple[float, float, float]:
    return statistics.median(samples), min(samples), max(samples)


if __name__ == "__main__":  # quick look: python benchmarks/graph_bench.py
    import sys

    sizes = [int(a) for a in sys.argv[1:]] or [10, 100, 1000]
    for shape in SHAPES:
        for n in sizes:
            r = bench_size(shape, n, reps=3)
            keys = ("sync", "decide", "status", "plan", "per_cell", "cascade")
            print(
                f"{shape:12} {n:6}",
                " ".join(f"{k}={summarise(r[k])[0] * 1e3:8.2f}ms" for k in keys),
                f"affected={r['affected']}",
            )
