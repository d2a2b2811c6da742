"""What one cell run can reuse instead of re-running other cells: early cutoff and kept values.

The executor asks this layer before and after each run. Before (``start``, under the graph
lock): what a re-run is to be compared with (``cutoff.Before``), and the kept values the plan
binds for it (``kept.KeptValues.lend``). Then, outside the lock (``prepare``): digests of
values the cell may change in place (for their writers' re-runs), the values it may replace
(to keep them), the digests of its previous values. After the run (``finish``, under the
lock): early cutoff (the earlier objects put back, the readers kept up to date), the replaced
values kept, the lent ones taken back. Knows the graph and a namespace dict; no IPython.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from . import cutoff, kept, random_state
from .cells import Cell, Version
from .graph import Graph

Namespace = MutableMapping[str, Any]


@dataclass
class Run:
    """One cell run's reuse, from ``start`` to ``finish``."""

    previous: Version  # the cell's version before the run
    restore: frozenset[str]  # what the plan still puts back: random generators
    lent: kept.Lent | None = None
    before: tuple[dict, dict, dict, dict] | None = None
    rekeyed: list[str] = field(default_factory=list)  # kept values to carry to the new version
    changing: list[tuple[str, Version]] = field(default_factory=list)
    replaceable: dict[str, Version] = field(default_factory=dict)
    noted: kept.Noted | None = None
    earlier: cutoff.Before | None = None


