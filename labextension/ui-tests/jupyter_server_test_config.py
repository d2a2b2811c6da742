"""Jupyter server for the end-to-end tests: Galata's settings, loopback only."""

import os

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821
c.ServerApp.ip = "127.0.0.1"  # noqa: F821
c.ServerApp.port = int(os.environ.get("UI_TESTS_PORT", "8898"))  # noqa: F821
c.ServerApp.allow_root = True  # noqa: F821
c.ServerApp.open_browser = False  # noqa: F821
c.Application.log_level = "WARN"  # noqa: F821
# Keep the tests independent of any user-level JupyterLab settings.
c.LabServerApp.user_settings_dir = os.environ.get(  # noqa: F821
    "UI_TESTS_SETTINGS_DIR", "/tmp/reactive-ui-tests-settings"
)
