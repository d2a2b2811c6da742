"""Property test of the guarantee: after any sequence of runs, edits and deletions, every cell
the kernel calls up to date has the values a fresh top-to-bottom run of the current notebook
gives, names no cell defines are gone, and a final "run all" leaves nothing stale.

It drives the reactive executor on a real IPython shell in-process (the ZMQ layer is covered by
test_kernel.py), so that hundreds of random sessions run in seconds and shrink reproducibly.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.interactiveshell import InteractiveShell

from reactive_kernel.execution import ReactiveExecutor
from reactive_kernel.graph import BLOCKED, ERROR, OK, UPSTREAM_ERROR

NAMES = ("a", "b", "c")
MISSING = object()


@dataclass(frozen=True)
class Template:
    code: str
    defines: tuple[str, ...]
    witness: str


TEMPLATES = (
    Template("{n} = {k}", ("{n}",), "{n}"),
    Template("{n} = {m} + {k}", ("{n}",), "{n}"),
    Template("{n} = {n} + {k}", ("{n}",), "{n}"),
    Template("lst = [{k}]", ("lst",), "list(lst)"),
    Template("lst.append({m})", ("lst",), "list(lst)"),
    Template("def f():\n    return {m} * 2", ("f",), "0"),
    Template("{n} = f() + {k}", ("{n}",), "{n}"),
)


@dataclass(frozen=True)
class CellSource:
    template: int
    n: str
    m: str
    k: int

    def fill(self, text: str) -> str:
        return text.format(n=self.n, m=self.m, k=self.k)

    def code(self, cell_id: str) -> str:
        template = TEMPLATES[self.template]
        return f"{self.fill(template.code)}\nw_{cell_id} = {self.fill(template.witness)}"

    def defines(self, cell_id: str) -> set[str]:
        return {self.fill(name) for name in TEMPLATES[self.template].defines} | {f"w_{cell_id}"}


sources = st.builds(
    CellSource,
    template=st.integers(0, len(TEMPLATES) - 1),
    n=st.sampled_from(NAMES),
    m=st.sampled_from(NAMES),
    k=st.integers(1, 9),
)
steps = st.lists(
    st.tuples(st.sampled_from(["add", "add", "edit", "rerun", "delete"]), st.integers(0, 99), sources),
    min_size=1,
    max_size=12,
)


def _plain_run(shell: InteractiveShell):
    """What ipykernel's do_execute does, minus the messaging: run the cell, report status."""

    async def run(code: str, **request: Any) -> dict[str, Any]:
        result = shell.run_cell(
            code,
            store_history=request.get("store_history", True),
            silent=request.get("silent", False),
            cell_id=request.get("cell_id"),
        )
        return {"status": "ok" if result.success else "error", "execution_count": shell.execution_count - 1}

    return run


class Session:
    def __init__(self, mode: str) -> None:
        self.shell = InteractiveShell.instance()
        self.shell.reset(new_session=False)
        self.executor = ReactiveExecutor(SimpleNamespace(shell=self.shell), mode=mode)
        self.run_plain = _plain_run(self.shell)
        self.cells: dict[str, CellSource] = {}
        self.order: list[str] = []
        self.pending_deletes: list[str] = []
        self.counter = 0

    def execute(self, cell_id: str) -> None:
        meta: dict[str, Any] = {"cellId": cell_id}
        if self.pending_deletes:
            meta["deletedCells"], self.pending_deletes = self.pending_deletes, []
        code = self.cells[cell_id].code(cell_id)
        asyncio.run(self.executor.execute(self.run_plain, code, False, cell_meta=meta, cell_id=cell_id))

    def step(self, kind: str, index: int, source: CellSource) -> None:
        if kind == "add" or not self.order:
            self.counter += 1
            cell_id = f"c{self.counter}"
            self.cells[cell_id] = source
            self.order.append(cell_id)
            self.execute(cell_id)
            return
        cell_id = self.order[index % len(self.order)]
        if kind == "edit":
            self.cells[cell_id] = source
            self.execute(cell_id)
        elif kind == "rerun":
            self.execute(cell_id)
        else:  # delete: JupyterLab reports it with the next request
            self.order.remove(cell_id)
            del self.cells[cell_id]
            self.pending_deletes.append(cell_id)

    def flush_deletes(self) -> None:
        if self.pending_deletes:
            meta = {"deletedCells": self.pending_deletes}
            self.pending_deletes = []
            asyncio.run(self.executor.execute(self.run_plain, "pass", False, cell_meta=meta))

    def fresh_run(self) -> dict[str, Any]:
        namespace: dict[str, Any] = {}
        for cell_id in self.order:
            try:
                exec(self.cells[cell_id].code(cell_id), namespace)  # noqa: S102 - the oracle
            except Exception:  # noqa: BLE001 - run-all with errors skipped
                pass
        return namespace

    def check(self) -> dict[str, str]:
        graph = self.executor.graph
        assert graph.order == self.order
        status = {cid: s.state for cid, s in graph.status().items()}
        fresh = self.fresh_run()
        user_ns = self.shell.user_ns
        last_definer: dict[str, str] = {}
        for cell_id in self.order:
            for name in self.cells[cell_id].defines(cell_id):
                last_definer[name] = cell_id
        for name, cell_id in last_definer.items():
            if status[cell_id] == OK:
                got = user_ns.get(name, MISSING)
                want = fresh.get(name, MISSING)
                if callable(want):
                    assert callable(got), name
                else:
                    assert got == want, (name, cell_id, status)
        universe = {*NAMES, "lst", "f"} | {n for n in user_ns if n.startswith("w_c")}
        for name in universe - last_definer.keys():
            assert name not in user_ns, f"{name} is defined by no cell but still bound"
        return status


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mode=st.sampled_from(["auto", "lazy"]), actions=steps)
def test_namespace_matches_a_fresh_run(mode: str, actions: list) -> None:
    session = Session(mode)
    for kind, index, source in actions:
        session.step(kind, index, source)
        if not session.pending_deletes:  # the kernel learns of deletions with the next request
            session.check()
    session.flush_deletes()
    session.check()
    for cell_id in list(session.order):  # "run all"
        session.execute(cell_id)
    status = session.check()
    assert set(status.values()) <= {OK, BLOCKED, ERROR, UPSTREAM_ERROR}, status