class Reuse:
    """The settings, the values kept for cells reading rebound names, and the digests of
    values taken before a later cell changed them in place."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.early_cutoff = True
        self.cutoff_bytes = cutoff.DEFAULT_BYTES
        self.digests = cutoff.Digests()
        self.kept = kept.KeptValues()
        graph.kept = self.kept

    def start(
        self, ns: Namespace, cell: Cell, restore: frozenset[str], *, pulled: bool
    ) -> Run | None:
        """Under the graph lock, before the run: bind the kept values the plan restores for
        it. None (nothing bound) if one was changed since it was kept: plan again."""
        run = Run(cell.version, restore)
        lending = self._lending(cell, restore)
        if lending is not None:
            run.lent = self.kept.lend(ns, *lending)
            if run.lent is None:
                return None
        run.before = self._before(run, ns, cell, pulled)  # what the namespace held
        run.changing = self._changing(ns, cell)
        if run.lent is not None:
            ns.update(run.lent.values)
            self.graph.record_bound(run.lent.versions)
            run.restore = restore - run.lent.versions.keys()
        return run

    def may_replace(self, run: Run, ns: Namespace, cell: Cell, names: Iterable[str]) -> None:
        """Under the lock: the names the run may rebind (``names``) whose value another
        cell's run wrote. If it does, that value is kept for the cells that still read it."""
        if not self.kept.max_bytes:
            return
        writer, cells = self.graph.writer, self.graph.cells
        for name in names:
            version = writer.get(name)
            if version is not None and version[0] != cell.id and version[0] in cells and name in ns:
                run.replaceable[name] = version

    def prepare(self, run: Run, ns: Namespace) -> None:
        """Outside the lock, just before the run: the fingerprints and digests it needs."""
        run.noted = self.kept.note(ns, run.replaceable)
        for name, version in run.changing:  # for the cells that wrote them, if they re-run
            self.digests.note(name, version, ns.get(name), self.cutoff_bytes)
        if run.before is not None:
            run.earlier = cutoff.Before.taken(*run.before, self.cutoff_bytes)
            run.before = None

    def finish(self, run: Run, ns: Namespace, cell: Cell, *, ran: bool) -> None:
        """Under the lock, after the run was recorded (``ran``: and the cell still exists)."""
        if ran:
            self._cut_off(run, ns, cell)
        if run.noted is not None:
            self.kept.keep(run.noted, ns)
        if run.lent:
            for name, writer in run.lent.writers.items():  # its values of names put back below
                own = writer is not None and writer[0] == cell.id
                if not own and self.graph.writer.get(name) == cell.version and name in ns:
                    self.kept.keep_now(name, cell.version, ns[name])
            self.graph.record_bound(self.kept.take_back(run.lent, ns, cell.id))
        if run.previous != cell.version:
            self.kept.forget(run.previous)

    def forget(self, cell_ids: Iterable[str]) -> None:
        self.kept.forget_cells(cell_ids)

    # -- kept values ----------------------------------------------------------------------

    def _lending(
        self, cell: Cell, restore: frozenset[str]
    ) -> tuple[dict[str, Version], dict[str, Version | None]] | None:
        """The kept values the plan binds for the cell's run (name -> the version of its
        definer), and the writers of what the names hold now."""
        names = [n for n in restore if not random_state.is_hidden(n)]
        if not names:
            return None
        versions = {n: self.graph.definer(n, cell).version for n in names}
        return versions, {n: self.graph.writer.get(n) for n in names}

    # -- early cutoff ---------------------------------------------------------------------

    def _before(
        self, run: Run, ns: Namespace, cell: Cell, pulled: bool
    ) -> tuple[dict, dict, dict, dict] | None:
        """What early cutoff compares a re-run with, and what it puts back if every value is
        equal: then the namespace is as before the run (the run changed nothing a reader
        could see), but for this cell's version. Per name it wrote: the object to put back
        and its writer, and where the previous value is not that object, the previous value
        (kept when a later cell rebound the name) or its digest (taken before a cell below
        changed it in place). None if a
        previous value is unknown, or the cell has effects the kernel cannot compare:
        seeding or drawing from a tracked random generator (a hidden name, never in the
        namespace), opening files. A pulled cell runs to give a later cell its value again:
        a later binding is not put back for it."""
        if not self.early_cutoff or not cell.serial or not cell.ok or not cell.wrote:
            return None
        if cell.analysis.seeds or "open" in cell.analysis.reads:
            return None
        writer = self.graph.writer
        objects, writers, stored, kept_values = {}, {}, {}, {}
        run.rekeyed = []
        for name in cell.wrote:
            if name not in ns or name not in writer:
                return None
            objects[name], writers[name] = ns[name], writer[name]
            if writer[name] == cell.version:
                continue  # its own value: compared, and put back if equal
            source = self.graph.definer(name, cell)
            downstream = source is None or writer[name] != source.version
            if (name, cell.version) in self.kept:
                # A later cell rebound it: the value this cell gave, kept then and unchanged
                # since, is the one to compare with.
                found, value = self.kept.get(name, cell.version)
                if not found:
                    return None
                if downstream and not pulled:  # a later binding: it stays (and the kept value)
                    run.rekeyed.append(name)
                    kept_values[name] = value
                else:  # its input, which it changes in place: its earlier value comes back
                    objects[name], writers[name] = value, cell.version
                continue
            # A value a cell below changed in place, straight from this cell's previous one
            # (digested before that change): putting it back stands for what follows.
            changer = self.graph.cells.get(writer[name][0])
            if (
                pulled
                or not downstream
                or changer is None
                or changer.version != writer[name]
                or changer.consumed.get(name) != cell.version
            ):
                return None
            digest = self.digests.get(name, cell.version)
            if digest is None:
                return None
            stored[name] = digest
        return objects, writers, stored, kept_values

    def _changing(self, ns: Namespace, cell: Cell) -> list[tuple[str, Version]]:
        """Names the cell may change in place that another cell wrote: their digests are
        taken first, so that the writer, if it re-runs, can be compared with its value."""
        if not self.early_cutoff:
            return []
        writer, cells = self.graph.writer, self.graph.cells
        analysis = cell.analysis
        names = (analysis.mutates | analysis.calls | cell.changed.keys()) & ns.keys()
        return [
            (n, writer[n]) for n in names
            if n in writer and writer[n][0] in cells and writer[n][0] != cell.id
        ]

    def _cut_off(self, run: Run, ns: Namespace, cell: Cell) -> None:
        """If the run gave every name it wrote a value equal to the one its previous run
        gave it, put back what the names held before (cells below may hold those objects:
        an alias must stay one; a later cell may have rebound or changed them) and keep the
        cells that read them up to date."""
        earlier = run.earlier
        if earlier is None or not cell.ok or cell.wrote != earlier.names:
            return
        if not earlier.same(ns):
            return
        for name in run.rekeyed:
            self.kept.rekey(name, run.previous, cell.version)
        for name, writer in earlier.writers.items():
            if writer != run.previous and ns[name] is not earlier.objects[name]:
                # The name keeps a later cell's value; this run's (equal to its previous
                # one) is kept for the cells that read it from this cell.
                self.kept.keep_now(name, cell.version, ns[name])
        ns.update(earlier.objects)
        self.graph.keep_dependents(cell.id, run.previous, earlier.writers)
