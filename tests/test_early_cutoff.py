"""Early cutoff: a re-run that changes no value re-runs nothing else, over real ZMQ.

After a cell re-runs, the kernel compares every value it wrote with the value its previous run
gave (exact digests: ``reactive_kernel/values.py``). If all are equal, the cells reading them
stay up to date: auto mode does not re-run them, lazy mode does not mark them. Each test
compares the kernel's **whole** namespace with a fresh top-to-bottom run of the notebook
(``test_auto_mode.fresh_run``), and counts the cells the kernel re-ran by their headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from conftest import Notebook, Result, start, stop
from test_auto_mode import MODES, fresh_run, full_text
from test_frontend import Comm, cells

ROOT = Path(__file__).resolve().parent.parent
RERUN = "↻ re-running cell"
KEPT = "re-ran, values unchanged: dependents kept"


class Session:
    """A notebook in a kernel and its own copy of the cells (in the order first run)."""

    def __init__(self, nb: Notebook, mode: str) -> None:
        self.nb = nb
        self.mode = mode
        self.cells: dict[str, str] = {}

    def run(self, cell_id: str, code: str) -> Result:
        self.cells[cell_id] = code
        result = self.nb.run(cell_id, code)
        assert result.status == "ok", full_text(result)
        return result

    def namespace(self) -> dict[str, str]:
        """Every name the user's code bound in the kernel, with its repr."""
        return self.nb.value(
            "{k: repr(v) for k, v in get_ipython().user_ns.items() if not k.startswith('_') "
            "and k not in get_ipython().user_ns_hidden}"
        )

    def assert_fresh(self) -> None:
        """The whole namespace is what a fresh top-to-bottom run gives, and no cell is
        out of date."""
        fresh = fresh_run(self.cells)
        assert not fresh.failed, fresh.failed
        assert self.namespace() == {k: v for k, v in fresh.reprs.items() if k[:1] != "_"}
        assert set(self.nb.states().values()) == {"ok"}, self.nb.states()

    def why(self, cell_id: str) -> str:
        return self.nb.value(
            "__import__('reactive_kernel.report').report.explain("
            f"get_ipython().kernel.reactive.graph, {cell_id!r})"
        )


@pytest.fixture(params=MODES)
def session(request: pytest.FixtureRequest) -> Iterator[Session]:
    nb = start(extra_arguments=[f"--ReactiveKernel.mode={request.param}"])
    try:
        yield Session(nb, request.param)
    finally:
        stop(nb)


def reran(result: Result) -> int:
    return full_text(result).count(RERUN)


def test_rerunning_an_unchanged_import_cell_reruns_nothing(session: Session) -> None:
    session.run("imp", "import math\nimport json as js")
    session.run("r", "r = math.sqrt(16)\nprint('r ran')")
    session.run("s", "s = js.dumps([r, r + 1])\nprint('s ran')")
    result = session.run("imp", "import math\nimport json as js")
    assert reran(result) == 0 and "ran" not in result.text
    assert KEPT in session.why("imp")
    session.assert_fresh()


def test_comment_only_edit_is_not_an_edit(session: Session) -> None:
    """Reported over the comm (as the extension does while typing), a change of comments or
    layout leaves the cell and its readers up to date; running it runs it, not its readers."""
    comm = Comm(session.nb.client, session.nb.comm_inbox, runs_cells=False)
    comm.receive("state")
    session.run("a", "a = 2 * 21")
    session.run("b", "b = a + 1\nprint('b ran')")
    edited = "# the answer\na = (2 *\n     21)  # still the answer\n"
    comm.drain()
    comm.send({"type": "update", "cells": cells(("a", edited))})
    assert session.nb.states() == {"a": "ok", "b": "ok"}  # (handled in order: after it)
    # Only the kernel's copy of the text changed (its hash), not a state.
    for update in [m for m in comm.drain() if m["type"] == "state"]:
        assert list(update["cells"]) == ["a"] and update["cells"]["a"]["state"] == "ok"
    result = session.run("a", edited)
    assert reran(result) == 0 and "b ran" not in result.text
    session.assert_fresh()
    comm.drain()
    comm.send({"type": "update", "cells": cells(("a", "a = 2 * 22"))})  # a real edit
    assert comm.receive("state")["cells"]["a"]["state"] == "edited"


