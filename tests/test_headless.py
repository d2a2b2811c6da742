"""Headless runs with the graph (reactive_kernel/headless.py), on real kernels.

``run_notebook`` drives nbclient but sends each cell's id as JupyterLab does; ``reproduce``
runs a notebook fresh and reports the cells whose saved outputs do not come back. Kernels
used: ``reactive`` and stock ``python3``; each test starts at most two, one at a time.
"""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from reactive_kernel.cells import snippet
from reactive_kernel.headless import (
    INJECTED_PARAMETERS_TAG,
    HeadlessError,
    Mismatch,
    comparable_text,
    inject_parameters,
    reproduce,
    run_notebook,
    with_cell_ids,
)

TIMEOUT = 60

pytestmark = pytest.mark.timeout(180)


def notebook(*cells: str | tuple[str, list[str]]) -> NotebookNode:
    """Code cells from sources (``(source, tags)`` for tagged ones); ``"# "`` starts markdown."""
    nb = new_notebook()
    for cell in cells:
        source, tags = cell if isinstance(cell, tuple) else (cell, [])
        if source.startswith("# "):
            nb.cells.append(new_markdown_cell(source))
        else:
            nb.cells.append(new_code_cell(source, metadata={"tags": tags} if tags else {}))
    return nb


def execute_plain(nb: NotebookNode, kernel_name: str) -> NotebookNode:
    """What ``jupyter execute`` does: nbclient, requests without cell ids."""
    executed = copy.deepcopy(nb)
    NotebookClient(executed, kernel_name=kernel_name, timeout=TIMEOUT).execute()
    return executed


