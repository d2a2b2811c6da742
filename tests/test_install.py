"""``python -m reactive_kernel install`` writes a kernelspec for this interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


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


def test_install_rejects_conflicting_locations() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reactive_kernel", "install", "--user", "--sys-prefix"],
        capture_output=True, text=True,
    )
    assert done.returncode == 2 and "not allowed with" in done.stderr
