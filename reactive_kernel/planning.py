"""Run plans: what to run, in notebook order, so that cells run on the inputs a fresh
top-to-bottom run gives them, and (auto mode) so that nothing stays out of date.

Pure: no IPython or ZMQ.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from .cells import (
    _PHRASES,
    BLOCKED,
    EDITED,
    ERROR,
    NEW,
    OK,
    STALE,
    UNTRACKED,
    UPSTREAM_ERROR,
    Cell,
)
from .random_state import shown
from .states import States
from .structure import positions_at


@dataclass(frozen=True)
class Plan:
    """Cells to run, in notebook order (the requested cell among them), or why it cannot run."""

    cells: tuple[str, ...] = ()
    pulled: tuple[str, ...] = ()  # stale inputs that run first because the request needs them
    blocked: str = ""
    # Cells among ``cells`` that cannot run (blocked, or reading from a blocked cell) and
    # show stale outputs: running them means refusing them, with this reason.
    refused: Mapping[str, str] = field(default_factory=dict)
    # Cells among ``cells`` to run with a hidden input (a random generator) put back in the
    # state they drew from last time, instead of re-running the cells above them.
    restore: Mapping[str, frozenset[str]] = field(default_factory=dict)


class Planning(States):
    """Plans over the graph's structure and states."""

    def plan(self, cell_id: str, *, auto: bool, visible: bool = False) -> Plan:
        """What to run so that ``cell_id`` runs on correct inputs, and (``auto``) what else.

        Stale inputs are pulled: a cell that must read ``x`` from a definer that is stale, or
        whose value of ``x`` has since been overwritten (``x = x + 1`` re-run), gets that
        definer re-run first. ``auto`` adds every cell that is out of date (see
        ``out_of_date``) and the dependents of everything run. All in notebook order, as a
        fresh run would.

        ``visible``: a frontend runs the plan, each cell as a visible execution of the source
        it shows; so cells not run yet or edited since may be pulled in. The kernel itself
        runs only code the user ran: in a plan it runs, such a cell is a problem, not a pull.
        """
        if not auto:  # its dependents will not run with it: they may stay out of date
            self._quiet = -1
        targets = {cell_id} | (self.out_of_date() if auto else set())
        return self._plan(targets, auto=auto, strict=cell_id, visible=visible)

    def plan_consistent(self, *, visible: bool = False) -> Plan:
        """What auto mode runs after a change that ran nothing (a deletion, a new order)."""
        wanted = self.out_of_date()
        return self._plan(wanted, auto=True, visible=visible) if wanted else Plan()

    def plan_rest(self, cells: Iterable[str], *, target: str | None, auto: bool) -> Plan:
        """The rest of a plan (``cells``) after a cell in it re-ran to equal values (early
        cutoff): what is still needed, planned again. The cells pulled for the dependents
        it spared are not needed any more."""
        wanted = {target} if target is not None else set()
        if auto:
            wanted |= {
                cid for cid in cells
                if cid in self.cells and (self.state_of(cid).state == STALE or self._shows_old(cid))
            }
        return self._plan(wanted, auto=auto, strict=target) if wanted else Plan()

    def without_stale_pulls(self, plan: Plan) -> Plan:
        """A frontend's run of one cell of its list, whose input went stale after the list was
        made (a widget moved while the list ran): the cell runs on the values as they are,
        not that input inside its output. It stays stale (it reads from a stale cell), and
        the kernel lists both again, each to run in its own cell. Inputs whose value a later
        cell overwrote are still put back: the cell would read a value no fresh run gives."""
        stale = {cid for cid in plan.pulled if self.state_of(cid).state == STALE}
        if not stale:
            return plan
        return replace(
            plan,
            cells=tuple(c for c in plan.cells if c not in stale),
            pulled=tuple(c for c in plan.pulled if c not in stale),
        )

    def plan_stale(self) -> Plan:
        """What "run stale cells" runs: what auto mode would, the cells never run or edited
        since they ran, and those showing a refusal whose cause is gone. (Auto mode does not
        re-run the last on its own: a run that binds names can block another cell again.)"""
        wanted = self.out_of_date() | {
            cid
            for cid, state in self.status().items()
            if not self.cells[cid].manual
            and (state.state in (NEW, EDITED) or (state.state == ERROR and self.cells[cid].refused))
        }
        return self._plan(wanted, auto=True, visible=True) if wanted else Plan()

    def _plan(
        self, targets: set[str], *, auto: bool, strict: str | None = None, visible: bool = False
    ) -> Plan:
        self._refresh()
        required = set(targets)
        while True:
            outcome = self._sweep(targets, required, auto, strict, visible)
            if isinstance(outcome, Plan):
                return outcome
            required |= outcome

    def _sweep(
        self,
        targets: set[str],
        required: set[str],
        auto: bool,
        strict: str | None,
        visible: bool,
    ) -> Plan | set[str]:
        """Simulate a run in notebook order from the first required cell.

        Only cells that can be affected are visited: the required ones and the readers (and
        last definers) of names the simulated runs write, so the cost follows the cells a
        change reaches, not the size of the notebook. Returns the plan, or the definers that
        turned out to need a re-run (then the caller sweeps again with those required too).
        ``strict``: the requested cell; if it cannot run, the plan is blocked. Other targets
        that cannot run are refused when they show an older output, else left out.
        """
        candidates = [self.cells[cid].position for cid in required]
        heapq.heapify(candidates)
        seen: set[int] = set()
        fresh: set[str] = set()
        touched: set[str] = set()  # names written by cells this plan runs
        planned: list[str] = []
        refused: dict[str, str] = {}
        restore: dict[str, frozenset[str]] = {}
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
            restorable = self._restorable(cell, fresh, touched)
            if restorable:
                restore[cid] = restorable
            problem = self._inputs(
                cell, targets, required, fresh, touched, pulls, strict, visible, restorable
            )
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
        return Plan(cells=tuple(planned), pulled=pulled, refused=refused, restore=restore)

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
            yield from positions_at(self._readers, name)
            definers = positions_at(self._definers, name)
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
        visible: bool,
        restorable: frozenset[str],
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
                    why = self._unpullable(
                        other, other_state, targets, required, strict, visible
                    )
                    if why:
                        where = self.describe(other)
                        return f"{shown(name)} may be redefined by {where}, {why}"
                    pulls.add(other.id)
            if source is None:
                missing = None if name in soft else self._missing(name, cell)
                if missing:
                    return missing[1]
                continue
            if source.id in fresh or name in restorable:  # (put back, not re-run)
                continue
            state = self.state_of(source.id).state
            if state == UNTRACKED:
                continue  # what it holds cannot be known better by running it again
            if (
                state in (OK, ERROR)
                and name not in touched
                and self.writer.get(name) == source.version
            ):
                continue
            where = f"it reads {shown(name)} from {self.describe(source)}"
            if state in (BLOCKED, UPSTREAM_ERROR):
                if name in soft:  # it binds nothing in a fresh run; this cell may bind it
                    continue
                return f"{where}, which {_PHRASES[state]}"
            why = self._unpullable(source, state, targets, required, strict, visible)
            if why:
                return f"{where}, {why}"
            pulls.add(source.id)
        return ""

    def _restorable(self, cell: Cell, fresh: set[str], touched: set[str]) -> frozenset[str]:
        """The inputs of a cell to put back instead of re-running their definer, which has
        not run since but whose value the namespace no longer holds: a value a later cell
        rebound, which the kernel kept (``kept``); a random generator's state the cell drew
        from last time, which another draw has advanced."""
        found = set()
        for name in cell.restorable - touched:
            source = self.definer(name, cell)
            if (
                source is not None
                and source.id not in fresh
                and self.writer.get(name) != source.version
                and cell.consumed.get(name) == source.version
                and self.state_of(source.id).state in (OK, ERROR)
            ):
                found.add(name)
        if self.kept:
            for name in self.effective_reads(cell) - touched:
                source = self.definer(name, cell)
                if (
                    source is not None
                    and source.id not in fresh
                    and (name, source.version) in self.kept
                    and self.writer.get(name) != source.version
                    and self.state_of(source.id).state in (OK, ERROR)
                ):
                    found.add(name)
        return frozenset(found)

    def _unpullable(
        self,
        cell: Cell,
        state: str,
        targets: set[str],
        required: set[str],
        strict: str | None,
        visible: bool,
    ) -> str:
        """Why a cell that must run first cannot be pulled into this plan ("" if it can)."""
        if cell.manual and cell.id not in targets:
            return "which must run first but is set to run manually"
        unran = state in (NEW, EDITED) and cell.id not in targets
        if unran and not visible:  # its source reached the kernel only as data
            return f"which {_PHRASES[state]}: run it first"
        if state == EDITED and strict is None and cell.id not in targets:
            return "which was edited and not run"
        if cell.id in required:  # required already, yet not run: it cannot run
            return "which cannot run"
        return ""

    def _affected(self, cell: Cell, fresh: set[str], touched: set[str]) -> bool:
        """Whether a cell has run before and this plan changes something it depends on."""
        if cell.manual or not cell.serial or not cell.parsed or cell.ran_source != cell.source:
            return False
        for name in self.effective_reads(cell):
            source = self.definer(name, cell)
            if source is not None and source.id in fresh:
                return True
        position = cell.position
        return any(
            positions_at(self._definers, name)[-1] == position for name in cell.defines & touched
        )
