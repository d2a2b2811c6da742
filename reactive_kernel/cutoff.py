"""Early cutoff: a cell's values before it re-runs, to compare with what the re-run gives.

A re-run that gives every name the cell writes a value equal to the one its previous run gave
changes nothing its readers could see, so they need not run (build systems call this early
cutoff). Equal means provably interchangeable (``values.digest``); anything else counts as
changed. The previous values are what the namespace holds, or, when a later cell has since
changed one in place, the digest taken just before that change (``Digests``). Pure: no
IPython or ZMQ.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from . import values

DEFAULT_BYTES = 32 << 20  # contents hashed per comparison, before and after: ~20 ms each
MAX_DIGESTS = 4096  # digests kept of values later changed in place (a few hundred bytes each)


@dataclass(frozen=True)
class Before:
    """A cell's names just before it re-runs: the objects and their writers (put back if
    the re-run changes nothing), and the digests of what its previous run gave them. The
    objects digested are held until the comparison: a digest names some by identity."""

    objects: Mapping[str, Any]
    writers: Mapping[str, Hashable]
    digests: Mapping[str, Hashable]
    max_bytes: int
    held: Mapping[str, Any]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.objects)

    @classmethod
    def taken(
        cls,
        objects: Mapping[str, Any],
        writers: Mapping[str, Hashable],
        stored: Mapping[str, Hashable],
        previous: Mapping[str, Any],
        max_bytes: int,
    ) -> Before | None:
        """The previous values: ``stored`` digests, the ``previous`` objects (when not the
        ones to put back), else ``objects``; all but the stored ones digested now. None if
        one cannot be."""
        held = {n: previous.get(n, v) for n, v in objects.items() if n not in stored}
        fresh = _digests(held, max_bytes)
        if fresh is None:
            return None
        return cls(dict(objects), dict(writers), {**stored, **fresh}, max_bytes, held)

    def same(self, namespace: Mapping[str, Any]) -> bool:
        """Whether ``namespace`` holds values equal to the previous ones under every name."""
        if any(name not in namespace for name in self.objects):
            return False
        return _digests({n: namespace[n] for n in self.objects}, self.max_bytes) == self.digests


class Digests:
    """Digests of values taken just before a cell changed them in place: ``(name, version
    that wrote it) -> digest``. Only digests of pure values (no object named by identity,
    whose id could be reused once it is gone); at most ``MAX_DIGESTS``, the oldest go."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, Hashable], Hashable] = {}

    def get(self, name: str, version: Hashable) -> Hashable | None:
        return self._found.get((name, version))

    def note(self, name: str, version: Hashable, value: Any, max_bytes: int) -> None:
        key = (name, version)
        if key in self._found:
            return
        found = _digests({name: value}, max_bytes)
        if found is None or _names_identities(found[name]):
            return
        self._found[key] = found[name]
        if len(self._found) > MAX_DIGESTS:
            del self._found[next(iter(self._found))]


def _digests(objects: Mapping[str, Any], max_bytes: int) -> dict[str, Hashable] | None:
    budget = values.Budget(max_bytes=max_bytes)
    found = {}
    for name, obj in objects.items():
        try:
            digest = values.digest(obj, budget)
        except Exception:  # noqa: BLE001 - an odd object: not provably equal
            return None
        if digest is None:
            return None
        found[name] = digest
    return found


def _names_identities(digest: Hashable) -> bool:
    """Whether a digest names an object by identity (``("id", …)``), at any depth."""
    pending = [digest]
    while pending:
        item = pending.pop()
        if type(item) is tuple:
            if len(item) == 2 and item[0] == "id":
                return True
            pending.extend(item)
        elif type(item) is frozenset:
            pending.extend(item)
    return False
