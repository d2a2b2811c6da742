"""Kept values: earlier versions of names that later cells rebound, held instead of re-run.

Notebooks reuse names: ``df`` from cell 3 is rebound by cell 9. Re-running cell 5, which
reads cell 3's ``df``, would mean re-running cell 3 (and what it needs) to get that value
back. Instead the kernel keeps a reference (never a copy) to the object a rebinding replaced,
with its fingerprints (``effects.watch``), and binds it again for cell 5's run, as long as
the fingerprints show it unchanged since. The objects kept are bounded by a memory budget;
the least recently used go first, and then the kernel re-runs, as it would without them.
Pure: no IPython or ZMQ.
"""

from __future__ import annotations

import sys
from collections.abc import Hashable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from . import effects
from .fingerprints import _HEAPTYPE, _type_flags

DEFAULT_BYTES = 256 << 20

ABSENT = object()  # a name not bound
Key = tuple[str, Hashable]  # (name, the version of the cell run that wrote the value)


@dataclass(frozen=True)
class Noted:
    """Values a run may replace, noted before it: name -> value, its writer, fingerprints."""

    values: dict[str, Any]
    writers: dict[str, Hashable]
    watched: effects.Watched


_NOTHING_NOTED = Noted({}, {}, effects.Watched())


@dataclass(frozen=True)
class Lent:
    """Kept values bound for one run: the versions bound, and the bindings they displaced
    (name -> object, or ``ABSENT``; and its writer), to be put back after the run."""

    versions: dict[str, Hashable]
    values: dict[str, Any]
    displaced: dict[str, Any]
    writers: dict[str, Hashable | None]
    watched: effects.Watched


@dataclass(frozen=True)
class _Entry:
    value: Any
    watched: effects.Watched
    size: int


