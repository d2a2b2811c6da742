"""``python -m reactive_kernel install`` writes a kernelspec for this interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager


def test_install_into_a_prefix(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reactive_kernel", "install", "--prefix", str(tmp_path),
         "--name", "rk-test", "--display-name", "Reactive test"],
        capture_output=True, text=True, check=True,
    )
    spec_dir = tmp_path / "share" / "jupyter" / "kernels" / "rk-test"
    assert str(spec_dir) in done.stdout
    spec = json.loads((spec_dir / "kernel.json").read_text())
    assert spec["argv"] == [sys.executable, "-m", "reactive_kernel", "-f", "{connection_file}"]
    assert spec["display_name"] == "Reactive test"
    assert spec["metadata"]["debugger"] is True
    assert_our_logos(spec_dir)


def assert_our_logos(spec_dir: Path) -> None:
    """The Launcher shows the kernel's own logo, not a plain letter or ipykernel's."""
    logos = files("reactive_kernel") / "logos"
    for name in ("logo-32x32.png", "logo-64x64.png", "logo-svg.svg"):
        assert (spec_dir / name).read_bytes() == (logos / name).read_bytes(), name


def test_pip_install_ships_the_kernelspec_with_its_logos() -> None:
    spec = KernelSpecManager().get_kernel_spec("reactive")
    assert spec.display_name == "Python 3 (reactive)"
    assert_our_logos(Path(spec.resource_dir))


def test_install_rejects_conflicting_locations() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reactive_kernel", "install", "--user", "--sys-prefix"],
        capture_output=True, text=True,
    )
    assert done.returncode == 2 and "not allowed with" in done.stderr
