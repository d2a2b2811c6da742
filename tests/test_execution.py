"""The executor in-process, with the frontends' messages arriving at chosen moments.

Comm messages can reach the kernel while a cascade runs (on a subshell); here a fake
``do_execute`` delivers them at exactly the moment a test needs, on a real IPython shell.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from IPython.core.interactiveshell import InteractiveShell

from reactive_kernel.execution import ReactiveExecutor


def executor_with(during: dict[str, Callable[[ReactiveExecutor], None]]) -> ReactiveExecutor:
    """An auto-mode executor whose runs call ``during[code]`` (if any, once) before running
    ``code``; ``executor.ran`` lists what ran."""
    shell = InteractiveShell.instance()
    shell.reset(new_session=False)
    executor = ReactiveExecutor(SimpleNamespace(shell=shell), mode="auto")
    executor.ran = []  # type: ignore[attr-defined]

    async def run(code: str, **request: Any) -> dict[str, Any]:
        if code in during:
            during.pop(code)(executor)
        executor.ran.append(code)  # type: ignore[attr-defined]
        result = shell.run_cell(code, store_history=False, cell_id=request.get("cell_id"))
        return {"status": "ok" if result.success else "error", "execution_count": 1}

    executor.do_execute = run  # type: ignore[attr-defined]
    return executor


def execute(executor: ReactiveExecutor, cell_id: str, code: str) -> dict[str, Any]:
    meta = {"cellId": cell_id}
    run = executor.do_execute  # type: ignore[attr-defined]
    return asyncio.run(executor.execute(run, code, False, cell_meta=meta, cell_id=cell_id))


def test_a_dependent_edited_during_a_cascade_is_not_run() -> None:
    """While the kernel re-runs dependents, a frontend edits a planned dependent, keeping the
    names it reads and binds: the edit is not run (the kernel runs only sources the user
    ran), the other dependents are, the request is answered, the cell shows as edited."""
    planted = "z = y * 1000"

    def meddle(executor: ReactiveExecutor) -> None:
        executor.set_source("c", planted)

    during: dict[str, Callable[[ReactiveExecutor], None]] = {}
    executor = executor_with(during)
    for cell_id, code in (("a", "x = 1"), ("b", "y = x"), ("c", "z = y"), ("d", "w = y")):
        execute(executor, cell_id, code)
    during["y = x"] = meddle
    executor.ran.clear()  # type: ignore[attr-defined]
    reply = execute(executor, "a", "x = 2")
    ns = executor.shell.user_ns
    assert reply["status"] == "ok"
    assert executor.ran == ["x = 2", "y = x", "w = y"]  # type: ignore[attr-defined]
    assert ns["y"] == 2 and ns["z"] == 1 and ns["w"] == 2
    assert executor.graph.status()["c"].state == "edited"


def test_a_cell_deleted_while_it_runs_leaves_nothing_bound() -> None:
    """A frontend deletes the cell that is running: what it binds goes when it ends, and the
    definer above shows as stale (auto mode re-runs it), as if the cell had never run."""
    during: dict[str, Callable[[ReactiveExecutor], None]] = {}
    executor = executor_with(during)
    execute(executor, "a", "v = 1")
    during["v = 2\nonly = 3"] = lambda executor: executor.delete_cells(["b"])
    reply = execute(executor, "b", "v = 2\nonly = 3")
    ns = executor.shell.user_ns
    assert reply["status"] == "ok"
    assert "only" not in ns
    assert ns["v"] == 1  # auto mode re-ran the definer above
    assert executor.graph.status() == {"a": executor.graph.status()["a"]}
    assert executor.graph.status()["a"].state == "ok"


def test_an_interrupt_in_the_kernels_bookkeeping_still_gets_a_reply(monkeypatch: Any) -> None:
    """SIGINT can land between cells of a cascade, in the kernel's own code, where IPython
    does not catch it: the request is still answered, as an interrupted cell is."""
    executor = executor_with({})
    execute(executor, "a", "x = 1")
    execute(executor, "b", "y = x + 1")

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(executor, "_observe", interrupted)
    reply = execute(executor, "a", "x = 2")
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
    monkeypatch.undo()
    assert execute(executor, "a", "x = 2")["status"] == "ok"  # the kernel serves on
    assert executor.shell.user_ns["y"] == 3
