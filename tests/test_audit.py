"""The notebook audit (reactive_kernel/audit.py) and the command line (reactive_kernel/cli.py).

Notebooks are built with nbformat, one planted hazard each, and audited without executing
anything; the real notebooks in tests/notebooks/ are audited with their true findings. The
command line is driven in-process through ``main([...])`` and, for exit statuses and streams,
in a subprocess. ``--execute`` and ``run`` use a stand-in for ``reactive_kernel.headless``:
no kernel starts here (tests/test_headless.py runs the real thing).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import jsonschema
import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from reactive_kernel.audit import SNIPPET_CHARS, Finding, Report, audit
from reactive_kernel.cli import SCHEMA_PATH, _data, _property, main, parameter_value

ROOT = Path(__file__).resolve().parent.parent
REAL_NOTEBOOKS = ROOT / "tests" / "notebooks"
EXAMPLE = ROOT / "docs" / "audit-example.ipynb"
SCHEMA = json.loads(SCHEMA_PATH.read_text())

Cell = str | tuple[str, int | None] | tuple[str, int | None, list[Any]]


def notebook(*cells: Cell, language: str = "python") -> Any:
    """Code cells as ``source`` (never run), ``(source, count)`` or ``(source, count,
    outputs)``; a bare source starting with ``"# "`` is a markdown cell."""
    built = []
    for cell in cells:
        if isinstance(cell, str) and cell.startswith("# "):
            built.append(new_markdown_cell(cell))
            continue
        source, count, outputs = (cell, None, []) if isinstance(cell, str) else (*cell, [])[:3]
        built.append(new_code_cell(source, execution_count=count, outputs=outputs))
    return new_notebook(cells=built, metadata={"language_info": {"name": language}})


def kinds(report: Report) -> list[tuple[str, int]]:
    return [(f.kind, f.cell) for f in report.findings]


def only(report: Report, kind: str) -> Finding:
    found = [f for f in report.findings if f.kind == kind]
    assert len(found) == 1, report.findings
    return found[0]


def error_output() -> Any:
    return new_output("error", ename="ValueError", evalue="bad", traceback=[])


# -- clean notebooks -------------------------------------------------------------------------


def test_a_notebook_run_top_to_bottom_runs_as_is() -> None:
    report = audit(
        notebook(
            "# Title",
            ("import numpy as np", 1),
            ("x = np.arange(3)", 2),
            ("y = x + 1\ny", 3),
            ("x = x * 2  # redefinition in a later cell is fine", 4),
            ("print(x, y)", 5),
        )
    )
    assert report.findings == []
    assert report.summary == "runs as is under the reactive kernel"
    assert (report.would_block, report.would_rerun) == ((), ())


def test_a_notebook_never_run_with_no_static_hazard_is_clean() -> None:
    report = audit(notebook("a = 1", "def f():\n    return a + b", "b = 2", "f()"))
    assert report.findings == []
    assert report.never_run
    assert report.summary == "runs as is under the reactive kernel"


def test_builtins_and_ipython_names_are_not_undefined() -> None:
    report = audit(
        notebook(
            ("display(len(In), Out, _, __, _i, _3, _i3, _ih, _oh, _dh, exit, quit)", 1),
            ("get_ipython().system('ls'); print(__name__, _exit_code)", 2),
            ("%matplotlib inline\n!echo {len('x')}\n%time z = sorted([2, 1])", 3),
            ("%%capture captured\nprint(z)", 4),
            ("captured.show()", 5),
        )
    )
    assert report.findings == []


def test_magics_and_shell_lines_parse() -> None:
    cells = [("%%bash\necho hi", 1), ("files = !ls\nlen(files)", 2), ("%env HOME", 3)]
    assert audit(notebook(*cells)).findings == []


# -- one planted hazard per kind ---------------------------------------------------------------


def test_out_of_order_alone_is_a_warning_reported_once() -> None:
    report = audit(notebook(("a = 1", 3), ("b = 2", 1), ("c = 3", 2), ("d = 4", 4)))
    assert kinds(report) == [("out-of-order", 2)]
    finding = report.findings[0]
    assert finding.severity == "warning"
    assert finding.other_cell == 1
    assert "ran [1], before cell 1 (`a = 1`) above it, which ran [3]" in finding.message
    assert "1 more cell below also ran early" in finding.message
    assert report.hazards == []
    assert report.summary == "runs as is under the reactive kernel (1 warning)"


def test_defined_below_is_blocked() -> None:
    report = audit(notebook("# Setup", "print(total)", "total = 10"))
    assert kinds(report) == [("defined-below", 2)]
    finding = report.findings[0]
    assert finding.names == ("total",)
    assert finding.other_cell == 3
    assert "only cell 3 (`total = 10`) below it defines" in finding.message
    assert report.would_block == (2,)
    assert report.summary == (
        "1 hazard; the reactive kernel would block cell 2 (never run: static findings only)"
    )


def test_defined_below_through_a_function() -> None:
    report = audit(notebook(("def f():\n    return rate * 2", 1), ("f()", 3), ("rate = 3", 2)))
    defined_below = only(report, "defined-below")
    assert (defined_below.cell, defined_below.names) == (2, ("rate",))
    assert "reads `rate` (through `f`)" in defined_below.message


def test_undefined_name_from_a_deleted_cell() -> None:
    report = audit(notebook(("import pandas as pd", 1), ("df = pd.read_csv(path)", 3)))
    assert kinds(report) == [("undefined", 2)]
    finding = report.findings[0]
    assert finding.names == ("path",)
    assert "no cell defines" in finding.message
    assert finding.severity == "hazard"


@pytest.mark.parametrize(
    "binder",
    ["from helpers import *", "%run setup.py", "exec(code)", "%store -r path", "%pylab inline"],
)
def test_undefined_is_not_claimed_below_a_cell_binding_unseen_names(binder: str) -> None:
    report = audit(notebook(("code = 'path = 1'", 1), (binder, 2), ("print(path)", 3)))
    assert [k for k in kinds(report) if k[0] == "undefined"] == []


@pytest.mark.parametrize(
    "rebind", ["x = x + 1", "x += 1", "x = x.dropna()", "if x:\n    x = x - 1"]
)
def test_self_reference_run_again_after_a_reader_below(rebind: str) -> None:
    report = audit(notebook(("x = 5", 1), (rebind, 4), ("print(x)", 3)))
    assert kinds(report) == [
        ("self-reference-rerun", 2),
        ("out-of-order", 3),
        ("stale-output", 3),
    ]
    finding = report.findings[0]
    assert (finding.names, finding.other_cell) == (("x",), 3)
    assert "ran [4] after cell 3 (`print(x)`) below it read `x` [3]" in finding.message


def test_self_reference_run_in_order_is_clean() -> None:
    report = audit(notebook(("x = 5", 1), ("x = x + 1", 2), ("print(x)", 3)))
    assert report.findings == []


def test_self_reference_reader_must_read_it_from_that_cell() -> None:
    # cell 4 reads ``x`` from cell 3, not from the self-referencing cell 2
    report = audit(notebook(("x = 5", 1), ("x = x + 1", 4), ("x = 0", 2), ("print(x)", 3)))
    assert "self-reference-rerun" not in [k for k, _ in kinds(report)]


@pytest.mark.parametrize(
    "change",
    ["d['a'] = 1", "d['n'] += 1", "del d['k']", "d.attr = 2", "d['a']['b'] = 3"],
)
def test_in_place_change_of_another_cells_object(change: str) -> None:
    report = audit(notebook(("d = {'n': 0, 'k': 1}", 1), (change, 2)))
    assert kinds(report) == [("mutates-other-cell", 2)]
    finding = report.findings[0]
    assert (finding.names, finding.other_cell, finding.severity) == (("d",), 1, "warning")
    assert report.summary == "runs as is under the reactive kernel (1 warning)"


@pytest.mark.parametrize(
    "change",
    [
        "items.append(3)",  # a method call: a guess, not counted
        "items = []\nitems[0:0] = [1]",  # its own object
        "plt.rcParams['figure.dpi'] = 80",  # a module (imported in cell 1)
    ],
)
def test_what_is_not_an_in_place_change_of_another_cell(change: str) -> None:
    report = audit(notebook(("items = [1]\nimport matplotlib.pyplot as plt", 1), (change, 2)))
    assert report.findings == []


def test_stale_output_after_its_input_ran_again() -> None:
    report = audit(notebook(("rate = 0.2", 3), ("tax = 100 * rate", 1), ("print(tax)", 2)))
    assert kinds(report) == [("out-of-order", 2), ("stale-output", 2), ("would-rerun", 3)]
    stale = only(report, "stale-output")
    assert (stale.names, stale.other_cell) == (("rate",), 1)
    assert "cell 1 (`rate = 0.2`) above it ran [3], after this cell [1]" in stale.message
    rerun = only(report, "would-rerun")
    assert rerun.other_cell == 2
    assert "reads `tax` from cell 2 (`tax = 100 * rate`), which is stale" in rerun.message
    assert report.would_rerun == (2, 3)
    assert report.summary == "2 hazards, 1 warning; the reactive kernel would re-run cells 2, 3"


def test_re_imports_do_not_make_outputs_stale() -> None:
    report = audit(
        notebook(("import numpy as np", 9), ("a = np.ones(2)", 1), ("print(a.sum())", 2))
    )
    assert kinds(report) == [("out-of-order", 2)]


def test_overwritten_input_from_a_cell_below() -> None:
    report = audit(notebook(("x = 1", 1), ("print(x)", 3), ("x = 2", 2)))
    assert kinds(report) == [("overwritten-input", 2), ("out-of-order", 3)]
    finding = report.findings[0]
    assert (finding.names, finding.other_cell) == (("x",), 3)
    assert "after cell 3 (`x = 2`), which ran [2], redefined `x`" in finding.message


def test_overwritten_input_by_an_in_place_change_below() -> None:
    report = audit(notebook(("d = {}", 1), ("print(d)", 3), ("d['k'] = 1", 2)))
    assert kinds(report) == [
        ("overwritten-input", 2),
        ("out-of-order", 3),
        ("mutates-other-cell", 3),
    ]
    assert "changed in place `d`" in report.findings[0].message


def test_unparsable_cell() -> None:
    report = audit(notebook(("x = (1,", 1), ("y = 2", 2)))
    assert kinds(report) == [("unparsable", 1)]
    assert "was never closed" in report.findings[0].message


def test_a_cell_reading_from_an_unparsable_cell_is_not_called_undefined() -> None:
    report = audit(notebook("x = (1,", "print(x)"))
    assert kinds(report) == [("unparsable", 1)]


def test_would_block_a_reader_of_a_blocked_cell() -> None:
    report = audit(notebook("y = w", "print(y)", "w = 1"))
    assert kinds(report) == [("defined-below", 1), ("would-block", 2)]
    finding = report.findings[1]
    assert finding.other_cell == 1
    assert "reads `y` from cell 1 (`y = w`), which is blocked" in finding.message
    assert report.would_block == (1, 2)


def test_would_rerun_a_cell_whose_input_has_no_execution_count() -> None:
    report = audit(notebook("x = 1", ("print(x)", 1)))
    assert kinds(report) == [("would-rerun", 2)]
    assert "which has no saved execution count" in report.findings[0].message


def test_would_rerun_a_definer_overwritten_from_above() -> None:
    # cell 3 is the last definer of ``x`` but cell 1 ran after it: the namespace holds 1
    report = audit(notebook(("x = 1", 3), ("print('hi')", 1), ("x = 2", 2)))
    assert kinds(report) == [("out-of-order", 2), ("would-rerun", 3)]
    assert "`x` was overwritten when cell 1 (`x = 1`) ran" in report.findings[1].message


def test_failed_cells_and_markdown_keep_positions() -> None:
    report = audit(
        notebook("# Intro", ("x = 1", 1), "# More", ("raise ValueError('bad')", 2,
                                                      [error_output()]), ("y = z", 3))
    )
    assert kinds(report) == [("undefined", 5)]


def test_a_builtin_shadowed_below_is_no_hazard() -> None:
    """A fresh run prints the builtin, and so does the reactive kernel (it hides the cell
    below's ``list`` from the cell above while it runs)."""
    report = audit(notebook("print(list)", "list = [1]"))
    assert kinds(report) == []


def test_odd_but_readable_json_is_audited() -> None:
    nb = {
        "nbformat": 4,
        "metadata": ["not", "a", "dict"],
        "cells": [
            {"cell_type": "code", "source": ["a = ", 1, "1\n"], "outputs": "none",
             "execution_count": "3"},
            "not a cell",
            {"cell_type": "code", "source": "print(b)", "outputs": [7]},
        ],
    }
    assert kinds(audit(nb)) == [("undefined", 3)]


def test_snippets_are_the_first_non_empty_line_cut_to_60_characters() -> None:
    long_line = "value = " + " + ".join(["undefined_name"] * 10)
    report = audit(notebook("\n\n   " + long_line + "\nmore"))
    snippet = report.findings[0].snippet
    assert len(snippet) == SNIPPET_CHARS
    assert snippet.endswith("…")
    assert long_line.startswith(snippet[:-1])


def test_a_notebook_in_another_language_is_skipped() -> None:
    report = audit(notebook(("x <- 1", 1), language="R"))
    assert report.findings == []
    assert report.summary == "skipped: not a Python notebook (language: r)"


# -- real notebooks -----------------------------------------------------------------------------


REAL_FINDINGS = {
    "experiment_stats.ipynb": [],
    # ``df["x1_sq"] = …`` changes cell 3's frame; ``metrics[…] = …`` cell 8's dict
    "regression.ipynb": [("mutates-other-cell", 4), ("mutates-other-cell", 9)],
    "sales_analysis.ipynb": [("mutates-other-cell", 7)],  # ``df["revenue"] = …``
    "sensor_timeseries.ipynb": [],
    "text_processing.ipynb": [("mutates-other-cell", 6)],  # ``counts["fox"] += 10``
}


@pytest.mark.parametrize("name", sorted(REAL_FINDINGS))
def test_real_notebooks(name: str) -> None:
    report = audit(nbformat.read(REAL_NOTEBOOKS / name, as_version=4))
    assert kinds(report) == REAL_FINDINGS[name]
    assert report.never_run  # saved without outputs: static findings only
    assert report.hazards == []


def test_real_notebooks_are_all_covered() -> None:
    assert sorted(p.name for p in REAL_NOTEBOOKS.glob("*.ipynb")) == sorted(REAL_FINDINGS)


def test_the_readme_example_notebook() -> None:
    report = audit(nbformat.read(EXAMPLE, as_version=4))
    assert kinds(report) == [
        ("self-reference-rerun", 4),
        ("out-of-order", 5),
        ("stale-output", 5),
        ("stale-output", 7),
        ("mutates-other-cell", 7),
        ("defined-below", 8),
        ("would-block", 10),
        ("undefined", 11),
    ]
    assert (report.would_block, report.would_rerun) == ((8, 10), (5, 7))


# -- command line: audit -------------------------------------------------------------------------


def write(path: Path, nb: Any) -> Path:
    nbformat.write(nb, path)
    return path


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    return write(tmp_path / "clean.ipynb", notebook(("a = 1", 1), ("print(a)", 2)))


@pytest.fixture
def hazardous(tmp_path: Path) -> Path:
    return write(tmp_path / "hazard.ipynb", notebook(("a = 1", 2), ("b = a", 1)))


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The command line in a fresh interpreter, as the console script runs it."""
    code = "import sys; from reactive_kernel.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def test_cli_clean_notebook_exits_0(clean: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(clean)]) == 0
    assert capsys.readouterr().out == f"{clean}: runs as is under the reactive kernel\n"


def test_cli_text_format(hazardous: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(hazardous)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(
        f"{hazardous}: cell 2 (b = a): the cells were saved out of execution order"
    )
    assert lines[1] == (
        f"{hazardous}: cell 2 (b = a): its output predates the `a` it reads: cell 1 (`a = 1`) "
        "above it ran [2], after this cell [1] — re-run this cell (or the notebook from the "
        "top) and save"
    )
    assert lines[2] == f"{hazardous}: 1 hazard, 1 warning; the reactive kernel would re-run cell 2"
    assert len(lines) == 3


def test_cli_warnings_fail_only_with_strict(tmp_path: Path) -> None:
    path = write(tmp_path / "warn.ipynb", notebook(("d = {}", 1), ("d['k'] = 1", 2)))
    assert main(["audit", str(path)]) == 0
    assert main(["audit", "--strict", str(path)]) == 1


def test_cli_folders_are_searched_recursively_without_checkpoints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "a.ipynb", notebook(("x = 1", 1)))
    (tmp_path / "sub" / ".ipynb_checkpoints").mkdir(parents=True)
    write(tmp_path / "sub" / "b.ipynb", notebook(("print(nowhere)", 1)))
    write(tmp_path / "sub" / ".ipynb_checkpoints" / "b-checkpoint.ipynb", notebook("bad("))
    (tmp_path / "notes.txt").write_text("not a notebook")
    assert main(["audit", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'a.ipynb'}: runs as is" in out
    assert f"{tmp_path / 'sub' / 'b.ipynb'}: cell 1 (print(nowhere)): reads `nowhere`" in out
    assert "checkpoint" not in out
    assert out.splitlines()[-1] == "audited 2 notebooks: 1 with hazards, 1 run as is"


def test_cli_json_follows_the_schema(
    clean: Path, hazardous: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.ipynb"
    assert main(["audit", "--format", "json", str(clean), str(hazardous), str(missing)]) == 2
    document = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, SCHEMA)
    assert [n["path"] for n in document["notebooks"]] == [str(clean), str(hazardous)]
    assert document["errors"] == [f"{missing}: no such file or folder"]
    assert (document["hazards"], document["warnings"]) == (1, 1)
    findings = document["notebooks"][1]["findings"]
    assert [(f["kind"], f["severity"], f["cell"]) for f in findings] == [
        ("out-of-order", "warning", 2),
        ("stale-output", "hazard", 2),
    ]
    assert findings[1]["names"] == ["a"] and findings[1]["other_cell"] == 1
    assert document["notebooks"][1]["would_rerun"] == [2]
    assert document["notebooks"][0]["summary"] == "runs as is under the reactive kernel"


PLANTED = {  # a notebook per finding kind (and those it brings along)
    "out-of-order": [("a = 1", 2), ("b = 2", 1)],
    "unparsable": [("x = (1,", 1)],
    "defined-below": ["print(z)", "z = 1"],
    "undefined": [("print(gone)", 1)],
    "stale-output": [("x = 1", 2), ("print(x)", 1)],
    "overwritten-input": [("x = 1", 1), ("print(x)", 3), ("x = 2", 2)],
    "self-reference-rerun": [("x = 1", 1), ("x += 1", 3), ("print(x)", 2)],
    "mutates-other-cell": [("d = {}", 1), ("d['k'] = 1", 2)],
    "would-block": ["y = w", "print(y)", "w = 1"],
    "would-rerun": ["x = 1", ("print(x)", 1)],
}


def test_cli_json_of_every_kind_follows_the_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for kind, cells in PLANTED.items():
        write(tmp_path / f"{kind}.ipynb", notebook(*cells))
    fake_headless(monkeypatch, mismatches=[(1, "x = 1", "--- saved\n+++ fresh run")])
    assert main(["audit", "--format", "json", "--execute", str(tmp_path)]) == 1
    document = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, SCHEMA)
    for entry in document["notebooks"]:
        kind = Path(entry["path"]).stem
        assert kind in {f["kind"] for f in entry["findings"]}, entry
    found = {f["kind"] for n in document["notebooks"] for f in n["findings"]}
    assert found == set(SCHEMA["$defs"]["finding"]["properties"]["kind"]["enum"])


def test_cli_json_of_a_skipped_notebook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "r.ipynb", notebook(("x <- 1", 1), language="R"))
    assert main(["audit", "--format", "json", str(path)]) == 0
    document = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, SCHEMA)
    entry = document["notebooks"][0]
    assert (entry["skipped"], entry["findings"]) == ("not a Python notebook (language: r)", [])


def test_cli_github_annotations(hazardous: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--format", "github", str(hazardous)]) == 1
    lines = capsys.readouterr().out.splitlines()
    file = str(hazardous).replace(":", "%3A").replace(",", "%2C")
    assert lines[0].startswith(f"::warning file={file},title=out-of-order in cell 2::cell 2 (b")
    assert lines[1].startswith(f"::error file={file},title=stale-output in cell 2::cell 2 (b = a)")
    assert lines[2] == f"{hazardous}: 1 hazard, 1 warning; the reactive kernel would re-run cell 2"


def test_github_escaping() -> None:
    assert _data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert _property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_cli_github_escapes_magics_and_bad_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "m.ipynb", notebook(("%time y = x % 2", 1)))
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{")
    assert main(["audit", "--format", "github", str(path), str(bad)]) == 2
    out = capsys.readouterr().out
    assert "::cell 1 (%25time y = x %25 2): reads `x`" in out
    assert re.search(r"^::error file=.*bad\.ipynb,title=reactive-kernel audit::", out, re.MULTILINE)


# -- command line: bad input -------------------------------------------------------------------


def bad_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("broken.ipynb", '{"cells": [', "not a notebook: invalid JSON"),
        ("empty.ipynb", "", "not a notebook: invalid JSON"),
        ("list.ipynb", "[1, 2]", 'not a Jupyter notebook (no "nbformat" field)'),
        (
            "old.ipynb",
            json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": [], "metadata": {}}),
            "nbformat 3 notebooks are not supported; convert it with `jupyter nbconvert",
        ),
        ("nocells.ipynb", json.dumps({"nbformat": 4, "metadata": {}}), "no list of cells"),
        (
            "badcell.ipynb",
            json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [3]}),
            "cell 1 is malformed",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = bad_file(tmp_path, name, text)
    result = run_cli("audit", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"reactive-kernel audit: {path}: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_binary_file_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "image.ipynb"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    result = run_cli("audit", str(path))
    assert (result.returncode, result.stderr) == (
        2,
        f"reactive-kernel audit: {path}: not a notebook (not UTF-8 text)\n",
    )


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = run_cli("audit", str(tmp_path / "nope.ipynb"))
    assert result.returncode == 2
    missing = tmp_path / "nope.ipynb"
    assert result.stderr == f"reactive-kernel audit: {missing}: no such file or folder\n"


def test_a_folder_with_one_bad_notebook_still_audits_the_others(tmp_path: Path) -> None:
    write(tmp_path / "good.ipynb", notebook(("x = 1", 1), ("print(x)", 2)))
    bad_file(tmp_path, "bad.ipynb", "not json at all")
    result = run_cli("audit", str(tmp_path))
    assert result.returncode == 2
    assert f"{tmp_path / 'good.ipynb'}: runs as is under the reactive kernel" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "audited 1 notebook: 0 with hazards, 1 run as is, 1 could not be audited"
    )
    assert result.stderr.startswith(f"reactive-kernel audit: {tmp_path / 'bad.ipynb'}: ")
    assert result.stderr.count("\n") == 1


def test_hazards_exit_1_and_clean_exits_0_in_a_subprocess(clean: Path, hazardous: Path) -> None:
    assert run_cli("audit", str(clean)).returncode == 0
    result = run_cli("audit", str(hazardous))
    assert (result.returncode, result.stderr) == (1, "")


def test_python_dash_m_reactive_kernel_runs_the_commands(clean: Path, hazardous: Path) -> None:
    """``python -m reactive_kernel`` launches the kernel, or runs ``audit``/``run``/``install``."""
    for path, status in ((clean, 0), (hazardous, 1)):
        result = subprocess.run(
            [sys.executable, "-m", "reactive_kernel", "audit", str(path)],
            capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == status, result.stderr


def test_an_empty_folder_is_bad_input(tmp_path: Path) -> None:
    result = run_cli("audit", str(tmp_path))
    assert result.returncode == 2
    assert "no notebooks (*.ipynb) in this folder" in result.stderr


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["audit"]) == 2
    assert main(["audit", "--format", "xml", "x.ipynb"]) == 2
    assert main(["audit", "--timeout", "soon", "x.ipynb"]) == 2
    assert main(["frobnicate"]) == 2
    assert "usage: reactive-kernel" in capsys.readouterr().err
    assert main(["--help"]) == 0


def test_install_is_forwarded(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["install", "--help"]) == 0
    assert "python -m reactive_kernel install" in capsys.readouterr().out


def test_pre_commit_hook_runs_the_audit_on_notebooks() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hooks == [
        {
            "id": "reactive-kernel-audit",
            "name": "reactive-kernel audit",
            "description": hooks[0]["description"],
            "entry": "reactive-kernel audit",
            "language": "python",
            "files": r"\.ipynb$",
        }
    ]


def test_console_script_points_at_main() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert '[project.scripts]\nreactive-kernel = "reactive_kernel.cli:main"' in text


def test_readme_example_is_the_real_output() -> None:
    result = run_cli("audit", "docs/audit-example.ipynb")
    assert result.returncode == 1
    readme = (ROOT / "README.md").read_text()
    assert f"$ reactive-kernel audit docs/audit-example.ipynb\n{result.stdout}```" in readme


# -- command line: --execute and run, with a stand-in for headless -------------------------------


class StandInHeadlessError(Exception):
    """The stand-in's ``HeadlessError``: a run that could not be carried out."""


def fake_headless(
    monkeypatch: pytest.MonkeyPatch,
    *,
    mismatches: list[tuple[int, str, str]] = (),  # type: ignore[assignment]
    fail: Exception | None = None,
    executed: Any = None,
) -> dict[str, Any]:
    """Put a stand-in ``reactive_kernel.headless`` in place; returns the calls it saw."""
    calls: dict[str, Any] = {}
    module = types.ModuleType("reactive_kernel.headless")

    def reproduce(nb: Any, **options: Any) -> list[Any]:
        calls["reproduce"] = options
        if fail is not None:
            raise fail
        return [types.SimpleNamespace(index=i, snippet=s, diff=d) for i, s, d in mismatches]

    def run_notebook(nb: Any, **options: Any) -> Any:
        calls["run_notebook"] = options
        if fail is not None:
            raise fail
        return executed if executed is not None else nb

    module.HeadlessError = StandInHeadlessError  # type: ignore[attr-defined]
    module.reproduce = reproduce  # type: ignore[attr-defined]
    module.run_notebook = run_notebook  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "reactive_kernel.headless", module)
    return calls


