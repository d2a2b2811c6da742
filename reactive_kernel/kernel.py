"""The reactive Jupyter kernel: ipykernel's IPython kernel with reactive execution."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ipykernel.ipkernel import IPythonKernel
from traitlets import Bool, CaselessStrEnum, Float, Int, observe

from . import __version__, cutoff, kept, widgets
from .execution import MODES, ReactiveExecutor
from .lock import HeldInterrupts
from .magics import ReactiveMagics


_REPLY_GRACE = 0.2  # seconds


class ReactiveKernel(IPythonKernel):
    """IPython kernel that keeps a name-level dependency graph between cells.

    Configure with traitlets, e.g. ``c.ReactiveKernel.mode = "lazy"`` in
    ``ipython_kernel_config.py`` (where: docs/jupyterhub.md; all settings:
    ``python -m reactive_kernel --help-all``).
    """

    implementation = "reactive_kernel"
    implementation_version = __version__

    mode = CaselessStrEnum(
        MODES,
        default_value="auto",
        config=True,
        help="auto: re-run dependent cells; lazy: only mark them stale; off: plain ipykernel.",
    )

    track_random_state = Bool(
        True,
        config=True,
        help="Track the global random generators (random, numpy.random) like variables: a "
        "cell that seeds one defines it, a cell that draws from it reads and changes it.",
    )

    early_cutoff = Bool(
        True,
        config=True,
        help="When a re-run gives every name a cell writes a value equal to its previous "
        "one, keep the cells that read them instead of re-running them.",
    )

    cutoff_bytes = Int(
        cutoff.DEFAULT_BYTES,
        config=True,
        help="Bytes of contents hashed to compare a cell's values before and after a re-run; "
        "larger values count as changed.",
    )

    kept_bytes = Int(
        kept.DEFAULT_BYTES,
        config=True,
        help="Memory (bytes, estimated) for earlier values of names that later cells rebound, "
        "kept to run the cells reading them without re-running their definers; the least "
        "recently used go first. 0: keep none (re-run instead).",
    )

    reply_wait = Float(
        3.0,
        config=True,
        help="Seconds a shutdown or restart waits for the reply of a request still running. "
        "jupyter_client interrupts the kernel first and waits 5 s for it to exit, which "
        "leaves the interrupted request the time to send its reply.",
    )

    @property
    def banner(self) -> str:
        return super().banner + f"\nReactive kernel {__version__}: mode {self.reactive.mode}.\n"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._unanswered: set[str] = set()  # execute_requests whose reply is not sent yet
        # Outside the cells' run (ipykernel's bookkeeping before it, the reply after it), an
        # interrupt would escape the request and lose its reply: it is held there.
        self._held = HeldInterrupts()
        self.reactive = ReactiveExecutor(self, mode=self.mode)
        self.reactive.track_random_state = self.track_random_state
        self._apply_reuse_settings()
        self.reactive.frontends.register(self.comm_manager)
        widgets.watch(self, self.reactive)
        self.shell.register_magics(ReactiveMagics(self.shell, self.reactive))

    @observe("mode")
    def _mode_changed(self, change: dict[str, Any]) -> None:
        if hasattr(self, "reactive"):
            self.reactive.set_mode(change["new"].lower())

    @observe("track_random_state")
    def _track_random_state_changed(self, change: dict[str, Any]) -> None:
        if hasattr(self, "reactive"):
            self.reactive.track_random_state = change["new"]

    @observe("early_cutoff", "cutoff_bytes", "kept_bytes")
    def _reuse_setting_changed(self, change: dict[str, Any]) -> None:
        if hasattr(self, "reactive"):
            self._apply_reuse_settings()

    def _apply_reuse_settings(self) -> None:
        reuse = self.reactive.reuse
        reuse.early_cutoff = self.early_cutoff
        reuse.cutoff_bytes = self.cutoff_bytes
        reuse.kept.max_bytes = self.kept_bytes

    async def execute_request(self, stream: Any, ident: Any, parent: dict[str, Any]) -> None:
        """ipykernel lets SIGINT raise KeyboardInterrupt through the whole request; this
        kernel only while its cells run (``do_execute``). Other messages keep ipykernel's
        behaviour: a widget's callback stays interruptible."""
        msg_id = parent.get("header", {}).get("msg_id", "")
        self._unanswered.add(msg_id)
        self._held.hold()
        try:
            await super().execute_request(stream, ident, parent)
        finally:
            self._held.release()  # an interrupt after the request's work: nothing to stop
            self._unanswered.discard(msg_id)

    async def do_shutdown(self, restart: bool) -> dict[str, Any]:
        """Shut down once the requests still running have sent their replies (or after
        ``reply_wait``): plain ipykernel closes its sockets first, and a request interrupted
        by a restart never gets its reply."""
        deadline = time.monotonic() + self.reply_wait
        waited = bool(self._unanswered)
        while self._unanswered and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if waited:  # a reply just sent still crosses the shell channel's thread: let it go
            await asyncio.sleep(_REPLY_GRACE)
        return super().do_shutdown(restart)

    async def do_execute(
        self,
        code: str,
        silent: bool,
        store_history: bool = True,
        user_expressions: dict[str, str] | None = None,
        allow_stdin: bool = False,
        *,
        cell_meta: dict[str, Any] | None = None,
        cell_id: str | None = None,
    ) -> dict[str, Any]:
        _, interrupted = self._held.release()
        try:
            if interrupted:  # before the request started: it stops here, answered
                return self.reactive.interrupted(count=store_history and not silent)
            return await self.reactive.execute(
                super().do_execute,
                code,
                silent,
                store_history,
                user_expressions,
                allow_stdin,
                cell_meta=cell_meta,
                cell_id=cell_id,
            )
        finally:
            self._held.hold()
