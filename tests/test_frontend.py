"""The kernel side of the frontend protocol (docs/protocol.md), over real ZMQ."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient

from conftest import TIMEOUT, Notebook, send_execute


class Comm:
    """A client's ``reactive_kernel`` comm, speaking the protocol like the JupyterLab extension."""

    def __init__(self, client: BlockingKernelClient, inbox: list | None = None, runs_cells: bool = True) -> None:
        self.client = client
        self.inbox = inbox if inbox is not None else []  # comm messages a Notebook collected
        self.id = uuid.uuid4().hex
        self.cells: dict[str, Any] = {}  # every cell's state, merged as the extension does
        self.client.shell_channel.send(
            client.session.msg(
                "comm_open",
                {"comm_id": self.id, "target_name": "reactive_kernel",
                 "data": {"protocol": 1, "runs_cells": runs_cells}},
            )
        )

    def send(self, data: dict[str, Any], subshell_id: str | None = None) -> None:
        msg = self.client.session.msg("comm_msg", {"comm_id": self.id, "data": data})
        if subshell_id is not None:
            msg["header"]["subshell_id"] = subshell_id
        self.client.shell_channel.send(msg)

    def _next(self, timeout: float) -> dict[str, Any]:
        if self.inbox:
            return self.inbox.pop(0)
        return self.client.get_iopub_msg(timeout=timeout)

    def receive(self, kind: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next message of ``kind`` sent to this comm; for ``state``, with every cell's
        state merged from the messages so far (as the extension merges them)."""
        deadline = time.monotonic() + timeout
        while True:
            msg = self._next(max(deadline - time.monotonic(), 0.01))
            if msg["msg_type"] != "comm_msg" or msg["content"]["comm_id"] != self.id:
                continue
            data = msg["content"]["data"]
            if data["type"] == "state":
                self.merge(data)
            if data["type"] == kind:
                return dict(data, cells=dict(self.cells)) if kind == "state" else data

    def merge(self, state: dict[str, Any]) -> None:
        if state["full"]:
            self.cells = {}
        self.cells.update(state["cells"])
        for cid in state["removed"]:
            self.cells.pop(cid, None)

    def drain(self) -> list[dict[str, Any]]:
        """Every message to this comm still queued."""
        found = []
        while True:
            try:
                msg = self._next(0.5)
            except Exception:  # noqa: BLE001 - queue empty
                return found
            if msg["msg_type"] == "comm_msg" and msg["content"]["comm_id"] == self.id:
                found.append(msg["content"]["data"])
                if found[-1]["type"] == "state":
                    self.merge(found[-1])


def cells(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"id": cid, "source": source} for cid, source in pairs]


def driven(nb: Notebook, cell_id: str, code: str) -> Any:
    return nb.run(cell_id, code, reactive={"driven": True})


def test_sync_reports_states_and_plan_lists_what_to_run(nb: Notebook) -> None:
    comm = Comm(nb.client, nb.comm_inbox)
    first = comm.receive("state")
    assert first["mode"] == "auto" and first["cells"] == {}
    comm.send({"type": "sync", "cells": cells(("a", "x = 1"), ("b", "y = x + 1"), ("c", "z = later"), ("d", "later = 1"))})
    state = comm.receive("state")["cells"]
    assert [state[c]["state"] for c in "abcd"] == ["new", "new", "blocked", "new"]
    assert "`later` is defined only below it, in cell 4 · later = 1" in state["c"]["reason"]
    assert state["b"]["upstream"] == ["a"] and state["a"]["upstream"] == []
    comm.send({"type": "plan", "cell": "b", "request": 7})
    run = comm.receive("run")
    assert run == {"type": "run", "cells": ["a", "b"], "request": 7, "blocked": ""}
    comm.send({"type": "plan", "cell": "c", "request": 8})
    assert "defined only below it" in comm.receive("run")["blocked"]


def test_driven_runs_do_not_cascade_and_user_runs_delegate_dependents(nb: Notebook) -> None:
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    comm.send({"type": "sync", "cells": cells(("a", "x = 1"), ("b", "y = x + 1"))})
    comm.receive("state")
    for cid, code in (("a", "x = 1"), ("b", "y = x + 1")):
        assert driven(nb, cid, code).status == "ok"
    comm.drain()
    result = nb.run("a", "x = 5")  # the user ran it: dependents go back to the frontend
    assert "↻" not in result.text
    assert comm.receive("state")["cells"]["b"]["state"] == "stale"
    assert comm.receive("run")["cells"] == ["b"]
    driven(nb, "b", "y = x + 1")
    assert nb.value("y") == 6
    assert set(nb.states().values()) == {"ok"}


def test_run_goes_only_to_the_client_that_ran_the_cell(nb: Notebook) -> None:
    other = BlockingKernelClient()
    other.load_connection_info(nb.manager.get_connection_info())
    other.start_channels()
    try:
        other.wait_for_ready(timeout=TIMEOUT)
        mine, theirs = Comm(nb.client, nb.comm_inbox), Comm(other)
        mine.receive("state")
        nb.run("a", "x = 1")
        nb.run("b", "y = x * 2")
        mine.drain()
        nb.run("a", "x = 2")
        assert mine.receive("run")["cells"] == ["b"]
        # the other tab sees the new state but is not asked to run anything
        messages = theirs.drain()
        assert any(m["type"] == "state" for m in messages)
        assert not any(m["type"] == "run" for m in messages)
    finally:
        other.stop_channels()


def test_frontend_vanishing_mid_cascade_leaves_a_consistent_state(nb: Notebook) -> None:
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    nb.run("a", "x = 1")
    nb.run("b", "y = x + 1")
    nb.run("c", "z = y + 1")
    nb.run("a", "x = 10")
    assert comm.receive("run")["cells"] == ["b", "c"]
    driven(nb, "b", "y = x + 1")  # then the browser tab closes
    nb.client.shell_channel.send(nb.client.session.msg("comm_close", {"comm_id": comm.id, "data": {}}))
    assert nb.states() == {"a": "ok", "b": "ok", "c": "stale"}
    result = nb.run("c", "z = y + 1")  # with no frontend, the kernel does it all again
    assert nb.value("z") == 12 and result.status == "ok"


def test_deletion_update_mode_and_run_stale(nb: Notebook) -> None:
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    nb.run("a", "x = 1")
    nb.run("b", "y = x + 1")
    comm.drain()
    comm.send({"type": "mode", "mode": "lazy"})
    assert comm.receive("state")["mode"] == "lazy"
    # an edit (not run yet) makes the cell "edited" and its reader stale
    comm.send({"type": "update", "cells": cells(("a", "x = 2"))})
    state = comm.receive("state")["cells"]
    assert state["a"]["state"] == "edited" and state["b"]["state"] == "stale"
    comm.send({"type": "run_stale", "request": "r"})
    assert comm.receive("run")["cells"] == ["a", "b"]
    # a move: b above a makes b blocked
    comm.send({"type": "update", "order": ["b", "a"]})
    assert comm.receive("state")["cells"]["b"]["state"] == "blocked"
    comm.send({"type": "update", "order": ["a", "b"]})
    comm.receive("state")
    comm.send({"type": "delete", "cells": ["a"]})
    state = comm.receive("state")["cells"]
    assert "a" not in state and state["b"]["state"] == "blocked"
    assert not nb.defined("x")


def test_manual_flag_from_the_frontend(nb: Notebook) -> None:
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    comm.send({"type": "sync", "cells": [{"id": "a", "source": "n = 1"}, {"id": "b", "source": "m = n", "manual": True}]})
    assert comm.receive("state")["cells"]["b"]["manual"] is True
    nb.run("a", "n = 1")
    nb.run("b", "m = n")  # a plain run from the user keeps the frontend's flag
    nb.run(None, "%reactive lazy")
    comm.drain()
    comm.send({"type": "run_stale", "request": None})
    assert comm.receive("run")["cells"] == []


@pytest.mark.parametrize(
    "data",
    [
        {"type": "nonsense"},
        {"no": "type"},
        {"type": "sync", "cells": "not a list"},
        {"type": "sync", "cells": [{"id": 1}]},
        {"type": "plan", "cell": "missing"},
        {"type": "mode", "mode": "fast"},
        {"type": "delete", "cells": [None]},
    ],
)
def test_malformed_messages_get_an_error_and_lose_nothing(nb: Notebook, data: dict) -> None:
    nb.run("a", "kept = 42")
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    comm.send(data)
    assert comm.receive("error")["message"]
    assert nb.value("kept") == 42
    assert nb.states() == {"a": "ok"}


def test_comm_never_executes_code(nb: Notebook) -> None:
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    comm.send({"type": "sync", "cells": cells(("a", "executed = True"))})
    comm.receive("state")
    assert not nb.defined("executed")


def test_state_is_answered_on_a_subshell_while_a_cell_runs(nb: Notebook) -> None:
    info = nb.client.kernel_info(reply=True)["content"]
    assert "kernel subshells" in info.get("supported_features", [])
    request = nb.client.session.msg("create_subshell_request", {})
    nb.client.control_channel.send(request)
    subshell = nb.client.get_control_msg(timeout=TIMEOUT)["content"]["subshell_id"]
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    nb.run("a", "import time\nx = 1")
    comm.drain()  # the state published after that run: the answer must come from the subshell
    long = nb.client.session.msg(
        "execute_request",
        {"code": "time.sleep(4)\ny = x", "silent": False, "store_history": True,
         "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        metadata={"cellId": "b"},
    )
    nb.client.shell_channel.send(long)
    time.sleep(0.5)
    started = time.monotonic()
    for _ in range(20):  # hammer the graph from the subshell thread while the cell runs
        comm.send({"type": "update", "cells": cells(("c", f"z = x + {_}"))}, subshell_id=subshell)
        comm.send({"type": "state"}, subshell_id=subshell)
    comm.receive("state")
    answered = time.monotonic() - started
    assert answered < 3, "the state request waited for the running cell"
    assert nb.collect(long["header"]["msg_id"]).status == "ok"
    states = nb.states()
    assert states["b"] == "ok" and states["c"] == "new"


def test_sync_with_new_ids_for_the_same_cells_keeps_their_state(nb: Notebook) -> None:
    """Notebooks older than nbformat 4.5 get fresh cell ids on every load."""
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    nb.run("a", "x = 1")
    nb.run("b", "y = x + 1")
    comm.drain()
    comm.send({"type": "sync", "cells": cells(("a2", "x = 1"), ("b2", "y = x + 1"), ("n", "z = 3"))})
    state = comm.receive("state")["cells"]
    assert {cid: s["state"] for cid, s in state.items()} == {"a2": "ok", "b2": "ok", "n": "new"}
    assert nb.value("y") == 2
    nb.run("a2", "x = 5")
    assert comm.receive("run")["cells"] == ["b2"]  # the renamed cell kept its dependents


def test_errors_echo_the_request(nb: Notebook) -> None:
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    comm.send({"type": "plan", "cell": "nowhere", "request": 99})
    assert comm.receive("error")["request"] == 99


def test_auto_mode_runs_what_a_deletion_left_out_of_date(nb: Notebook) -> None:
    """A deletion reported over the comm makes the kernel ask the frontend to run the cells
    it affected at once: those that now read a redefinition from above re-run, those that
    cannot run any more are refused (each shows its error in its own cell)."""
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    order = ["a", "b", "c", "d"]
    sources = {"a": "v = 1", "b": "v = 2", "c": "w = v", "d": "u = w + 1"}
    comm.send({"type": "sync", "cells": cells(*((cid, sources[cid]) for cid in order))})
    comm.receive("state")
    for cid in order:
        driven(nb, cid, sources[cid])
    comm.drain()
    comm.send({"type": "delete", "cells": ["b"]})
    ran = comm.receive("run")
    assert ran["request"] is None and ran["cells"] == ["a", "c", "d"]
    for cid in ran["cells"]:
        assert driven(nb, cid, sources[cid]).status == "ok"
    assert (nb.value("v"), nb.value("w"), nb.value("u")) == (1, 1, 2)
    assert set(nb.states().values()) == {"ok"}
    comm.drain()
    comm.send({"type": "delete", "cells": ["a"]})
    ran = comm.receive("run")
    assert ran["cells"] == ["c", "d"]
    kind, message = driven(nb, "c", sources["c"]).error
    assert kind == "BlockedCellError" and "`v` is no longer defined" in message
    kind, message = driven(nb, "d", sources["d"]).error
    assert kind == "UpstreamFailedError" and "`w` is not defined: cell" in message
    assert not any(nb.defined(name) for name in ("v", "w", "u"))
    assert nb.states() == {"c": "blocked", "d": "upstream-error"}


def test_run_stale_with_a_manual_cell_not_run_answers(nb: Notebook) -> None:
    """A manual cell that has not run leaves its readers stale; "run stale" must still
    answer (it once looped forever)."""
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    comm.send({"type": "sync", "cells": cells(("m", "# reactive: manual\nm = 1"), ("a", "a = m + 1"), ("b", "b = a + 1"))})
    comm.receive("state")
    comm.send({"type": "run_stale", "request": "r"})
    assert comm.receive("run", timeout=10)["cells"] == []


def test_an_edit_reported_while_typing_runs_nothing(nb: Notebook) -> None:
    """In auto mode the kernel asks the frontend to run what is out of date, but never a cell
    the user edited and did not run, nor (through it) its readers."""
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    sources = {"a": "c = 5", "b": "d = c + 1", "e": "f = 1"}
    comm.send({"type": "sync", "cells": cells(*sources.items())})
    comm.receive("state")
    for cid, code in sources.items():
        driven(nb, cid, code)
    comm.drain()
    comm.send({"type": "update", "cells": cells(("a", "c = 8\ne = 0"))})
    state = comm.receive("state")["cells"]
    assert state["a"]["state"] == "edited" and state["b"]["state"] == "stale"
    assert all(m["type"] != "run" for m in comm.drain())
    assert nb.value("d") == 6 and not nb.defined("e")


def test_state_says_what_a_run_changed_in_place(nb: Notebook) -> None:
    """The `effects` of a cell in a state message (the extension's tooltip) name what its
    last run was seen to change in place, and through which name."""
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    source = (("a", "a = [1, 2]"), ("b", "b = a"), ("c", "b.append(0)"), ("d", "n = len(a)"))
    comm.send({"type": "sync", "cells": cells(*source)})
    comm.receive("state")
    for cid, code in source:
        assert driven(nb, cid, code).status == "ok"
    comm.drain()
    driven(nb, "d", "n = len(a)")
    state = comm.receive("state")["cells"]
    assert state["c"]["effects"] == ["changed `a` in place (through `b`)", "changed `b` in place"]
    assert state["d"]["effects"] == [] and state["a"]["effects"] == []


def test_a_source_received_only_over_the_comm_never_runs_in_the_kernel(nb: Notebook) -> None:
    """A cell inserted over the comm above a reader, never run by the user: running the
    reader does not make the kernel run it (the reader is refused, saying which cell to run
    first), and nothing that cell would do happens. A frontend asking for a plan gets it
    listed, to run it as a visible cell execution."""
    comm = Comm(nb.client, nb.comm_inbox, runs_cells=False)
    comm.receive("state")
    nb.run("a", "x = 1")
    nb.run("r", "y = x + 1")
    comm.send(
        {"type": "update", "cells": cells(("n", "planted = True\nx = 5")), "order": ["a", "n", "r"]}
    )
    comm.receive("state")
    result = nb.run("r", "y = x + 1")
    assert result.error is not None and result.error[0] == "BlockedCellError", result.text
    assert "has not run yet: run it first" in result.error[1]
    assert not nb.defined("planted")
    comm.send({"type": "plan", "cell": "r", "request": 7})
    assert comm.receive("run")["cells"] == ["n", "r"]



@pytest.mark.parametrize(
    "data",
    [
        # valid cells, invalid deletions: before, the cells were applied and then the error sent
        {"type": "update", "cells": [{"id": "n", "source": "n = 1"}], "deleted": "a"},
        {"type": "sync", "cells": [{"id": "a", "source": "kept = 42"}, {"id": "b"}]},
        {"type": "update", "cells": [{"id": "x" * 300, "source": "v = 1"}]},
        {"type": "update", "cells": [{"id": "big", "source": "v = 1\n" * 200_000}]},
        {"type": "update", "order": ["a"] * 20_001},
        {"type": "run_stale", "request": "x" * 100_000},
        {"type": "plan", "cell": "", "request": {"nested": [[[[[]]]]]}},
    ],
)
def test_an_invalid_message_changes_nothing(nb: Notebook, data: dict) -> None:
    """Every message is checked against the protocol's schema and limits before anything is
    applied: an invalid one gets an error naming the problem, and the cells are as before."""
    nb.run("a", "kept = 42")
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    comm.send(data)
    error = comm.receive("error")
    assert error["message"].startswith("InvalidMessage: "), error
    assert nb.states() == {"a": "ok"}
    assert nb.value("kept") == 42
    comm.send({"type": "state"})
    assert set(comm.receive("state")["cells"]) == {"a"}


def test_a_deeply_nested_request_is_answered(nb: Notebook) -> None:
    """A `request` nested 900 deep (about what JSON encoders allow) is echoed back; deeper
    ones cannot be sent, and `protocol.validate` refuses them (tests/test_protocol.py)."""
    comm = Comm(nb.client, nb.comm_inbox)
    comm.receive("state")
    deep: Any = 0
    for _ in range(900):
        deep = [deep]
    comm.send({"type": "run_stale", "request": deep})
    assert comm.receive("run")["request"] == deep
    assert nb.run("a", "x = 1").status == "ok"


def _subshell(nb: Notebook) -> str:
    nb.client.control_channel.send(nb.client.session.msg("create_subshell_request", {}))
    return nb.client.get_control_msg(timeout=TIMEOUT)["content"]["subshell_id"]


@pytest.mark.parametrize("change", ["edit", "delete"])
def test_a_dependent_changed_over_the_comm_during_a_cascade(nb: Notebook, change: str) -> None:
    """While the kernel re-runs dependents itself, a frontend edits (keeping the names) or
    deletes a planned dependent, on a subshell: the request gets its reply, the edit is not
    run (the cell shows as edited), a deleted cell is not run and leaves nothing bound."""
    subshell = _subshell(nb)
    comm = Comm(nb.client, nb.comm_inbox, runs_cells=False)
    comm.receive("state")
    nb.run("a", "x = 1")
    nb.run("b", "import time\ntime.sleep(2)\ny = x")
    nb.run("c", "z = y")
    comm.drain()
    msg_id = send_execute(nb.client, "x = 2", {"cellId": "a"})
    time.sleep(1)  # cell b is running now
    if change == "edit":
        comm.send({"type": "update", "cells": cells(("c", "z = y * 1000"))}, subshell_id=subshell)
    else:
        comm.send({"type": "delete", "cells": ["c"]}, subshell_id=subshell)
    comm.send({"type": "state"}, subshell_id=subshell)
    seen = time.monotonic()
    while True:  # states published before the change may still be queued
        answered = comm.receive("state")["cells"]
        if ("c" not in answered) if change == "delete" else answered["c"]["state"] == "edited":
            break
    assert time.monotonic() - seen < 0.9, "the change waited for the running cell"
    result = nb.collect(msg_id)
    assert result.status == "ok" and "↻ re-running" not in result.text
    assert nb.value("y") == 2
    if change == "edit":
        assert nb.value("z") == 1 and nb.states()["c"] == "edited"
    else:
        assert not nb.defined("z") and "c" not in nb.states()


def test_state_updates_carry_only_the_cells_that_changed(nb: Notebook) -> None:
    """Issue 9, case 7: with the comm open, every run used to publish the whole notebook."""
    comm = Comm(nb.client, nb.comm_inbox, runs_cells=False)
    assert comm.receive("state")["full"] is True
    notebook = [(f"c{i}", f"v{i} = {i}") for i in range(200)] + [("r", "w = v199 + 1")]
    comm.send({"type": "sync", "cells": cells(*notebook)})
    assert len(comm.receive("state")["cells"]) == 201
    for cid, code in notebook:
        nb.run(cid, code)
    comm.drain()
    nb.run("new", "z = 1")  # a new cell: only it changed
    update = comm.drain()
    states = [m for m in update if m["type"] == "state"]
    assert states and all(not m["full"] for m in states)
    assert set().union(*(m["cells"] for m in states)) == {"new"}
    nb.run("c199", "v199 = -1")  # the kernel re-runs its reader: two entries
    states = [m for m in comm.drain() if m["type"] == "state"]
    assert set().union(*(m["cells"] for m in states)) == {"c199", "r"}
    assert nb.value("w") == 0 and comm.cells["r"]["state"] == "ok"
    comm.send({"type": "delete", "cells": ["c0"]})
    removed = comm.receive("state")
    assert removed["full"] is False and removed["removed"] == ["c0"] and "c0" not in comm.cells
    comm.send({"type": "state"})  # a full sync on request: every cell, as merged
    full = comm.receive("state")
    assert full["full"] is True and full["cells"] == comm.cells and len(full["cells"]) == 201
