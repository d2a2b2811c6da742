"""Every loop in planning and running ends (docs/semantics.md, "Why every request ends").

Random notebooks with manual cells, self-reference (``x = x + 1``), names learnt at run time,
changes in place in both directions and failures: the graph's planning, states and orphans
finish within the bounds the docs give, and a request on a notebook that never settles is
answered.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reactive_kernel.analysis import CellAnalysis
from reactive_kernel.graph import Graph
from test_execution import execute, executor_with

NAMES = ("a", "b", "c", "d")


@contextmanager
def finishes_within(seconds: int) -> Iterator[None]:
    """Turn a hang into a failure (SIGALRM: the test runs in the main thread)."""

    def hang(*_: Any) -> None:
        raise AssertionError(f"did not finish within {seconds} s")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


names = st.frozensets(st.sampled_from(NAMES), max_size=3)
cells = st.builds(
    lambda defines, reads, maybe: CellAnalysis(
        defines=defines, reads=reads, maybe=defines & maybe
    ),
    names,
    names,
    names,
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("edit"), st.integers(0, 7), cells, st.booleans()),
        st.tuples(
            st.just("run"), st.integers(0, 7), st.booleans(), names,
            st.dictionaries(st.sampled_from(NAMES), st.sampled_from(("", *NAMES)), max_size=2),
        ),
        st.tuples(st.just("delete"), st.integers(0, 7)),
        st.tuples(st.just("external"), names),
    ),
    max_size=40,
)


class Counted(Graph):
    """A graph that counts the sweeps of each plan and the rounds of each ``orphans``."""

    def __init__(self) -> None:
        super().__init__()
        self.sweeps = 0

    def _sweep(self, *args: Any) -> Any:
        self.sweeps += 1
        return super()._sweep(*args)


def _check_plans(graph: Counted) -> None:
    n = len(graph.order)
    for plan_of in (
        *(lambda cid=cid: graph.plan(cid, auto=True) for cid in graph.order),
        *(lambda cid=cid: graph.plan(cid, auto=False, visible=True) for cid in graph.order),
        graph.plan_stale,
        graph.plan_consistent,
    ):
        graph.sweeps = 0
        plan = plan_of()
        assert graph.sweeps <= n + 1, f"{graph.sweeps} sweeps for {n} cells"
        assert len(plan.cells) == len(set(plan.cells)) <= n
    writers = len(graph.writer)
    doomed = graph.orphans()
    assert len(doomed) <= writers
    assert set(graph.status()) == set(graph.order)


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(cells, min_size=1, max_size=8), st.lists(st.booleans(), max_size=8), operations)
def test_planning_states_and_orphans_always_finish(
    notebook: list[CellAnalysis], manual: list[bool], ops: list[tuple]
) -> None:
    with finishes_within(20):
        graph = Counted()
        for i, analysis in enumerate(notebook):
            graph.set_source(f"c{i}", f"# cell {i}", analysis, pragma=i < len(manual) and manual[i])
        for op in ops:
            kind, *args = op
            if kind == "edit":
                index, analysis, pragma = args
                graph.set_source(f"c{index}", f"# edited {index}", analysis, pragma=pragma)
            elif kind == "run":
                index, ok, bound, changed = args
                cid = f"c{index}"
                if cid not in graph.cells:
                    continue
                graph.to_clear(cid)
                # ``bound`` beyond the source: learnt names; ``changed``: in place, in any
                # direction (a cell below changing what a cell above defines).
                graph.record_run(cid, ok=ok, bound=bound, changed=changed)
            elif kind == "delete":
                graph.delete([f"c{args[0]}"])
            else:
                graph.record_external(args[0])
            _check_plans(graph)


def test_a_request_on_a_notebook_that_never_settles_is_answered() -> None:
    """Every run of ``b`` makes every cell out of date again (as code outside the notebook
    rebinding names would): auto mode would re-run forever without the request's budget."""
    executor = executor_with({})
    plain = executor.do_execute  # type: ignore[attr-defined]
    for cell_id, code in (("a", "x = 1"), ("b", "y = x + 1"), ("c", "z = y + 1")):
        execute(executor, cell_id, code)

    async def unsettling(code: str, **request: Any) -> dict[str, Any]:
        if code == "y = x + 1":
            executor.graph.invalidate("changed by code outside the notebook")
        return await plain(code, **request)

    executor.do_execute = unsettling  # type: ignore[attr-defined]
    executor.ran.clear()  # type: ignore[attr-defined]
    with finishes_within(30):
        reply = asyncio.run(
            executor.execute(unsettling, "x = 2", False, cell_meta={"cellId": "a"}, cell_id="a")
        )
    assert reply["status"] == "ok"
    runs = len(executor.ran)  # type: ignore[attr-defined]
    assert 3 < runs <= 2 * 3 + 8  # it did keep re-running, and stopped at the budget
    assert executor.shell.user_ns["z"] == 4
