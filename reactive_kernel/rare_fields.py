"""Fields most instances leave at their default, kept out of every instance's slots.

The graph holds a ``Cell`` and a ``CellAnalysis`` per notebook cell, and most of their fields
keep their default for good: no note, no refusal, nothing learnt at run time or changed in
place, no deferred reads, no star imports. A slot costs 8 bytes in every instance; these
fields share one slot, ``_rare``, a dict that exists only while one of them holds something
else (at 10,000 cells, about a megabyte less).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

T = TypeVar("T")


class RareField(Generic[T]):
    """A descriptor for such a field; the owning class has a ``_rare`` slot (None at first)."""

    def __init__(self, default: T) -> None:
        self.default = default
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> T:
        if obj is None:
            return self  # type: ignore[return-value]
        rare = obj._rare
        return self.default if rare is None else rare.get(self.name, self.default)

    def __set__(self, obj: Any, value: T) -> None:
        if obj._rare is None and value == self.default:
            return  # the common case, as cheap as a slot
        set_rare(obj, self.name, value)


def set_rare(obj: Any, name: str, value: Any) -> None:
    """Set rare field ``name`` (also for frozen classes, while they are built). A value equal
    to the default is not stored, so equal instances hold equal ``_rare``."""
    field = getattr(type(obj), name, None)
    if not isinstance(field, RareField):
        raise TypeError(f"{type(obj).__name__} has no field {name!r}")
    rare = obj._rare
    if value == field.default:
        if rare is not None:
            rare.pop(name, None)
            if not rare:
                object.__setattr__(obj, "_rare", None)
        return
    if rare is None:
        rare = {}
        object.__setattr__(obj, "_rare", rare)
    rare[name] = value
