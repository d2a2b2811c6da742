"""A reactive Python kernel for Jupyter: a dependency graph between cells, no hidden state."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where the prebuilt JupyterLab extension lives (``jupyter labextension develop``)."""
    return [{"src": "labextension", "dest": "@reactive-kernel/labextension"}]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext reactive_kernel``: make a running stock ipykernel reactive."""
    from .extension import load

    load(ipython)
