"""Real notebooks, top to bottom: the reactive kernel must give what plain ipykernel gives.

Each notebook in ``tests/notebooks`` (small pandas / numpy / matplotlib analyses on generated,
seeded data) runs twice, concurrently, with nbclient:

* on ``python3`` (stock ipykernel), as nbclient always runs notebooks: no cell ids;
* on ``reactive``, sending every cell's id in the ``execute_request`` metadata as JupyterLab
  does (``{"deletedCells": [], "recordTiming": false, "cellId": ...}``). nbclient 0.11 itself
  sends no metadata at all (``NotebookClient.async_execute_cell`` calls
  ``kc.execute(cell.source, store_history=..., stop_on_error=...)``, and
  ``KernelClient.execute`` builds the message with empty metadata), which the reactive
  kernel runs as plain IPython; ``CellIdNotebookClient`` below adds the ids, so this run goes
  through the dependency graph.

The outputs must match cell by cell (execution counts included), and no ``↻`` re-run line may
appear: a top-to-bottom run has nothing stale. Then, still in the reactive kernel, an early
cell (the data-loading one) is re-executed with its cell id, as a user would; in auto mode its
dependents re-run, and key values of the namespace must then equal those of the fresh
top-to-bottom run on plain ipykernel.

One kernel per notebook per kind; both kinds run at the same time (2 cores).
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from traitlets.config import Config

from conftest import Result, send_execute, send_metadata_with_execute

NOTEBOOK_DIR = Path(__file__).parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
TIMEOUT = 60

# For each notebook: the early cell re-executed after the top-to-bottom run, and expressions
# (evaluated as ``user_expressions``) whose values must equal a fresh run's afterwards.
RERUN: dict[str, tuple[str, list[str]]] = {
    "sales_analysis": (
        "load",
        [
            "df.to_csv()",
            "by_region.to_csv()",
            "reports",
            "pivot.to_csv()",
            "top_n(5).to_csv()",
        ],
    ),
    "sensor_timeseries": (
        "generate",
        [
            "readings.to_csv()",
            "resid.to_csv()",
            "anomalies.to_csv()",
            "(det, float(det.mu), float(det.sigma))",
            "hourly.to_csv()",
            "captured.stdout",
        ],
    ),
    # The generator is seeded in a cell of its own and later cells draw from it
    # (``control = rng.normal(...)``), a common pattern: re-running ``data`` must not draw
    # from a generator that the first run already advanced.
    "experiment_stats": (
        "data",
        [
            "control.tolist()",
            "treatment.tolist()",
            "result",
            "results",
            "summary",
        ],
    ),
    "text_processing": (
        "corpus",
        [
            "tokens",
            "sorted(counts.items())",
            "words.to_csv()",
            "doc_stats.to_csv()",
            "vocab",
            "sorted(bigrams.items())",
            "'tmp' in globals()",
        ],
    ),
    "regression": (
        "data",
        [
            "df.to_csv()",
            "features",
            "coef.tolist()",
            "metrics",
            "(len(train), len(test), float(train.y.sum()))",
        ],
    ),
}


def kernel_config(socket_dir: Path, kind: str) -> Config:
    """IPC sockets (under a private directory) instead of TCP ports.

    Two kernels start at once here, and other test runs may start kernels on this machine
    meanwhile: picking free TCP ports is racy between processes ("Address already in use").
    """
    return Config({"KernelManager": {"transport": "ipc", "ip": str(socket_dir / kind)}})


RERUN_MARK = "↻"
JUPYTERLAB_METADATA = {"deletedCells": [], "recordTiming": False}


# -- running notebooks ---------------------------------------------------------------------


class CellIdNotebookClient(NotebookClient):
    """nbclient, but each execute_request carries the cell's id like JupyterLab sends it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent_cell_ids: list[str] = []
        self._cell_id: str | None = None

    async def async_start_new_kernel_client(self) -> Any:
        kc = await super().async_start_new_kernel_client()
        send_metadata_with_execute(kc, self._metadata)
        return kc

    def _metadata(self, code: str) -> dict[str, Any]:
        assert self._cell_id, "every nbformat 4.5 cell has an id"
        self.sent_cell_ids.append(self._cell_id)
        return dict(JUPYTERLAB_METADATA, cellId=self._cell_id)

    async def async_execute_cell(self, cell: Any, cell_index: int, *args: Any, **kw: Any) -> Any:
        self._cell_id = cell.get("id")
        return await super().async_execute_cell(cell, cell_index, *args, **kw)


async def request(kc: Any, code: str, cell_id: str | None = None, **content: Any) -> Result:
    metadata = dict(JUPYTERLAB_METADATA, cellId=cell_id) if cell_id else {}
    msg_id = send_execute(kc, code, metadata, **content)
    while True:
        reply = await kc.get_shell_msg(timeout=TIMEOUT)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    result = Result(reply["content"])
    while True:
        msg = await kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return result
        if msg["msg_type"] not in ("status", "execute_input"):
            result.outputs.append(msg)