def code_cells(nb: NotebookNode) -> list[NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def text_of(cell: NotebookNode) -> str:
    return comparable_text(cell.outputs)


def kernel_processes() -> set[int]:
    """Live kernel processes started by this test process (jupyter_client's children)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        return {
            child.pid
            for child in psutil.Process().children(recursive=True)
            if child.status() != psutil.STATUS_ZOMBIE
            and any("kernel" in part for part in child.cmdline())
        }
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        if int(parent) == os.getpid() and state != "Z" and "kernel" in cmdline:
            found.add(int(entry.name))
    return found


# -- a clean notebook: same outputs as jupyter execute, and the graph is built -------------

CLEAN = (
    "# A clean notebook",
    "import math\nvalues = [1, 2, 3]",
    "total = sum(values)\nprint('total', total)",
    "def scale(factor):\n    return [v * factor for v in values]",
    "",
    "scaled = scale(10)\nscaled",
    "{'mean': total / len(values), 'pi': round(math.pi, 3)}",
    ("raise ValueError(f'planned, after {total}')", ["raises-exception"]),
    "print(*scaled, sep='\\n')",
)
GRAPH_CHECKS = (
    "%reactive",
    "known = get_ipython().kernel.reactive.graph.cells\nsorted(known) == sorted(ids), len(known)",
)


@pytest.fixture(scope="module")
def clean_runs() -> dict[str, NotebookNode]:
    nb = notebook(*CLEAN)
    plain = execute_plain(nb, "python3")
    checked = notebook(*CLEAN, *GRAPH_CHECKS)
    ids = [c.id for c in checked.cells if c.cell_type == "code" and c.source.strip()]
    checked.cells[-1].source = f"ids = {ids!r}\n" + checked.cells[-1].source
    return {"plain": plain, "reactive": run_notebook(checked, timeout=TIMEOUT), "source": checked}


def test_run_gives_what_jupyter_execute_gives_on_python3(clean_runs: dict) -> None:
    plain, reactive = clean_runs["plain"], clean_runs["reactive"]
    pairs = list(zip(code_cells(plain), code_cells(reactive)))
    assert len(pairs) == len(code_cells(plain)) == 8
    for plain_cell, reactive_cell in pairs:
        assert reactive_cell.source == plain_cell.source
        assert text_of(reactive_cell) == text_of(plain_cell), plain_cell.source
        assert reactive_cell.execution_count == plain_cell.execution_count
    assert text_of(pairs[1][1]) == "total 6"
    assert text_of(pairs[6][1]) == "ValueError: planned, after 6"
    # nbformat accepts the executed notebook; cell ids are the notebook's own
    nbformat.validate(reactive)
    assert [c.id for c in reactive.cells] == [c.id for c in clean_runs["source"].cells]


def test_run_builds_the_graph(clean_runs: dict) -> None:
    reactive = clean_runs["reactive"]
    ran = [c for c in code_cells(reactive) if c.source.strip()]
    status, count = ran[-2], ran[-1]
    # every non-empty code cell is in the graph, under its own id
    assert text_of(count) == f"(True, {len(ran)})"
    # the kernel knew the whole notebook from the start (the sync), not only the cells run
    lines = text_of(status).splitlines()
    assert lines[0] == f"reactive mode: auto; {len(ran)} cells", lines
    # not up to date: the cell that raised on purpose, and the one not run yet
    # named by their place in the file (markdown counts) and first line
    raising, last = reactive.cells[7], reactive.cells[10]
    assert lines[1:] == [
        f"  cell 8 · {snippet(raising.source)}: error — its last run failed",
        f"  cell 11 · {snippet(last.source)}: new — not run yet",
    ]
    assert not any("↻" in text_of(cell) for cell in reactive.cells if cell.cell_type == "code")


# -- out-of-order reads --------------------------------------------------------------------


def test_out_of_order_read_is_blocked_with_cell_ids_and_a_name_error_without() -> None:
    nb = notebook("# read before defined", "print(later)", "later = 1")
    with pytest.raises(CellExecutionError) as blocked:
        run_notebook(nb, timeout=TIMEOUT)
    assert blocked.value.ename == "BlockedCellError"
    assert "`later` is defined only below it, in cell 3 · later = 1" in blocked.value.evalue
    partial = blocked.value.notebook  # type: ignore[attr-defined]
    assert partial.cells[1].outputs[0]["ename"] == "BlockedCellError"
    assert partial.cells[2].execution_count is None  # nbclient stopped there
    # The truth without cell ids (jupyter execute, nbclient, papermill): plain IPython, so the
    # fresh kernel fails the same cell, with Python's own NameError.
    with pytest.raises(CellExecutionError) as anonymous:
        execute_plain(nb, "reactive")
    assert anonymous.value.ename == "NameError"
    assert anonymous.value.evalue == "name 'later' is not defined"


def test_a_builtin_redefined_below_is_not_an_out_of_order_read() -> None:
    nb = notebook("print(sum([1, 2]))", "def sum(values):\n    return 'mine'", "sum(1)")
    done = run_notebook(nb, timeout=TIMEOUT)
    assert [text_of(cell) for cell in done.cells] == ["3", "", "'mine'"]


# -- parameters, progress, cwd --------------------------------------------------------------


def test_parameters_override_the_parameters_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data.txt").write_text("from the working directory")
    nb = notebook(
        "# Parameters",
        ("alpha = 1\nlabel = 'default'", ["parameters"]),
        "print(alpha * 2, label)",
        "print(open('data.txt').read())",
    )
    done = run_notebook(
        nb,
        timeout=TIMEOUT,
        parameters={"alpha": 21, "label": "given"},
        progress=True,
        cwd=str(tmp_path),
    )
    assert [c.metadata.get("tags", []) for c in done.cells] == [
        [],
        ["parameters"],
        [INJECTED_PARAMETERS_TAG],
        [],
        [],
    ]
    assert done.cells[2].source == "# Parameters\nalpha = 21\nlabel = 'given'\n"
    assert text_of(done.cells[3]) == "42 given"
    assert text_of(done.cells[4]) == "from the working directory"
    assert len(nb.cells) == 4 and not nb.cells[2].outputs  # the input is left alone
    assert "4/4" in capsys.readouterr().err  # the progress bar counted the code cells


def test_parameters_go_to_the_top_or_replace_an_injected_cell() -> None:
    nb = notebook("x = 0", "print(x)")
    first = inject_parameters(nb, {"x": 1})
    assert first.cells[0].source == "# Parameters\nx = 1\n"
    assert first.cells[0].metadata["tags"] == [INJECTED_PARAMETERS_TAG]
    again = inject_parameters(first, {"x": [2, "two"]})
    assert [c.source for c in again.cells] == [
        "# Parameters\nx = [2, 'two']\n",
        "x = 0",
        "print(x)",
    ]
    assert again.cells[0].id == first.cells[0].id
    for bad in ({"not a name": 1}, {"lambda": 1}, {"x": object()}):
        with pytest.raises(HeadlessError):
            inject_parameters(nb, bad)


def test_old_notebooks_get_stable_cell_ids() -> None:
    nb = notebook("a = 1", "b = a", "print(b)")
    nb.nbformat_minor = 4
    for cell in nb.cells:
        del cell["id"]
    nb.cells.append(copy.deepcopy(nb.cells[0]))
    assert [c.id for c in with_cell_ids(nb).cells] == ["cell-1", "cell-2", "cell-3", "cell-4"]
    assert with_cell_ids(nb).nbformat_minor == 5
    nbformat.validate(with_cell_ids(nb))
    duplicated = notebook("a = 1", "b = 2", "c = 3")
    duplicated.cells[2].id = duplicated.cells[0].id
    duplicated.cells[1].id = "cell-3"
    ids = [c.id for c in with_cell_ids(duplicated).cells]
    assert ids[:2] == [duplicated.cells[0].id, "cell-3"] and ids[2] == "cell-3-2"


# -- errors: missing kernel, timeout, dead kernel ------------------------------------------


def test_a_missing_kernel_is_a_clear_error() -> None:
    with pytest.raises(HeadlessError, match="no kernel named 'no-such-kernel' is installed"):
        run_notebook(notebook("1"), kernel_name="no-such-kernel")
    with pytest.raises(HeadlessError, match="no kernel named"):
        reproduce(notebook("1"), kernel_name="no-such-kernel")


def test_a_timeout_stops_the_kernel() -> None:
    before = kernel_processes()
    started = time.monotonic()
    nb = notebook("x = 1", "import time\ntime.sleep(120)", "print('never')")
    with pytest.raises(HeadlessError, match=r"cell 2 \('import time'\) did not finish within 2 s"):
        run_notebook(nb, timeout=2)
    assert time.monotonic() - started < 30
    assert kernel_processes() - before == set()


def test_a_dying_kernel_is_a_clear_error() -> None:
    before = kernel_processes()
    nb = notebook("import os\nos._exit(1)", "print('never')")
    with pytest.raises(HeadlessError, match=r"the kernel died while running cell 1"):
        run_notebook(nb, timeout=TIMEOUT)
    assert kernel_processes() - before == set()


# -- reproduce --------------------------------------------------------------------------------

SAVED = (
    "# Saved by a fresh run",
    "class Thing:\n    pass\nprint(Thing())",
    "%time total = sum(range(10_000))",
    "%timeit -n1 -r2 sum(range(100))",
    "total",
    "Thing()",
    "import sys\nprint('to stderr', file=sys.stderr)",
    ("1 / 0", ["raises-exception"]),
    "print('after the error')",
)


@pytest.fixture(scope="module")
def saved() -> NotebookNode:
    """A notebook saved after a fresh top-to-bottom run (jupyter execute on python3)."""
    return execute_plain(notebook(*SAVED), "python3")


def test_reproduce_finds_nothing_in_a_freshly_run_notebook(saved: NotebookNode) -> None:
    # the two runs really differ in addresses and timings
    assert "0x" in saved.cells[1].outputs[0]["text"]
    assert "Wall time:" in saved.cells[2].outputs[0]["text"]
    assert reproduce(saved, timeout=TIMEOUT) == []


def test_reproduce_reports_exactly_the_edited_cell(saved: NotebookNode) -> None:
    edited = copy.deepcopy(saved)
    assert edited.cells[4].outputs[0]["data"]["text/plain"] == "49995000"
    edited.cells[4].outputs[0]["data"]["text/plain"] = "49995001"
    edited.cells[4].execution_count = 17  # counts never count
    mismatches = reproduce(edited, timeout=TIMEOUT)
    assert mismatches == [
        Mismatch(
            index=5,
            snippet="total",
            diff="--- saved\n+++ fresh run\n@@ -1 +1 @@\n-49995001\n+49995000",
        )
    ]


def test_reproduce_shows_a_hidden_out_of_order_run_on_the_reactive_kernel() -> None:
    """Saved after running the definition first: a fresh run is blocked at the read."""
    nb = notebook("print(later)", "later = 'set below'", "len(later)")
    nb.cells[0].execution_count = 2
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="set below\n")]
    nb.cells[1].execution_count = 1
    nb.cells[2].execution_count = 3
    nb.cells[2].outputs = [
        nbformat.v4.new_output("execute_result", {"text/plain": "9"}, execution_count=3)
    ]
    mismatches = reproduce(nb, kernel_name="reactive", timeout=TIMEOUT)
    assert [(m.index, m.snippet) for m in mismatches] == [(1, "print(later)")]
    assert "-set below" in mismatches[0].diff
    assert "+BlockedCellError: `later` is defined only below it, in cell 2 · later" in mismatches[0].diff


# -- normalisation ----------------------------------------------------------------------------


def stream(text: str, name: str = "stdout") -> dict[str, Any]:
    return {"output_type": "stream", "name": name, "text": text}


def result(data: dict[str, str]) -> dict[str, Any]:
    return {"output_type": "execute_result", "execution_count": 1, "data": data, "metadata": {}}


def test_comparable_text_drops_what_differs_between_honest_runs() -> None:
    one = [
        stream("<__main__.A object at 0x7f3a2b1c4d50>\n"),
        stream("CPU times: user 1.2 ms, sys: 0 ns, total: 1.2 ms\nWall time: 2.3 ms\n"),
        stream("1.23 µs ± 4.5 ns per loop (mean ± std. dev. of 7 runs, 1,000,000 loops each)\n"),
        stream("10%|█ | 1/10 [00:00<00:01, 9.5it/s]\r100%|███| 10/10 [00:01<00:00, 9.51it/s]\n"),
        result({"text/plain": "42", "text/html": "<b id='a1'>42</b>", "image/png": "iVBOR"}),
        {
            "output_type": "error",
            "ename": "ValueError",
            "evalue": "bad",
            "traceback": ["\x1b[0;31mValueError\x1b[0m in /home/a/x.py line 3"],
        },
    ]
    other = [
        stream(
            "<__main__.A object at 0x7f00aa11bb22>\nCPU times: user 9 ms, sys: 1 ms, total: 10 ms"
        ),
        stream("\nWall time: 12 ms\nThe slowest run took 4.1 times longer than the fastest.\n"),
        stream("2 µs ± 1 ns per loop (mean ± std. dev. of 7 runs, 100,000 loops each)\n"),
        stream("100%|███| 10/10 [00:03<00:00, 3.2it/s]\n"),
        result({"text/plain": "42", "text/html": "<b id='b2'>42</b>", "image/png": "iVBOx"}),
        {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": []},
    ]
    assert comparable_text(one) == comparable_text(other)
    assert comparable_text(one, compare_images=True) != comparable_text(other, compare_images=True)
    assert comparable_text([stream("a\n"), stream("b\n")]) == comparable_text([stream("a\nb\n")])
    assert comparable_text([result({"text/plain": "1"})]) != comparable_text([stream("2\n")])
    assert comparable_text([]) == ""
