"""Cells named as users see them, `%reactive why`/`graph`, and the state entries the
extension needs to never show a cell up to date when it is not (issue #10), over real ZMQ."""

from __future__ import annotations

import re

from conftest import Notebook
from test_frontend import Comm, cells

from reactive_kernel.cells import snippet
from reactive_kernel.protocol import source_hash


def latest(comm: Comm) -> dict:
    """Every cell's state once the kernel has said everything it had to say."""
    comm.drain()
    return comm.cells


def reason(nb: Notebook, cell_id: str) -> str:
    return nb.value(f"get_ipython().kernel.reactive.graph.state_of({cell_id!r}).reason")


def test_snippet_is_the_first_line_of_code_cut_at_40_characters() -> None:
    assert snippet("# load\n\ndf = load()\nprint(df)") == "df = load()"
    assert snippet("# only a comment") == "# only a comment"
    assert snippet("") == ""
    long = snippet("x = " + "1 + " * 30 + "1")
    assert len(long) == 40 and long.endswith("…")


def test_source_hash_is_fnv1a_over_utf16_code_units() -> None:
    # The same vectors as the extension's jest tests: JavaScript strings are UTF-16.
    assert source_hash("") == "811c9dc5"
    assert source_hash("a") == "e40c292c"
    assert source_hash("n = 60 é😀") == "66c559ee"


def test_reasons_and_errors_name_cells_by_position_and_first_line(nb: Notebook) -> None:
    nb.run(None, "%reactive lazy")
    nb.run("a", "x = 1")
    nb.run("b", "y = x + 1")
    nb.run("c", "print(y)")
    nb.run("a", "x = 2")
    assert reason(nb, "b") == "reads `x` from cell 1 · x = 2, which changed since this cell ran"
    assert reason(nb, "c") == "reads `y` from cell 2 · y = x + 1, which is stale"
    assert not re.search(r"\[\d+\]", reason(nb, "b"))  # never an execution count
    nb.run(None, "%reactive auto")
    result = nb.run("a", "x = 3")
    assert "↻ re-running cell 2 · y = x + 1" in result.text
    nb.delete("b")
    error = nb.run("c", "print(y)").error
    assert error is not None
    assert "its definer, cell 2 · y = x + 1, was deleted" in error[1]


def test_a_definer_turned_into_markdown_is_not_said_to_be_deleted(nb: Notebook) -> None:
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    nb.run(None, "%reactive lazy")
    comm.send({"type": "sync", "cells": cells(("a", "a = 4"), ("b", "b = a + 1"))})
    for cid, code in (("a", "a = 4"), ("b", "b = a + 1")):
        nb.run(cid, code, reactive={"driven": True})
    comm.send({"type": "delete", "cells": ["a"], "converted": ["a"]})
    entry = latest(comm)["b"]
    assert entry["state"] == "blocked"
    assert entry["reason"] == (
        "`a` is no longer defined: its definer, cell 1 · a = 4, is no longer a code cell"
    )


def test_a_definer_that_never_ran_is_not_said_to_have_changed(nb: Notebook) -> None:
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    nb.run(None, "%reactive lazy")
    comm.send({"type": "sync", "cells": cells(("b", "y = 2"), ("c", "z = y + 1"))})
    comm.receive("state")
    nb.run("b", "y = 2", reactive={"driven": True})
    nb.run("c", "z = y + 1", reactive={"driven": True})
    comm.send({"type": "update", "cells": cells(("a", "y = 1")), "order": ["b", "a", "c"]})
    state = latest(comm)
    assert state["c"]["state"] == "stale"
    assert state["c"]["reason"] == "reads `y` from cell 2 · y = 1, which has not run yet"


def test_positions_count_markdown_cells_when_the_frontend_lists_them(nb: Notebook) -> None:
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    comm.send({
        "type": "sync",
        "cells": cells(("a", "x = 1"), ("b", "y = x + 1")),
        "order": ["title", "a", "notes", "b"],
    })
    state = latest(comm)
    assert state["a"]["name"] == "cell 2 · x = 1"
    assert state["b"]["name"] == "cell 4 · y = x + 1"
    # A markdown cell inserted above renumbers them (ids the kernel does not know are only
    # numbers), and the state says so.
    comm.send({"type": "update", "order": ["title", "intro", "a", "notes", "b"]})
    state = latest(comm)
    assert state["b"]["name"] == "cell 5 · y = x + 1"
    assert "title" not in state and "intro" not in state
    # `%reactive why` takes the same numbers; a markdown cell's number explains nothing.
    assert nb.run("w", "%reactive why 3").text.startswith("cell 3 · x = 1: new")
    assert "no code cell '2'" in nb.run("w", "%reactive why 2").text


