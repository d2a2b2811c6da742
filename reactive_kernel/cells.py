"""A notebook cell as the graph knows it, and the states the kernel reports.

Pure data: no IPython or ZMQ.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .analysis import CellAnalysis, frozen
from .rare_fields import RareField

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

# Shared by every cell that reads nothing or changes nothing in place (most of them).
NOTHING: Mapping = MappingProxyType({})
_NO_NAMES: frozenset[str] = frozen(())
_CONSUMED_FLAT_MAX = 16  # names looked up one by one; beyond, a dict


class Consumed(tuple):
    """The versions a cell's last run read, ``name -> version``, as a flat tuple ``(name,
    version, name, version, …)``: a cell reads a few names, and a dict of one costs 200 bytes
    where this costs 72. Read-only; ``get`` and ``items`` as a mapping's."""

    __slots__ = ()

    @classmethod
    def of(cls, versions: Iterable[tuple[str, Version]]) -> Mapping[str, Version]:
        flat = cls(item for pair in versions for item in pair)
        if len(flat) > 2 * _CONSUMED_FLAT_MAX:  # many names: look them up by hash
            return dict(flat.items())
        return flat or NOTHING

    def get(self, name: str, default: Version | None = None) -> Version | None:  # type: ignore[override]
        try:  # a version is a tuple, never equal to a name: only names match
            return tuple.__getitem__(self, self.index(name) + 1)
        except ValueError:
            return default

    def items(self) -> Iterator[tuple[str, Version]]:
        return zip(self[::2], self[1::2])


class Cell:
    """One notebook cell as the graph knows it. One per cell: 10,000 cells should not cost
    megabytes, so it has slots, and the fields most cells leave at their default share one
    (``rare_fields``)."""

    __slots__ = ("id", "source", "analysis", "ran_source", "consumed", "wrote", "_version",
                 "_rare", "position")

    parsed = RareField(True)  # False when ``source`` did not parse (or could not be analysed)
    untracked = RareField("")  # why its source, which Python can run, could not be analysed
    pragma = RareField(False)  # its source says ``# reactive: manual``
    tagged = RareField(False)  # a frontend marked it manual (cell tag)
    learnt = RareField(_NO_NAMES)  # names its last run bound beyond the static ones
    note = RareField("")  # a reason it is stale that the graph cannot derive
    # Names its source defines that its last run left unbound (it failed before binding them,
    # or it was refused): a fresh run would leave there the value from above, so for these
    # names the cell is transparent until it runs again.
    unbound = RareField(_NO_NAMES)
    refused = RareField("")  # why its last run was refused (it was blocked); shown as its error
    # Seen on its last run (of any version of its source): the names it changed in place
    # (name -> the name it changed them through, "" if directly), and the names it was seen
    # to leave unchanged. What it changed counts as read and defined; a method-call receiver
    # it left unchanged does not count as defined (the source alone would guess it does).
    changed = RareField(NOTHING)
    unchanged = RareField(_NO_NAMES)
    restorable = RareField(_NO_NAMES)  # hidden inputs whose state it drew from is kept
    # Its last run gave every name it writes a value equal to the one before (early cutoff):
    # the cells reading them did not need to run.
    kept_dependents = RareField(False)
    failed = RareField(False)  # its last run failed (or was refused)

    def __init__(self, id: str, source: str = "", analysis: CellAnalysis | None = None) -> None:
        self.id = id
        self.source = source
        self.analysis = analysis if analysis is not None else CellAnalysis()
        self.ran_source: str | None = None
        self.consumed: Mapping[str, Version] = NOTHING  # or a Consumed
        self.wrote: frozenset[str] = _NO_NAMES
        # ``(id, serial)`` of its last run, one tuple shared by the writer index and the cells
        # that consumed its names (not a tuple per index entry); None until it has run.
        self._version: Version | None = None
        self._rare: dict[str, object] | None = None
        # Its index in the notebook order, kept by the graph with its indexes (a slot costs
        # less than an entry in a dict of positions).
        self.position = -1

    def __repr__(self) -> str:
        return f"Cell({self.id!r}, serial={self.serial}, source={self.source[:40]!r})"

    @property
    def version(self) -> Version:
        """Which run of it wrote what it defines: ``(id, serial)``."""
        return self._version or (self.id, 0)

    @property
    def serial(self) -> int:
        """The graph's number of its last run; 0 until it has run."""
        return self._version[1] if self._version else 0

    @property
    def ok(self) -> bool:
        """It has run, and its last run succeeded."""
        return self._version is not None and not self.failed

    def mark_run(self, serial: int, *, ok: bool) -> None:
        self._version = (self.id, serial)
        self.failed = not ok

    def rename(self, new: str) -> None:
        self.id = new
        self._version = None if self._version is None else (new, self.serial)

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


SNIPPET_CHARS = 40


def snippet(source: str) -> str:
    """The line users recognise a cell by: its first line of code (else its first line),
    shortened to ``SNIPPET_CHARS``."""
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    code = [line for line in lines if not line.startswith("#")]
    line = (code or lines or [""])[0]
    return line if len(line) <= SNIPPET_CHARS else line[: SNIPPET_CHARS - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class CellStatus:
    state: str
    reason: str = ""