async def evaluate(kc: Any, expressions: list[str]) -> dict[str, str]:
    """The repr of each expression, via a silent request's user_expressions."""
    done = await request(
        kc, "", silent=True, store_history=False, user_expressions=dict(enumerate(expressions))
    )
    assert done.reply["status"] == "ok", done.reply
    values = {}
    for index, expression in enumerate(expressions):
        value = done.reply["user_expressions"][str(index)]
        assert value["status"] == "ok", (expression, value)
        values[expression] = value["data"]["text/plain"]
    return values


@dataclass(repr=False)
class Runs:
    """Everything one notebook produced on both kernels."""

    name: str
    code_cell_ids: list[str]
    plain: Any  # the notebook executed on python3
    plain_values: dict[str, str]
    reactive: Any  # the notebook executed on reactive, with cell ids
    reactive_values: dict[str, str]
    sent_cell_ids: list[str]
    status_after_run: str  # ``%reactive`` after the top-to-bottom run
    rerun: Result  # re-executing the early cell with its cell id
    rerun_values: dict[str, str]
    status_after_rerun: str
    why_rerun: str  # the re-run cell's explanation (``%reactive why``)

    def __repr__(self) -> str:
        return f"Runs({self.name!r})"


async def run_plain(
    path: Path, expressions: list[str], socket_dir: Path
) -> tuple[Any, dict[str, str]]:
    nb = nbformat.read(path, as_version=4)
    config = kernel_config(socket_dir, "plain")
    client = NotebookClient(nb, kernel_name="python3", timeout=TIMEOUT, config=config)
    async with client.async_setup_kernel(cwd=str(NOTEBOOK_DIR)):
        for index, cell in enumerate(nb.cells):
            # execution_count=None: keep the count the kernel reports, do not number cells
            await client.async_execute_cell(cell, index, execution_count=None)
        values = await evaluate(client.kc, expressions)
    return nb, values


async def run_reactive(
    path: Path, rerun_cell: str, expressions: list[str], socket_dir: Path
) -> dict[str, Any]:
    nb = nbformat.read(path, as_version=4)
    config = kernel_config(socket_dir, "reactive")
    client = CellIdNotebookClient(nb, kernel_name="reactive", timeout=TIMEOUT, config=config)
    async with client.async_setup_kernel(cwd=str(NOTEBOOK_DIR)):
        for index, cell in enumerate(nb.cells):
            await client.async_execute_cell(cell, index, execution_count=None)
        kc = client.kc
        values = await evaluate(kc, expressions)
        # No cell id: runs as plain IPython and binds nothing, so it changes no cell's state.
        status = (await request(kc, "%reactive")).stdout
        source = next(c.source for c in nb.cells if c.get("id") == rerun_cell)
        rerun = await request(kc, source, cell_id=rerun_cell)
        rerun_values = await evaluate(kc, expressions)
        status_after = (await request(kc, "%reactive")).stdout
        explain = (
            "__import__('reactive_kernel.report').report.explain("
            f"get_ipython().kernel.reactive.graph, {rerun_cell!r})"
        )
        why_rerun = (await evaluate(kc, [explain]))[explain]
    return dict(
        reactive=nb,
        reactive_values=values,
        sent_cell_ids=client.sent_cell_ids,
        status_after_run=status,
        rerun=rerun,
        rerun_values=rerun_values,
        status_after_rerun=status_after,
        why_rerun=why_rerun,
    )


async def run_both(path: Path, socket_dir: Path) -> Runs:
    rerun_cell, expressions = RERUN[path.stem]
    (plain, plain_values), reactive = await asyncio.gather(
        run_plain(path, expressions, socket_dir),
        run_reactive(path, rerun_cell, expressions, socket_dir),
    )
    code_cells = [c for c in plain.cells if c.cell_type == "code" and c.source.strip()]
    return Runs(
        name=path.stem,
        code_cell_ids=[c.id for c in code_cells],
        plain=plain,
        plain_values=plain_values,
        **reactive,
    )


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def runs(request: pytest.FixtureRequest) -> Runs:
    # a short path: unix socket paths are limited to ~100 characters
    with tempfile.TemporaryDirectory(prefix="nbk") as socket_dir:
        return asyncio.run(run_both(request.param, Path(socket_dir)))


# -- comparing outputs ---------------------------------------------------------------------

# What legitimately differs between two runs of the same notebook, and nothing else:
# - %time / %%time report measured durations;
# - the default repr of an object shows its memory address (``<__main__.Opaque at 0x7f…>``).
_TIMING = re.compile(r"^(CPU times: |Wall time: ).*$", re.MULTILINE)
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")


def _normalise_text(text: str) -> str:
    return _ADDRESS.sub("0x<address>", _TIMING.sub(r"\1<time>", text))


def _normalise(value: Any) -> Any:
    if isinstance(value, str):
        return _normalise_text(value)
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    return value