def test_state_entries_carry_names_edges_source_hash_and_refusal(nb: Notebook) -> None:
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    nb.run(None, "%reactive lazy")
    sources = (("a", "x = 1"), ("b", "w = 2"), ("c", "y = x + w\nprint(y)"))
    comm.send({"type": "sync", "cells": cells(*sources)})
    comm.receive("state")
    for cid, code in sources:
        nb.run(cid, code, reactive={"driven": True})
    entry = latest(comm)["c"]
    assert entry["reads"] == {"w": "b", "x": "a"}
    assert entry["upstream"] == ["b", "a"]
    assert entry["source_hash"] == source_hash("y = x + w\nprint(y)")
    assert entry["refused"] is False
    # Another view edits a cell: the kernel's hash is of the text it now has.
    comm.send({"type": "update", "cells": cells(("a", "x = 60"))})
    entry = latest(comm)["a"]
    assert entry["source_hash"] == source_hash("x = 60") != source_hash("x = 1")
    assert entry["state"] == "edited"


def test_a_refused_cell_whose_problem_is_gone_is_stale_and_run_stale_runs_it(nb: Notebook) -> None:
    """Issue #10, problem 3: move `a = 1` below its reader, run the reader (refused), move it
    back: the reader's old error must be marked and Run Stale Cells must fix it."""
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    nb.run(None, "%reactive lazy")
    sources = (("a", "a = 1"), ("b", "b = a * 10"), ("c", "c = b + 1"))
    comm.send({"type": "sync", "cells": cells(*sources)})
    comm.receive("state")
    for cid, code in sources:
        nb.run(cid, code, reactive={"driven": True})
    comm.send({"type": "update", "order": ["b", "a", "c"]})
    comm.receive("state")
    refused = nb.run("b", "b = a * 10")
    assert refused.error is not None and refused.error[0] == "BlockedCellError"
    entry = latest(comm)["b"]
    assert entry["state"] == "blocked" and entry["refused"] is True
    comm.send({"type": "update", "order": ["a", "b", "c"]})
    entry = latest(comm)["b"]
    assert entry["state"] == "stale"
    assert entry["reason"] == (
        "reads `a` from cell 1 · a = 1, which changed since this cell ran"
        " (its last run was refused; it can run now)"
    )
    comm.send({"type": "run_stale", "request": 1})
    assert comm.receive("run")["cells"] == ["b", "c"]
    for cid, code in sources[1:]:
        assert nb.run(cid, code, reactive={"driven": True}).status == "ok"
    assert set(nb.states().values()) == {"ok"}
    assert nb.value("c") == 11


def test_a_refusal_whose_cause_is_gone_says_so_and_run_stale_runs_it(nb: Notebook) -> None:
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    nb.run(None, "%reactive lazy")
    comm.send({"type": "sync", "cells": cells(("r", "print(later)"), ("d", "later = 5"))})
    assert nb.run("r", "print(later)").error[0] == "BlockedCellError"
    comm.send({"type": "update", "cells": cells(("d", "other = 5"))})  # no longer defines it
    entry = latest(comm)["r"]
    assert entry["state"] == "error" and entry["refused"] is True
    assert entry["reason"].startswith("its last run was refused (`later` is defined only below")
    assert entry["reason"].endswith("); it can run now")
    comm.send({"type": "run_stale", "request": 2})
    assert comm.receive("run")["cells"] == ["r", "d"]  # and `d`, never run
    # It runs as a fresh run would run it: a NameError, no longer a refusal.
    assert nb.run("r", "print(later)", reactive={"driven": True}).error[0] == "NameError"
    assert latest(comm)["r"]["refused"] is False


