"""Where the kernel reads its settings (docs/jupyterhub.md, "Settings for everyone"), and
that ``--help-all`` lists them. The environment-wide folders ({sys.prefix}/etc/...) are
exercised by tests/test_jupyterhub.py, in a separate environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

from conftest import Notebook, stop

SETTING = 'c = get_config()\nc.ReactiveKernel.mode = "{}"\n'


def _mode(tmp_path: Path, *, profile: str | None, jupyter: str | None) -> str:
    """The mode a kernel starts in, with the user's IPython profile and Jupyter config
    folder (``IPYTHONDIR``, ``JUPYTER_CONFIG_DIR``) holding these settings, if any."""
    ipython_dir, jupyter_dir = tmp_path / "ipython", tmp_path / "jupyter"
    (ipython_dir / "profile_default").mkdir(parents=True, exist_ok=True)
    jupyter_dir.mkdir(exist_ok=True)
    for folder, mode in ((ipython_dir / "profile_default", profile), (jupyter_dir, jupyter)):
        if mode is not None:
            (folder / "ipython_kernel_config.py").write_text(SETTING.format(mode))
    env = {**os.environ, "IPYTHONDIR": str(ipython_dir), "JUPYTER_CONFIG_DIR": str(jupyter_dir)}
    manager, client = start_new_kernel(kernel_name="reactive", env=env)
    notebook = Notebook(manager, client)
    try:
        return notebook.value("get_ipython().kernel.reactive.mode")
    finally:
        stop(notebook)


@pytest.mark.parametrize(
    ("profile", "jupyter", "expected"),
    [
        (None, None, "auto"),  # the default
        (None, "lazy", "lazy"),  # ~/.jupyter/ipython_kernel_config.py is read
        ("lazy", None, "lazy"),  # so is ~/.ipython/profile_default/ipython_kernel_config.py
        ("off", "lazy", "off"),  # the IPython profile comes first
    ],
)
def test_the_kernel_reads_its_settings_from_ipython_and_jupyter_folders(
    tmp_path: Path, profile: str | None, jupyter: str | None, expected: str
) -> None:
    assert _mode(tmp_path, profile=profile, jupyter=jupyter) == expected


def test_help_all_lists_the_kernel_settings() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reactive_kernel", "--help-all"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    for setting in ("mode", "track_random_state", "reply_wait"):
        assert f"--ReactiveKernel.{setting}=" in done.stdout
    assert "auto: re-run dependent cells" in done.stdout
