"""What a run changed in place, seen at the cell's boundaries (no per-statement tracing).

Before a cell runs, ``watch`` fingerprints every object reachable (within a budget) from the
names it may touch; after it runs, ``changes`` fingerprints them again. A name still bound to
the same object whose reachable objects changed was changed in place. ``sharers`` then finds
the other names that share a changed object (aliases, containers holding it, numpy arrays
over the same memory): they changed too. Pure: no IPython or ZMQ.
"""

from __future__ import annotations

import sys
from collections import Counter
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
    held: list[Any] = field(default_factory=list)  # the changed objects themselves
    # How many references to each object the walks saw (from names and from objects).
    references: dict[int, int] = field(default_factory=dict)


# Values of these types cannot change in place (nor hold anything that can): not watched.
_ATOMIC = frozenset({int, float, complex, bool, str, bytes, type(None)})


def watch(namespace: Mapping[str, Any], names: Iterable[str]) -> Watched:
    """Fingerprint what ``names`` hold, before a run."""
    watched = Watched()
    memo: dict[int, Fingerprint | None] = {}
    for name in names:
        value = namespace.get(name, _ABSENT)
        if value is _ABSENT:
            continue
        watched.roots[name] = id(value)
        if type(value) in _ATOMIC:
            continue  # seen, and it cannot change: no fingerprint needed
        if not memo:  # the first value to look into (most cells read only atomic values)
            register_libraries()
        seen = False
        for obj, found, _ in _reachable(value, memo, MAX_OBJECTS):
            watched.states[id(obj)] = found.state
            seen = True
        if not seen:
            watched.opaque.add(name)
    return watched


def changes(namespace: Mapping[str, Any], watched: Watched) -> Changes:
    """The watched names still bound to the same object whose reachable objects changed."""
    found = Changes()
    memo: dict[int, Fingerprint | None] = {}
    counted: set[int] = set()
    references = found.references
    for name, oid in watched.roots.items():
        value = namespace.get(name, _ABSENT)
        if id(value) != oid or name in watched.opaque or type(value) in _ATOMIC:
            continue  # rebound or deleted (a new value, not a change), not seen into, atomic
        if not memo:  # the first value to look into
            register_libraries()
        references[oid] = references.get(oid, 0) + 1
        parents: dict[int, Any] = {}
        for obj, fp, parent in _reachable(value, memo, MAX_OBJECTS):
            parents[id(obj)] = parent
            if id(obj) not in counted:
                counted.add(id(obj))
                for child in fp.children:
                    references[id(child)] = references.get(id(child), 0) + 1
            before = watched.states.get(id(obj), _ABSENT)
            if before is not _ABSENT and before != fp.state:
                found.names.add(name)
                bounds = array_bounds(obj)
                if bounds is not None:
                    found.arrays.append((bounds, name))
                # It, and every object on the way to it, changed: a name bound to any of
                # them (an alias, a class whose class-level dict it is) changed too.
                while obj is not None and id(obj) not in found.objects:
                    found.objects[id(obj)] = name
                    found.held.append(obj)
                    obj = parents[id(obj)]
    return found


def add_certain(changed: Changes, namespace: Mapping[str, Any], names: Iterable[str]) -> None:
    """Add to ``changed`` the values of names the cell's source certainly changes in place
    (``x[k] = …``, ``x.a = …``), observed or not."""
    for name in names:
        value = namespace[name]
        if id(value) not in changed.objects:
            changed.objects[id(value)] = name
            changed.held.append(value)
            changed.references.setdefault(id(value), 1)  # its name (counted if watched)
        bounds = array_bounds(value)
        if bounds is not None:
            changed.arrays.append((bounds, name))


def sharers(
    namespace: Mapping[str, Any], changed: Changes, candidates: Iterable[str]
) -> dict[str, str]:
    """Other names whose value is, holds, or shares memory with a changed object: name ->
    the changed name it shares the object with.

    Names bound to a changed object, or to an array over the same memory, are found for
    every candidate. Looking inside candidates for a changed object costs more, so it is done
    only when the object has references the walks did not account for (its reference count
    says someone else holds it).
    """
    if not changed.objects:
        return {}
    found, rest, bound = _bound_to_changed(namespace, changed, candidates)
    hidden = _held_elsewhere(changed, bound)
    if hidden:
        for name in rest:
            via = _holds(namespace[name], hidden, changed)
            if via:
                found[name] = via
    return found


def _bound_to_changed(
    namespace: Mapping[str, Any], changed: Changes, candidates: Iterable[str]
) -> tuple[dict[str, str], list[str], Counter]:
    """Candidates bound to a changed object or to an array over the same memory (name ->
    via), the other candidates, and how many candidates each changed object is bound to."""
    found: dict[str, str] = {}
    rest = []
    bound: Counter = Counter()
    for name in candidates:
        if name in namespace:
            value = namespace[name]
            via = changed.objects.get(id(value))
            if via:
                bound[id(value)] += 1
            else:
                via = _overlapping(value, changed)
            if via:
                found[name] = via
            else:
                rest.append(name)
    return found, rest, bound


def _held_elsewhere(changed: Changes, bound: Counter) -> dict[int, str]:
    """The changed objects with more references than the walks and the names bound to them
    account for: someone else holds them. (Called with no other reference to them alive in
    the caller's frames, so that the count is exact.)"""
    hidden = {}
    for obj in changed.held:
        # Not counted: the references from ``held``, from ``obj`` here and getrefcount's own.
        seen = changed.references.get(id(obj), 0) + bound[id(obj)]
        if sys.getrefcount(obj) - 3 > seen:
            hidden[id(obj)] = changed.objects[id(obj)]
    return hidden


def _overlapping(value: Any, changed: Changes) -> str:
    """The changed name whose array shares memory with ``value`` (an array), or ""."""
    if changed.arrays:
        bounds = array_bounds(value)
        if bounds is not None:
            for (low, high), via in changed.arrays:
                if bounds[0] < high and low < bounds[1]:
                    return via
    return ""


def _holds(value: Any, hidden: Mapping[int, str], changed: Changes) -> str:
    memo: dict[int, Fingerprint | None] = {}
    for obj, _, _ in _reachable(value, memo, MAX_SHARED_OBJECTS):
        via = hidden.get(id(obj)) or _overlapping(obj, changed)
        if via:
            return via
    return ""


_ABSENT = object()


def _reachable(
    root: Any, memo: dict[int, Fingerprint | None], budget: int
) -> Iterator[tuple[Any, Fingerprint, Any]]:
    """(object, fingerprint, the object it was reached from) of objects reachable from
    ``root``, breadth first, within budget."""
    pending: list[tuple[Any, Any]] = [(root, None)]
    depth = 0
    seen: set[int] = set()
    while pending and depth <= MAX_DEPTH and budget > 0:
        following = []
        for obj, parent in pending:
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
            yield obj, found, parent
            following.extend((child, obj) for child in found.children)
            if budget <= 0:
                return
        pending = following
        depth += 1
