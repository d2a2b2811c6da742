"""``%load_ext reactive_kernel`` for a stock ipykernel: wrap its ``do_execute`` in place."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError

from . import widgets
from .execution import ReactiveExecutor
from .magics import ReactiveMagics


def load(shell: Any) -> None:
    kernel = getattr(shell, "kernel", None)
    if kernel is None or not hasattr(kernel, "do_execute"):
        raise UsageError("reactive_kernel needs a Jupyter kernel (ipykernel), not a terminal.")
    if getattr(kernel, "reactive", None) is not None:
        return  # already reactive: the reactive kernel itself, or loaded twice
    plain = kernel.do_execute
    executor = ReactiveExecutor(kernel)

    async def do_execute(
        code: str,
        silent: bool,
        store_history: bool = True,
        user_expressions: dict[str, str] | None = None,
        allow_stdin: bool = False,
        *,
        cell_meta: dict[str, Any] | None = None,
        cell_id: str | None = None,
    ) -> dict[str, Any]:
        return await executor.execute(
            plain,
            code,
            silent,
            store_history,
            user_expressions,
            allow_stdin,
            cell_meta=cell_meta,
            cell_id=cell_id,
        )

    executor.frontends.register(kernel.comm_manager)
    widgets.watch(kernel, executor)
    kernel.reactive = executor
    kernel.do_execute = do_execute
    shell.register_magics(ReactiveMagics(shell, executor))
