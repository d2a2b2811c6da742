"""Interrupts held back while the kernel must not be cut short, and the executor's lock.

A KeyboardInterrupt raised half-way through a graph update (its indexes, its memo of states)
would leave the graph inconsistent for good; one raised while ipykernel sends a reply loses
that reply. SIGINT can only be handled on the main thread: there, ``HeldInterrupts`` swaps in
a handler that only notes it, and the caller decides what the noted interrupt does.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

try:  # signal.signal without its enum conversions: 0.3 µs instead of 3.4, a few times a request
    from _signal import signal as _set_handler
except ImportError:  # pragma: no cover - not CPython
    _set_handler = signal.signal


_MAIN = threading.main_thread().ident  # the thread SIGINT handlers run on


class HeldInterrupts:
    """SIGINT noted instead of raised, on the main thread, between ``hold`` and ``release``."""

    def __init__(self) -> None:
        self._saved: Any = None
        self._pending = False

    def _note(self, signum: int, frame: Any) -> None:
        self._pending = True

    def hold(self) -> None:
        if self._saved is None and threading.get_ident() == _MAIN:
            self._saved = _set_handler(signal.SIGINT, self._note)

    def release(self) -> tuple[Any, bool]:
        """Put back the handler held interrupts would have met; return it, and whether an
        interrupt came meanwhile."""
        saved, self._saved = self._saved, None
        if saved is not None:
            _set_handler(signal.SIGINT, saved)
        pending, self._pending = self._pending, False
        return saved, pending


class GraphLock:
    """A reentrant lock (comm messages may arrive on a subshell thread while a cell runs)
    that holds back SIGINT while the main thread holds it. An interrupt that came meanwhile
    is handled when the outermost hold ends, with the graph whole, by the handler it would
    have met (in a kernel, ipykernel's ``default_int_handler``: a KeyboardInterrupt there)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0  # holds by the main thread
        self._held = HeldInterrupts()

    def __enter__(self) -> GraphLock:
        if threading.get_ident() == _MAIN:
            if self._depth == 0:  # before taking the lock: an interrupt never leaves it taken
                self._held.hold()
            self._depth += 1
        self._lock.acquire()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._lock.release()
        if threading.get_ident() != _MAIN:
            return
        self._depth -= 1
        if self._depth:
            return
        handler, pending = self._held.release()
        if pending and callable(handler):
            handler(signal.SIGINT, None)
