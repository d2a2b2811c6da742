"""Reactive execution: the thin layer between an ipykernel kernel and the pure graph.

It feeds each execute request's cell id, source and deletions to the graph, asks it for a
plan, runs the planned cells through the kernel's own ``do_execute`` (so everything IPython
does — display, history, stdin, interrupts, async — keeps working) and records what each run
bound in the namespace.
"""

from __future__ import annotations

import re
import sys
import threading
import types
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from functools import lru_cache
from typing import Any

from .analysis import CellAnalysis, analyse
from .frontend import Frontends
from .graph import Graph

MODES = ("auto", "lazy", "off")
MANUAL_TAG = "reactive-manual"
_MANUAL_PRAGMA = re.compile(r"^\s*#\s*reactive:\s*manual\b", re.MULTILINE)
_IPYTHON_CACHE = re.compile(r"_(i{1,3}|_{0,2}|i?\d+|[ido]h)")

_UNCHANGEABLE = (types.ModuleType, str, bytes, int, float, complex, tuple, frozenset, range)

DoExecute = Callable[..., Awaitable[dict[str, Any]]]
Snapshot = tuple[set[str], dict[str, int]]


class BlockedCellError(NameError):
    """A cell was not run because it would read a name a fresh top-to-bottom run lacks."""


class UpstreamFailedError(RuntimeError):
    """A cell was not run because a stale cell it needs failed first."""


