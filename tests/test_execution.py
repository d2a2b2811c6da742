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
