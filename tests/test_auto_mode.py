"""Edits, deletions and errors in auto and lazy mode, checked against a fresh top-to-bottom run.

Each test drives a real kernel over ZMQ the way JupyterLab does (``cellId``, ``deletedCells``)
and keeps its own copy of the notebook: the cells run so far, in the order they were first
run (the kernel's notebook order without a reactive frontend), each with its latest source.
The oracle executes those sources top to bottom in this process (``fresh_run``).

- auto: after every step, the names a test is about have exactly the fresh run's values (a name
  the fresh run lacks is absent), and no cell is left stale;
- lazy: a name the fresh run lacks is absent, and a name whose last defining cell is shown
  ``ok`` has the fresh run's value; the tests also check which cells are marked.
"""

from __future__ import annotations

import ast
import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from conftest import Notebook, Result, start, stop

MODES = ["auto", "lazy"]


# ---------------------------------------------------------------------------------------------
# The oracle


@dataclass
class FreshRun:
    """What a fresh top-to-bottom run of the current cells leaves behind."""

    reprs: dict[str, str]  # name -> repr of its final value
    defines: dict[str, set[str]]  # cell id -> names it binds, rebinds, mutates or deletes
    stdout: dict[str, str]  # cell id -> what it printed
    failed: dict[str, str]  # cell id -> exception type name

    def last_definer(self, name: str) -> str | None:
        found = None
        for cell_id, names in self.defines.items():
            if name in names:
                found = cell_id
        return found


def _snapshot(namespace: dict[str, Any]) -> dict[str, str]:
    return {k: repr(v) for k, v in namespace.items() if k != "__builtins__"}


def _static_defines(source: str) -> set[str]:
    """Names a cell's code binds or mutates at top level, whether or not it gets that far."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(
            node.ctx, (ast.Store, ast.Del)
        ):
            base = node.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                names.add(base.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def fresh_run(cells: dict[str, str]) -> FreshRun:
    """Run ``cells`` (id -> source, in notebook order) top to bottom in a new namespace; a cell
    that raises is reported and the run goes on, like running every cell of a new kernel."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    defines: dict[str, set[str]] = {}
    stdout: dict[str, str] = {}
    failed: dict[str, str] = {}
    for cell_id, source in cells.items():
        before = _snapshot(namespace)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                exec(compile(source, f"<cell {cell_id}>", "exec"), namespace)
            except Exception as e:  # noqa: BLE001 - the oracle records any failure
                failed[cell_id] = type(e).__name__
        after = _snapshot(namespace)
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        defines[cell_id] = changed | _static_defines(source)
        stdout[cell_id] = out.getvalue()
    return FreshRun(_snapshot(namespace), defines, stdout, failed)


def kernel_reprs(nb: Notebook, names: list[str]) -> dict[str, str]:
    """The kernel's values of ``names`` (reprs), leaving out the ones that are not defined."""
    return nb.value(
        f"{{n: repr(get_ipython().user_ns[n]) for n in {names!r} if n in get_ipython().user_ns}}"
    )


def full_text(result: Result) -> str:
    """Everything a request showed: stdout/results and error names, messages, tracebacks."""
    parts = [result.text]
    for error in result.errors:
        parts += [error["ename"], error["evalue"], *error.get("traceback", [])]
    if result.status == "error":
        parts += [result.reply.get("ename", ""), result.reply.get("evalue", "")]
    return "\n".join(parts)


class Scenario:
    """A notebook session: runs and deletes cells in the kernel and in its own copy."""

    def __init__(self, nb: Notebook, mode: str, names: list[str]) -> None:
        self.nb = nb
        self.mode = mode
        self.names = names
        self.cells: dict[str, str] = {}
        self.step = "start"

    def run(self, cell_id: str, code: str) -> Result:
        self.cells[cell_id] = code  # a new cell goes last; an edited one keeps its place
        result = self.nb.run(cell_id, code)
        self.step = f"run {cell_id!r}: {code!r}"
        if self.mode == "auto":
            self.check()
        return result

    def delete(self, cell_id: str) -> None:
        """Delete a cell; the kernel hears of it with the next run."""
        del self.cells[cell_id]
        self.nb.delete(cell_id)

    def fresh(self) -> FreshRun:
        return fresh_run(self.cells)

    def states(self) -> dict[str, str]:
        return self.nb.states()

    def defined(self, name: str) -> bool:
        return self.nb.defined(name)

    def value(self, expression: str) -> Any:
        return self.nb.value(expression)

    def check(self) -> None:
        """The guarantee for this mode, for ``self.names``."""
        fresh = self.fresh()
        expected = {n: fresh.reprs[n] for n in self.names if n in fresh.reprs}
        actual = kernel_reprs(self.nb, self.names)
        states = self.states()
        where = f"after {self.step}; cells {self.cells}; states {states}"
        if self.mode == "auto":
            assert actual == expected, f"namespace differs from a fresh run {where}"
            stale = [c for c, s in states.items() if c in self.cells and s == "stale"]
            assert not stale, f"cells left stale in auto mode {where}"
            return
        for name in self.names:
            if name not in expected:
                assert name not in actual, f"`{name}` is absent in a fresh run {where}"
            elif name in actual and states.get(fresh.last_definer(name) or "") == "ok":
                assert actual[name] == expected[name], (
                    f"`{name}` = {actual[name]} but its cell is ok and a fresh run gives "
                    f"{expected[name]} {where}"
                )


