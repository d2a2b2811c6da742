"""The dependency graph of a notebook's cells: what ran, bindings, staleness and run plans.

Pure bookkeeping, no IPython or ZMQ: the kernel feeds it analyses and run results and acts on
its answers. The model is a top-to-bottom run of the notebook: a cell reading ``x`` binds to
the nearest cell *above it* that defines ``x``. Each run gets a serial number; a cell records
the (definer, serial) it consumed for every name it read, and the graph records which run
last wrote each name into the shared namespace. A cell is up to date when what it consumed
is still what its definers hold, they are up to date, and the names it is the last definer of
still hold its values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .analysis import frozen
from .cells import EXTERNAL, NOTHING, Cell, Consumed, Version
from .planning import Planning
from .structure import positions_at


class Graph(Planning):
    """The whole graph: structure (``structure.py``), states (``states.py``), plans
    (``planning.py``), and here what runs tell it."""

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
        surely = (analysis.defines | cell.learnt) - cell.reads - analysis.mutates
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
        changed: Mapping[str, str] | None = None,
        unchanged: Iterable[str] = (),
        restorable: Iterable[str] = (),
    ) -> None:
        """A cell ran. ``bound``: the names the run was seen to (re)bind or delete;
        ``changed``: those it changed in place (name -> the name it changed it through, ""
        if directly); ``unchanged``: names it was seen to leave as they were; ``restorable``:
        hidden inputs (random generators) whose state before the run the kernel kept.

        The names a failed run did not bind hold what they held before (the value from the
        definer above, or nothing, as ``to_clear`` left them): for those the cell is
        transparent until it runs again. Names it reads or mutates count as bound: an
        in-place change or a value equal to its input cannot be told from no change.
        """
        self._refresh()
        cell = self.cells[cell_id]
        bound = frozen(bound)
        analysis = cell.analysis
        changed = {n: via for n, via in (changed or {}).items() if n not in bound} or NOTHING
        unbound = frozen(())
        if not ok:
            unbound = (analysis.defines | cell.learnt) - bound - changed.keys()
            unbound = frozen(unbound - (analysis.reads | analysis.mutates))
        for name in unbound:
            if self.writer.get(name) != self._version_for(name, cell):
                self.writer.pop(name, None)  # cleared before the run: whoever wrote it, it is gone
        self._ran(cell, ok=ok)
        if not ok:
            self._quiet = -1
        learnt = frozen(bound - analysis.defines)
        cell.restorable = frozen(restorable)
        # Only method-call receivers need it (a guess it corrects): most cells keep none.
        self._define(cell, learnt, unbound, changed, frozen(analysis.calls.intersection(unchanged)))
        self._consumed(cell)

    def keep_dependents(
        self, cell_id: str, previous: Version, writers: Mapping[str, Version]
    ) -> None:
        """Early cutoff: cell ``cell_id`` re-ran and gave the names of ``writers`` values
        equal to those its run ``previous`` gave them; the kernel put back what they held
        before, written by ``writers`` (``previous``, or a later cell that rebound or changed
        the name since). The cells that consumed those values consumed what the new run
        wrote: they stay up to date, and nothing below them needs to run."""
        self._refresh()
        cell = self.cells[cell_id]
        names = frozen(writers)
        for name, writer in writers.items():
            self.writer[name] = cell.version if writer == previous else writer
        for position in set(self._reached_by(names)):
            reader = self.cells[self.order[position]]
            if reader is cell or not any(reader.consumed.get(n) == previous for n in names):
                continue
            reader.consumed = Consumed.of(
                (n, cell.version if n in names and v == previous else v)
                for n, v in reader.consumed.items()
            )
        cell.kept_dependents = True
        self._changed(since=cell_id)

    def record_bound(self, writers: Mapping[str, Version | None]) -> None:
        """The kernel bound names to values that these runs wrote (kept values bound for a
        run, later bindings put back after it; None: the name is unbound again)."""
        self._refresh()
        for name, version in writers.items():
            if version is None:
                self.writer.pop(name, None)
            else:
                self.writer[name] = version
        last = [positions_at(self._definers, name) for name in writers]
        positions = [found[-1] for found in last if found]
        if positions:  # the last definers' states depend on what the names hold
            self._changed(since=self.order[min(positions)])

    def record_orphaned_run(self, cell_id: str, names: Iterable[str]) -> None:
        """Cell ``cell_id``, deleted while it ran, bound ``names``: no cell wrote those values
        now, so ``orphans`` removes them (and a definer above shows as stale)."""
        for name in names:
            self.writer[name] = (cell_id, 0)
            self._suspects.add(name)
        self._quiet = -1
        self._changed()

    def record_restore(self, cell_id: str, names: Iterable[str]) -> None:
        """Hidden inputs of a cell were put back in the state it drew from last time."""
        cell = self.cells[cell_id]
        for name in names:
            version = cell.consumed.get(name)
            if version is not None:
                self.writer[name] = version

    def seeded_above(self, name: str, cell_id: str) -> bool:
        """Whether a cell above seeds the hidden generator ``name`` (a draw from an unseeded
        generator is random in a fresh run too: nothing to keep consistent)."""
        self._refresh()
        source = self.definer(name, self.cells[cell_id])
        while source is not None:
            if name in source.learnt:
                return True
            source = self.definer(name, source)
        return False

    def record_refusal(self, cell_id: str, reason: str) -> None:
        """A cell was not run because it is blocked: it binds nothing, as in a fresh run."""
        self._refresh()
        cell = self.cells[cell_id]
        self._ran(cell, ok=False)
        self._quiet = -1
        cell.refused = reason
        self._define(cell, frozenset(), cell.analysis.defines, NOTHING, cell.unchanged)
        self._consumed(cell)

    def _ran(self, cell: Cell, *, ok: bool) -> None:
        self._serial += 1
        cell.mark_run(self._serial, ok=ok)
        cell.refused = ""
        cell.ran_source = cell.source
        cell.note = ""
        cell.kept_dependents = False

    def _consumed(self, cell: Cell) -> None:
        """Record the versions of its inputs (its own run changed none of them)."""
        self._refresh()
        reads = self.effective_reads(cell)
        cell.consumed = Consumed.of((n, self._version_for(n, cell)) for n in reads)

    def _define(
        self,
        cell: Cell,
        learnt: frozenset[str],
        unbound: frozenset[str],
        changed: dict[str, str],
        unchanged: frozenset[str],
    ) -> None:
        """Record the names a run (re)defined: the cell is now their writer."""
        before = (cell.defines, cell.reads)
        cell.learnt, cell.unbound = learnt, unbound
        cell.changed, cell.unchanged = changed, unchanged
        if (cell.defines, cell.reads) != before:
            self._changed(structure=True)
        self._suspects |= cell.wrote - cell.defines
        cell.wrote = cell.defines
        for name in cell.wrote:
            self.writer[name] = cell.version
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
        reached = [
            p for name in names for index in (self._readers, self._definers)
            for p in positions_at(index, name)
        ]
        if reached:
            self._changed(since=self.order[min(reached)])

    def attribute_readers(self, names: Iterable[str]) -> dict[str, set[str]]:
        """The cells that read attributes of these names as they run (``slider.value``), in
        notebook order, with the attributes each reads."""
        prefixes = tuple(f"{name}." for name in names)
        found: dict[str, set[str]] = {}
        for cid in self.order:
            for read in self.cells[cid].analysis.attributes:
                if read.startswith(prefixes):
                    found.setdefault(cid, set()).add(read.partition(".")[2])
        return found

    def note_stale(self, cell_ids: Iterable[str], note: str) -> None:
        """Cells whose inputs changed where the graph cannot see it (a widget moved in the
        frontend): stale, with ``note`` as the reason, until they run again."""
        self._refresh()  # positions, to forget states from the first of them down
        noted = [self.cells[cid] for cid in cell_ids if self.cells[cid].serial]
        for cell in noted:
            cell.note = note
        if noted:
            self._quiet = -1
            self._changed(since=min(noted, key=lambda c: c.position).id)

    def invalidate(self, note: str) -> None:
        """Mark every cell that ran stale, e.g. after runs the graph did not see."""
        for cell in self.cells.values():
            if cell.serial:
                cell.note = note
        self._quiet = -1
        self._changed()
