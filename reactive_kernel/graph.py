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

    @property
    def defines(self) -> frozenset[str]:
        return self.analysis.defines | self.learnt

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
        self._position: dict[str, int] = {}
        self._definers: dict[str, list[int]] = {}
        self._indexed = False
        self._status: dict[str, CellStatus] = {}  # memo, cleared on every change
        self._readers: dict[str, list[int]] = {}  # name -> positions of cells reading it
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

    def delete(self, cell_ids: Iterable[str]) -> set[str]:
        """Forget deleted cells; return the names to delete from the namespace."""
        gone = [self.cells[cid] for cid in cell_ids if cid in self.cells]
        if not gone:
            return set()
        for cell in gone:
            self._deleted_labels[cell.id] = self.describe(cell)
            self._suspects |= cell.defines | cell.wrote
            del self.cells[cell.id]
        self.order = [cid for cid in self.order if cid in self.cells]
        self._changed(structure=True)
        return self.orphans()

    def orphans(self) -> set[str]:
        """Names that no cell defines any more but a cell's run left in the namespace.

        They must go, as a fresh run would not have them. Values written outside the notebook
        (code run without a cell id) stay: they are not the notebook's.
        """
        self._refresh()
        doomed = set()
        suspects, self._suspects = self._suspects, set()
        for name in suspects:
            writer, _ = self.writer.get(name, (EXTERNAL, 0))
            if writer == EXTERNAL or self._definers.get(name):
                continue
            doomed.add(name)
            del self.writer[name]
            if writer in self.cells:
                self.vanished[name] = f"cell {self.describe(writer)} no longer defines it"
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

    def unavailable(self, cell_id: str) -> set[str]:
        """Names the cell reads that a fresh run would not have, but the namespace still holds.

        ``x = x + 1`` with no cell above defining ``x`` would fail in a fresh run, yet the
        namespace holds the ``x`` of its own last run: those must be removed before it runs.
        """
        self._refresh()
        cell = self.cells[cell_id]
        return {
            name
            for name in cell.analysis.reads & cell.defines
            if self.definer(name, cell) is None
            and self.writer.get(name, (EXTERNAL,))[0] != EXTERNAL
        }

    def record_run(
        self, cell_id: str, *, ok: bool, bound: Iterable[str] = (), label: str | None = None
    ) -> None:
        """A cell ran. ``bound`` are the names the run was seen to (re)bind or delete."""
        self._refresh()
        cell = self.cells[cell_id]
        cell.consumed = {name: self._version_for(name, cell) for name in self.effective_reads(cell)}
        self._serial += 1
        cell.serial = self._serial
        cell.ok = ok
        cell.ran_source = cell.source
        cell.note = ""
        if label is not None:
            cell.label = label
        learnt = frozenset(bound) - cell.analysis.defines
        if learnt != cell.learnt:
            self._suspects |= cell.learnt - learnt
            cell.learnt = learnt
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
        for name in names:
            self._serial += 1
            self._external[name] = self._serial
            self.writer[name] = (EXTERNAL, self._serial)
            self.vanished.pop(name, None)
        self._refresh()
        reached = [p for name in names for p in (*self._readers.get(name, ()), *self._definers.get(name, ()))]
        if reached:
            self._changed(since=self.order[min(reached)])

    def invalidate(self, note: str) -> None:
        """Mark every cell that ran stale, e.g. after runs the graph did not see."""
        for cell in self.cells.values():
            if cell.serial:
                cell.note = note
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
        reads = set(cell.analysis.reads)
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
                if source is not None and source.id not in self._status and source.id not in needed:
                    needed.add(source.id)
                    pending.append(source.id)
        for cid in sorted(needed, key=self._position.__getitem__):  # definers come first
            self._status[cid] = self._cell_status(self.cells[cid])
        return self._status[cell_id]

    def _cell_status(self, cell: Cell) -> CellStatus:
        upstream: dict[str, None] = {}
        problems: dict[str, str] = {}
        for name in sorted(self.effective_reads(cell)):
            source = self.definer(name, cell)
            if source is None:
                blocked = self._missing(name, cell)
                if blocked:
                    problems.setdefault(BLOCKED, blocked)
                elif cell.serial and cell.consumed.get(name) != self._version_for(name, cell):
                    problems.setdefault(STALE, f"`{name}` was changed outside the notebook")
                continue
            upstream[source.id] = None
            where = f"`{name}` from cell {self.describe(source)}"
            source_state = self._status[source.id].state
            if source_state in (ERROR, BLOCKED, UPSTREAM_ERROR):
                problems.setdefault(UPSTREAM_ERROR, f"reads {where}, which {_PHRASES[source_state]}")
            elif cell.serial and cell.consumed.get(name) != (source.id, source.serial):
                problems.setdefault(STALE, f"reads {where}, which changed since this cell ran")
            elif source_state != OK:
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
        if not cell.ok:
            return CellStatus(ERROR, "its last run failed", ups)
        if cell.note:
            return CellStatus(STALE, cell.note, ups)
        if STALE in problems:
            return CellStatus(STALE, problems[STALE], ups)
        clobbered = self._clobbered(cell)
        return CellStatus(STALE, clobbered, ups) if clobbered else CellStatus(OK, "", ups)

    def _missing(self, name: str, cell: Cell) -> str:
        """Why reading ``name`` in ``cell`` must fail, if no cell above defines it."""
        position = self._position[cell.id]
        later = [p for p in self._definers.get(name, ()) if p > position]
        if later:
            below = self.describe(self.order[later[0]])
            return (
                f"`{name}` is defined in a later cell {below}; "
                "a restart-and-run-all would fail here"
            )
        if name in self.vanished:
            return f"`{name}` is no longer defined: {self.vanished[name]}"
        return ""

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
            return f"`{name}` still holds a value from a deleted or edited cell"
        return ""

    def _version_for(self, name: str, cell: Cell) -> Version:
        source = self.definer(name, cell)
        if source is not None:
            return (source.id, source.serial)
        return (EXTERNAL, self._external.get(name, 0))

    # -- planning ------------------------------------------------------------------------

    def plan(self, cell_id: str, *, auto: bool) -> Plan:
        """What to run so that ``cell_id`` runs on correct inputs, and (``auto``) what after.

        Stale inputs are pulled: a cell that must read ``x`` from a definer that is stale, or
        whose value of ``x`` has since been overwritten (``x = x + 1`` re-run), gets that
        definer re-run first. Everything runs in notebook order, as a fresh run would.
        """
        return self._plan({cell_id}, auto=auto, strict=True)

    def plan_stale(self) -> Plan:
        """What to run to make the notebook consistent: every cell not up to date that can run."""
        wanted = {
            cid
            for cid, state in self.status().items()
            if state.state not in (OK, BLOCKED) and not self.cells[cid].manual
        }
        return self._plan(wanted, auto=True, strict=False) if wanted else Plan()

    def _plan(self, targets: set[str], *, auto: bool, strict: bool) -> Plan:
        self._refresh()
        required = set(targets)
        while True:
            outcome = self._sweep(targets, required, auto, strict)
            if isinstance(outcome, Plan):
                return outcome
            required |= outcome

    def _sweep(
        self, targets: set[str], required: set[str], auto: bool, strict: bool
    ) -> Plan | set[str]:
        """Simulate a run in notebook order from the first required cell.

        Only cells that can be affected are visited: the required ones and the readers (and
        last definers) of names the simulated runs write, so the cost follows the cells a
        change reaches, not the size of the notebook. Returns the plan, or the definers that
        turned out to need a re-run (then the caller sweeps again with those required too).
        ``strict``: a required cell that cannot run blocks the plan; otherwise it is left out.
        """
        candidates = [self._position[cid] for cid in required]
        heapq.heapify(candidates)
        seen: set[int] = set()
        fresh: set[str] = set()
        touched: set[str] = set()  # names written by cells this plan runs
        planned: list[str] = []
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
            problem = self._inputs(cell, targets, fresh, touched, pulls)
            if pulls:
                return pulls
            if problem:
                if must and strict:
                    return Plan(blocked=problem)
                continue
            planned.append(cid)
            fresh.add(cid)
            touched |= cell.defines
            if auto:
                for later in self._reached_by(cell.defines):
                    if later > position and later not in seen:
                        heapq.heappush(candidates, later)
        pulled = tuple(cid for cid in planned if cid in required and cid not in targets)
        return Plan(cells=tuple(planned), pulled=pulled)

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
        fresh: set[str],
        touched: set[str],
        pulls: set[str],
    ) -> str:
        """Check that a cell about to run in a plan reads correct values.

        Adds to ``pulls`` the definers that must re-run first; returns why it cannot run,
        or an empty string.
        """
        for name in sorted(self.effective_reads(cell)):
            source = self.definer(name, cell)
            if source is None:
                problem = self._missing(name, cell)
                if problem:
                    return problem
                continue
            if source.id in fresh:
                continue
            state = self.state_of(source.id).state
            if (
                state == OK
                and name not in touched
                and self.writer.get(name) == (source.id, source.serial)
            ):
                continue
            where = f"it reads `{name}` from cell {self.describe(source)}"
            if source.manual and source.id not in targets:
                return f"{where}, which must run first but is set to run manually"
            if state == BLOCKED:
                return f"{where}, which is blocked"
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
        for name in analysis.reads:
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
        for index, cid in enumerate(self.order):
            self._index(self.cells[cid], index)


def _names(analysis: CellAnalysis) -> tuple:
    """What the graph's indexes hold of an analysis: a change here re-indexes."""
    return (analysis.defines, analysis.reads, analysis.deferred)