class ReactiveExecutor:
    """Runs execute requests reactively for one kernel (``kernel.shell`` is IPython)."""

    def __init__(self, kernel: Any, mode: str = "auto") -> None:
        self.kernel = kernel
        self.shell = kernel.shell
        self.graph = Graph()
        # Comm messages may be handled on a subshell thread while a cell runs.
        self.lock = threading.RLock()
        self.mode = mode
        self._warned = False
        self._analyse = lru_cache(maxsize=512)(self._analyse_uncached)
        self.frontends = Frontends(self)

    # -- configuration -------------------------------------------------------------------

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        with self.lock:
            if self.mode == "off" and mode != "off":
                self.graph.invalidate("cells ran while reactive mode was off")
            self.mode = mode

    # -- requests ------------------------------------------------------------------------

    async def execute(
        self,
        run: DoExecute,
        code: str,
        silent: bool,
        store_history: bool = True,
        user_expressions: dict[str, str] | None = None,
        allow_stdin: bool = False,
        *,
        cell_meta: dict[str, Any] | None = None,
        cell_id: str | None = None,
    ) -> dict[str, Any]:
        """Handle one execute request; ``run`` is the wrapped kernel's plain ``do_execute``."""
        request = dict(
            silent=silent,
            store_history=store_history,
            user_expressions=user_expressions,
            allow_stdin=allow_stdin,
            cell_meta=cell_meta,
            cell_id=cell_id,
        )
        if self.mode == "off":
            return await run(code, **request)
        meta = cell_meta if isinstance(cell_meta, dict) else {}
        driven = isinstance(meta.get("reactive"), dict) and bool(meta["reactive"].get("driven"))
        try:
            deleted = meta.get("deletedCells")
            if deleted:
                self.delete_cells(deleted if isinstance(deleted, list) else ())
            if silent:  # frontends' own housekeeping (variable inspectors, …): plain IPython
                return await run(code, **request)
            if not isinstance(cell_id, str) or not cell_id:
                return await self._run_anonymous(run, code, request)
            with self.lock:
                tagged = True if MANUAL_TAG in (meta.get("tags") or ()) else None
                self.set_source(cell_id, code, tagged=tagged)
                orphans = self.graph.orphans()
                plan = self.graph.plan(cell_id, auto=self.mode == "auto" and not driven)
            # A frontend that runs cells itself gets the dependents to run in their own cells.
            runner = None if driven else self.frontends.runner(self.kernel)
        except Exception as error:  # noqa: BLE001 - never lose the user's cell to our bug
            self._warn_once(error)
            return await run(code, **request)
        for name in orphans:
            self.shell.user_ns.pop(name, None)
        if plan.blocked:
            return self._refuse(BlockedCellError(f"{plan.blocked}. The cell was not run."))
        now = plan.cells
        if runner is not None:
            now = plan.cells[: plan.cells.index(cell_id) + 1]
        reply = await self._run_plan(run, cell_id, now, plan.pulled, request)
        later = plan.cells[len(now) :]
        if runner is not None and later and reply.get("status") == "ok":
            runner.send_run(later)
        return reply

    def set_source(self, cell_id: str, code: str, *, tagged: bool | None = None) -> None:
        """Give the graph a cell's current source and its analysis."""
        pragma = bool(_MANUAL_PRAGMA.search(code))
        self.graph.set_source(cell_id, code, self._effective(code), pragma=pragma, tagged=tagged)

    async def _run_plan(
        self,
        run: DoExecute,
        target: str,
        cells: tuple[str, ...],
        pulled: tuple[str, ...],
        request: dict[str, Any],
    ) -> dict[str, Any]:
        """Run planned cells in order; the requested one as the request itself."""
        reply: dict[str, Any] | None = None
        for cid in cells:
            if cid == target:
                reply = await self._run_cell(run, cid, request)
                if reply.get("status") != "ok":
                    break
                continue
            with self.lock:
                name = self.graph.describe(cid)
            why = " first: this cell needs its values" if cid in pulled else ""
            print(f"↻ re-running cell {name}{why}", flush=True)
            dependent = await self._run_cell(run, cid, dict(request, store_history=False))
            if dependent.get("status") != "ok":
                if reply is None:  # the requested cell cannot run on a failed input
                    return self._refuse(
                        UpstreamFailedError(f"cell {name}, which this cell needs, failed")
                    )
                break
        assert reply is not None
        return reply

    async def _run_cell(self, run: DoExecute, cell_id: str, request: dict[str, Any]) -> dict:
        """Run one cell as it stands in the graph, and record what it did."""
        ns = self.shell.user_ns
        with self.lock:
            cell = self.graph.cells[cell_id]
            code = cell.source
            analysis = cell.analysis
            # A cell that raises must not leave an old value of a name it defines behind.
            stale = analysis.defines - analysis.reads - analysis.mutates
            stale |= self.graph.unavailable(cell_id)
        for name in stale:
            ns.pop(name, None)
        before = self._snapshot()
        reply = await run(code, **dict(request, cell_id=cell_id))
        bound = self._rebound(before, self._snapshot())
        label = str(reply.get("execution_count")) if request.get("store_history") else None
        with self.lock:
            if self.graph.cells.get(cell_id) is cell:  # not deleted meanwhile
                self.set_source(cell_id, code)  # a run may have bound modules
                self.graph.record_run(
                    cell_id, ok=reply.get("status") == "ok", bound=bound, label=label
                )
        self.frontends.publish()
        return reply

    async def _run_anonymous(self, run: DoExecute, code: str, request: dict) -> dict[str, Any]:
        """No cell id (nbclient, papermill, console): plain IPython, but note what it rebinds."""
        before = self._snapshot()
        reply = await run(code, **request)
        bound = self._rebound(before, self._snapshot())
        analysis = self._effective(code)
        if analysis is not None:
            bound |= analysis.defines
        with self.lock:
            self.graph.record_external(bound)
        self.frontends.publish()
        return reply

    def delete_cells(self, cell_ids: Iterable[str]) -> set[str]:
        """Cells were deleted: drop the names only they defined from the namespace."""
        with self.lock:
            doomed = self.graph.delete(cid for cid in cell_ids if isinstance(cid, str))
        for name in doomed:
            self.shell.user_ns.pop(name, None)
        return doomed

    # -- helpers -------------------------------------------------------------------------

    def _analyse_uncached(self, code: str) -> CellAnalysis | None:
        transform = self.shell.transform_cell
        try:  # plain Python (most cells) needs no IPython transformation
            return analyse(code, transform)
        except SyntaxError:
            pass
        try:
            return analyse(transform(code), transform)
        except SyntaxError:
            return None

    def _effective(self, code: str) -> CellAnalysis | None:
        """The cell's analysis, minus "mutations" of names bound to modules (``plt.plot()``)
        or to immutable values (``text.zfill(3)``), which method calls cannot change."""
        analysis = self._analyse(code)
        if analysis is None or not analysis.mutates:
            return analysis
        ns = self.shell.user_ns
        modules = {n for n in analysis.mutates if isinstance(ns.get(n), _UNCHANGEABLE)}
        if not modules:
            return analysis
        return replace(
            analysis, defines=analysis.defines - modules, mutates=analysis.mutates - modules
        )

    def _snapshot(self) -> Snapshot:
        """The names bound, and the identity of the values of names the graph knows.

        Comparing two snapshots shows what a run really bound, deleted or rebound. Only known
        names have their identities taken, so the cost does not grow with IPython's history
        (``_i1`` … ``_i10000``); a never-seen name a run rebinds indirectly goes unnoticed.
        """
        ns = self.shell.user_ns
        with self.lock:
            known = self.graph.known_names()
        return set(ns), {name: id(ns[name]) for name in known if name in ns}

    def _rebound(self, before: Snapshot, after: Snapshot) -> set[str]:
        (names_before, ids_before), (names_after, ids_after) = before, after
        changed = names_before ^ names_after
        if ids_before != ids_after:
            changed.update(name for name, _ in ids_before.items() ^ ids_after.items())
        ns, hidden = self.shell.user_ns, self.shell.user_ns_hidden
        return {
            name
            for name in changed
            if not (name in hidden and ns.get(name) is hidden[name])
            and not (name[:1] == "_" and _IPYTHON_CACHE.fullmatch(name))
            and name not in ("In", "Out")
        }

    def _refuse(self, error: Exception) -> dict[str, Any]:
        """Report an error for a cell we did not run, as IPython reports its own."""
        shell = self.shell
        stb = shell.InteractiveTB.get_exception_only(type(error), error)
        shell._showtraceback(type(error), error, stb)
        shell.execution_count += 1
        return {
            "status": "error",
            "ename": type(error).__name__,
            "evalue": str(error),
            "traceback": stb,
            "execution_count": shell.execution_count - 1,
            "user_expressions": {},
            "payload": [],
        }

    def _warn_once(self, error: Exception) -> None:
        if not self._warned:
            self._warned = True
            print(
                f"reactive_kernel: internal error ({type(error).__name__}: {error}); "
                "running cells as plain IPython where this happens.",
                file=sys.stderr,
                flush=True,
            )
