"""The global random generators as hidden names: ``random``'s and ``numpy.random``'s.

A cell that seeds one defines it; a cell whose run advanced one read and changed it. Their
states are a few kB, so the kernel can put back the state a cell drew from instead of
re-running the cells above it. Pure: no IPython or ZMQ; numpy is never imported here.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Mapping
from typing import Any

RANDOM = "<random>"
NUMPY_RANDOM = "<numpy.random>"
HIDDEN = (RANDOM, NUMPY_RANDOM)
_PHRASE = {RANDOM: "`random`'s global generator", NUMPY_RANDOM: "`numpy.random`'s global generator"}


def is_hidden(name: str) -> bool:
    """A name the kernel tracks that user code cannot bind (it is not an identifier)."""
    return name[:1] == "<"


def describe(name: str) -> str:
    return _PHRASE.get(name, f"`{name}`")


def capture() -> dict[str, Any]:
    """The current states of the global generators in use (numpy's only once imported)."""
    states: dict[str, Any] = {RANDOM: random.getstate()}
    numpy = sys.modules.get("numpy")
    if numpy is not None and hasattr(numpy, "random"):
        states[NUMPY_RANDOM] = numpy.random.get_state()
    return states


def restore(states: Mapping[str, Any]) -> None:
    """Put the generators back in the given states."""
    for name, state in states.items():
        if name == RANDOM:
            random.setstate(state)
        elif name == NUMPY_RANDOM and "numpy" in sys.modules:
            sys.modules["numpy"].random.set_state(state)


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> set[str]:
    """The generators whose state differs between two captures."""
    return {name for name in after if name not in before or _key(before[name]) != _key(after[name])}


def _key(state: Any) -> Any:
    """A comparable form of a state (numpy's holds an array)."""
    if isinstance(state, tuple) and len(state) == 5 and hasattr(state[1], "tobytes"):
        return (state[0], state[1].tobytes(), *state[2:])
    return state
