"""The kernel's application: ipykernel's ``IPKernelApp`` running ``ReactiveKernel``.

Two things differ from launching ``IPKernelApp`` with ``kernel_class=``: ``--help-all`` lists
the reactive kernel's settings, and ``ipython_kernel_config.py`` is also read from Jupyter's
config directories (``{sys.prefix}/etc/jupyter``, ``/etc/jupyter``, ``~/.jupyter``), where
admins put the rest of their Jupyter config, not only from IPython's (``/etc/ipython``,
``{sys.prefix}/etc/ipython``, the user's profile). docs/jupyterhub.md lists the paths.
"""

from __future__ import annotations

from IPython.core.application import ENV_CONFIG_DIRS, SYSTEM_CONFIG_DIRS
from ipykernel.kernelapp import IPKernelApp
from jupyter_core.paths import ENV_CONFIG_PATH, SYSTEM_CONFIG_PATH, jupyter_config_path
from traitlets import Type

from .kernel import ReactiveKernel


class ReactiveKernelApp(IPKernelApp):
    """Launch the reactive kernel (``python -m reactive_kernel -f CONNECTION_FILE``)."""

    description = (
        "The reactive Jupyter kernel: IPython with a dependency graph between cells. "
        "Settings go in ipython_kernel_config.py (see docs/jupyterhub.md for where), "
        "e.g. c.ReactiveKernel.mode = 'lazy'."
    )
    classes = [ReactiveKernel, *IPKernelApp.classes]  # type: ignore[assignment]
    kernel_class = Type(
        ReactiveKernel,
        klass="ipykernel.kernelbase.Kernel",
        help="The kernel class (a ReactiveKernel subclass to change its behaviour).",
    ).tag(config=True)

    def init_config_files(self) -> None:
        """IPython's config directories, each level followed by Jupyter's of the same level:
        a user's files override an environment's, which override the system's."""
        super().init_config_files()
        jupyter_env = [p for p in ENV_CONFIG_PATH if p not in SYSTEM_CONFIG_PATH]
        jupyter_user = [
            p for p in jupyter_config_path() if p not in jupyter_env and p not in SYSTEM_CONFIG_PATH
        ]
        ipython_wide = set(ENV_CONFIG_DIRS) | set(SYSTEM_CONFIG_DIRS)
        user_level = [p for p in self.config_file_paths if p not in ipython_wide]  # the profile
        ordered = [
            *user_level, *jupyter_user,
            *ENV_CONFIG_DIRS, *jupyter_env,
            *SYSTEM_CONFIG_DIRS, *SYSTEM_CONFIG_PATH,
        ]
        self.config_file_paths = list(dict.fromkeys(ordered))


main = ReactiveKernelApp.launch_instance
