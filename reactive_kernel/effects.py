"""What a run changed in place, seen at the cell's boundaries (no per-statement tracing).

Before a cell runs, ``watch`` fingerprints every object reachable (within a budget) from the
names it may touch; after it runs, ``changes`` fingerprints them again. A name still bound to
the same object whose reachable objects changed was changed in place. ``sharers`` then finds
the other names that share a changed object (aliases, containers holding it, numpy arrays
over the same memory): they changed too. Pure: no IPython or ZMQ.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .fingerprints import Fingerprint, array_bounds, fingerprint, register_libraries

# At most this many objects are looked at per name, this many references deep from it.
MAX_OBJECTS = 2048
MAX_DEPTH = 6
# Looking for other names that share a changed object: a smaller budget per name.
MAX_SHARED_OBJECTS = 512


@dataclass
class Watched:
    """The fingerprints taken before a run."""

    roots: dict[str, int] = field(default_factory=dict)  # name -> id of its value
    states: dict[int, Hashable] = field(default_factory=dict)  # object id -> its state
    opaque: set[str] = field(default_factory=set)  # names whose value could not be seen into


@dataclass
class Changes:
    """What a run was seen to change in place."""

    names: set[str] = field(default_factory=set)  # watched names changed in place
    objects: dict[int, str] = field(default_factory=dict)  # changed object id -> a name holding it
    arrays: list[tuple[tuple[int, int], str]] = field(default_factory=list)  # their memory


def watch(namespace: Mapping[str, Any], names: Iterable[str]) -> Watched:
    """Fingerprint what ``names`` hold, before a run."""
    register_libraries()
    watched = Watched()
    memo: dict[int, Fingerprint | None] = {}
    for name in names:
        if name not in namespace:
            continue
        value = namespace[name]
        watched.roots[name] = id(value)
        seen = False
        for obj, found in _reachable(value, memo, MAX_OBJECTS):
            watched.states[id(obj)] = found.state
            seen = True
        if not seen:
            watched.opaque.add(name)
    return watched


def changes(namespace: Mapping[str, Any], watched: Watched) -> Changes:
    """The watched names still bound to the same object whose reachable objects changed."""
    register_libraries()
    found = Changes()
    memo: dict[int, Fingerprint | None] = {}
    for name, oid in watched.roots.items():
        value = namespace.get(name, _ABSENT)
        if id(value) != oid or name in watched.opaque:
            continue  # rebound or deleted (a new value, not a change), or not seen into
        for obj, fp in _reachable(value, memo, MAX_OBJECTS):
            before = watched.states.get(id(obj), _ABSENT)
            if before is not _ABSENT and before != fp.state:
                found.names.add(name)
                found.objects.setdefault(id(obj), name)
                bounds = array_bounds(obj)
                if bounds is not None:
                    found.arrays.append((bounds, name))
    return found


def also_changed(
    changed: Changes, certain: Mapping[str, Any]
) -> Changes:
    """``changed`` plus the values of names the cell's source certainly changes in place
    (``x[k] = …``, ``x.a = …``), observed or not."""
    merged = Changes(set(changed.names), dict(changed.objects), list(changed.arrays))
    for name, value in certain.items():
        merged.objects.setdefault(id(value), name)
        bounds = array_bounds(value)
        if bounds is not None:
            merged.arrays.append((bounds, name))
    return merged


def sharers(
    namespace: Mapping[str, Any], changed: Changes, candidates: Iterable[str]
) -> dict[str, str]:
    """Other names whose value is, holds, or shares memory with a changed object: name ->
    the changed name it shares the object with."""
    if not changed.objects:
        return {}
    found: dict[str, str] = {}
    for name in candidates:
        if name in namespace:
            via = _shares(namespace[name], changed)
            if via:
                found[name] = via
    return found


def _shares(value: Any, changed: Changes) -> str:
    memo: dict[int, Fingerprint | None] = {}
    for obj, _ in _reachable(value, memo, MAX_SHARED_OBJECTS):
        via = changed.objects.get(id(obj))
        if via:
            return via
        if changed.arrays:
            bounds = array_bounds(obj)
            if bounds is not None:
                for (low, high), via in changed.arrays:
                    if bounds[0] < high and low < bounds[1]:
                        return via
    return ""


_ABSENT = object()


def _reachable(
    root: Any, memo: dict[int, Fingerprint | None], budget: int
) -> Iterator[tuple[Any, Fingerprint]]:
    """(object, fingerprint) of objects reachable from ``root``, breadth first, in budget."""
    pending = [root]
    depth = 0
    seen: set[int] = set()
    while pending and depth <= MAX_DEPTH and budget > 0:
        following = []
        for obj in pending:
            oid = id(obj)
            if oid in seen:
                continue
            seen.add(oid)
            if oid in memo:
                found = memo[oid]
            else:
                try:
                    found = fingerprint(obj)
                except Exception:  # noqa: BLE001 - an odd object: treat it as opaque
                    found = None
                memo[oid] = found
            if found is None:
                continue
            budget -= 1
            yield obj, found
            following.extend(found.children)
            if budget <= 0:
                return
        pending = following
        depth += 1
