"""Before running a cell, ipykernel asks IPython whether it needs a coroutine runner (a
top-level ``await``), and IPython answers by compiling the whole cell to bytecode, which it
then parses and compiles again to run it. Only ``await``, ``async for``, ``async with`` and
async comprehensions make a cell a coroutine, and each is spelt with ``await`` or ``async``:
a cell whose text has neither gets IPython's answer, False, without that compile.
"""

from __future__ import annotations

from typing import Any


def spare_async_compile(shell: Any) -> None:
    """Answer ``shell.should_run_async`` without compiling for cells that cannot be
    coroutines; defer to IPython for the others (installed once per shell)."""
    if getattr(shell, "_reactive_async_check", False):
        return
    ask_ipython = shell.should_run_async

    def should_run_async(
        raw_cell: str, *, transformed_cell: str | None = None, preprocessing_exc_tuple: Any = None
    ) -> bool:
        if (
            isinstance(transformed_cell, str)
            and "await" not in transformed_cell
            and "async" not in transformed_cell
        ):
            return False
        return ask_ipython(
            raw_cell,
            transformed_cell=transformed_cell,
            preprocessing_exc_tuple=preprocessing_exc_tuple,
        )

    shell.should_run_async = should_run_async
    shell._reactive_async_check = True
