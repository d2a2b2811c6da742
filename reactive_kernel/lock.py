"""The executor's lock, which also holds back interrupts while the graph is being changed.

Comm messages may arrive on a subshell thread while a cell runs, so every graph access holds
a (reentrant) lock. On the main thread, the lock also defers SIGINT: a KeyboardInterrupt
raised half-way through a graph update (its indexes, its memo of states) would leave the graph
inconsistent for good. A SIGINT that arrives meanwhile is handled when the outermost hold
ends, with the graph whole, by the handler it would have met (in a kernel, ipykernel's
``default_int_handler``: a KeyboardInterrupt raised there).
"""

from __future__ import annotations

import signal
import threading
from typing import Any


class GraphLock:
    """A reentrant lock that defers SIGINT while the main thread holds it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0  # holds by the main thread
        self._saved: Any = None
        self._pending = False

    def _defer(self, signum: int, frame: Any) -> None:
        self._pending = True

    def __enter__(self) -> GraphLock:
        if threading.current_thread() is threading.main_thread():
            if self._depth == 0:  # before taking the lock: an interrupt never leaves it taken
                self._saved = signal.signal(signal.SIGINT, self._defer)
            self._depth += 1
        self._lock.acquire()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._lock.release()
        if threading.current_thread() is not threading.main_thread():
            return
        self._depth -= 1
        if self._depth:
            return
        saved, self._saved = self._saved, None
        if saved is not None:
            signal.signal(signal.SIGINT, saved)
        pending, self._pending = self._pending, False
        if pending and callable(saved):
            saved(signal.SIGINT, None)