@pytest.mark.parametrize(
    "definition",
    [
        "import pandas as pd\ndf = pd.DataFrame({'x': [1, 2, 3], 'y': [0.5, 1.5, 2.5]})",
        "import numpy as np\narr = np.linspace(0, 1, 1000).reshape(10, 100)",
        "items = [1, 'two', (3.0, None), {'k': [4]}]",
    ],
    ids=["dataframe", "array", "list"],
)
def test_a_cell_recomputing_an_equal_value_keeps_its_readers(
    session: Session, definition: str
) -> None:
    name = definition.split("\n")[-1].split(" =")[0]
    session.run("def", definition)
    session.run("use", f"n = len({name})\nprint('use ran')")
    result = session.run("def", definition)
    assert reran(result) == 0 and "use ran" not in result.text
    session.assert_fresh()


def test_an_equal_value_in_a_new_object_keeps_aliases_aliased(session: Session) -> None:
    """`b = a` below a re-run that rebuilt an equal list: the kernel puts the list `b` holds
    back under `a`, so a later change through `a` shows in `b`, as in a fresh run."""
    session.run("a", "a = [1, 2]")
    session.run("b", "b = a\nprint('b ran')")
    result = session.run("a", "a = [1, 2]")
    assert reran(result) == 0
    session.run("c", "a.append(3)")
    assert session.nb.value("b") == [1, 2, 3]
    session.assert_fresh()


def test_a_value_changed_in_place_below_is_compared_with_what_the_cell_gave(
    session: Session,
) -> None:
    """`df` from cell d, changed in place by cell m: re-running d gives d's value again, so
    m (and its readers) keep what they made of it. Re-running m changes d's value again: the
    one d's re-run gave, if the kernel still has it, else d re-runs first (so that the change
    is applied once)."""
    session.run("d", "import pandas as pd\ndf = pd.DataFrame({'x': [1, 2, 3]})")
    session.run("m", "df['y'] = df.x * 2\nprint('m ran')")
    session.run("r", "total = int(df.y.sum())\nprint('r ran')")
    result = session.run("d", "import pandas as pd\ndf = pd.DataFrame({'x': [1, 2, 3]})")
    assert reran(result) == 0 and "ran" not in result.text
    session.assert_fresh()
    result = session.run("m", "df['y'] = df.x * 2\nprint('m ran')")
    # d's re-run gave `df` again (kept, as the name keeps m's value): m changes that one
    # instead of re-running d; its value is equal to the one before, so r is kept too.
    assert reran(result) == 0 and "r ran" not in result.text
    session.assert_fresh()
    result = session.run("m", "df['y'] = df.x * 2\nprint('m ran')")
    # The kept value is the one m changed: not d's value any more. d re-runs first.
    assert "first: this cell needs its values" in result.text
    session.assert_fresh()


def test_an_equal_float_from_another_expression_keeps_readers(session: Session) -> None:
    session.run("x", "x = 0.1 + 0.2")
    session.run("y", "y = x * 2\nprint('y ran')")
    result = session.run("x", "x = 0.30000000000000004")
    assert reran(result) == 0 if session.mode == "auto" else True
    assert "y ran" not in result.text
    session.assert_fresh()
    result = session.run("x", "x = 0.3")  # not equal: readers are out of date
    if session.mode == "auto":
        assert reran(result) == 1 and "y ran" in result.text
        session.assert_fresh()
    else:
        assert session.nb.states()["y"] == "stale"


def test_random_draws_never_cut_off(session: Session) -> None:
    """A cell drawing from a seeded global generator changes the generator: a re-run that
    happens to give equal values still counts as a change."""
    session.run("seed", "import random\nrandom.seed(3)")
    session.run("draw", "coin = random.random() < 2")  # always True
    session.run("use", "flip = not coin\nprint('use ran')")
    result = session.run("draw", "coin = random.random() < 2")
    if session.mode == "auto":
        assert "use ran" in result.text
        session.assert_fresh()
    else:
        assert session.nb.states()["use"] == "stale"


def test_cutoff_can_be_turned_off() -> None:
    nb = start(extra_arguments=["--ReactiveKernel.early_cutoff=False"])
    try:
        session = Session(nb, "auto")
        session.run("a", "a = 1")
        session.run("b", "b = a + 1\nprint('b ran')")
        result = session.run("a", "a = 1")
        assert reran(result) == 1 and "b ran" in result.text
        session.assert_fresh()
    finally:
        stop(nb)


# ---------------------------------------------------------------------------------------------
# Kept values: a cell reading a name a later cell rebound gets the earlier value bound again


REUSE = [  # a notebook reusing `x1`, with a read-only cell between the two definers
    ("A", "x1 = list(range(5))\nprint('A ran')"),
    ("rd", "head = x1[:3]"),
    ("B", "x1 = [v * 2 for v in x1]\nprint('B ran')"),
    ("C", "total = sum(x1)\nprint('C ran')"),
]


