"""The README's first command installs what the demo notebook needs, and the demo is saved as
JupyterLab would save it (issue #10, problem 1: a fresh install failed on `import numpy`, and
the demo opened as modified)."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import nbformat
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "docs" / "demo.ipynb"


def _demo_imports() -> set[str]:
    """Top-level packages the demo's code cells import (``%matplotlib`` needs matplotlib)."""
    found = set()
    for cell in nbformat.read(DEMO, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        if re.search(r"^%matplotlib", cell.source, re.MULTILINE):
            found.add("matplotlib")
        code = "\n".join(line for line in cell.source.splitlines() if not line.startswith("%"))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_the_readme_command_installs_every_package_the_demo_imports() -> None:
    readme = (ROOT / "README.md").read_text()
    first = re.search(r"```bash\n(.*?)\n```", readme, re.DOTALL)
    assert first is not None
    assert first.group(1) == 'pip install ".[demo]" jupyterlab && jupyter lab docs/demo.ipynb'
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    demo_extra = {re.split(r"[<>=\[ ]", r)[0] for r in project["optional-dependencies"]["demo"]}
    installed = demo_extra | {re.split(r"[<>=\[ ]", r)[0] for r in project["dependencies"]}
    standard = {"math", "random", "json", "time", "itertools", "collections"}
    assert _demo_imports() - standard <= installed, _demo_imports()


def test_the_demo_is_saved_with_the_kernels_own_metadata() -> None:
    """JupyterLab rewrites `language_info` from the kernel's: saved equal, it opens clean."""
    metadata = nbformat.read(DEMO, as_version=4).metadata
    manager, client = start_new_kernel(kernel_name="reactive")
    try:
        info = client.kernel_info(reply=True, timeout=30)["content"]["language_info"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert metadata.language_info == info
    assert metadata.kernelspec == {
        "display_name": "Python 3 (reactive)", "language": "python", "name": "reactive"
    }
