"""Reactive execution: the thin layer between an ipykernel kernel and the pure graph.

It feeds each execute request's cell id, source and deletions to the graph, asks it for a
plan, runs the planned cells through the kernel's own ``do_execute`` (so everything IPython
does — display, history, stdin, interrupts, async — keeps working) and records what each run
bound in the namespace.
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Awaitable, Callable, Iterable
from functools import lru_cache
from typing import Any

from . import effects, random_state, rebinding
from .async_check import spare_async_compile
from .analysis import DYNAMIC_NAMES, CellAnalysis, CellTooComplex, read_cell, same_code
from .frontend import Frontends
from .cells import STALE, UPSTREAM_ERROR
from .graph import Graph
from .lock import GraphLock
from .planning import Plan
from .report import GraphView
from .reuse import Reuse
from .shared_parse import SharedParse

MODES = ("auto", "lazy", "off")
MANUAL_TAG = "reactive-manual"
_MANUAL_PRAGMA = re.compile(r"^\s*#\s*reactive:\s*manual\b", re.MULTILINE)
_IPYTHON_CACHE = re.compile(r"_(i{1,3}|_{0,2}|i?\d+|[ido]h)")

_UNCHANGEABLE = (types.ModuleType, str, bytes, int, float, complex, tuple, frozenset, range)

DoExecute = Callable[..., Awaitable[dict[str, Any]]]
Observed = tuple[effects.Watched, dict[str, Any]]  # fingerprints, random generators' probes


def _public_names(module_name: str) -> frozenset[str]:
    """What ``from module import *`` binds, if the module is imported already (else we learn
    it when the cell runs)."""
    module = sys.modules.get(module_name)
    if module is None:
        return frozenset()
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    return frozenset(n for n in names if isinstance(n, str))


def _reads_namespace(analysis: CellAnalysis | CellTooComplex | None) -> bool:
    """Whether a cell's effective analysis depends on what the namespace holds (names bound
    to modules among those it mutates, modules it star-imports)."""
    return isinstance(analysis, CellAnalysis) and bool(analysis.mutates or analysis.stars)


_REPLAN = {"status": "replan"}  # a run not made: what it needed changed since the plan


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
        # Comm messages may be handled on a subshell thread while a cell runs; interrupts
        # wait until the graph is whole again.
        self.lock = GraphLock()
        self.mode = mode
        self.track_random_state = True
        self.reuse = Reuse(self.graph)  # early cutoff, kept values
        self.generators = random_state.Generators()
        self._warned = False
        self._analyse = lru_cache(maxsize=512)(self._analyse_uncached)
        # IPython's work on each cell that the kernel's own makes redundant.
        self.shared_parse = SharedParse.on(self.shell.compile)
        spare_async_compile(self.shell)
        self.frontends = Frontends(self)
        self.running: str | None = None  # the cell whose code runs now (``%reactive why``)
        # The last ``%reactive graph`` output, redrawn after each request that changed it.
        self.graph_display: Any = None
        self.graph_shown: tuple[str | None, str] = (None, "")

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
        """Handle one execute request; ``run`` is the wrapped kernel's plain ``do_execute``.

        Always answered: an interrupt that lands in the kernel's own bookkeeping (between or
        around the cells' code, where IPython does not catch it) gives the same reply as one
        in a cell, with the execution count the requested cell showed if it ran.
        """
        first = self.shell.execution_count
        try:
            return await self._execute(
                run, code, silent, store_history, user_expressions, allow_stdin,
                cell_meta=cell_meta, cell_id=cell_id,
            )
        except KeyboardInterrupt:
            ran = self.shell.execution_count != first
            reply = self.interrupted(count=store_history and not silent and not ran)
            if ran:
                reply["execution_count"] = first
            return reply
        finally:
            if self.graph_display is not None and not silent:
                self._redraw_graph()

    def _redraw_graph(self) -> None:
        """Keep the ``%reactive graph`` output true: redraw it when the graph changed (it
        costs a walk of the notebook, so only while such an output exists)."""
        try:
            with self.lock:
                shown_in, text = self.graph_shown
                if shown_in is not None and shown_in not in self.graph.cells:
                    self.graph_display = None  # its cell is gone
                    return
                view = GraphView(self.graph, hide=shown_in)
                drawn = view.mermaid()
                if drawn == text:
                    return
                self.graph_shown = (shown_in, drawn)
            self.graph_display.update(view)
        except Exception as error:  # noqa: BLE001 - a picture must not break the kernel
            self.graph_display = None
            self._warn_once(error)

    def interrupted(self, *, count: bool) -> dict[str, Any]:
        """The reply to a request an interrupt stopped outside any cell's code."""
        return self._refuse(KeyboardInterrupt(), count=count)

    async def _execute(
        self,
        run: DoExecute,
        code: str,
        silent: bool,
        store_history: bool,
        user_expressions: dict[str, str] | None,
        allow_stdin: bool,
        *,
        cell_meta: dict[str, Any] | None,
        cell_id: str | None,
    ) -> dict[str, Any]:
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
        deleted = meta.get("deletedCells")
        try:
            if deleted:
                self.delete_cells(deleted if isinstance(deleted, list) else ())
        except Exception as error:  # noqa: BLE001 - never lose the user's cell to our bug
            self._warn_once(error)
        if silent:  # frontends' own housekeeping (variable inspectors, …): plain IPython
            return await run(code, **request)
        if not isinstance(cell_id, str) or not cell_id:
            reply = await self._run_anonymous(run, code, request)
            if deleted and self.mode == "auto":  # the deletions may leave cells out of date
                await self._run_request(run, None, request, auto=True)
            return reply
        try:
            with self.lock:
                tagged = True if MANUAL_TAG in (meta.get("tags") or ()) else None
                self.set_source(cell_id, code, tagged=tagged)
                generation = self.graph.generation
            # A frontend that runs cells itself runs the rest, each in its own cell.
            runner = self.frontends.runner(self.kernel)
        except Exception as error:  # noqa: BLE001 - never lose the user's cell to our bug
            self._warn_once(error)
            return await run(code, **request)
        was_auto = self.mode == "auto"
        reply = await self._run_request(
            run, cell_id, request, auto=was_auto and runner is None, driven=driven
        )
        auto = self.mode == "auto"  # the cell may have switched it (``%reactive auto``)
        if auto and not was_auto and runner is None:
            await self._run_request(run, None, request, auto=True)
        if auto and runner is not None and reply.get("ename") != "KeyboardInterrupt":
            failed = reply.get("status") != "ok"
            # A driven run is one of a list the frontend already has; it needs more only
            # when this run changed what that list was planned on, or left its cell stale
            # (an input changed in the frontend meanwhile: ``without_stale_pulls``).
            with self.lock:
                graph = self.graph
                more = (
                    not driven
                    or failed
                    or graph.generation != generation
                    or (cell_id in graph.cells and graph.state_of(cell_id).state == STALE)
                )
                later = graph.plan_consistent(visible=True).cells if more else ()
            if later:
                runner.send_run(later)
        return reply

    def set_source(self, cell_id: str, code: str, *, tagged: bool | None = None) -> None:
        """Give the graph a cell's current source and its analysis."""
        pragma = bool(_MANUAL_PRAGMA.search(code))
        analysis = self._effective(code)
        untracked = str(analysis) if isinstance(analysis, CellTooComplex) else ""
        if untracked:
            analysis = None
        cell = self.graph.cells.get(cell_id)
        ran = cell.ran_source if cell is not None else None
        self.graph.set_source(
            cell_id,
            code,
            analysis,
            pragma=pragma,
            tagged=tagged,
            untracked=untracked,
            ran_same=ran is not None and same_code(code, ran, self.shell.transform_cell),
        )

    async def _run_request(
        self,
        run: DoExecute,
        target: str | None,
        request: dict[str, Any],
        *,
        auto: bool,
        driven: bool = False,
    ) -> dict[str, Any]:
        """Run the requested cell on correct inputs and, in ``auto``, every cell that is out
        of date after it, in notebook order. With no ``target``, only the latter.

        The plan is made again after a cell fails or changes what cells define (a failed or
        refused cell binds less), so a failure stops only what depends on it, and after a
        cell's re-run left its values unchanged (early cutoff), so that only what is still
        out of date runs (with only the pulls it needs). A budget of runs per request keeps
        a notebook that never settles from hanging the kernel.
        """
        reply: dict[str, Any] | None = None
        budget = 2 * len(self.graph.order) + 8
        rest: tuple[str, ...] | None = None  # the plan's cells after an early cutoff
        while budget > 0:
            try:
                with self.lock:
                    self.settle()
                    generation = self.graph.generation
                    pending = target if reply is None else None
                    if rest is not None:
                        plan, rest = self.graph.plan_rest(rest, target=pending, auto=auto), None
                    elif pending is not None:
                        plan = self.graph.plan(pending, auto=auto)
                        if driven:
                            plan = self.graph.without_stale_pulls(plan)
                    elif auto:
                        plan = self.graph.plan_consistent()
                    else:
                        break
            except Exception as error:  # noqa: BLE001 - never lose the user's cell to our bug
                self._warn_once(error)
                if reply is not None or target is None:
                    return reply or {"status": "ok"}
                return await run(self.graph.cells[target].source, **request)
            if plan.blocked:
                reply = self._refuse_cell(target, plan.blocked, request)
                continue
            if not plan.cells:
                break
            for index, cid in enumerate(plan.cells[:budget]):
                budget -= 1
                if cid == target and reply is None:
                    restore = plan.restore.get(cid, frozenset())
                    outcome = await self._run_cell(run, cid, request, restore)
                    if outcome is not _REPLAN:
                        reply = outcome
                else:
                    outcome = await self._run_dependent(run, cid, plan, request)
                if outcome.get("ename") == "KeyboardInterrupt":
                    # The user stopped it: run nothing more, and answer with the interrupt, so
                    # that requests queued behind this one are aborted, as in plain IPython.
                    count = reply["execution_count"] if reply else outcome["execution_count"]
                    return dict(outcome, execution_count=count)
                if outcome.get("status") != "ok" or self.graph.generation != generation:
                    break
                cell = self.graph.cells.get(cid)
                if cell is not None and cell.kept_dependents:
                    rest = plan.cells[index + 1 :]
                    break
        if reply is None and target is not None:
            reply = self._refuse_cell(target, "the notebook did not settle", request)
        return reply or {"status": "ok"}

    async def _run_dependent(
        self, run: DoExecute, cell_id: str, plan: Plan, request: dict[str, Any]
    ) -> dict[str, Any]:
        """Run (or refuse) a cell the request did not name, under a header saying so.

        A cell deleted or edited (through the comm) since the plan was made is not run: the
        kernel runs only sources the user ran. The request is then planned again.
        """
        with self.lock:
            cell = self.graph.cells.get(cell_id)
            if cell is None or cell.ran_source != cell.source:
                return {"status": "skipped"}
            name = self.graph.describe(cell_id)
        why = " first: this cell needs its values" if cell_id in plan.pulled else ""
        print(f"↻ re-running {name}{why}", flush=True)
        request = dict(request, store_history=False)
        if cell_id in plan.refused:
            return self._refuse_cell(cell_id, plan.refused[cell_id], request)
        restore = plan.restore.get(cell_id, frozenset())
        return await self._run_cell(
            run, cell_id, request, restore, pulled=cell_id in plan.pulled
        )

    async def _run_cell(
        self,
        run: DoExecute,
        cell_id: str,
        request: dict[str, Any],
        restore: frozenset[str] = frozenset(),
        *,
        pulled: bool = False,
    ) -> dict:
        """Run one cell as it stands in the graph, and record what it did.

        ``restore``: random generators to put back in the state the cell drew from last time;
        ``pulled``: it runs to give a later cell its values again.
        """
        ns = self.shell.user_ns
        with self.lock:
            cell = self.graph.cells[cell_id]
            reuse = self.reuse.start(ns, cell, restore, pulled=pulled)
            if reuse is None:  # a kept value was changed since: plan again, without it
                return _REPLAN
            restore = reuse.restore
            code = cell.source
            cleared = self.graph.to_clear(cell_id)
            analysis = cell.analysis
            # Not the names it surely rebinds: their old objects are gone after the run, and
            # a new object may reuse an old one's id.
            rebinds = analysis.defines - analysis.mutates - analysis.maybe
            reads = self.graph.effective_reads(cell)
            watched = reads - rebinds
            candidates = self._candidates(analysis, reads, cell.learnt)
            shadowed = self.graph.shadowed_builtins(cell_id)
            self.reuse.may_replace(reuse, ns, cell, candidates)
        self.reuse.prepare(reuse, ns)
        # ``def sum`` in a cell below: this cell must see the builtin, as in a fresh run.
        hidden = {n: ns.pop(n) for n in shadowed if n in ns}
        for name in cleared:
            ns.pop(name, None)
        if self.generators.put_back(cell_id, restore):
            with self.lock:
                self.graph.record_restore(cell_id, restore)
        observed = self._observe(watched)
        before = rebinding.mark(ns, candidates)
        self.running = cell_id
        try:
            reply = await run(code, **dict(request, cell_id=cell_id))
        finally:
            self.running = None
            put_back = {n: v for n, v in hidden.items() if n not in ns}  # unless it bound them
            ns.update(put_back)
        try:
            bound = self._rebound(before) - put_back.keys()
            with self.lock:
                ran = self.graph.cells.get(cell_id) is cell  # not deleted meanwhile
                if ran:
                    if _reads_namespace(self._analyse(code)):  # a run may have bound modules
                        self.set_source(cell_id, code)
                    changed, unchanged = self._observed(cell_id, observed, bound)
                    self.graph.record_run(
                        cell_id,
                        ok=reply.get("status") == "ok",
                        bound=bound,
                        changed=changed,
                        unchanged=unchanged,
                        restorable=self.generators.kept(cell_id),
                    )
                else:  # deleted while it ran: what it bound has no cell any more
                    self.graph.record_orphaned_run(cell_id, bound)
                self.reuse.finish(reuse, ns, cell, ran=ran)
                self.settle()
        except Exception as error:  # noqa: BLE001 - the cell ran; only our notes are lost
            self._warn_once(error)
        self.frontends.publish()
        return reply

    def _refuse_cell(self, cell_id: str, problem: str, request: dict[str, Any]) -> dict:
        """Show why a cell cannot run, as its error, and record that it bound nothing."""
        with self.lock:
            upstream = self.graph.state_of(cell_id).state == UPSTREAM_ERROR
        kind = UpstreamFailedError if upstream else BlockedCellError
        reply = self._refuse(
            kind(f"{problem}. The cell was not run."), count=bool(request.get("store_history"))
        )
        with self.lock:
            if cell_id in self.graph.cells:
                self.graph.record_refusal(cell_id, problem)
            self.settle()
        self.frontends.publish()
        return reply

    def _observe(self, names: Iterable[str]) -> Observed | None:
        """Fingerprints of what a cell may change in place, and the random generators."""
        ns = self.shell.user_ns
        try:
            watched = effects.watch(ns, (n for n in names if not random_state.is_hidden(n)))
            probes = self.generators.before_run() if self.track_random_state else {}
            return watched, probes
        except Exception as error:  # noqa: BLE001 - the cell runs; its source is the guide
            self._warn_once(error)
            return None

    def _observed(
        self, cell_id: str, observed: Observed | None, bound: set[str]
    ) -> tuple[dict[str, str], frozenset[str]]:
        """What the run changed in place (name -> the name it changed it through, "" if
        directly), and the names it was seen to leave unchanged. Adds to ``bound`` the random
        generators a seeding cell seeded. With nothing observed, the cell's source decides."""
        if observed is None:
            return {}, frozenset()
        try:
            return self._compare(cell_id, observed, bound)
        except Exception as error:  # noqa: BLE001 - the cell ran; its source is the guide
            self._warn_once(error)
            return {}, frozenset()

    def _compare(
        self, cell_id: str, observed: Observed, bound: set[str]
    ) -> tuple[dict[str, str], frozenset[str]]:
        ns = self.shell.user_ns
        watched, probes = observed
        analysis = self.graph.cells[cell_id].analysis
        seen = effects.changes(ns, watched)
        certain = {n for n in analysis.mutates - analysis.calls if n in ns and n not in bound}
        changed = dict.fromkeys(seen.names | certain, "")
        if changed:
            effects.add_certain(seen, ns, certain)
            candidates = self.graph.known_names() - bound - changed.keys()
            changed.update(effects.sharers(ns, seen, candidates))
        unchanged = frozenset(watched.roots.keys() - watched.opaque - bound - changed.keys())
        if probes:
            self._random_effects(cell_id, probes, bound, changed)
        return changed, unchanged

    def _random_effects(
        self, cell_id: str, probes: dict[str, Any], bound: set[str], changed: dict[str, str]
    ) -> None:
        """A seeding cell binds the generators it seeded; a cell that drew from a generator
        seeded above changed it (and the state it drew from is kept)."""
        cell = self.graph.cells[cell_id]
        drawn, states = self.generators.advanced(probes)
        if cell.analysis.seeds:  # keeping those it seeded to the same state as last time
            bound |= drawn | {n for n in cell.learnt if random_state.is_hidden(n)}
            return
        for name in drawn:
            if self.graph.seeded_above(name, cell_id):
                changed[name] = ""
        self.generators.keep(cell_id, {n: states[n] for n in drawn if n in changed and n in states})

    def settle(self) -> None:
        """Remove from the namespace what a fresh run of the notebook would not have."""
        for name in self.graph.orphans():
            self.shell.user_ns.pop(name, None)

    async def _run_anonymous(self, run: DoExecute, code: str, request: dict) -> dict[str, Any]:
        """No cell id (nbclient, papermill, console): plain IPython, but note what it rebinds."""
        analysis = self._effective(code)
        with self.lock:
            if isinstance(analysis, CellAnalysis):
                candidates = self._candidates(analysis, analysis.reads, frozenset())
            else:
                candidates = self.graph.known_names()
        before = rebinding.mark(self.shell.user_ns, candidates)
        reply = await run(code, **request)
        try:
            bound = self._rebound(before)
            analysis = self._effective(code)  # again: the run may have bound modules
            if isinstance(analysis, CellAnalysis):
                bound |= analysis.defines
            with self.lock:
                self.graph.record_external(bound)
        except Exception as error:  # noqa: BLE001 - the code ran; only our notes are lost
            self._warn_once(error)
        self.frontends.publish()
        return reply

    def widget_changed(self, widget: object, traits: frozenset[str], *, runner: Any) -> None:
        """A frontend changed ``traits`` of ``widget``: the cells reading them through a name
        bound to it (``slider.value``) are out of date; in auto mode ``runner`` (the
        frontend that made the change, if it runs cells) is told to run them. The cell
        that made the widget is not among them: it keeps its widget."""
        if self.mode == "off":
            return
        names = [n for n, v in list(self.shell.user_ns.items()) if v is widget and n[:1] != "_"]
        # Any attribute but a method: a Dropdown's frontend sends `index`, `value` follows.
        methods = {a for a in dir(type(widget)) if callable(getattr(type(widget), a, None))}
        with self.lock:
            readers = self.graph.attribute_readers(names)
            cells = [cid for cid, read in readers.items() if read - methods]
            if not cells:
                return
            which = ", ".join(f"`{name}`" for name in names)
            what = ", ".join(sorted(traits))
            self.graph.note_stale(cells, f"the widget {which} changed in the frontend ({what})")
            auto = self.mode == "auto"
            later = self.graph.plan_consistent(visible=True).cells if auto else ()
        self.frontends.publish()
        if later and runner is not None:
            runner.send_run(later)

    def delete_cells(self, cell_ids: Iterable[str], *, converted: Iterable[str] = ()) -> None:
        """Cells were deleted (``converted``: turned into Markdown or raw cells): drop from the
        namespace what only they had put there."""
        with self.lock:
            cell_ids = [cid for cid in cell_ids if isinstance(cid, str)]
            self.graph.delete(cell_ids, converted=set(converted))
            for cid in cell_ids:
                self.generators.forget(cid)
            self.reuse.forget(cell_ids)
            self.settle()

    # -- helpers -------------------------------------------------------------------------

    def _analyse_uncached(self, code: str) -> CellAnalysis | CellTooComplex | None:
        """The cell's analysis; None if it does not parse; the problem if it cannot be
        analysed although Python may run it."""
        reading = read_cell(code, self.shell.transform_cell)
        if reading.tree is not None:
            self.shared_parse.offer(reading.python, reading.tree)
        return CellTooComplex(reading.complexity) if reading.complexity else reading.analysis

    def _effective(self, code: str) -> CellAnalysis | CellTooComplex | None:
        """The cell's analysis, minus "mutations" of names bound to modules (``plt.plot()``)
        or to immutable values (``text.zfill(3)``), which method calls cannot change, plus
        the names star-imported from modules already imported."""
        analysis = self._analyse(code)
        if not _reads_namespace(analysis):
            return analysis
        ns = self.shell.user_ns
        modules = {n for n in analysis.mutates if isinstance(ns.get(n), _UNCHANGEABLE)}
        starred = frozenset().union(*(_public_names(m) for m in analysis.stars))
        if not modules and not starred:
            return analysis
        return analysis.replace(
            defines=(analysis.defines - modules) | starred,
            reads=analysis.reads - starred,
            mutates=analysis.mutates - modules,
            calls=analysis.calls - modules,
        )

    def _candidates(
        self, analysis: CellAnalysis, reads: set[str], learnt: frozenset[str]
    ) -> set[str]:
        """The names a run of the cell may rebind: those its source binds (or it learnt),
        and those functions of the notebook assign as globals; every name the notebook knows
        when it can reach the namespace by name (``exec``, ``globals()``, magics, …)."""
        if analysis.dynamic or not DYNAMIC_NAMES.isdisjoint(reads):
            return self.graph.known_names()
        return set(analysis.defines | analysis.maybe | learnt | self.graph.assigned_globals())

    def _known(self) -> set[str]:
        with self.lock:
            return self.graph.known_names()

    def _rebound(self, before: rebinding.Mark) -> set[str]:
        """What the run bound, rebound or deleted, without IPython's own names."""
        changed = rebinding.rebound(self.shell.user_ns, before, self._known)
        ns, hidden = self.shell.user_ns, self.shell.user_ns_hidden
        return {
            name
            for name in changed
            if not (name in hidden and ns.get(name) is hidden[name])
            and not (name[:1] == "_" and _IPYTHON_CACHE.fullmatch(name))
            and name not in ("In", "Out")
        }

    def _refuse(self, error: Exception, *, count: bool = True) -> dict[str, Any]:
        """Report an error for a cell we did not run, as IPython reports its own."""
        shell = self.shell
        stb = shell.InteractiveTB.get_exception_only(type(error), error)
        shell._showtraceback(type(error), error, stb)
        execution_count = shell.execution_count
        if count:
            shell.execution_count += 1
        return {
            "status": "error",
            "ename": type(error).__name__,
            "evalue": str(error),
            "traceback": stb,
            "execution_count": execution_count,
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
