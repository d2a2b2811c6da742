"""The tree the analysis parsed is what IPython runs, once, and only for the same source under
the same parsing rules (``shared_parse.py``)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from reactive_kernel.async_check import spare_async_compile
from reactive_kernel.shared_parse import SharedParse
from test_execution import execute, executor_with


@pytest.fixture
def parsed() -> Iterator[tuple[SharedParse, list[str]]]:
    """The shell's SharedParse, and the sources IPython parsed itself."""
    shell = InteractiveShell.instance()
    shell.reset(new_session=False)
    shared = SharedParse.on(shell.compile)
    plain = shared._parse
    calls: list[str] = []

    def counted(source: str, *args: Any) -> Any:
        calls.append(source)
        return plain(source, *args)

    shared._parse = counted
    try:
        yield shared, calls
    finally:
        shared._parse = plain
        shared.offer(None, None)  # type: ignore[arg-type]
        shell.compile.reset_compiler_flags()


def test_an_offered_tree_is_run_once(parsed: tuple[SharedParse, list[str]]) -> None:
    shared, calls = parsed
    shell = InteractiveShell.instance()
    assert SharedParse.on(shell.compile) is shared  # installed once per compiler
    shared.offer("x = 41 + 1", ast.parse("x = 41 + 1"))
    assert shell.run_cell("x = 41 + 1").success and calls == []
    assert shell.run_cell("x = 41 + 1").success and calls == ["x = 41 + 1\n"]
    assert shell.user_ns["x"] == 42


def test_another_source_is_parsed_by_ipython(parsed: tuple[SharedParse, list[str]]) -> None:
    """IPython drops leading blank lines: the tree of the source with them has other line
    numbers, so IPython parses its own (a traceback points at the right line)."""
    shared, calls = parsed
    shell = InteractiveShell.instance()
    shared.offer("\n\nz = 1 / 0", ast.parse("\n\nz = 1 / 0"))
    result = shell.run_cell("\n\nz = 1 / 0")
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    assert calls == ["z = 1 / 0\n"]
    assert result.error_in_exec.__traceback__.tb_next.tb_lineno == 1


def test_no_tree_under_a_future_import_that_changes_parsing(
    parsed: tuple[SharedParse, list[str]],
) -> None:
    """After ``from __future__ import barry_as_FLUFL``, ``!=`` is a syntax error for IPython:
    a tree parsed without that rule must not run."""
    shared, calls = parsed
    shell = InteractiveShell.instance()
    assert shell.run_cell("from __future__ import barry_as_FLUFL").success
    shared.offer("b = 1 != 2", ast.parse("b = 1 != 2"))
    result = shell.run_cell("b = 1 != 2")
    assert isinstance(result.error_before_exec or result.error_in_exec, SyntaxError)
    assert "b" not in shell.user_ns


def test_the_kernel_parses_a_new_cell_once(parsed: tuple[SharedParse, list[str]]) -> None:
    """Through the executor: the requested cell's source is parsed by the analysis only; a
    dependent it re-runs was analysed before, so IPython parses that one."""
    _, calls = parsed
    executor = executor_with({})
    execute(executor, "a", "a = 1")
    execute(executor, "b", "b = a + 1")
    assert calls == []
    execute(executor, "a", "a = 2")
    assert calls == ["b = a + 1\n"]
    assert executor.shell.user_ns["b"] == 3


@pytest.mark.parametrize(
    ("code", "coroutine"),
    [
        ("x = 1", False),
        ("import asyncio\nawait asyncio.sleep(0)", True),
        ("async def f():\n    return 1\nr = await f()", True),
        ("async def g():\n    yield 1\nxs = [x async for x in g()]", True),
        ("async def h():\n    return 1", False),
        ("names = ['await', 'async']", False),  # the words, not the keywords
        ("x = (", False),  # does not parse
    ],
)
def test_the_async_check_answers_as_ipython_does(code: str, coroutine: bool) -> None:
    """Whether a cell runs as a coroutine: the kernel's shortcut (no compile for a cell
    without ``await``/``async``) gives IPython's own answer."""
    shell = InteractiveShell.instance()
    spare_async_compile(shell)
    spare_async_compile(shell)  # installed once
    ipython = type(shell).should_run_async.__get__(shell)
    transformed = shell.transform_cell(code)
    kernel = shell.should_run_async(code, transformed_cell=transformed)
    assert kernel == ipython(code, transformed_cell=transformed)
    assert kernel == coroutine