@pytest.fixture(params=MODES)
def mode_nb(request: pytest.FixtureRequest) -> Iterator[tuple[str, Notebook]]:
    """A kernel started in the given mode (traitlets configuration)."""
    mode = request.param
    notebook = start(extra_arguments=[f"--ReactiveKernel.mode={mode}"])
    try:
        yield mode, notebook
    finally:
        stop(notebook)


def scenario(mode_nb: tuple[str, Notebook], *names: str) -> Scenario:
    mode, notebook = mode_nb
    return Scenario(notebook, mode, list(names))


# ---------------------------------------------------------------------------------------------
# The scenarios


def test_edit_that_drops_a_mutation_reruns_later_mutators(mode_nb: tuple[str, Notebook]) -> None:
    """Editing a cell so it no longer mutates `L` redoes `L` from scratch: auto re-runs the
    cells defining and mutating it (`L` is [1, 2], as in a fresh run); lazy marks the later
    mutator."""
    s = scenario(mode_nb, "L", "c", "a", "b")
    s.run("A", "L = [1, 2, 3]")
    s.run("B", "c = 9\nL[0:0] = [c]")
    s.run("C", "del L[-1:]")
    result = s.run("B", "a = 4\nb = (a * 7) % 997")
    assert result.status == "ok"
    if s.mode == "auto":
        assert s.value("L") == [1, 2]
    else:
        assert s.states()["C"] != "ok"
    assert not s.defined("c")
    s.check()


def test_deleting_a_redefinition_restores_the_earlier_value(
    mode_nb: tuple[str, Notebook],
) -> None:
    """Deleting the second of two cells defining `v` brings back the first one's value: auto
    re-runs it and the reader (`v` and `w` are 1); lazy never shows 2 as up to date."""
    s = scenario(mode_nb, "v", "w", "z0")
    s.run("v1", "v = 1")
    s.run("v2", "v = 2")
    s.run("w", "w = v")
    s.delete("v2")
    s.run("z0", "z0 = 0")
    if s.mode == "auto":
        assert s.value("v") == 1
        assert s.value("w") == 1
    else:
        assert not s.defined("v") or s.value("v") == 1
        if s.states()["w"] == "ok":
            assert s.value("w") == 1
    s.check()


def test_deleting_the_only_definer_blocks_readers(mode_nb: tuple[str, Notebook]) -> None:
    """Deleting the cell defining `x` removes `x` and the `y` computed from it; the reader is
    blocked, and in auto mode the next request shows the BlockedCellError."""
    s = scenario(mode_nb, "x", "y", "q0")
    s.run("x", "x = 1")
    s.run("y", "y = x + 1")
    s.delete("x")
    result = s.run("q0", "q0 = 0")
    assert not s.defined("x")
    assert not s.defined("y")
    assert s.states()["y"] == "blocked"
    if s.mode == "auto":
        assert "BlockedCellError" in full_text(result)
    s.check()


def test_name_dropped_by_an_edit_vanishes_with_its_readers(mode_nb: tuple[str, Notebook]) -> None:
    """Editing `x = 1; w = 2` to `x = 1` removes `w` and the `v` computed from it."""
    s = scenario(mode_nb, "x", "w", "v")
    s.run("xw", "x = 1; w = 2")
    s.run("v", "v = w * 3")
    s.run("xw", "x = 1")
    assert not s.defined("w")
    assert not s.defined("v")
    s.check()


def test_narrowed_star_import_drops_its_names(mode_nb: tuple[str, Notebook]) -> None:
    """Narrowing `from math import *` to `from math import sqrt` removes `floor` and the `y`
    computed with it; `sqrt` stays."""
    s = scenario(mode_nb, "floor", "sqrt", "pi", "y")
    s.run("imp", "from math import *")
    s.run("y", "y = floor(2.5)")
    s.run("imp", "from math import sqrt")
    assert not s.defined("floor")
    assert not s.defined("y")
    assert s.defined("sqrt")
    s.check()