def test_a_refused_cell_reruns_in_auto_mode_once_it_can(nb: Notebook) -> None:
    """Without a frontend: the refused cell's old error is out of date like any stale output."""
    nb.run("r", "print(later)")
    nb.run("d", "later = 5")
    assert nb.states()["r"] == "blocked"
    result = nb.run("r", "print(later)")  # still blocked: `later` is defined below
    assert result.error is not None and result.error[0] == "BlockedCellError"
    comm = Comm(nb.client, nb.comm_inbox, runs_cells=False)
    comm.receive("state")
    comm.send({"type": "update", "order": ["d", "r"]})
    comm.receive("state")
    assert nb.states()["r"] == "stale"
    result = nb.run("x", "pass")  # any run: auto mode brings out-of-date cells up to date
    assert "5" in result.text and nb.states()["r"] == "ok"


def test_why_takes_a_position_an_id_all_or_nothing_and_never_fails(nb: Notebook) -> None:
    nb.run("a", "x = 1")
    nb.run("b", "y = x + 1")
    by_position = nb.run("w1", "%reactive why 2")
    assert by_position.status == "ok"
    assert by_position.text.startswith("cell 2 · y = x + 1: ok")
    assert "reads `x` from cell 1 · x = 1" in by_position.text
    assert nb.run("w2", "%reactive why cell 2").text == by_position.text
    assert nb.run("w3", "%reactive why b").text == by_position.text
    # No argument: the cell above the one running the magic.
    above = nb.run("w4", "%reactive why")
    assert above.text.startswith("cell 5 · %reactive why b: ok"), above.text
    assert "cell 1 · x = 1" in nb.run("w5", "%reactive why all").text
    # A saved `%reactive why 99` in a changed notebook does not stop Run All.
    missing = nb.run("w6", "%reactive why 99")
    assert missing.status == "ok"
    assert "no code cell '99'" in missing.text and "a cell id" in missing.text
    assert nb.run("w7", "%reactive bogus").status == "error"  # a typo in a command still fails


def test_the_magic_has_a_docstring() -> None:
    from reactive_kernel.magics import ReactiveMagics

    doc = ReactiveMagics.reactive.__doc__
    assert doc is not None and "%reactive why [CELL]" in doc and "%reactive graph" in doc


def test_graph_is_mermaid_without_its_own_cell_or_unconnected_cells(nb: Notebook) -> None:
    nb.run(None, "%reactive lazy")
    nb.run("a", "x = 1")
    nb.run("b", "y = x + 1\nz = x * 2")
    nb.run("p", "print('hello')")
    nb.run("c", "w = y + z")
    graph = nb.run("g", "%reactive graph")
    [shown] = [m["content"] for m in graph.outputs if m["msg_type"] == "display_data"]
    mermaid = shown["data"]["text/vnd.mermaid"]
    assert mermaid.startswith("flowchart TD")
    assert 'c0["cell 1 · x = 1<br/>ok"]:::ok' in mermaid
    assert 'c0 -->|"x"| c1' in mermaid
    assert 'c1 -->|"y, z"| c2' in mermaid  # one edge per pair of cells, names joined
    assert "print" not in mermaid and "reactive graph" not in mermaid
    assert "(1 cell without dependencies not shown)" in shown["data"]["text/plain"]
    display_id = shown["transient"]["display_id"]
    # The picture is redrawn when the graph changes: cell 1 re-run makes its readers stale.
    changed = nb.run("a", "x = 5")
    updates = [m["content"] for m in changed.outputs if m["msg_type"] == "update_display_data"]
    assert [u["transient"]["display_id"] for u in updates] == [display_id]
    assert 'c1["cell 2 · y = x + 1<br/>stale"]:::stale' in updates[0]["data"]["text/vnd.mermaid"]
    # Unchanged graph: nothing is resent.
    unchanged = nb.run("p", "print('hello')")
    assert not [m for m in unchanged.outputs if m["msg_type"] == "update_display_data"]


def test_mermaid_labels_cannot_break_the_diagram(nb: Notebook) -> None:
    nb.run("a", 'quote = "a|b" + "<c>#d`"')
    nb.run("b", "n = len(quote)")
    graph = nb.run("g", "%reactive graph")
    [shown] = [m["content"] for m in graph.outputs if m["msg_type"] == "display_data"]
    node = shown["data"]["text/vnd.mermaid"].splitlines()[1]
    assert node.startswith('  c0["cell 1 · quote = #quot;a#124;b#quot; + #quot;#lt;c#gt;#35;d#96;#quot;')
