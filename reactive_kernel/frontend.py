"""The ``reactive_kernel`` comm: reactive frontends report the notebook and get cell states.

See docs/protocol.md. Messages may arrive on a subshell thread while a cell runs, so every
graph access holds the executor's lock. The comm never executes code it is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from . import protocol
from .report import observed_effects

TARGET = "reactive_kernel"
_CHANGES = {"sync", "update", "delete", "mode"}  # requests after which every frontend hears

log = logging.getLogger(__name__)


class Frontend:
    """One open comm: a client (identified by its session) that may run cells itself."""

    def __init__(self, comm: Any, session: str, runs_cells: bool) -> None:
        self.comm = comm
        self.session = session
        self.runs_cells = runs_cells

    def send(self, data: dict[str, Any]) -> None:
        try:
            self.comm.send(data)
        except Exception:  # noqa: BLE001 - a dead frontend must not break the kernel
            log.warning("reactive_kernel: could not send to a frontend", exc_info=True)

    def send_run(self, cells: tuple[str, ...], request: Any = None, blocked: str = "") -> None:
        self.send({"type": "run", "cells": list(cells), "request": request, "blocked": blocked})


class Frontends:
    """The reactive frontends connected to one kernel, and the protocol's requests."""

    def __init__(self, executor: Any) -> None:
        self.executor = executor
        self.open: dict[str, Frontend] = {}
        self._sent: dict[str, dict[str, Any]] = {}  # each cell's entry as frontends know it
        self._sent_mode = ""

    def register(self, comm_manager: Any) -> None:
        comm_manager.register_target(TARGET, self._opened)

    def runner(self, kernel: Any) -> Frontend | None:
        """The frontend that runs cells for the client that sent the current request."""
        if not self.open:
            return None
        session = kernel.get_parent("shell").get("header", {}).get("session")
        for frontend in list(self.open.values()):
            if frontend.runs_cells and frontend.session == session:
                return frontend
        return None

    def publish(self, full_for: Frontend | None = None) -> None:
        """Tell every frontend which cells' states changed (after any change), and
        ``full_for`` every cell's state (on opening, and when it asks).

        Only the cells whose entry differs from the last one sent go out, so a run costs what
        it changed, not the size of the notebook.
        """
        if not self.open:
            with self.executor.lock:
                self.executor.graph.take_changed(listening=False)
                self._sent = {}
            return
        update = self._update_sent()
        if update["cells"] or update["removed"] or update["mode"] != self._sent_mode:
            self._sent_mode = update["mode"]
            for frontend in list(self.open.values()):
                if frontend is not full_for:
                    frontend.send(update)
        if full_for is not None:
            with self.executor.lock:
                order = self.executor.graph.order
                cells = {cid: self._sent[cid] for cid in order if cid in self._sent}
            full_for.send(dict(update, full=True, cells=cells, removed=[]))

    def _update_sent(self) -> dict[str, Any]:
        executor = self.executor
        with executor.lock:
            graph = executor.graph
            changed = graph.take_changed()
            if changed is None:  # after a change of structure: compare every cell
                changed = set(graph.order) | self._sent.keys()
            cells, removed = {}, []
            for cid in changed:
                if cid not in graph.cells:
                    if self._sent.pop(cid, None) is not None:
                        removed.append(cid)
                    continue
                entry = self._entry(cid)
                if self._sent.get(cid) != entry:
                    self._sent[cid] = cells[cid] = entry
            return {"type": "state", "full": False, "mode": executor.mode, "cells": cells,
                    "removed": removed}

    def _entry(self, cell_id: str) -> dict[str, Any]:
        graph = self.executor.graph
        status = graph.state_of(cell_id)
        cell = graph.cells[cell_id]
        reads = graph.inputs(cell_id)
        return {
            "state": status.state,
            "reason": status.reason,
            "name": graph.describe(cell),
            "manual": cell.manual,
            "reads": reads,
            "upstream": list(dict.fromkeys(reads.values())),
            "effects": observed_effects(cell),
            "source_hash": protocol.source_hash(cell.source),
            "refused": bool(cell.refused),
        }

    # -- incoming ------------------------------------------------------------------------

    def _opened(self, comm: Any, message: dict[str, Any]) -> None:
        data = message.get("content", {}).get("data") or {}
        session = message.get("header", {}).get("session", "")
        frontend = Frontend(comm, session, runs_cells=bool(data.get("runs_cells")))
        self.open[comm.comm_id] = frontend
        comm.on_msg(lambda msg: self._received(frontend, msg))
        comm.on_close(lambda msg: self.open.pop(comm.comm_id, None))
        # ipykernel routes a comm's incoming messages to the subshell that last published on
        # it (for widgets' replies); the kernel publishes states from the main shell, so that
        # would send every request to the main shell, queued behind a running cell. Requests
        # go where their header says (a subshell, if the frontend has one).
        comm._reply_subshell_for = lambda data, default: default
        self.publish(full_for=frontend)

    def _received(self, frontend: Frontend, message: dict[str, Any]) -> None:
        content = message.get("content") if isinstance(message, dict) else None
        data = content.get("data") if isinstance(content, dict) else None
        try:
            data = protocol.validate(data)  # before anything is applied
        except protocol.InvalidMessage as error:
            self._refuse(frontend, error, data)
            return
        try:
            self._handlers()[data["type"]](frontend, data)
        except Exception as error:  # noqa: BLE001 - bad input gets an error, not a crash
            self._refuse(frontend, error, data)
        if data["type"] in _CHANGES:
            self._changed(frontend)

    def _refuse(self, frontend: Frontend, error: Exception, data: Any) -> None:
        frontend.send(
            {
                "type": "error",
                "message": f"{type(error).__name__}: {error}",
                "request": protocol.request_of(data),
            }
        )

    def _changed(self, frontend: Frontend) -> None:
        """After a deletion, new order or mode: in auto mode the cells this left out of date
        run at once, driven by the frontend that reported the change."""
        executor = self.executor
        with executor.lock:
            executor.settle()
            auto = executor.mode == "auto"
            later = executor.graph.plan_consistent(visible=True).cells if auto else ()
        self.publish()
        if later and frontend.runs_cells:
            frontend.send_run(later)

    def _handlers(self) -> dict[str, Callable[[Frontend, dict[str, Any]], None]]:
        return {
            "sync": self._sync,
            "update": self._update,
            "delete": lambda _, data: self.executor.delete_cells(
                data["cells"], converted=data.get("converted", ())
            ),
            "mode": lambda _, data: self.executor.set_mode(data["mode"]),
            "plan": self._plan,
            "run_stale": self._run_stale,
            "state": lambda frontend, _: self.publish(full_for=frontend),
        }

    def _sync(self, frontend: Frontend, data: dict[str, Any]) -> None:
        cells = data["cells"]
        listed = {cell["id"]: cell["source"] for cell in cells}
        executor = self.executor
        with executor.lock:
            graph = executor.graph
            gone = [cid for cid in graph.order if cid not in listed]
            # Notebooks older than nbformat 4.5 get new cell ids on every load: a cell that
            # vanished and a new one with the same source are the same cell.
            new_ids = [cid for cid in listed if cid not in graph.cells]
            for old in list(gone):
                match = next((n for n in new_ids if listed[n] == graph.cells[old].source), None)
                if match is not None:
                    graph.rename(old, match)
                    new_ids.remove(match)
                    gone.remove(old)
            self._apply(cells, data.get("order") or list(listed))
        executor.delete_cells(gone)

    def _update(self, frontend: Frontend, data: dict[str, Any]) -> None:
        with self.executor.lock:
            self._apply(data.get("cells", []), data.get("order"))
        self.executor.delete_cells(data.get("deleted", []))

    def _apply(self, cells: list[dict[str, Any]], order: list[str] | None) -> None:
        executor = self.executor
        for cell in cells:
            executor.set_source(cell["id"], cell["source"], tagged=bool(cell.get("manual")))
        if order is not None:
            executor.graph.set_order(order)

    def _plan(self, frontend: Frontend, data: dict[str, Any]) -> None:
        cell_id = data.get("cell")
        executor = self.executor
        with executor.lock:
            if cell_id not in executor.graph.cells:
                raise ValueError(f"unknown cell {cell_id!r}: send it with sync/update first")
            plan = executor.graph.plan(cell_id, auto=executor.mode == "auto", visible=True)
        frontend.send_run(plan.cells, data.get("request"), plan.blocked)

    def _run_stale(self, frontend: Frontend, data: dict[str, Any]) -> None:
        with self.executor.lock:
            plan = self.executor.graph.plan_stale()
        frontend.send_run(plan.cells, data.get("request"))

