"""The global random generators as hidden names: ``random``'s and ``numpy.random``'s.

A cell that seeds one defines it; a cell whose run advanced one read and changed it. Their
states are a few kB, so the kernel can put back the state a cell drew from instead of
re-running the cells above it. Pure: no IPython or ZMQ; numpy is never imported here.
"""

from __future__ import annotations

import ctypes
import random
import struct
import sys
import types
from collections.abc import Callable, Hashable, Mapping
from typing import Any

RANDOM = "<random>"
NUMPY_RANDOM = "<numpy.random>"
HIDDEN = (RANDOM, NUMPY_RANDOM)
_PHRASE = {RANDOM: "`random`'s global generator", NUMPY_RANDOM: "`numpy.random`'s global generator"}


def is_hidden(name: str) -> bool:
    """A name the kernel tracks that user code cannot bind (it is not an identifier)."""
    return name[:1] == "<"


def shown(name: str) -> str:
    """How messages name a variable: `x`, or what a hidden name stands for."""
    return _PHRASE.get(name, f"`{name}`")


def capture() -> dict[str, Any]:
    """The full states of the global generators in use (numpy's only once imported): what
    ``restore`` puts back. About 50 µs for numpy's, so taken only when a state changed."""
    states: dict[str, Any] = {RANDOM: random.getstate()}
    numpy = _numpy_random()
    if numpy is not None:
        states[NUMPY_RANDOM] = numpy.get_state()
    return states


def restore(states: Mapping[str, Any]) -> None:
    """Put the generators back in the given states."""
    for name, state in states.items():
        if name == RANDOM:
            random.setstate(state)
        elif name == NUMPY_RANDOM:
            numpy = _numpy_random()
            if numpy is not None:
                numpy.set_state(state)


def probe() -> dict[str, Hashable]:
    """Cheap comparable forms of the generators' states (a couple of µs): two probes differ
    exactly when the states do (but for numpy's cached second normal deviate)."""
    probes: dict[str, Hashable] = {RANDOM: (_PYTHON(random._inst), random._inst.gauss_next)}
    numpy = _numpy_random()
    if numpy is not None:
        probes[NUMPY_RANDOM] = _NUMPY(numpy.mtrand._rand._bit_generator)
    return probes


def _numpy_random() -> types.ModuleType | None:
    """``numpy.random`` if the user's code imported it (numpy 2 imports it lazily: looking it
    up as an attribute would import it, costing memory and time for nothing)."""
    return sys.modules.get("numpy.random")


class _RawState:
    """Reads a generator's C state straight from memory, once checked against its documented
    accessor; falls back to that accessor (slower) if the layout is not the expected one."""

    def __init__(
        self, locate: Callable[[Any], tuple[int, int]], documented: Callable[[Any], bytes]
    ) -> None:
        self.locate = locate
        self.documented = documented
        self.checked: dict[type, bool] = {}

    def __call__(self, generator: Any) -> Hashable:
        ok = self.checked.get(type(generator))
        if ok is None:
            try:
                ok = self._read(generator).startswith(self.documented(generator))
            except Exception:  # noqa: BLE001 - an unexpected build: use the accessor
                ok = False
            self.checked[type(generator)] = ok
        return self._read(generator) if ok else self.documented(generator)

    def _read(self, generator: Any) -> bytes:
        address, size = self.locate(generator)
        return ctypes.string_at(address, size)


# CPython's random.Random: after the object header, ``int index; uint32_t state[624]``.
_PYTHON = _RawState(
    lambda r: (id(r) + object.__basicsize__, 4 + 4 * 624),
    lambda r: struct.pack("i624I", r.getstate()[1][624], *r.getstate()[1][:624]),
)
# numpy's MT19937: ``uint32_t key[624]; int pos``.
_NUMPY = _RawState(
    lambda bg: (bg.ctypes.state_address, 4 * 624 + 4),
    lambda bg: bg.state["state"]["key"].tobytes() + struct.pack("i", bg.state["state"]["pos"]),
)


class Generators:
    """The global generators around cell runs: which ones a run advanced, and the states
    each cell drew from, kept to be put back when it re-runs."""

    def __init__(self) -> None:
        self._last: tuple[dict[str, Hashable], dict[str, Any]] | None = None  # probes, states
        self._drew_from: dict[str, dict[str, Any]] = {}

    def before_run(self) -> dict[str, Hashable]:
        """Probe the generators before a run (their full states are captured only when they
        changed since the last run, e.g. by code run outside a cell)."""
        probes = probe()
        if self._last is None or self._last[0] != probes:
            self._last = (probes, capture())
        return probes

    def advanced(self, before: Mapping[str, Hashable]) -> tuple[set[str], dict[str, Any]]:
        """The generators the run advanced, and their full states before it."""
        after = probe()
        drawn = {name for name in after if before.get(name) != after[name]}
        states = self._last[1] if self._last is not None else {}
        if drawn:
            self._last = (after, capture())
        return drawn, states

    def keep(self, cell_id: str, states: dict[str, Any]) -> None:
        """Remember the states a cell drew from (a few kB each; nothing for most cells)."""
        if states:
            self._drew_from[cell_id] = states
        else:
            self._drew_from.pop(cell_id, None)

    def kept(self, cell_id: str) -> frozenset[str]:
        return frozenset(self._drew_from.get(cell_id, ()))

    def put_back(self, cell_id: str, names: frozenset[str]) -> bool:
        """Put the generators ``names`` back in the states the cell last drew from."""
        saved = self._drew_from.get(cell_id, {})
        if not names or not names.issubset(saved):
            return False
        restore({name: saved[name] for name in names})
        self._last = None
        return True

    def forget(self, cell_id: str) -> None:
        self._drew_from.pop(cell_id, None)
