"""Widgets drive re-runs: a widget's value changed in the frontend (a slider dragged) makes
the cells reading it as they run (``n = slider.value``) out of date. In ``auto`` mode a
reactive frontend is told to run them, each in its own cell; otherwise they are marked stale.

The kernel sees the change in the frontend's ``comm_msg`` to the widget (ipywidgets 8, and
anywidget, whose widgets are ipywidgets'); it looks after ipywidgets applied it, so the
widget's own ``observe`` callbacks run first, as before. Until a notebook imports ipywidgets,
this costs one dictionary lookup per comm message. See docs/semantics.md, "Widgets".
"""

from __future__ import annotations

import inspect
import logging
import sys
from typing import Any

log = logging.getLogger(__name__)


def watch(kernel: Any, executor: Any) -> None:
    """Wrap the kernel's ``comm_msg`` handler to report widget updates to ``executor``."""
    handle = kernel.shell_handlers.get("comm_msg")
    if handle is None:
        return

    async def comm_msg(stream: Any, ident: Any, msg: dict[str, Any]) -> None:
        result = handle(stream, ident, msg)
        if inspect.isawaitable(result):
            await result
        try:
            update = frontend_update(msg)
            if update is not None:
                executor.widget_changed(*update, runner=executor.frontends.runner(kernel))
        except Exception:  # noqa: BLE001 - a widget must never break the kernel
            log.warning("reactive_kernel: could not follow a widget change", exc_info=True)

    kernel.shell_handlers["comm_msg"] = comm_msg


def frontend_update(msg: dict[str, Any]) -> tuple[object, frozenset[str]] | None:
    """The widget a frontend's ``update`` message changed, and the names of its traits."""
    registry = sys.modules.get("ipywidgets.widgets.widget")
    if registry is None:  # no widget was ever created
        return None
    content = msg.get("content")
    data = content.get("data") if isinstance(content, dict) else None
    if not isinstance(data, dict) or data.get("method") != "update":
        return None
    state = data.get("state")
    widget = getattr(registry, "_instances", {}).get(content.get("comm_id"))
    if widget is None or not isinstance(state, dict) or not state:
        return None
    return widget, frozenset(k for k in state if isinstance(k, str))
