"""The dependency graph of a notebook's cells: bindings, staleness and run plans.

Pure bookkeeping, no IPython or ZMQ: the kernel feeds it analyses and run results and acts on
its answers. The model is a top-to-bottom run of the notebook: a cell reading ``x`` binds to
the nearest cell *above it* that defines ``x``. Each run gets a serial number; a cell records
the (definer, serial) it consumed for every name it read, and the graph records which run
last wrote each name into the shared namespace. A cell is up to date when what it consumed
is still what its definers hold, they are up to date, and the names it is the last definer of
still hold its values.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from .analysis import CellAnalysis

# Cell states, as the kernel reports them to users and frontends.
OK = "ok"
NEW = "new"  # never run
EDITED = "edited"  # source changed since it last ran
ERROR = "error"  # its own last run raised or was interrupted
BLOCKED = "blocked"  # reads a name no cell above it defines (defined later, or deleted)
UPSTREAM_ERROR = "upstream-error"  # reads from a cell that failed or is blocked
STALE = "stale"  # its inputs changed since it ran

_PHRASES = {
    NEW: "has not run yet",
    EDITED: "was edited and not re-run",
    ERROR: "failed",
    BLOCKED: "is blocked",
    UPSTREAM_ERROR: "has a failed input",
    STALE: "is stale",
}

EXTERNAL = ""  # the writer id of code run without a cell id (console, nbclient, papermill)

Version = tuple[str, int]


@dataclass
class Cell:
    id: str
    source: str = ""
    analysis: CellAnalysis = field(default_factory=CellAnalysis)
    parsed: bool = True  # False when ``source`` did not parse
    pragma: bool = False  # its source says ``# reactive: manual``
    tagged: bool = False  # a frontend marked it manual (cell tag)
    label: str = ""  # what users call it: its execution count
    learnt: frozenset[str] = frozenset()  # names its last run bound beyond the static ones
    ran_source: str | None = None
    serial: int = 0  # 0 until it has run
    ok: bool = False
    consumed: dict[str, Version] = field(default_factory=dict)
    wrote: frozenset[str] = frozenset()
    note: str = ""  # a reason it is stale that the graph cannot derive
    # Names its source defines that its last run left unbound (it failed before binding them,
    # or it was refused): a fresh run would leave there the value from above, so for these
    # names the cell is transparent until it runs again.
    unbound: frozenset[str] = frozenset()
    refused: str = ""  # why its last run was refused (it was blocked); shown as its error

    @property
    def defines(self) -> frozenset[str]:
        return (self.analysis.defines | self.learnt) - self.unbound

    @property
    def soft_reads(self) -> frozenset[str]:
        """Names it may leave unbound (or did, when it failed): a run keeps the value from
        above, so it depends on it, but a fresh run without one does not fail."""
        return (self.analysis.maybe | self.unbound) - self.analysis.reads

    @property
    def manual(self) -> bool:
        """Opted out of automatic runs: it runs only when run directly."""
        return self.pragma or self.tagged


@dataclass(frozen=True)
class CellStatus:
    state: str
    reason: str = ""
    upstream: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """Cells to run, in notebook order (the requested cell among them), or why it cannot run."""

    cells: tuple[str, ...] = ()
    pulled: tuple[str, ...] = ()  # stale inputs that run first because the request needs them
    blocked: str = ""
    # Cells among ``cells`` that cannot run (blocked, or reading from a blocked cell) and
    # show stale outputs: running them means refusing them, with this reason.
    refused: Mapping[str, str] = field(default_factory=dict)


class Graph:
    """Cells in notebook order, what they define and read, and what ran with which inputs."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.cells: dict[str, Cell] = {}
        self.writer: dict[str, Version] = {}  # which run put each name's value in the namespace
        self.vanished: dict[str, str] = {}  # names removed with their definer, and why
        self._deleted_labels: dict[str, str] = {}
        self._suspects: set[str] = set()  # names that may have lost their last definer
        self._external: dict[str, int] = {}
        self._serial = 0
        self.generation = 0  # bumped when definitions or order change: plans made before are void
        self._scanned = -1  # the generation whose blocked cells ``orphans`` last looked at
        # The generation at which no cell was out of date. Until definitions or order change,
        # or a run fails or is refused, or something outside the notebook changes a name, the
        # cells a run makes out of date are exactly those its plan reaches: no need to look
        # at every cell again (that would make each request cost O(notebook)).
        self._quiet = -1
        self._position: dict[str, int] = {}
        self._definers: dict[str, list[int]] = {}
        self._indexed = False
        self._status: dict[str, CellStatus] = {}  # memo, cleared on every change
        self._readers: dict[str, list[int]] = {}  # name -> positions of cells reading it
        self._skipped: dict[str, list[int]] = {}  # name -> positions of cells that left it unbound
        self._deferred_users: dict[str, set[str]] = {}  # name -> functions whose body reads it

    # -- structure -----------------------------------------------------------------------

    def set_source(
        self,
        cell_id: str,
        source: str,
        analysis: CellAnalysis | None,
        *,
        pragma: bool = False,
        tagged: bool | None = None,
    ) -> Cell:
        """Record a cell's current source (``analysis`` None if it does not parse).

        A cell the graph has not seen goes to the end of the notebook order. ``tagged`` None
        keeps what a frontend said before.
        """
        parsed = analysis is not None
        analysis = analysis or CellAnalysis()
        cell = self.cells.get(cell_id)
        if cell is None:
            cell = self.cells[cell_id] = Cell(cell_id, source, analysis)
            self.order.append(cell_id)
            self._appended(cell)
        elif (
            cell.source == source
            and cell.analysis == analysis
            and cell.parsed == parsed
            and cell.pragma == pragma
            and tagged in (None, cell.tagged)
        ):
            return cell  # nothing changed
        else:
            names_changed = _names(cell.analysis) != _names(analysis)
            self._suspects |= cell.analysis.defines - analysis.defines
            cell.source = source
            cell.analysis = analysis
            if names_changed:
                self._changed(structure=True)
            else:
                self._changed(since=cell.id)
        cell.parsed = parsed
        cell.pragma = pragma
        if tagged is not None:
            cell.tagged = tagged
        return cell

    def set_order(self, cell_ids: Iterable[str]) -> None:
        """Adopt a frontend's notebook order; known cells it does not list keep their place."""
        listed = [cid for cid in dict.fromkeys(cell_ids) if cid in self.cells]
        known = set(listed)
        self.order = listed + [cid for cid in self.order if cid not in known]
        self._changed(structure=True)

    def delete(self, cell_ids: Iterable[str]) -> None:
        """Forget deleted cells (``orphans`` then says which names must go)."""
        gone = [self.cells[cid] for cid in cell_ids if cid in self.cells]
        if not gone:
            return
        for cell in gone:
            self._deleted_labels[cell.id] = self.describe(cell)
            self._suspects |= cell.defines | cell.wrote
            del self.cells[cell.id]
        self.order = [cid for cid in self.order if cid in self.cells]
        self._changed(structure=True)

    def orphans(self) -> set[str]:
        """Names whose value came from a definition a fresh run would not make.

        Their writer was deleted, no longer defines them (edited, failed, refused, stopped
        learning them), or cannot run any more (blocked, or reads from a blocked cell). They
        must go from the namespace; the cell now defining the name above (if any) then shows
        as stale. Values written outside the notebook (code run without a cell id) stay.
        """
        self._refresh()
        doomed: set[str] = set()
        while True:  # a name gone can block its readers, whose names then go too
            found = self._orphans()
            if not found:
                return doomed
            doomed |= found
            self._quiet = -1
            self._changed()
            self._scanned = -1  # names gone may block their readers

    def _orphans(self) -> set[str]:
        # Only a change of definitions or order can block a cell: scan states only then.
        if self._scanned != self.generation:
            self._scanned = self.generation
            for cid, state in self.status().items():
                if state.state in (BLOCKED, UPSTREAM_ERROR):
                    self._suspects |= self.cells[cid].wrote
        doomed = set()
        suspects, self._suspects = self._suspects, set()
        for name in suspects:
            writer, serial = self.writer.get(name, (EXTERNAL, 0))
            if writer == EXTERNAL:
                continue
            cell = self.cells.get(writer)
            if (
                cell is not None
                and name in cell.defines
                and cell.serial == serial
                and self.state_of(writer).state not in (BLOCKED, UPSTREAM_ERROR)
            ):
                continue
            doomed.add(name)
            del self.writer[name]
            if self._definers.get(name):
                continue
            if cell is not None:
                self.vanished[name] = f"cell {self.describe(cell)} no longer defines it"
            else:
                label = self._deleted_labels.get(writer, "")
                self.vanished[name] = f"its defining cell {label} was deleted".replace("  ", " ")
        return doomed

    def rename(self, old: str, new: str) -> None:
        """A frontend gave a known cell a new id: carry its history over."""
        cell = self.cells.pop(old)
        cell.id = new
        self.cells[new] = cell
        self.order = [new if cid == old else cid for cid in self.order]
        for other in self.cells.values():
            for name, (writer, serial) in other.consumed.items():
                if writer == old:
                    other.consumed[name] = (new, serial)
        for name, (writer, serial) in self.writer.items():
            if writer == old:
                self.writer[name] = (new, serial)
        self._changed(structure=True)

    def describe(self, cell: Cell | str) -> str:
        if isinstance(cell, str):
            cell = self.cells[cell]
        if cell.label:
            return f"[{cell.label}]"
        position = self._position.get(cell.id)
        return f"#{position + 1}" if position is not None else "(deleted)"

    # -- runs ----------------------------------------------------------------------------

    def to_clear(self, cell_id: str) -> set[str]:
        """Names to remove from the namespace before the cell runs.

        A cell that raises must not leave behind a value a fresh run would not have there:
        the names it binds on every path (and those it learnt at run time) go, unless they
        hold exactly the value from the definer above (then a failure leaves what a fresh run
        leaves). Names it reads or may bind go when no cell above defines them (``x = x + 1``
        with nothing above would fail in a fresh run, yet ``x`` holds its own last value).
        """
        self._refresh()
        cell = self.cells[cell_id]
        analysis = cell.analysis
        surely = (analysis.defines | cell.learnt) - analysis.reads - analysis.mutates
        surely -= analysis.maybe
        clear = {
            name
            for name in surely
            if self.writer.get(name, (EXTERNAL, 0)) != self._version_for(name, cell)
        }
        clear |= {
            name
            for name in (analysis.reads | analysis.maybe) & (analysis.defines | cell.learnt)
            if self.definer(name, cell) is None
            and self.writer.get(name, (EXTERNAL,))[0] != EXTERNAL
        }
        return clear

    def record_run(
        self,
        cell_id: str,
        *,
        ok: bool,
        bound: Iterable[str] = (),
        unbound: Iterable[str] = (),
        label: str | None = None,
    ) -> None:
        """A cell ran. ``bound``: the names the run was seen to (re)bind or delete;
        ``unbound``: names it binds that a failed run did not bind (they hold what they held
        before: the value from the definer above, or nothing, as ``to_clear`` left them)."""
        self._refresh()
        cell = self.cells[cell_id]
        unbound = frozenset(unbound) if not ok else frozenset()
        for name in unbound:
            if self.writer.get(name) != self._version_for(name, cell):
                self.writer.pop(name, None)  # cleared before the run: whoever wrote it, it is gone
        self._ran(cell, ok=ok, label=label)
        if not ok:
            self._quiet = -1
        learnt = frozenset(bound) - cell.analysis.defines
        self._define(cell, learnt, unbound)
        self._consumed(cell)

    def record_refusal(self, cell_id: str, reason: str, *, label: str | None = None) -> None:
        """A cell was not run because it is blocked: it binds nothing, as in a fresh run."""
        self._refresh()
        cell = self.cells[cell_id]
        self._ran(cell, ok=False, label=label)
        self._quiet = -1
        cell.refused = reason
        self._define(cell, frozenset(), cell.analysis.defines)
        self._consumed(cell)

    def _ran(self, cell: Cell, *, ok: bool, label: str | None) -> None:
        self._serial += 1
        cell.serial = self._serial
        cell.ok = ok
        cell.refused = ""
        cell.ran_source = cell.source
        cell.note = ""
        if label is not None:
            cell.label = label

    def _consumed(self, cell: Cell) -> None:
        """Record the versions of its inputs (its own run changed none of them)."""
        self._refresh()
        cell.consumed = {name: self._version_for(name, cell) for name in self.effective_reads(cell)}

    def _define(self, cell: Cell, learnt: frozenset[str], unbound: frozenset[str]) -> None:
        """Record the names a run (re)defined: the cell is now their writer."""
        before = cell.defines
        cell.learnt, cell.unbound = learnt, unbound
        if cell.defines != before:
            self._changed(structure=True)
        self._suspects |= cell.wrote - cell.defines
        cell.wrote = cell.defines
        for name in cell.wrote:
            self.writer[name] = (cell.id, cell.serial)
            self.vanished.pop(name, None)
        self._changed(since=cell.id)

    def record_external(self, names: Iterable[str]) -> None:
        """Code run without a cell id rebound ``names``: cells reading them are stale."""
        names = set(names)
        self._quiet = -1
        for name in names:
            self._serial += 1
            self._external[name] = self._serial
            self.writer[name] = (EXTERNAL, self._serial)
            self.vanished.pop(name, None)
        self._refresh()
        reached = [p for name in names for p in (*self._readers.get(name, ()), *self._definers.get(name, ()))]
        if reached:
            self._changed(since=self.order[min(reached)])

    def recheck(self) -> None:
        """Runs happened that did not run their dependents (lazy mode): the next
        ``out_of_date`` looks at every cell."""
        self._quiet = -1

    def invalidate(self, note: str) -> None:
        """Mark every cell that ran stale, e.g. after runs the graph did not see."""
        for cell in self.cells.values():
            if cell.serial:
                cell.note = note
        self._quiet = -1
        self._changed()

    # -- queries -------------------------------------------------------------------------

    def known_names(self) -> set[str]:
        """Every name a cell defines or reads, or a run wrote."""
        self._refresh()
        return self._definers.keys() | self._readers.keys() | self.writer.keys()

    def definer(self, name: str, cell: Cell) -> Cell | None:
        """The nearest cell above ``cell`` that defines ``name``."""
        positions = self._definers.get(name)
        if not positions:
            return None
        index = bisect.bisect_left(positions, self._position[cell.id]) - 1
        return self.cells[self.order[positions[index]]] if index >= 0 else None

    def effective_reads(self, cell: Cell) -> set[str]:
        """Names read, plus the globals read by functions and classes it uses (late binding)."""
        # A name it learnt at run time (``exec``, star import) is bound before it reads it.
        reads = set((cell.analysis.reads - cell.learnt) | cell.soft_reads)
        pending = list(reads)
        while pending:
            name = pending.pop()
            source = self.definer(name, cell)
            for needed in source.analysis.deferred.get(name, ()) if source else ():
                if needed not in reads:
                    reads.add(needed)
                    pending.append(needed)
        return reads

    def status(self) -> Mapping[str, CellStatus]:
        """Every cell's state, in notebook order."""
        self._refresh()
        for cid in self.order:
            if cid not in self._status:
                self._status[cid] = self._cell_status(self.cells[cid])
        return {cid: self._status[cid] for cid in self.order}

    def state_of(self, cell_id: str) -> CellStatus:
        """One cell's state, computing only what it depends on (not the whole notebook)."""
        self._refresh()
        if cell_id in self._status:
            return self._status[cell_id]
        needed, pending = {cell_id}, [cell_id]
        while pending:  # the cell's upstream closure whose state is not known yet
            cell = self.cells[pending.pop()]
            for name in self.effective_reads(cell):
                source = self.definer(name, cell)
                above = self._skipped_between(name, source, cell)
                for other in ([source] if source is not None else []) + above:
                    if other.id not in self._status and other.id not in needed:
                        needed.add(other.id)
                        pending.append(other.id)
        for cid in sorted(needed, key=self._position.__getitem__):  # definers come first
            self._status[cid] = self._cell_status(self.cells[cid])
        return self._status[cell_id]

    def _cell_status(self, cell: Cell) -> CellStatus:
        upstream: dict[str, None] = {}
        problems: dict[str, str] = {}
        soft = cell.soft_reads
        for name in sorted(self.effective_reads(cell)):
            source = self.definer(name, cell)
            for other in self._skipped_between(name, source, cell):
                if self._status[other.id].state in (STALE, EDITED):
                    problems.setdefault(
                        STALE, f"`{name}` may be redefined by cell {self.describe(other)}, "
                        f"which {_PHRASES[self._status[other.id].state]}"
                    )
            if source is None:
                missing = None if name in soft else self._missing(name, cell)
                if missing:
                    problems.setdefault(*missing)
                elif cell.serial and cell.consumed.get(name) != self._version_for(name, cell):
                    problems.setdefault(STALE, f"`{name}` was changed outside the notebook")
                continue
            upstream[source.id] = None
            where = f"`{name}` from cell {self.describe(source)}"
            source_state = self._status[source.id].state
            if source_state in (BLOCKED, UPSTREAM_ERROR):
                if name in soft:
                    continue  # it binds nothing in a fresh run; this cell may bind the name
                problems.setdefault(UPSTREAM_ERROR, f"reads {where}, which {_PHRASES[source_state]}")
            elif cell.serial and cell.consumed.get(name) != (source.id, source.serial):
                problems.setdefault(STALE, f"reads {where}, which changed since this cell ran")
            elif source_state not in (OK, ERROR):  # a failed cell's names are what it bound
                problems.setdefault(STALE, f"reads {where}, which {_PHRASES[source_state]}")
        ups = tuple(upstream)
        if not cell.parsed:
            return CellStatus(ERROR, "the cell does not parse", ups)
        if BLOCKED in problems:
            return CellStatus(BLOCKED, problems[BLOCKED], ups)
        if UPSTREAM_ERROR in problems:
            return CellStatus(UPSTREAM_ERROR, problems[UPSTREAM_ERROR], ups)
        if not cell.serial:
            return CellStatus(NEW, "not run yet", ups)
        if cell.ran_source != cell.source:
            return CellStatus(EDITED, "edited since it last ran", ups)
        if cell.note:
            return CellStatus(STALE, cell.note, ups)
        if STALE in problems:
            return CellStatus(STALE, problems[STALE], ups)
        clobbered = self._clobbered(cell)
        if clobbered:
            return CellStatus(STALE, clobbered, ups)
        if not cell.ok:
            return CellStatus(ERROR, cell.refused or "its last run failed", ups)
        return CellStatus(OK, "", ups)

    def _skipped_between(self, name: str, source: Cell | None, cell: Cell) -> list[Cell]:
        """Cells between ``source`` and ``cell`` whose last run left ``name`` unbound."""
        positions = self._skipped.get(name)
        if not positions:
            return []
        low = self._position[source.id] if source is not None else -1
        high = self._position[cell.id]
        return [self.cells[self.order[p]] for p in positions if low < p < high]

    def _missing(self, name: str, cell: Cell) -> tuple[str, str] | None:
        """The state and reason of a cell that reads ``name`` when no cell above defines it
        (None: reading it is not an error the notebook causes, e.g. a builtin)."""
        position = self._position[cell.id]
        later = [p for p in self._definers.get(name, ()) if p > position]
        if later:
            below = self.describe(self.order[later[0]])
            return BLOCKED, (
                f"`{name}` is defined in a later cell {below}; "
                "a restart-and-run-all would fail here"
            )
        skipped = [p for p in self._skipped.get(name, ()) if p < position]
        if skipped:
            failed = self.cells[self.order[skipped[-1]]]
            why = "is blocked" if failed.refused else "failed before binding it"
            return UPSTREAM_ERROR, f"`{name}` is not defined: cell {self.describe(failed)} {why}"
        if name in self.vanished:
            return BLOCKED, f"`{name}` is no longer defined: {self.vanished[name]}"
        return None

    def _clobbered(self, cell: Cell) -> str:
        """Names this cell is the last definer of whose value someone else overwrote."""
        for name in sorted(cell.defines):
            if self._definers[name][-1] != self._position[cell.id]:
                continue
            writer = self.writer.get(name)
            if writer == (cell.id, cell.serial):
                continue
            if writer is None:
                return f"`{name}` was deleted from the namespace"
            if writer[0] == EXTERNAL:
                return f"`{name}` was changed outside the notebook"
            if writer[0] in self.cells:
                return f"`{name}` was overwritten when cell {self.describe(writer[0])} ran"
            return f"`{name}` still holds a value from a deleted cell"
        return ""

    def _version_for(self, name: str, cell: Cell) -> Version:
        source = self.definer(name, cell)
        if source is not None:
            return (source.id, source.serial)
        return (EXTERNAL, self._external.get(name, 0))

    # -- planning ------------------------------------------------------------------------

    def plan(self, cell_id: str, *, auto: bool) -> Plan:
        """What to run so that ``cell_id`` runs on correct inputs, and (``auto``) what else.

        Stale inputs are pulled: a cell that must read ``x`` from a definer that is stale, or
        whose value of ``x`` has since been overwritten (``x = x + 1`` re-run), gets that
        definer re-run first. ``auto`` adds every cell that is out of date (see
        ``out_of_date``) and the dependents of everything run. All in notebook order, as a
        fresh run would.
        """
        targets = {cell_id} | (self.out_of_date() if auto else set())
        return self._plan(targets, auto=auto, strict=cell_id)

    def plan_consistent(self) -> Plan:
        """What auto mode runs after a change that ran nothing (a deletion, a new order)."""
        wanted = self.out_of_date()
        return self._plan(wanted, auto=True) if wanted else Plan()

    def plan_stale(self) -> Plan:
        """What "run stale cells" runs: what auto mode would, and the cells never run or
        edited since they ran."""
        wanted = self.out_of_date() | {
            cid
            for cid, state in self.status().items()
            if state.state in (NEW, EDITED) and not self.cells[cid].manual
        }
        return self._plan(wanted, auto=True) if wanted else Plan()

    def out_of_date(self) -> set[str]:
        """The cells auto mode keeps up to date and that are not: they ran, are neither manual
        nor edited since, and are stale, or cannot run any more but still show an older
        output. This one set is both what ``status`` reports and what auto mode runs."""
        if self._quiet == self.generation:
            return set()
        wanted = set()
        for cid, state in self.status().items():
            cell = self.cells[cid]
            if cell.manual or not cell.serial or not cell.parsed or cell.ran_source != cell.source:
                continue
            if state.state == STALE or self._shows_old(cid):
                wanted.add(cid)
        if not wanted:
            self._quiet = self.generation
        return wanted

    def _shows_old(self, cell_id: str) -> bool:
        """A cell that cannot run but whose last run was not refused for it."""
        cell = self.cells[cell_id]
        state = self.state_of(cell_id).state
        return state in (BLOCKED, UPSTREAM_ERROR) and bool(cell.serial) and not cell.refused

    def _plan(self, targets: set[str], *, auto: bool, strict: str | None = None) -> Plan:
        self._refresh()
        required = set(targets)
        while True:
            outcome = self._sweep(targets, required, auto, strict)
            if isinstance(outcome, Plan):
                return outcome
            required |= outcome

    def _sweep(
        self, targets: set[str], required: set[str], auto: bool, strict: str | None
    ) -> Plan | set[str]:
        """Simulate a run in notebook order from the first required cell.

        Only cells that can be affected are visited: the required ones and the readers (and
        last definers) of names the simulated runs write, so the cost follows the cells a
        change reaches, not the size of the notebook. Returns the plan, or the definers that
        turned out to need a re-run (then the caller sweeps again with those required too).
        ``strict``: the requested cell; if it cannot run, the plan is blocked. Other targets
        that cannot run are refused when they show an older output, else left out.
        """
        candidates = [self._position[cid] for cid in required]
        heapq.heapify(candidates)
        seen: set[int] = set()
        fresh: set[str] = set()
        touched: set[str] = set()  # names written by cells this plan runs
        planned: list[str] = []
        refused: dict[str, str] = {}
        pulls: set[str] = set()
        while candidates:
            position = heapq.heappop(candidates)
            if position in seen:
                continue
            seen.add(position)
            cid = self.order[position]
            cell = self.cells[cid]
            must = cid in required
            if not must and not (auto and self._affected(cell, fresh, touched)):
                continue
            problem = self._inputs(cell, targets, required, fresh, touched, pulls, strict)
            if pulls:
                return pulls
            if problem:
                if cid == strict:
                    return Plan(blocked=problem)
                if cid in targets and self._shows_old(cid):
                    planned.append(cid)
                    refused[cid] = problem
                continue
            planned.append(cid)
            fresh.add(cid)
            touched |= cell.defines | cell.unbound  # a failed cell may bind them now
            if auto:
                for later in self._reached_by(cell.defines):
                    if later > position and later not in seen:
                        heapq.heappush(candidates, later)
        pulled = tuple(cid for cid in planned if cid in required and cid not in targets)
        return Plan(cells=tuple(planned), pulled=pulled, refused=refused)

    def _reached_by(self, names: Iterable[str]) -> Iterator[int]:
        """Positions of cells a write of ``names`` may affect: their readers (also through
        functions whose bodies read them) and their last definers."""
        names = set(names)
        pending = list(names)
        while pending:
            name = pending.pop()
            for function in self._deferred_users.get(name, ()):
                if function not in names:
                    names.add(function)
                    pending.append(function)
        for name in names:
            yield from self._readers.get(name, ())
            definers = self._definers.get(name)
            if definers:
                yield definers[-1]

    def _inputs(
        self,
        cell: Cell,
        targets: set[str],
        required: set[str],
        fresh: set[str],
        touched: set[str],
        pulls: set[str],
        strict: str | None,
    ) -> str:
        """Check that a cell about to run in a plan reads correct values.

        Adds to ``pulls`` the definers that must re-run first; returns why it cannot run,
        or an empty string. A cell edited and not run is pulled only for a run the user asked
        for (``strict``): the kernel never runs an edit on its own.
        """
        soft = cell.soft_reads
        for name in sorted(self.effective_reads(cell)):
            source = self.definer(name, cell)
            skipped = self._skipped_between(name, source, cell)
            if any(other.id in fresh for other in skipped):
                continue  # a cell that left it unbound runs again first: it is the source now
            for other in skipped:
                # It failed or was refused, but runs now: a fresh run would let it bind.
                other_state = self.state_of(other.id).state
                if other_state in (STALE, EDITED):
                    if other_state == EDITED and strict is None and other.id not in targets:
                        return f"`{name}` may be redefined by cell {self.describe(other)}, " \
                            "which was edited and not run"
                    if other.manual and other.id not in targets:
                        return f"`{name}` may be redefined by cell {self.describe(other)}, " \
                            "which must run first but is set to run manually"
                    if other.id in required:
                        return f"`{name}` may be redefined by cell {self.describe(other)}, " \
                            "which cannot run"
                    pulls.add(other.id)
            if source is None:
                missing = None if name in soft else self._missing(name, cell)
                if missing:
                    return missing[1]
                continue
            if source.id in fresh:
                continue
            state = self.state_of(source.id).state
            if (
                state in (OK, ERROR)
                and name not in touched
                and self.writer.get(name) == (source.id, source.serial)
            ):
                continue
            where = f"it reads `{name}` from cell {self.describe(source)}"
            if state in (BLOCKED, UPSTREAM_ERROR):
                if name in soft:  # it binds nothing in a fresh run; this cell may bind it
                    continue
                return f"{where}, which {_PHRASES[state]}"
            if source.manual and source.id not in targets:
                return f"{where}, which must run first but is set to run manually"
            if state == EDITED and strict is None and source.id not in targets:
                return f"{where}, which was edited and not run"
            if source.id in required:  # required already, yet not run: it cannot run
                return f"{where}, which cannot run"
            pulls.add(source.id)
        return ""

    def _affected(self, cell: Cell, fresh: set[str], touched: set[str]) -> bool:
        """Whether a cell has run before and this plan changes something it depends on."""
        if cell.manual or not cell.serial or not cell.parsed or cell.ran_source != cell.source:
            return False
        for name in self.effective_reads(cell):
            source = self.definer(name, cell)
            if source is not None and source.id in fresh:
                return True
        position = self._position[cell.id]
        return any(self._definers[name][-1] == position for name in cell.defines & touched)

    # -- indexes -------------------------------------------------------------------------

    def _changed(self, *, structure: bool = False, since: str | None = None) -> None:
        """Forget cached states: all of them, or (``since``) those of the cell and below.

        A cell's state depends on the cells above it and on the run state of names it is the
        last definer of, so a run or an edit that keeps the names defined and read only
        touches states from that cell down. ``structure``: definitions or order changed.
        """
        if structure:
            self.generation += 1
        if structure or since is None or not self._indexed:
            self._status = {}
            self._indexed = self._indexed and not structure
            return
        start = self._position[since]
        self._status = {cid: s for cid, s in self._status.items() if self._position[cid] < start}

    def _appended(self, cell: Cell) -> None:
        """A new cell at the end: extend the indexes instead of rebuilding them."""
        if not self._indexed:
            return
        position = len(self.order) - 1
        self._position[cell.id] = position
        self._index(cell, position)
        # Cells above reading its names may now be blocked ("defined in a later cell").
        readers = [p for name in cell.defines for p in self._readers.get(name, ())]
        self._changed(since=self.order[min(readers)] if readers else cell.id)

    def _index(self, cell: Cell, position: int) -> None:
        analysis = cell.analysis
        for name in cell.defines:
            self._definers.setdefault(name, []).append(position)
        for name in cell.unbound:
            self._skipped.setdefault(name, []).append(position)
        for name in analysis.reads | cell.soft_reads:
            self._readers.setdefault(name, []).append(position)
        for function, names in analysis.deferred.items():
            for name in names:
                self._deferred_users.setdefault(name, set()).add(function)

    def _refresh(self) -> None:
        if self._indexed:
            return
        self._indexed = True
        self._position = {cid: index for index, cid in enumerate(self.order)}
        self._definers, self._readers, self._deferred_users = {}, {}, {}
        self._skipped = {}
        for index, cid in enumerate(self.order):
            self._index(self.cells[cid], index)


def _names(analysis: CellAnalysis) -> tuple:
    """What the graph's indexes hold of an analysis: a change here re-indexes."""
    return (analysis.defines, analysis.reads, analysis.deferred)
