"""Cell states: whether each cell is up to date, and why not; what must leave the namespace.

A cell is up to date when what it consumed is still what its definers hold, they are up to
date, and the names it is the last definer of still hold its values. Pure: no IPython or ZMQ.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping

from .cells import (
    _PHRASES,
    BLOCKED,
    EDITED,
    ERROR,
    EXTERNAL,
    NEW,
    OK,
    STALE,
    UNTRACKED,
    UPSTREAM_ERROR,
    Cell,
    CellStatus,
    Version,
)
from .random_state import is_hidden, shown
from .structure import Structure, positions_at

BUILTIN_NAMES = frozenset(dir(builtins))
# Shared: most cells are in one of these states.
_UP_TO_DATE = CellStatus(OK, "")
_NOT_RUN = CellStatus(NEW, "not run yet")
_KEPT = CellStatus(OK, "re-ran, values unchanged: dependents kept")


class States(Structure):
    """The states of the cells, computed lazily and memoised until something changes."""

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
        for cid in sorted(needed, key=lambda cid: self.cells[cid].position):  # definers come first
            self._status[cid] = self._cell_status(self.cells[cid])
        return self._status[cell_id]

    def inputs(self, cell_id: str) -> dict[str, str]:
        """The names it reads from other cells, with the cell defining each: the graph's
        edges into it (computed when asked: kept in every state it would cost a dict per
        cell)."""
        self._refresh()
        cell = self.cells[cell_id]
        found = {name: self.definer(name, cell) for name in sorted(self.effective_reads(cell))}
        return {name: source.id for name, source in found.items() if source is not None}

    def _cell_status(self, cell: Cell) -> CellStatus:
        problems: dict[str, str] = {}
        soft = cell.soft_reads
        for name in sorted(self.effective_reads(cell)):
            source = self.definer(name, cell)
            for other in self._skipped_between(name, source, cell):
                if self._status[other.id].state in (STALE, EDITED):
                    problems.setdefault(
                        STALE, f"{shown(name)} may be redefined by {self.describe(other)}, "
                        f"which {_PHRASES[self._status[other.id].state]}"
                    )
            if source is None:
                missing = None if name in soft else self._missing(name, cell)
                if missing:
                    problems.setdefault(*missing)
                elif cell.serial and cell.consumed.get(name) != self._version_for(name, cell):
                    why = (
                        f"{shown(name)} is no longer seeded above"
                        if is_hidden(name)
                        else f"{shown(name)} was changed outside the notebook"
                    )
                    problems.setdefault(STALE, why)
                continue
            where = f"{shown(name)} from {self.describe(source)}"
            source_state = self._status[source.id].state
            if source_state == UNTRACKED:
                problems.setdefault(UNTRACKED, f"reads {where}, which the kernel cannot analyse")
            elif source_state in (BLOCKED, UPSTREAM_ERROR):
                if name in soft:
                    continue  # it binds nothing in a fresh run; this cell may bind the name
                problems.setdefault(UPSTREAM_ERROR, f"reads {where}, which {_PHRASES[source_state]}")
            elif cell.serial and not source.serial:
                problems.setdefault(STALE, f"reads {where}, which has not run yet")
            elif cell.serial and cell.consumed.get(name) != source.version:
                problems.setdefault(STALE, f"reads {where}, which changed since this cell ran")
            elif source_state not in (OK, ERROR):  # a failed cell's names are what it bound
                problems.setdefault(STALE, f"reads {where}, which {_PHRASES[source_state]}")
        if cell.untracked:
            return CellStatus(UNTRACKED, f"the kernel cannot analyse this cell: {cell.untracked}")
        if not cell.parsed:
            return CellStatus(ERROR, "the cell does not parse")
        if BLOCKED in problems:
            return CellStatus(BLOCKED, problems[BLOCKED])
        if UPSTREAM_ERROR in problems:
            return CellStatus(UPSTREAM_ERROR, problems[UPSTREAM_ERROR])
        if UNTRACKED in problems:  # its inputs' values are unknown: never shown up to date
            return CellStatus(UNTRACKED, problems[UNTRACKED])
        if not cell.serial:
            return _NOT_RUN
        if cell.ran_source != cell.source:
            return CellStatus(EDITED, "edited since it last ran")
        if cell.note:
            return CellStatus(STALE, cell.note)
        if STALE in problems:
            refused = " (its last run was refused; it can run now)" if cell.refused else ""
            return CellStatus(STALE, problems[STALE] + refused)
        clobbered = self._clobbered(cell)
        if clobbered:
            return CellStatus(STALE, clobbered)
        if cell.refused:  # its error is a refusal whose cause is gone
            return CellStatus(ERROR, f"its last run was refused ({cell.refused}); it can run now")
        if not cell.ok:
            return CellStatus(ERROR, "its last run failed")
        return _KEPT if cell.kept_dependents else _UP_TO_DATE

    def _missing(self, name: str, cell: Cell) -> tuple[str, str] | None:
        """The state and reason of a cell that reads ``name`` when no cell above defines it
        (None: reading it is not an error the notebook causes, e.g. a builtin, or a global
        random generator no cell seeded)."""
        if is_hidden(name) or name in BUILTIN_NAMES:  # a fresh run reads the builtin here
            return None
        position = cell.position
        later = [p for p in positions_at(self._definers, name) if p > position]
        if later:
            below = self.describe(self.order[later[0]])
            return BLOCKED, (
                f"{shown(name)} is defined only below it, in {below}; "
                "a restart-and-run-all would fail here"
            )
        skipped = [p for p in positions_at(self._skipped, name) if p < position]
        if skipped:
            failed = self.cells[self.order[skipped[-1]]]
            why = "is blocked" if failed.refused else "failed before binding it"
            where = self.describe(failed)
            return UPSTREAM_ERROR, f"{shown(name)} is not defined: {where} {why}"
        if name in self.vanished:
            return BLOCKED, f"{shown(name)} is no longer defined: {self.vanished[name]}"
        return None

    def _clobbered(self, cell: Cell) -> str:
        """Names this cell is the last definer of whose value someone else overwrote."""
        for name in sorted(cell.defines):
            if positions_at(self._definers, name)[-1] != cell.position:
                continue
            writer = self.writer.get(name)
            if writer == cell.version:
                continue
            if writer is None:
                return f"{shown(name)} was deleted from the namespace"
            if writer[0] == EXTERNAL:
                return f"{shown(name)} was changed outside the notebook"
            if writer[0] in self.cells:
                return f"{shown(name)} was overwritten when {self.describe(writer[0])} ran"
            return f"{shown(name)} still holds a value from a deleted cell"
        return ""

    def shadowed_builtins(self, cell_id: str) -> set[str]:
        """Builtins the cell reads that no cell above defines: a fresh run gives it the
        builtin, so a value a cell below bound under that name must not reach it."""
        cell = self.cells[cell_id]
        return {
            name
            for name in self.effective_reads(cell) & BUILTIN_NAMES
            if self.definer(name, cell) is None
        }

    def _version_for(self, name: str, cell: Cell) -> Version:
        source = self.definer(name, cell)
        if source is not None:
            return source.version
        return (EXTERNAL, self._external.get(name, 0))

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
            if name in self._definers:
                continue
            if cell is not None:
                self.vanished[name] = f"{self.describe(cell)} no longer defines it"
            else:
                label = self._deleted_why.get(writer, "a cell, was deleted")
                self.vanished[name] = f"its definer, {label}"
        return doomed

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
