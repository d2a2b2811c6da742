"""The structure of a notebook: its cells in order, and which cell defines and reads what.

The model is a top-to-bottom run of the notebook: a cell reading ``x`` binds to the nearest
cell *above it* that defines ``x``. Indexes (positions, definers, readers) are rebuilt only
when definitions or order change. Pure: no IPython or ZMQ.
"""

from __future__ import annotations

import bisect
from collections.abc import Container, Iterable, Sequence

from .analysis import CellAnalysis
from .cells import Cell, CellStatus, Consumed, Version, snippet


class Structure:
    """Cells in notebook order, what they define and read, and what ran with which inputs."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.cells: dict[str, Cell] = {}
        self.writer: dict[str, Version] = {}  # which run put each name's value in the namespace
        self.vanished: dict[str, str] = {}  # names removed with their definer, and why
        self._deleted_why: dict[str, str] = {}  # a deleted cell's name, and how it went
        self._suspects: set[str] = set()  # names that may have lost their last definer
        self._external: dict[str, int] = {}
        self._serial = 0
        self.generation = 0  # bumped when definitions or order change: plans made before are void
        self._scanned = -1  # the generation whose blocked cells ``orphans`` last looked at
        # The generation at which no cell was out of date. Until definitions or order change,
        # or a run fails or is refused, or something outside the notebook changes a name, or
        # a cell is planned without its dependents (lazy mode, a frontend running them), the
        # cells a run makes out of date are exactly those its plan reaches: no need to look
        # at every cell again (that would make each request cost O(notebook)).
        self._quiet = -1
        self._numbers: dict[str, int] = {}  # cell id -> position among all cells, from 1
        self._definers: Index = {}
        self._indexed = False
        self._status: dict[str, CellStatus] = {}  # memo, cleared on every change
        # Cells whose state may have changed since ``take_changed`` (None: any cell may have).
        self._unreported: set[str] | None = None
        self._readers: Index = {}  # name -> positions of cells reading it
        self._skipped: Index = {}  # name -> positions of cells leaving it unbound
        self._deferred_users: dict[str, set[str]] = {}  # name -> functions whose body reads it
        self._functions: set[str] = set()  # names bound to such a body by some cell
        self._assigned: set[str] = set()  # globals that functions assign (``global x``)
        # ``(name, version)`` of values the kernel kept after a later cell rebound the name:
        # a plan binds them again instead of re-running their definer (``kept.py``).
        self.kept: Container[tuple[str, Version]] = ()

    def set_source(
        self,
        cell_id: str,
        source: str,
        analysis: CellAnalysis | None,
        *,
        pragma: bool = False,
        tagged: bool | None = None,
        untracked: str = "",
        ran_same: bool = False,
    ) -> Cell:
        """Record a cell's current source (``analysis`` None if it does not parse, or, with
        ``untracked`` saying why, if it could not be analysed).

        A cell the graph has not seen goes to the end of the notebook order. ``tagged`` None
        keeps what a frontend said before. ``ran_same``: the source is the same code as the
        one it last ran (only comments or layout differ): it is not edited, and a re-run
        runs what it shows.
        """
        parsed = analysis is not None
        analysis = analysis or CellAnalysis()
        cell = self.cells.get(cell_id)
        if cell is None:
            cell = self.cells[cell_id] = Cell(cell_id, source, analysis)
            self.order.append(cell_id)
            if self._unreported is not None:
                self._unreported.add(cell_id)
            self._appended(cell)
        elif (
            cell.source == source
            and cell.analysis == analysis
            and cell.parsed == parsed
            and cell.pragma == pragma
            and cell.untracked == untracked
            and tagged in (None, cell.tagged)
        ):
            return cell  # nothing changed
        else:
            names_changed = _names(cell.analysis) != _names(analysis)
            self._suspects |= cell.analysis.defines - analysis.defines
            self._quiet = -1  # a plan under way may now stop short of its dependents
            cell.source = source
            cell.analysis = analysis
            if names_changed:
                self._changed(structure=True)
            else:
                self._changed(since=cell.id)
        if ran_same:
            cell.ran_source = source
        cell.parsed = parsed
        cell.untracked = untracked
        cell.pragma = pragma
        if tagged is not None:
            cell.tagged = tagged
        return cell

    def set_order(self, cell_ids: Iterable[str]) -> None:
        """Adopt a frontend's notebook order; known cells it does not list keep their place.

        The order may list markdown and raw cells too: they only number the cells as users
        count them (``describe``)."""
        every = list(dict.fromkeys(cell_ids))
        self._numbers = {cid: number for number, cid in enumerate(every, 1)}
        listed = [cid for cid in every if cid in self.cells]
        known = set(listed)
        self.order = listed + [cid for cid in self.order if cid not in known]
        self._changed(structure=True)

    def delete(self, cell_ids: Iterable[str], *, converted: Container[str] = ()) -> None:
        """Forget deleted cells, or cells ``converted`` to Markdown or raw cells (``orphans``
        then says which names must go)."""
        gone = [self.cells[cid] for cid in cell_ids if cid in self.cells]
        if not gone:
            return
        for cell in gone:
            what = "is no longer a code cell" if cell.id in converted else "was deleted"
            self._deleted_why[cell.id] = f"{self.describe(cell)}, {what}"
            self._suspects |= cell.defines | cell.wrote
            del self.cells[cell.id]
        self.order = [cid for cid in self.order if cid in self.cells]
        self._changed(structure=True)

    def rename(self, old: str, new: str) -> None:
        """A frontend gave a known cell a new id: carry its history over."""
        cell = self.cells.pop(old)
        cell.rename(new)
        self.cells[new] = cell
        self.order = [new if cid == old else cid for cid in self.order]
        for other in self.cells.values():
            if any(writer == old for _, (writer, _) in other.consumed.items()):
                other.consumed = Consumed.of(
                    (name, (new if writer == old else writer, serial))
                    for name, (writer, serial) in other.consumed.items()
                )
        for name, (writer, serial) in self.writer.items():
            if writer == old:
                self.writer[name] = (new, serial)
        self._changed(structure=True)

    def describe(self, cell: Cell | str) -> str:
        """A cell's name in every message: ``cell 4 · df = df[df.y > 0]``, its position in
        the notebook (markdown cells count, if the frontend listed them) and its first line. Execution counts change on every run; this is
        what users see (docs/semantics.md, "Naming cells")."""
        if isinstance(cell, str):
            cell = self.cells[cell]
        self._refresh()
        number = self._number(cell.id)
        where = f"cell {number}" if number else "a deleted cell"
        text = snippet(cell.source)
        return f"{where} · {text}" if text else where

    def numbered(self, number: int) -> str | None:
        """The cell that ``describe`` calls ``cell {number}``, if any."""
        self._refresh()
        return next((cid for cid in self.order if self._number(cid) == number), None)

    def _number(self, cell_id: str) -> int:
        """Its place in the frontend's order (0: deleted); cells the frontend did not list
        (run by another client) come after, in the kernel's order."""
        if cell_id in self._numbers:
            return self._numbers[cell_id]
        cell = self.cells.get(cell_id)
        if cell is None:
            return 0
        if not self._numbers:
            return cell.position + 1
        unlisted = [cid for cid in self.order if cid not in self._numbers]
        return max(self._numbers.values()) + 1 + unlisted.index(cell_id)

    def known_names(self) -> set[str]:
        """Every name a cell defines or reads, or a run wrote."""
        self._refresh()
        return self._definers.keys() | self._readers.keys() | self.writer.keys()

    def assigned_globals(self) -> set[str]:
        """Names that functions defined in the notebook assign as globals when called: any
        cell calling one may rebind them."""
        self._refresh()
        return self._assigned

    def definer(self, name: str, cell: Cell) -> Cell | None:
        """The nearest cell above ``cell`` that defines ``name``."""
        positions = positions_at(self._definers, name)
        if not positions:
            return None
        index = bisect.bisect_left(positions, cell.position) - 1
        return self.cells[self.order[positions[index]]] if index >= 0 else None

    def effective_reads(self, cell: Cell) -> set[str]:
        """Names read, plus the globals read by functions and classes it uses (late binding)."""
        # A name it learnt at run time (``exec``, star import) is bound before it reads it.
        reads = set((cell.reads - cell.learnt) | cell.soft_reads)
        if self._functions.isdisjoint(reads):
            return reads  # most cells use no function of the notebook
        pending = list(reads)
        while pending:
            name = pending.pop()
            source = self.definer(name, cell)
            for needed in source.analysis.deferred.get(name, ()) if source else ():
                if needed not in reads:
                    reads.add(needed)
                    pending.append(needed)
        return reads

    def _skipped_between(self, name: str, source: Cell | None, cell: Cell) -> list[Cell]:
        """Cells between ``source`` and ``cell`` whose last run left ``name`` unbound."""
        positions = positions_at(self._skipped, name)
        if not positions:
            return []
        low = source.position if source is not None else -1
        high = cell.position
        return [self.cells[self.order[p]] for p in positions if low < p < high]

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
            self._unreported = None
            self._indexed = self._indexed and not structure
            return
        for cid in self.order[self.cells[since].position :]:  # O(cells below): O(1) at the end
            if self._status.pop(cid, None) is not None and self._unreported is not None:
                self._unreported.add(cid)

    def take_changed(self, *, listening: bool = True) -> set[str] | None:
        """The cells whose state may have changed since the last call (None: any of them),
        for frontends that hear only of what changed. Not ``listening`` (no frontend): stop
        collecting them, so the set does not grow with the notebook."""
        changed, self._unreported = self._unreported, set() if listening else None
        return changed

    def _appended(self, cell: Cell) -> None:
        """A new cell at the end: extend the indexes instead of rebuilding them."""
        if not self._indexed:
            return
        position = len(self.order) - 1
        cell.position = position
        self._index(cell, position)
        # Cells above reading its names may now be blocked ("defined in a later cell").
        readers = [p for name in cell.defines for p in positions_at(self._readers, name)]
        self._changed(since=self.order[min(readers)] if readers else cell.id)

    def _index(self, cell: Cell, position: int) -> None:
        for name in cell.defines:
            _add_position(self._definers, name, position)
        for name in cell.unbound:
            _add_position(self._skipped, name, position)
        for name in cell.reads | cell.soft_reads:
            _add_position(self._readers, name, position)
        for function, names in cell.analysis.deferred.items():
            self._functions.add(function)
            for name in names:
                self._deferred_users.setdefault(name, set()).add(function)
        self._assigned |= cell.analysis.assigns

    def _refresh(self) -> None:
        if self._indexed:
            return
        self._indexed = True
        self._definers, self._readers, self._deferred_users = {}, {}, {}
        self._functions = set()
        self._skipped, self._assigned = {}, set()
        for index, cid in enumerate(self.order):
            cell = self.cells[cid]
            cell.position = index
            self._index(cell, index)


# An index maps a name to the positions (ascending) of the cells defining, reading or skipping
# it: the position itself while there is one (most names: the int is the one the cell's
# ``position`` holds, so it costs nothing), a list once there are more.
Index = dict[str, "int | list[int]"]


def _add_position(index: Index, name: str, position: int) -> None:
    positions = index.get(name)
    if positions is None:
        index[name] = position
    elif isinstance(positions, int):
        index[name] = [positions, position]
    else:
        positions.append(position)


def positions_at(index: Index, name: str) -> Sequence[int]:
    """The positions an index holds for ``name``, ascending (empty if none)."""
    positions = index.get(name, ())
    return (positions,) if isinstance(positions, int) else positions


def _names(analysis: CellAnalysis) -> tuple:
    """What the graph's indexes hold of an analysis: a change here re-indexes."""
    return (analysis.defines, analysis.reads, analysis.deferred, analysis.maybe)

