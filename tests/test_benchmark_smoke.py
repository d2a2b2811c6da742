"""The benchmark suite runs end to end at tiny sizes and writes a well-formed report.

This checks that ``benchmarks/run.py --smoke`` works, not how fast anything is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "benchmarks" / "run.py"


def _tables(markdown: str) -> list[list[list[str]]]:
    """Every markdown table as rows of cells (header first, separator dropped)."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            assert line.endswith("|"), line
            current.append([c.strip() for c in line.strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    for table in tables:
        assert len(table) >= 3, table
        assert all(set(c) <= set("-:") and c for c in table[1]), table[1]
        del table[1]
    return tables


@pytest.mark.timeout(240)
def test_smoke_run_writes_a_report(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(RUN), "--smoke", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=230,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    md = (tmp_path / "benchmarks.md").read_text()
    png = (tmp_path / "benchmarks.png").read_bytes()
    results = json.loads((tmp_path / "benchmarks.json").read_text())

    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    for heading in (
        "## Targets",
        "## Per request",
        "## Memory after",
        "## Cascade",
        "## Reactive cost versus notebook size",
        "## Time per executed cell versus notebook size",
        "## Observing what a cell changed: cells reading large objects",
    ):
        assert heading in md, heading
    assert "cores" in md and "memory" in md and "ipykernel 7" in md

    tables = _tables(md)
    assert len(tables) >= 6
    for table in tables:
        width = len(table[0])
        for row in table:
            assert len(row) == width, (table[0], row)
            assert all(c and "nan" not in c.lower() for c in row), row

    # Every benchmark produced numbers for both kernels.
    assert set(results["kernels"]) >= {"ipykernel", "reactive"}
    basic = results["basic"]
    for label in ("ipykernel", "reactive"):
        assert basic[label]["trivial"] and basic[label]["startup"]
        assert any(k.startswith("cpu inner") and v for k, v in basic[label].items())
        assert results["memory"][label]["rss_end"][0] > 0
        assert results["cascade"][label]["cascade"]
    shapes = {(g["shape"], g["cells"]) for g in results["graph"]}
    assert {("independent", 10), ("chain", 10)} <= shapes
    assert all(g["decide"] and g["plan"] and g["status"] for g in results["graph"])
    assert {"independent/10", "chain/10"} <= set(results["sizes"])
    # Cells reading a large frame, array and model: observed in-process and over ZMQ.
    observed = {c["key"]: c for c in results["observation"]["cases"]}
    assert set(observed) == {"dataframe", "array", "model"}
    for case in observed.values():
        assert case["observe"] and case["peak_bytes"] >= 0 and case["objects"] > 0
    assert results["observation"]["random"]["observe"]
    assert set(results["objects"]) == set(observed)
    for entry in results["objects"].values():
        for label in ("ipykernel", "reactive"):
            assert entry[label]["round_trip"] and entry[label]["rss_end"] > 0
    # The targets table names the ratio against plain ipykernel.
    targets = next(t for t in tables if t[0] == ["target", "measured", "met"])
    assert any("trivial" in row[0] and row[1].endswith("×") for row in targets)
    assert sum("round trip" in row[1] for row in targets) == 3
