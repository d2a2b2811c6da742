"""A notebook cell as the graph knows it, and the states the kernel reports.

Pure data: no IPython or ZMQ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .analysis import CellAnalysis, frozen

# Cell states, as the kernel reports them to users and frontends.
OK = "ok"
NEW = "new"  # never run
EDITED = "edited"  # source changed since it last ran
ERROR = "error"  # its own last run raised or was interrupted
BLOCKED = "blocked"  # reads a name no cell above it defines (defined later, or deleted)
UPSTREAM_ERROR = "upstream-error"  # reads from a cell that failed or is blocked
STALE = "stale"  # its inputs changed since it ran
UNTRACKED = "untracked"  # the kernel cannot analyse it (or reads from such a cell)

_PHRASES = {
    NEW: "has not run yet",
    EDITED: "was edited and not re-run",
    ERROR: "failed",
    BLOCKED: "is blocked",
    UPSTREAM_ERROR: "has a failed input",
    STALE: "is stale",
    UNTRACKED: "the kernel cannot analyse",
}

EXTERNAL = ""  # the writer id of code run without a cell id (console, nbclient, papermill)

Version = tuple[str, int]


@dataclass(slots=True)  # one per cell: 10,000 cells should not cost megabytes
class Cell:
    id: str
    source: str = ""
    analysis: CellAnalysis = field(default_factory=CellAnalysis)
    parsed: bool = True  # False when ``source`` did not parse (or could not be analysed)
    untracked: str = ""  # why its source, which Python can run, could not be analysed
    pragma: bool = False  # its source says ``# reactive: manual``
    tagged: bool = False  # a frontend marked it manual (cell tag)
    label: str = ""  # what users call it: its execution count
    learnt: frozenset[str] = frozenset()  # names its last run bound beyond the static ones
    ran_source: str | None = None
    serial: int = 0  # 0 until it has run
    ok: bool = False
    consumed: Mapping[str, Version] = field(default_factory=dict)
    wrote: frozenset[str] = frozenset()
    note: str = ""  # a reason it is stale that the graph cannot derive
    # Names its source defines that its last run left unbound (it failed before binding them,
    # or it was refused): a fresh run would leave there the value from above, so for these
    # names the cell is transparent until it runs again.
    unbound: frozenset[str] = frozenset()
    refused: str = ""  # why its last run was refused (it was blocked); shown as its error
    # Seen on its last run (of any version of its source): the names it changed in place
    # (name -> the name it changed them through, "" if directly), and the names it was seen
    # to leave unchanged. What it changed counts as read and defined; a method-call receiver
    # it left unchanged does not count as defined (the source alone would guess it does).
    changed: Mapping[str, str] = field(default_factory=dict)
    unchanged: frozenset[str] = frozenset()
    restorable: frozenset[str] = frozenset()  # hidden inputs whose state it drew from is kept

    @property
    def defines(self) -> frozenset[str]:
        defined = self.analysis.defines  # shared, unless its runs taught it otherwise
        if self.unchanged and self.analysis.calls:
            defined = defined - (self.analysis.calls & self.unchanged)
        if self.learnt or self.changed:
            defined = defined | self.learnt | self.changed.keys()
        return frozen(defined - self.unbound) if self.unbound else defined

    @property
    def reads(self) -> frozenset[str]:
        """Names whose values before it runs it needs: read, or changed in place."""
        return self.analysis.reads | self.changed.keys()

    @property
    def soft_reads(self) -> frozenset[str]:
        """Names it may leave unbound (or did, when it failed): a run keeps the value from
        above, so it depends on it, but a fresh run without one does not fail."""
        return (self.analysis.maybe | self.unbound) - self.reads

    @property
    def manual(self) -> bool:
        """Opted out of automatic runs: it runs only when run directly."""
        return self.pragma or self.tagged


@dataclass(frozen=True, slots=True)
class CellStatus:
    state: str
    reason: str = ""
    upstream: tuple[str, ...] = ()