def test_a_read_only_cell_in_a_notebook_reusing_names_reruns_no_other_cell(
    session: Session,
) -> None:
    for cell_id, code in REUSE:
        session.run(cell_id, code)
    result = session.run("rd", "head = x1[:3]")
    assert reran(result) == 0 and "ran" not in result.text
    assert session.nb.value("head") == [0, 1, 2]
    session.assert_fresh()
    status = session.nb.run(None, "%reactive")
    assert "kept values: 1 (" in status.text


def test_a_kept_value_changed_since_is_not_used(session: Session) -> None:
    """`alias` holds the list cell A made; a change through it after B rebound `x1` makes
    the kept value stale: re-running the reader re-runs A instead."""
    session.run("A", "x1 = [1, 2, 3]\nprint('A ran')")
    session.run("rd", "head = x1[:2]")
    session.run("al", "alias = x1")
    session.run("B", "x1 = [0]")
    session.run("M", "alias.append(9)")
    result = session.run("rd", "head = x1[:2]")
    assert "A ran" in result.text and "first: this cell needs its values" in result.text
    assert session.nb.value("head") == [1, 2]
    if session.mode == "auto":
        session.assert_fresh()


def test_without_a_budget_for_kept_values_the_definer_reruns() -> None:
    nb = start(extra_arguments=["--ReactiveKernel.kept_bytes=0"])
    try:
        session = Session(nb, "auto")
        for cell_id, code in REUSE:
            session.run(cell_id, code)
        result = session.run("rd", "head = x1[:3]")
        assert "A ran" in result.text
        session.assert_fresh()
        assert "kept values" not in nb.run(None, "%reactive").text
        assert nb.value("len(get_ipython().kernel.reactive.reuse.kept)") == 0
    finally:
        stop(nb)


def test_rerunning_any_cell_of_the_demo_reruns_nothing_else(nb: Notebook) -> None:
    """The demo, run top to bottom, then each cell re-run unchanged (auto mode): no other
    cell runs, but for the slider's reader: re-running the slider's cell makes a new widget,
    whose value `n = points.value` reads again (equal: nothing below runs). (The cell
    changing `df` in place needs `df` as the cell above made it: here the value that cell's
    re-run gave, which the kernel kept; re-run alone, without one, it runs that cell first:
    the kernel never copies a value to spare it.)"""
    notebook = nbformat.read(ROOT / "docs" / "demo.ipynb", as_version=4)
    code = [(c.id, c.source) for c in notebook.cells if c.cell_type == "code"]
    for cell_id, source in code:
        assert nb.run(cell_id, source).status == "ok"
    changes_df = next(cid for cid, source in code if source.startswith("df['y2']"))
    makes_df = next(cid for cid, source in code if source.startswith("df = pd.DataFrame"))
    for cell_id, source in code:
        result = nb.run(cell_id, source)
        assert result.status == "ok", full_text(result)
        reran = re.findall(r"↻ re-running cell \d+ · (.*)", result.text)
        assert reran == (["n = points.value"] if "IntSlider" in source else []), source
    assert set(nb.states().values()) == {"ok"}
    # alone: the cell changing `df` in place, after a cell made the kept value go
    assert nb.run("other", "other = 1").status == "ok"
    nb.run(None, "get_ipython().kernel.reactive.reuse.kept.forget_cells([" + repr(makes_df) + "])")
    source = dict(code)[changes_df]
    result = nb.run(changes_df, source)
    name = nb.value(f"get_ipython().kernel.reactive.graph.describe({makes_df!r})")
    pulled = r"↻ re-running (.*?)( first: this cell needs its values)?\n"
    assert re.findall(pulled, result.text) == [(name, " first: this cell needs its values")]


def test_a_cell_rebinding_what_it_reads_keeps_its_new_value(session: Session) -> None:
    """`features = features + [...]` re-run: the earlier `features` is bound for its run
    (kept), and afterwards its own new value stands (not its previous one): the cells
    reading it are up to date, and nothing loops."""
    session.run("F", "features = ['x1', 'x2']")
    session.run("M", "metrics = {}")
    session.run("G", "features = features + ['x1_sq']\nmetrics['n'] = len(features)")
    session.run("P", "out = list(features)\nprint('P ran')")
    for cell_id in ("F", "M", "G", "P"):
        result = session.run(cell_id, session.cells[cell_id])
        assert "did not settle" not in full_text(result)
        if session.mode == "lazy" and cell_id == "G":  # its own run: P reads an equal value
            assert session.nb.states()["P"] == "ok"
    assert session.nb.value("out") == ["x1", "x2", "x1_sq"]
    session.assert_fresh()
