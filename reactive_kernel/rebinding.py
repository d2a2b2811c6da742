"""Which names a run bound, rebound or deleted in a namespace, at a cost that follows the
run, not the size of the namespace.

Comparing the whole namespace before and after every run costs O(names) twice per run, and
a namespace grows with the notebook and with IPython's history (``_i1`` … ``_i10000``).
Instead:

- the names a run may rebind (the caller's candidates: what the cell's source binds, or every
  name the notebook knows when the source can reach the namespace by name) have their
  identities compared;
- names added are found at the end of the dict, which keeps insertion order: a walk back from
  the end to the last key present before the run (re-added names land there too);
- deletions are counted: the dict's size says whether every name that went is accounted for
  among the candidates. If not, the caller's ``known`` names are checked (O(known), only then).

Pure: works on any ``dict``; no IPython.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice

_ABSENT = object()
_LANDMARKS = 4  # keys at the end of the dict, to find the end of the old keys


@dataclass(frozen=True)
class Mark:
    """What ``rebound`` compares with: the namespace as it was before a run."""

    size: int
    landmarks: frozenset  # the last keys
    ids: dict[str, int]  # identities of the candidates bound then


def mark(ns: dict, candidates: Iterable[str]) -> Mark:
    """Note the namespace before a run that may rebind ``candidates``."""
    ids = {}
    for name in candidates:
        value = ns.get(name, _ABSENT)
        if value is not _ABSENT:
            ids[name] = id(value)
    return Mark(len(ns), frozenset(islice(reversed(ns), _LANDMARKS)), ids)


def rebound(ns: dict, before: Mark, known: Callable[[], Iterable[str]]) -> set[str]:
    """Names bound, rebound or deleted since ``before``: candidates whose identity changed,
    names added, and names deleted. ``known``: the names to check for deletion when a name
    outside the candidates went (no other name is anybody's concern).

    A landmark deleted and bound again moves to the end, and names added before it then go
    unseen: the landmarks are the last keys, in IPython the history's (``_i42``), which no
    cell deletes.
    """
    found = {name for name, ident in before.ids.items() if id(ns.get(name, _ABSENT)) != ident}
    tail = []
    for key in reversed(ns):
        if key in before.landmarks:
            break
        tail.append(key)
    else:
        if before.landmarks:  # every landmark went: added names cannot be told from old ones
            return found | {name for name in known() if name not in ns}
    found.update(tail)
    # Keys up to the landmark were there before the run, in place. The other old keys were
    # deleted, or deleted and bound again (then they are in the tail).
    kept = len(ns) - len(tail)
    tail_keys = set(tail)
    accounted = sum(1 for name in before.ids if name not in ns or name in tail_keys)
    if before.size - kept > accounted:
        found.update(name for name in known() if name not in ns)
    return found