def test_execute_reports_outputs_that_do_not_reproduce(
    clean: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    diff = "--- saved\n+++ fresh run\n@@ -1 +1 @@\n-2\n+1"
    calls = fake_headless(monkeypatch, mismatches=[(2, "print(a)", diff)])
    assert main(["audit", "--execute", "--timeout", "30", str(clean)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"{clean}: cell 2 (print(a)): its saved output differs from a fresh top-to-bottom run "
        "— re-run the notebook from the top (Restart Kernel and Run All Cells) and save it, or "
        "find the state the saved output depended on"
    )
    assert out[1:6] == ["    " + line for line in diff.splitlines()]
    assert out[6] == f"{clean}: 1 hazard"
    options = calls["reproduce"]
    assert (options["kernel_name"], options["timeout"]) == ("python3", 30)
    assert options["cwd"] == str(clean.parent.resolve())


def test_execute_that_reproduces_is_clean(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fake_headless(monkeypatch)
    assert main(["audit", "--execute", "--kernel", "reactive", str(clean)]) == 0
    assert calls["reproduce"]["kernel_name"] == "reactive"


def test_execute_failure_is_one_line_and_exit_2(
    clean: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_headless(monkeypatch, fail=StandInHeadlessError("no kernel named 'nope' is installed"))
    assert main(["audit", "--execute", "--kernel", "nope", str(clean)]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"reactive-kernel audit: {clean}: could not run it: no kernel named 'nope' is "
        "installed\n"
    )
    assert f"{clean}: runs as is under the reactive kernel" in captured.out  # static part


def test_run_writes_in_place_with_literal_parameters(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    executed = notebook(("a = 1", 1, [new_output("stream", name="stdout", text="ran\n")]))
    calls = fake_headless(monkeypatch, executed=executed)
    args = ["run", str(clean), "-p", "n", "10", "-p", "region", "west", "-p", "xs", "[1, 2]"]
    assert main([*args, "--timeout", "5"]) == 0
    options = calls["run_notebook"]
    assert options["parameters"] == {"n": 10, "region": "west", "xs": [1, 2]}
    assert (options["kernel_name"], options["timeout"]) == ("reactive", 5)
    assert nbformat.read(clean, as_version=4).cells[0].outputs[0].text == "ran\n"


def test_run_writes_elsewhere_with_o(
    clean: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = clean.read_text()
    calls = fake_headless(monkeypatch, executed=notebook(("b = 2", 1)))
    out = tmp_path / "out.ipynb"
    assert main(["run", str(clean), "-o", str(out), "--kernel", "python3"]) == 0
    assert calls["run_notebook"]["parameters"] is None
    assert clean.read_text() == before
    assert nbformat.read(out, as_version=4).cells[0].source == "b = 2"


def test_run_writes_to_stdout_with_o_dash(
    clean: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = clean.read_text()
    fake_headless(monkeypatch, executed=notebook(("c = 3", 1)))
    assert main(["run", str(clean), "-o", "-"]) == 0
    assert nbformat.reads(capsys.readouterr().out, as_version=4).cells[0].source == "c = 3"
    assert clean.read_text() == before


def test_run_cell_error_writes_the_partial_notebook_and_exits_1(
    clean: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    partial = notebook(("a = 1", 1), ("print(z)", 2, [error_output()]))
    error = Exception("Traceback ...\nBlockedCellError: `z` is defined in a later cell")
    error.notebook = partial  # type: ignore[attr-defined]
    error.ename, error.evalue = "BlockedCellError", "`z` is defined in a later cell"  # type: ignore
    fake_headless(monkeypatch, fail=error)
    out = tmp_path / "out.ipynb"
    assert main(["run", str(clean), "-o", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"reactive-kernel: {clean}: cell 2 (print(z)) raised BlockedCellError: `z` is defined "
        f"in a later cell; the partly run notebook is in {out}\n"
    )
    assert len(nbformat.read(out, as_version=4).cells) == 2
    before = clean.read_text()
    assert main(["run", str(clean)]) == 1  # in place: the saved outputs are kept
    assert capsys.readouterr().err.endswith(f"; {clean} was left as it was\n")
    assert clean.read_text() == before


def test_run_problems_exit_2(
    clean: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_headless(monkeypatch, fail=StandInHeadlessError("cell 1 did not finish within 5 s"))
    assert main(["run", str(clean)]) == 2
    assert capsys.readouterr().err == (
        f"reactive-kernel: {clean}: cell 1 did not finish within 5 s\n"
    )
    assert main(["run", str(tmp_path / "missing.ipynb")]) == 2
    assert main(["run", str(clean), "-p", "not a name", "1"]) == 2
    assert main(["run", str(clean), "-p", "class", "1"]) == 2
    bad = bad_file(tmp_path, "v3.ipynb", json.dumps({"nbformat": 3, "worksheets": []}))
    assert main(["run", str(bad)]) == 2
    assert "nbformat 3 notebooks are not supported" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10", 10),
        ("0.5", 0.5),
        ("None", None),
        ("True", True),
        ("[1, 'a']", [1, "a"]),
        ("'10'", "10"),
        ("west", "west"),
        ("1 + ", "1 + "),
        ("", ""),
        ("__import__('os')", "__import__('os')"),
    ],
)
def test_parameter_values(text: str, value: object) -> None:
    assert parameter_value(text) == value
