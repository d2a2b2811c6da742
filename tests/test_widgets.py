"""Widgets drive re-runs (issue #14): a frontend's widget `update` makes the cells reading the
widget's value out of date, over real ZMQ, with the messages JupyterLab's widget manager
sends."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Notebook
from test_frontend import Comm, cells
from test_naming import latest

from reactive_kernel.widgets import frontend_update

MAKE = "import ipywidgets as widgets\nslider = widgets.IntSlider(value=5, max=100)\nslider"
READ = "n = slider.value"
USE = "total = n * 2\nprint('total', total)"
SHOW = "box = widgets.VBox([slider])"  # uses the widget, not its value


def move(nb: Notebook, model_id: str, **state: Any) -> None:
    """What the widget manager sends when the user moves a control."""
    nb.client.shell_channel.send(
        nb.client.session.msg(
            "comm_msg",
            {"comm_id": model_id, "data": {"method": "update", "state": state, "buffer_paths": []}},
        )
    )


def label(nb: Notebook, cell_id: str) -> int:
    """Which run of the cell the graph knows (its serial): a new one each time it runs."""
    return nb.value(f"get_ipython().kernel.reactive.graph.cells[{cell_id!r}].serial")


def notebook_with_slider(nb: Notebook, comm: Comm, mode: str) -> str:
    nb.run(None, f"%reactive {mode}")
    sources = (("a", MAKE), ("s", SHOW), ("b", READ), ("c", USE))
    comm.send({"type": "sync", "cells": cells(*sources)})
    comm.receive("state")
    for cid, code in sources:
        assert nb.run(cid, code, reactive={"driven": True}).status == "ok"
    comm.drain()
    return nb.value("slider.model_id")


def test_auto_mode_asks_the_frontend_to_run_the_readers_of_the_value(nb: Notebook) -> None:
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    model_id = notebook_with_slider(nb, comm, "auto")
    made, shown = label(nb, "a"), label(nb, "s")
    move(nb, model_id, value=9)
    assert comm.receive("run") == {"type": "run", "cells": ["b", "c"], "request": None, "blocked": ""}
    assert comm.cells["b"]["state"] == "stale"
    assert "the widget `slider` changed in the frontend (value)" in comm.cells["b"]["reason"]
    for cid, code in (("b", READ), ("c", USE)):
        assert nb.run(cid, code, reactive={"driven": True}).status == "ok"
    assert nb.value("total") == 18
    # The cell that made the widget did not run: same widget, same model; nor did the cell
    # that only shows it.
    assert nb.value("slider.model_id") == model_id and nb.value("slider.value") == 9
    assert (label(nb, "a"), label(nb, "s")) == (made, shown)
    assert set(nb.states().values()) == {"ok"}


def test_lazy_mode_marks_the_readers_stale_and_status_says_why(nb: Notebook) -> None:
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    model_id = notebook_with_slider(nb, comm, "lazy")
    move(nb, model_id, value=40)
    comm.drain()
    assert not [m for m in comm.drain() if m["type"] == "run"]
    assert {cid: comm.cells[cid]["state"] for cid in "asbc"} == {
        "a": "ok", "s": "ok", "b": "stale", "c": "stale"
    }
    status = nb.run(None, "%reactive").text
    assert "the widget `slider` changed in the frontend (value)" in status
    assert nb.value("total") == 10  # nothing ran


def test_without_a_reactive_frontend_readers_are_stale_until_the_next_run(nb: Notebook) -> None:
    nb.run(None, "%reactive auto")
    for cid, code in (("a", MAKE), ("b", READ), ("c", USE)):
        nb.run(cid, code)
    move(nb, nb.value("slider.model_id"), value=21)
    nb.value("1")  # the update is handled before this request
    assert nb.states() == {"a": "ok", "b": "stale", "c": "stale"}
    result = nb.run("d", "x = 1")  # auto mode: any run brings them up to date, in the kernel
    assert "↻ re-running cell 2 · n = slider.value" in result.text and "total 42" in result.text
    assert set(nb.states().values()) == {"ok"}


def test_observe_callbacks_still_fire_and_run_first(nb: Notebook) -> None:
    nb.run(None, "%reactive lazy")
    nb.run("a", MAKE + "\nseen = []\nslider.observe(lambda change: seen.append(change['new']), 'value')")
    nb.run("b", READ)
    move(nb, nb.value("slider.model_id"), value=7)
    assert nb.value("seen") == [7]
    assert nb.states()["b"] == "stale"


@pytest.mark.parametrize(
    "make, read, state, expected",
    [
        ("w = widgets.Dropdown(options=['x', 'y'], value='x')", "v = f'{w.value}!'", {"index": 1}, "y!"),
        ("w = widgets.Text(value='a')", "v = w.value.upper()", {"value": "hello"}, "HELLO"),
        ("w = widgets.Checkbox(value=False)", "v = not w.value", {"value": True}, False),
    ],
)
def test_other_controls(nb: Notebook, make: str, read: str, state: dict, expected: Any) -> None:
    nb.run(None, "%reactive lazy")
    nb.run("a", "import ipywidgets as widgets\n" + make)
    nb.run("b", read)
    move(nb, nb.value("w.model_id"), **state)
    assert nb.states()["b"] == "stale"
    nb.run("b", read)
    assert nb.value("v") == expected


def test_anywidget_traits(nb: Notebook) -> None:
    nb.run(None, "%reactive lazy")
    nb.run("a", (
        "import anywidget, traitlets\n"
        "class Counter(anywidget.AnyWidget):\n"
        "    _esm = 'export default { render() {} }'\n"
        "    count = traitlets.Int(0).tag(sync=True)\n"
        "counter = Counter()"
    ))
    nb.run("b", "clicks = counter.count")
    nb.run("c", "other = 1")
    move(nb, nb.value("counter.model_id"), count=3)
    assert nb.states() == {"a": "ok", "b": "stale", "c": "ok"}
    nb.run("b", "clicks = counter.count")
    assert nb.value("clicks") == 3


def test_a_widget_inside_a_container_still_drives_its_readers(nb: Notebook) -> None:
    nb.run(None, "%reactive lazy")
    nb.run("a", MAKE)
    nb.run("s", SHOW)
    nb.run("b", READ)
    move(nb, nb.value("box.children[0].model_id"), value=3)
    assert nb.states() == {"a": "ok", "s": "ok", "b": "stale"}


def test_no_widget_no_cost() -> None:
    """Before any widget exists, a comm message costs a dictionary lookup."""
    msg = {"content": {"comm_id": "x", "data": {"method": "update", "state": {"value": 1}}}}
    import sys

    saved = sys.modules.pop("ipywidgets.widgets.widget", None)
    try:
        assert frontend_update(msg) is None
    finally:
        if saved is not None:
            sys.modules["ipywidgets.widgets.widget"] = saved


def test_a_move_while_the_frontend_runs_its_list_never_leaves_an_old_value_unmarked(
    nb: Notebook,
) -> None:
    """The race a drag makes: the extension runs [b, c] for one value; the slider moves
    again between them. `c` must not re-run `b` inside its own output (then `b` would look
    up to date while showing the old value): it runs on the values as they are, stays
    stale, and the kernel lists `b` and `c` again."""
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    model_id = notebook_with_slider(nb, comm, "auto")
    move(nb, model_id, value=9)
    assert comm.receive("run")["cells"] == ["b", "c"]
    assert nb.run("b", READ, reactive={"driven": True}).status == "ok"
    move(nb, model_id, value=12)  # while the frontend is about to run `c`
    assert comm.receive("run")["cells"] == ["b", "c"]
    result = nb.run("c", USE, reactive={"driven": True})
    assert "↻" not in result.text and "total 18" in result.text  # the values as they were
    assert comm.receive("run")["cells"] == ["b", "c"]  # still to do, in order
    assert latest(comm)["b"]["state"] == "stale" and comm.cells["c"]["state"] == "stale"
    for cid, code in (("b", READ), ("c", USE)):
        assert nb.run(cid, code, reactive={"driven": True}).status == "ok"
    assert nb.value("total") == 24
    assert set(nb.states().values()) == {"ok"}