@pytest.mark.parametrize(
    ("module", "name", "expression", "expected"),
    [
        ("math", "floor", "floor(2.7)", 2),
        ("numpy", "array", "array([1, 2]).tolist()", [1, 2]),
    ],
)
def test_rerunning_a_star_import_keeps_its_names(
    mode_nb: tuple[str, Notebook], module: str, name: str, expression: str, expected: Any
) -> None:
    """Re-running an unchanged `from m import *` keeps what it imported, and its readers'
    values: nothing is blocked."""
    pytest.importorskip(module)
    s = scenario(mode_nb, name, "v")
    s.run("imp", f"from {module} import *")
    s.run("v", f"v = {expression}")
    result = s.run("imp", f"from {module} import *")
    assert result.status == "ok"
    assert s.defined(name)
    assert s.value("v") == expected
    states = s.states()
    assert "blocked" not in states.values(), states
    assert states["v"] != "upstream-error", states
    s.check()


def test_caught_exception_keeps_the_earlier_value(mode_nb: tuple[str, Notebook]) -> None:
    """A cell whose assignment to `q` raises and is caught leaves `q` as the cell above set
    it: `print(q)` below prints 1, also after that cell is re-run."""
    s = scenario(mode_nb, "q")
    s.run("q1", "q = 1")
    s.run("try", "try:\n    q = 1/0\nexcept ZeroDivisionError as e:\n    print(e)")
    result = s.run("print", "print(q)")
    assert result.status == "ok", result.error
    assert result.stdout == "1\n"
    result = s.run("try", "try:\n    q = 1/0\nexcept ZeroDivisionError as e:\n    print(e)")
    assert result.status == "ok", result.error
    assert s.value("q") == 1
    if s.mode == "auto":
        assert "1\n" in result.stdout.split("division by zero\n", 1)[-1], result.stdout
    s.check()


def test_error_after_binding_does_not_stop_other_cells(mode_nb: tuple[str, Notebook]) -> None:
    """A cell that binds `b` and then raises keeps `b` like a fresh run does: the cells below
    run, and editing the first cell re-runs `d` with an ok reply although `b`'s cell fails."""
    s = scenario(mode_nb, "a", "b", "c", "d")
    s.run("a", "a = 1")
    failing = s.run("b", 'b = 2\nraise ValueError("boom")')
    assert failing.status == "error"
    s.run("c", "c = b + 1")
    s.run("d", "d = a + 1")
    assert s.value("c") == 3
    assert s.value("d") == 2
    assert s.states()["b"] == "error"
    result = s.run("a", "a = 5")
    assert result.status == "ok", full_text(result)
    assert s.value("c") == 3
    if s.mode == "auto":
        assert s.value("d") == 6
    else:
        assert s.states()["d"] == "stale"
    s.check()


def test_failure_stops_only_its_own_dependents(mode_nb: tuple[str, Notebook]) -> None:
    """When `b`'s cell fails, a change to `a` still re-runs `d`, which does not read `b`."""
    s = scenario(mode_nb, "a", "b", "c", "d")
    s.run("a", "a = 1")
    s.run("b", "b = a + 1")
    s.run("c", "c = 10")
    s.run("d", "d = c + a")
    failing = s.run("b", "b = a + undefined_name")
    assert failing.status == "error"
    assert failing.error is not None and failing.error[0] == "NameError", failing.error
    s.run("a", "a = 2")
    assert not s.defined("b")
    if s.mode == "auto":
        assert s.value("d") == 12
    else:
        states = s.states()
        assert states["d"] != "ok", states
        assert states["b"] != "ok", states
    s.check()


def test_error_names_the_cell_that_failed(mode_nb: tuple[str, Notebook]) -> None:
    """After `t = 1/0` fails, `u = t * 2` is gone, and running its cell says which cell
    (by its position and first line) failed."""
    s = scenario(mode_nb, "t", "u")
    s.run("t", "t = 1")
    s.run("u", "u = t * 2")
    failing = s.run("t", "t = 1/0")
    assert failing.status == "error"
    assert not s.defined("t")
    assert not s.defined("u")
    label = s.value("get_ipython().kernel.reactive.graph.describe('t')")
    assert label.endswith(" · t = 1/0")
    result = s.run("u", "u = t * 2")
    assert result.status == "error"
    text = full_text(result)
    assert label in text, text
    assert "failed" in text, text
    s.check()