class KeptValues:
    """``(name, version) -> object``, while the object is unchanged since it was kept."""

    def __init__(self, max_bytes: int = DEFAULT_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: dict[Key, _Entry] = {}  # least recently used first
        self._of_cell: dict[str, set[Key]] = {}  # the keys of each cell's runs
        self.size = 0

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def note(self, namespace: Mapping[str, Any], writers: Mapping[str, Hashable]) -> Noted:
        """Before a run that may rebind these names: the values they hold, written by
        ``writers``, and their fingerprints (``keep`` keeps those the run replaced)."""
        if self.max_bytes <= 0 or not writers:
            return _NOTHING_NOTED
        values = {n: namespace[n] for n, v in writers.items() if (n, v) not in self._entries}
        return Noted(values, dict(writers), effects.watch(values, values))

    def keep(self, noted: Noted, namespace: Mapping[str, Any]) -> None:
        """Keep the noted values the run replaced (no longer bound to their name), if it
        did not change them first. Not kept: values the fingerprints cannot see into (a
        change would go unnoticed), values larger than the whole budget."""
        gone = {n: v for n, v in noted.values.items() if namespace.get(n, ABSENT) is not v}
        if not gone:
            return
        changed = effects.changes(gone, noted.watched).names
        for name, value in gone.items():
            if name not in changed and name not in noted.watched.opaque:
                self._add(name, noted.writers[name], value, noted.watched)

    def keep_now(self, name: str, version: Hashable, value: Any) -> None:
        """Keep ``value`` as ``name`` from ``version`` (an output about to be displaced)."""
        watched = effects.watch({name: value}, (name,))
        if name not in watched.opaque:
            self._add(name, version, value, watched)

    def _add(self, name: str, version: Hashable, value: Any, watched: effects.Watched) -> None:
        key = (name, version)
        if key in self._entries or self.max_bytes <= 0:
            return
        size = _size(value)
        if size > self.max_bytes:
            return
        self._entries[key] = _Entry(value, watched, size)
        self._of_cell.setdefault(version[0], set()).add(key)
        self.size += size
        while self.size > self.max_bytes:
            self.discard(*next(iter(self._entries)))

    def get(self, name: str, version: Hashable) -> tuple[bool, Any]:
        """``(True, value)`` if the value is kept and unchanged since; else ``(False, None)``
        (a changed value is dropped). A value used moves to the back of the queue."""
        entry = self._entries.get((name, version))
        if entry is None:
            return False, None
        if effects.changes({name: entry.value}, entry.watched).names:
            self.discard(name, version)
            return False, None
        self._entries[(name, version)] = self._entries.pop((name, version))
        return True, entry.value

    def lend(
        self,
        namespace: MutableMapping[str, Any],
        versions: Mapping[str, Hashable],
        writers: Mapping[str, Hashable | None],
    ) -> Lent | None:
        """The kept values of ``versions`` (name -> version), to bind in ``namespace`` for a
        run (``Lent.values``), and what they displace; None if one is gone or was changed
        since it was kept."""
        values = {}
        for name, version in versions.items():
            found, value = self.get(name, version)
            if not found:
                return None
            values[name] = value
        displaced = {n: namespace.get(n, ABSENT) for n in values}
        present = {n: v for n, v in displaced.items() if v is not ABSENT}
        return Lent(dict(versions), values, displaced, dict(writers), effects.watch(present, present))

    def take_back(self, lent: Lent, namespace: MutableMapping[str, Any], cell_id: str) -> dict:
        """After cell ``cell_id``'s run: put back the bindings the lent values displaced, but
        the cell's own earlier values (its new ones stand) and those the run changed (the
        namespace stays as the run left it). Returns name -> writer of what was put back."""
        present = {n: v for n, v in lent.displaced.items() if v is not ABSENT}
        changed = effects.changes(present, lent.watched).names
        restored = {}
        for name, value in lent.displaced.items():
            writer = lent.writers[name]
            if name in changed or (writer is not None and writer[0] == cell_id):
                continue
            if value is ABSENT:
                namespace.pop(name, None)
            else:
                namespace[name] = value
            restored[name] = lent.writers[name]
        return restored

    def rekey(self, name: str, old: Hashable, new: Hashable) -> None:
        """The value kept as ``name`` from ``old`` is also the one from ``new`` (a re-run
        gave it an equal value: early cutoff)."""
        entry = self._entries.pop((name, old), None)
        if entry is not None:
            self._entries[(name, new)] = entry
            keys = self._of_cell[old[0]]
            keys.discard((name, old))
            self._of_cell.setdefault(new[0], set()).add((name, new))

    def discard(self, name: str, version: Hashable) -> None:
        entry = self._entries.pop((name, version), None)
        if entry is not None:
            self.size -= entry.size
            keys = self._of_cell[version[0]]
            keys.discard((name, version))
            if not keys:
                del self._of_cell[version[0]]

    def forget(self, version: Hashable) -> None:
        """Drop what run ``version`` wrote (its cell re-ran): O(what that cell has kept)."""
        for name, kept_version in list(self._of_cell.get(version[0], ())):
            if kept_version == version:
                self.discard(name, kept_version)

    def forget_cells(self, cell_ids: Iterable[str]) -> None:
        """Drop what the runs of these cells wrote (they were deleted)."""
        for cell_id in cell_ids:
            for name, version in list(self._of_cell.get(cell_id, ())):
                self.discard(name, version)


def _size(value: Any) -> int:
    """An upper bound on the memory holding ``value`` keeps alive: the objects reachable
    from it within the fingerprints' budget (numpy arrays by their buffers). Only sizes the
    interpreter or numpy computes: no ``__sizeof__`` of the user's classes."""
    total = 0
    numpy = sys.modules.get("numpy")
    memo: dict = {}
    for obj, _, _ in effects._reachable(value, memo, effects.MAX_OBJECTS):
        cls = type(obj)
        if numpy is not None and cls is numpy.ndarray:
            total += obj.nbytes  # a view's too: an upper bound
        elif _type_flags(cls) & _HEAPTYPE:
            total += object.__sizeof__(obj)
        else:
            try:
                total += cls.__sizeof__(obj)
            except Exception:  # noqa: BLE001 - a C type without a usable size
                total += object.__sizeof__(obj)
    return total
