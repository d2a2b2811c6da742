"""Install the ``reactive`` kernelspec for another environment (``pip install`` ships one)."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from importlib.resources import files
from pathlib import Path

from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager

KERNEL_NAME = "reactive"
DISPLAY_NAME = "Python 3 (reactive)"
LOGOS = ("logo-32x32.png", "logo-64x64.png", "logo-svg.svg")


def install(
    *,
    user: bool = False,
    prefix: str | None = None,
    name: str = KERNEL_NAME,
    display_name: str = DISPLAY_NAME,
) -> str:
    """Write a kernelspec that runs this interpreter (absolute path); return where it went."""
    overrides = {
        "argv": [sys.executable, "-m", "reactive_kernel", "-f", "{connection_file}"],
        "display_name": display_name,
    }
    with tempfile.TemporaryDirectory() as staging:
        path = write_kernel_spec(Path(staging) / name, overrides=overrides)
        for logo in LOGOS:  # ours, over ipykernel's Python logos
            shutil.copy(files(__package__) / "logos" / logo, Path(path) / logo)
        return KernelSpecManager().install_kernel_spec(
            path, kernel_name=name, user=user, prefix=prefix
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reactive_kernel install", description=install.__doc__
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="install for the current user")
    where.add_argument(
        "--sys-prefix", action="store_true", help="install into sys.prefix (this environment)"
    )
    where.add_argument("--prefix", help="install under this prefix")
    parser.add_argument("--name", default=KERNEL_NAME, help="kernelspec name")
    parser.add_argument("--display-name", default=DISPLAY_NAME, help="name shown in menus")
    args = parser.parse_args(argv)
    prefix = sys.prefix if args.sys_prefix else args.prefix
    dest = install(user=args.user, prefix=prefix, name=args.name, display_name=args.display_name)
    print(f"Installed kernelspec {args.name} in {dest}")
    return 0