def comparable(cell: Any) -> dict[str, Any]:
    """A code cell's execution count and outputs, in a form two runs can be compared in.

    Consecutive stream outputs of the same name are merged: the kernel flushes stdout on a
    timer, so where one print ends and the next stream message starts depends on timing, not
    on the kernel (frontends render them as one block too). Images are compared byte for byte:
    the same matplotlib renders the same figure to the same PNG.
    """
    outputs: list[dict[str, Any]] = []
    for output in cell.outputs:
        output = dict(output)
        last = outputs[-1] if outputs else None
        if (
            output["output_type"] == "stream"
            and last is not None
            and last["output_type"] == "stream"
            and last["name"] == output["name"]
        ):
            last["text"] += output["text"]
            continue
        outputs.append(output)
    return {"execution_count": cell.execution_count, "outputs": _normalise(outputs)}


def cell_text(cell: Any) -> str:
    """Everything a cell showed as text (streams, plain-text results, tracebacks)."""
    parts = []
    for output in cell.outputs:
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif output["output_type"] in ("execute_result", "display_data"):
            parts.append(output["data"].get("text/plain", ""))
        elif output["output_type"] == "error":
            parts.extend(output["traceback"])
    return "".join(parts)


# -- tests ---------------------------------------------------------------------------------


def test_every_notebook_has_a_rerun_plan() -> None:
    assert {p.stem for p in NOTEBOOKS} == set(RERUN)
    assert len(NOTEBOOKS) >= 4
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        ids = [c.id for c in nb.cells]
        assert len(set(ids)) == len(ids), f"{path.name}: duplicate cell ids"
        assert RERUN[path.stem][0] in ids
        assert all(not c.get("outputs") for c in nb.cells), f"{path.name} is stored with outputs"


def test_every_cell_was_sent_with_its_id(runs: Runs) -> None:
    assert runs.sent_cell_ids == runs.code_cell_ids


def test_plain_run_is_clean(runs: Runs) -> None:
    """The notebooks themselves work: errors only where a cell is tagged to raise."""
    for cell in runs.plain.cells:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o["output_type"] == "error"]
        expected = "raises-exception" in cell.metadata.get("tags", [])
        assert bool(errors) == expected, (cell.id, errors)


def test_top_to_bottom_outputs_match_ipykernel(runs: Runs) -> None:
    reactive = {c.id: c for c in runs.reactive.cells if c.cell_type == "code"}
    for cell in runs.plain.cells:
        if cell.cell_type != "code":
            continue
        assert comparable(reactive[cell.id]) == comparable(cell), f"cell {cell.id!r} differs"


def test_top_to_bottom_reruns_nothing(runs: Runs) -> None:
    for cell in runs.reactive.cells:
        if cell.cell_type == "code":
            assert RERUN_MARK not in cell_text(cell), f"cell {cell.id!r} re-ran something"


def test_top_to_bottom_namespace_matches_ipykernel(runs: Runs) -> None:
    assert runs.reactive_values == runs.plain_values


def _not_ok_lines(status: str, n_cells: int) -> list[str]:
    lines = status.strip().splitlines()
    assert lines[0] == f"reactive mode: auto; {n_cells} cells", status
    return [
        line for line in lines[1:]
        if line != "every cell is up to date" and not line.startswith("kept values:")
    ]


def _expected_errors(runs: Runs) -> int:
    return sum("raises-exception" in c.metadata.get("tags", []) for c in runs.plain.cells)


def test_graph_knows_every_cell_and_all_are_up_to_date(runs: Runs) -> None:
    """After a top-to-bottom run only the cells that raised on purpose are not "ok"."""
    waiting = _not_ok_lines(runs.status_after_run, len(runs.code_cell_ids))
    assert len(waiting) == _expected_errors(runs), runs.status_after_run
    assert all(": error" in line for line in waiting), runs.status_after_run


def test_rerunning_an_early_cell_reruns_its_dependents_unless_its_values_are_unchanged(
    runs: Runs,
) -> None:
    """Re-run unchanged, the early cell either gave every name an equal value (early cutoff:
    no dependent runs, and the kernel says so) or it did not (its dependents re-run)."""
    rerun = runs.rerun
    assert rerun.reply["status"] == "ok", rerun.reply
    assert not rerun.errors, [e["evalue"] for e in rerun.errors]
    kept = "re-ran, values unchanged: dependents kept" in runs.why_rerun
    assert (f"{RERUN_MARK} re-running cell" in rerun.stdout) != kept, runs.why_rerun


def test_rerunning_an_early_cell_gives_a_fresh_runs_namespace(runs: Runs) -> None:
    """After the re-run, the values equal those of a fresh top-to-bottom run."""
    differ = [
        expression
        for expression, value in runs.plain_values.items()
        if runs.rerun_values[expression] != value
    ]
    assert not differ, f"{runs.name}: after re-running {RERUN[runs.name][0]!r}: {differ}"


def test_after_the_rerun_all_cells_are_up_to_date(runs: Runs) -> None:
    waiting = _not_ok_lines(runs.status_after_rerun, len(runs.code_cell_ids))
    assert len(waiting) == _expected_errors(runs), runs.status_after_rerun
