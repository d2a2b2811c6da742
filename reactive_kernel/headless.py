"""Headless runs with the dependency graph, and checking that saved outputs reproduce.

nbclient, papermill and ``jupyter execute`` send ``execute_request`` messages without a cell
id, so the reactive kernel runs them as plain IPython and learns no graph (docs/semantics.md,
"Headless runs"). :func:`run_notebook` executes a notebook through nbclient but drives the
kernel the way JupyterLab with the extension does (the notebook's cells first, then every
request with its cell id), so the kernel builds its graph and blocks out-of-order reads
exactly as in the browser. :func:`reproduce` runs a notebook fresh and reports the code cells
whose saved outputs a fresh run does not give back.
"""

from __future__ import annotations

import ast
import asyncio
import atexit
import contextlib
import copy
import difflib
import hashlib
import keyword
import re
import signal
import sys
import uuid
from dataclasses import dataclass
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_core.utils import ensure_async
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

__all__ = [
    "CellIdNotebookClient",
    "HeadlessError",
    "Mismatch",
    "comparable_text",
    "inject_parameters",
    "reproduce",
    "run_notebook",
    "with_cell_ids",
]

PARAMETERS_TAG = "parameters"
MANUAL_TAG = "reactive-manual"  # reactive_kernel.execution.MANUAL_TAG, without its imports
REACTIVE_IMPLEMENTATION = "reactive_kernel"  # kernel_info_reply.implementation
REACTIVE_COMM_TARGET = "reactive_kernel"
INJECTED_PARAMETERS_TAG = "injected-parameters"
MAX_DIFF_LINES = 20
MAX_DIFF_LINE_CHARS = 160
MAX_SNIPPET_CHARS = 60

_VALID_CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class HeadlessError(Exception):
    """A headless run could not be carried out: no such kernel, the kernel failed to start or
    died, a cell ran past the timeout, bad parameters. The message is meant for a user."""


@dataclass(frozen=True)
class Mismatch:
    """A code cell whose saved outputs a fresh run did not reproduce."""

    index: int  # 1-based position of the cell among all cells of the notebook
    snippet: str  # the cell's first non-empty source line, at most 60 characters
    diff: str  # a short unified diff, saved → fresh run, of the normalised output text


# -- notebooks -----------------------------------------------------------------------------


def with_cell_ids(nb: NotebookNode) -> NotebookNode:
    """A copy of ``nb`` in which every cell has a unique, valid nbformat cell id.

    The kernel tells cells apart by id only. Valid ids are kept (the first of duplicates);
    missing, invalid or repeated ones (nbformat < 4.5 notebooks have none) get stable ids
    ``cell-<position>``, not random ones, so that two runs of one file send the same ids and
    write the same file. The copy is marked nbformat 4.5, the first version with ids.
    """
    _check_format(nb)
    nb = copy.deepcopy(nb)
    taken = {c.get("id") for c in nb.cells if _is_valid_id(c.get("id"))}
    seen: set[str] = set()
    for position, cell in enumerate(nb.cells, 1):
        cell_id = cell.get("id")
        if not _is_valid_id(cell_id) or cell_id in seen:
            cell_id = _unused_id(f"cell-{position}", taken)
            cell["id"] = cell_id
            taken.add(cell_id)
        seen.add(cell_id)
    nb.nbformat_minor = max(int(nb.get("nbformat_minor", 0)), 5)
    return nb


def inject_parameters(nb: NotebookNode, parameters: dict[str, object]) -> NotebookNode:
    """A copy of ``nb`` with ``parameters`` set in a new code cell, as papermill does.

    The cell (tagged ``injected-parameters``, one ``name = repr(value)`` line each) replaces
    an earlier injected cell, or goes right after the first cell tagged ``parameters`` (so it
    overrides that cell's defaults), or at the top. Each value's repr must be a Python
    expression: a value that cannot be written as code would fail in the kernel instead.
    """
    _check_format(nb)
    lines = ["# Parameters"]
    for name, value in parameters.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise HeadlessError(f"parameter name {name!r} is not a Python identifier")
        text = repr(value)
        try:
            ast.parse(text, mode="eval")
        except SyntaxError:
            raise HeadlessError(
                f"parameter {name}: {text} cannot be written as Python code"
            ) from None
        lines.append(f"{name} = {text}")
    nb = copy.deepcopy(nb)
    cell = nbformat.v4.new_code_cell("\n".join(lines) + "\n")
    cell.metadata["tags"] = [INJECTED_PARAMETERS_TAG]
    injected = _first_tagged(nb, INJECTED_PARAMETERS_TAG)
    if injected is not None:
        replaced = nb.cells.pop(injected)
        position = injected
    else:
        defaults = _first_tagged(nb, PARAMETERS_TAG)
        position = 0 if defaults is None else defaults + 1
        replaced = None
    if nb.get("nbformat_minor", 0) < 5:
        cell.pop("id", None)  # with_cell_ids gives it a stable one
    elif replaced is not None and _is_valid_id(replaced.get("id")):
        cell["id"] = replaced["id"]
    else:
        cell["id"] = _unused_id(INJECTED_PARAMETERS_TAG, {c.get("id") for c in nb.cells})
    nb.cells.insert(position, cell)
    return nb


def _check_format(nb: NotebookNode) -> None:
    if nb.get("nbformat") != 4:
        raise HeadlessError(
            f"nbformat {nb.get('nbformat')} notebooks are not supported: read it with "
            "nbformat.read(path, as_version=4), or open and save it in JupyterLab"
        )


def _is_valid_id(cell_id: object) -> bool:
    return isinstance(cell_id, str) and bool(_VALID_CELL_ID.match(cell_id))


def _unused_id(wanted: str, taken: set[Any]) -> str:
    candidate, suffix = wanted, 2
    while candidate in taken:
        candidate, suffix = f"{wanted}-{suffix}", suffix + 1
    return candidate


def _first_tagged(nb: NotebookNode, tag: str) -> int | None:
    for index, cell in enumerate(nb.cells):
        if tag in cell.get("metadata", {}).get("tags", []):
            return index
    return None


def _snippet(source: str) -> str:
    """The first non-empty line of a cell, at most 60 characters."""
    line = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
    if len(line) > MAX_SNIPPET_CHARS:
        line = line[: MAX_SNIPPET_CHARS - 1] + "…"
    return line


def _runs(cell: NotebookNode, skip_tag: str) -> bool:
    """Whether nbclient executes this cell (it skips empty and ``skip-execution`` cells)."""
    return (
        cell.cell_type == "code"
        and bool(cell.source.strip())
        and skip_tag not in cell.get("metadata", {}).get("tags", [])
    )


# -- running -------------------------------------------------------------------------------


class CellIdNotebookClient(NotebookClient):
    """nbclient, driving the reactive kernel as JupyterLab with its extension does: each
    cell's execute_request carries ``{"cellId": <the cell's id>}`` in its metadata, and the
    kernel is told the notebook's cells in order before the first one runs.

    nbclient 0.11 calls ``kc.execute(cell.source, store_history=..., stop_on_error=...)`` and
    ``KernelClient.execute`` sends no metadata. This client replaces ``execute`` on its own
    kernel client only (an instance attribute, set when the client is created) with one that
    sends the same content plus the id of the cell ``async_execute_cell`` is running.

    Cell ids alone teach the kernel only the cells run so far, so a cell reading a name that
    a later cell defines would just fail with ``NameError``. Knowing the whole notebook, the
    kernel refuses it with ``BlockedCellError`` naming that cell, as in JupyterLab. So, when
    ``kernel_info`` says the kernel is the reactive one, the client opens the kernel's comm as
    a frontend that does not run cells (``runs_cells: false``: dependents, if any, re-run in
    the kernel) and sends one ``sync`` of the cells nbclient will execute (docs/protocol.md).
    Everything else (outputs, errors, ``raises-exception``, timeouts) is nbclient's.
    """

    def __init__(self, nb: NotebookNode, *, progress: Any = None, **kwargs: Any) -> None:
        super().__init__(nb, **kwargs)
        self.progress = progress  # a tqdm bar, or None
        self._running_cell_id: str | None = None

    async def async_start_new_kernel(self, **kwargs: Any) -> None:
        try:
            await super().async_start_new_kernel(**kwargs)
        except Exception as error:
            await self._give_up_kernel()
            raise HeadlessError(f"kernel {self.kernel_name!r} failed to start: {error}") from error

    async def async_start_new_kernel_client(self) -> Any:
        try:
            client = await super().async_start_new_kernel_client()  # cleans up if it fails
        except Exception as error:
            await self._give_up_kernel()
            raise HeadlessError(
                f"kernel {self.kernel_name!r} did not answer after starting: {error}"
            ) from error
        client.execute = self._make_execute(client)
        try:
            await self._sync_notebook(client)
        except Exception as error:
            await self._give_up_kernel()
            if isinstance(error, HeadlessError):
                raise
            raise HeadlessError(
                f"could not tell kernel {self.kernel_name!r} the notebook's cells: {error}"
            ) from error
        return client

    async def _sync_notebook(self, client: Any) -> None:
        """On the reactive kernel, open its comm and send the cells in notebook order."""
        msg_id = client.kernel_info()
        reply = await self.async_wait_for_reply(msg_id)
        if reply is None or reply["content"].get("implementation") != REACTIVE_IMPLEMENTATION:
            return
        cells = [
            {
                "id": cell["id"],
                "source": cell.source,
                "manual": MANUAL_TAG in cell.get("metadata", {}).get("tags", []),
            }
            for cell in self.nb.cells
            if _runs(cell, self.skip_cells_with_tag)
        ]
        comm_id = uuid.uuid4().hex
        opening = {"protocol": 1, "runs_cells": False}
        client.shell_channel.send(
            client.session.msg(
                "comm_open",
                {"comm_id": comm_id, "target_name": REACTIVE_COMM_TARGET, "data": opening},
            )
        )
        sync = client.session.msg(
            "comm_msg",
            {
                "comm_id": comm_id,
                # Every cell in ``order``: the kernel names cells by their place in the file.
                "data": {"type": "sync", "cells": cells, "order": [c["id"] for c in self.nb.cells]},
            },
        )
        client.shell_channel.send(sync)
        # The kernel handles shell messages in order, so the sync is applied before the first
        # cell runs; wait for its answer anyway, to report a refused sync.
        deadline = asyncio.get_running_loop().time() + self.startup_timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise HeadlessError(f"kernel {self.kernel_name!r} did not answer the cell list")
            msg = await ensure_async(client.get_iopub_msg(timeout=remaining))
            if msg["parent_header"].get("msg_id") != sync["header"]["msg_id"]:
                continue
            content = msg["content"]
            if msg["msg_type"] == "comm_msg" and content.get("data", {}).get("type") == "error":
                raise HeadlessError(
                    f"the reactive kernel refused the notebook's cells: "
                    f"{content['data'].get('message')}"
                )
            if msg["msg_type"] == "status" and content.get("execution_state") == "idle":
                return

    async def _give_up_kernel(self) -> None:
        """Stop whatever started: nbclient's context manager only cleans up after it."""
        self.shutdown_kernel = "immediate"
        if self.km is not None:
            with contextlib.suppress(Exception):  # best effort: the start already failed
                await self._async_cleanup_kernel()
        # async_setup_kernel registered these and removes them only after a started kernel
        atexit.unregister(self._cleanup_kernel)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signum)

    def _make_execute(self, client: Any) -> Any:
        def execute(
            code: str,
            silent: bool = False,
            store_history: bool = True,
            user_expressions: dict[str, Any] | None = None,
            allow_stdin: bool | None = None,
            stop_on_error: bool = True,
        ) -> str:
            content = {
                "code": code,
                "silent": silent,
                "store_history": store_history,
                "user_expressions": user_expressions or {},
                "allow_stdin": client.allow_stdin if allow_stdin is None else allow_stdin,
                "stop_on_error": stop_on_error,
            }
            metadata = {"cellId": self._running_cell_id} if self._running_cell_id else {}
            msg = client.session.msg("execute_request", content, metadata=metadata)
            client.shell_channel.send(msg)
            return msg["header"]["msg_id"]

        return execute

    async def async_execute_cell(
        self,
        cell: NotebookNode,
        cell_index: int,
        execution_count: int | None = None,
        store_history: bool = True,
    ) -> NotebookNode:
        if not _runs(cell, self.skip_cells_with_tag):
            return await super().async_execute_cell(cell, cell_index, execution_count)
        where = f"cell {cell_index + 1} ({_snippet(cell.source)!r})"
        self._running_cell_id = cell.get("id")
        try:
            result = await super().async_execute_cell(
                cell, cell_index, execution_count, store_history
            )
        except CellTimeoutError as error:
            self.shutdown_kernel = "immediate"  # the kernel is busy: do not wait for it
            raise HeadlessError(
                f"{where} did not finish within {self.timeout} s; the kernel was stopped"
            ) from error
        except DeadKernelError as error:
            raise HeadlessError(f"the kernel died while running {where}") from error
        finally:
            self._running_cell_id = None
        if self.progress is not None:
            self.progress.update(1)
        return result


def run_notebook(
    nb: NotebookNode,
    *,
    kernel_name: str = "reactive",
    timeout: int = 600,
    parameters: dict[str, object] | None = None,
    progress: bool = False,
    cwd: str | None = None,
) -> NotebookNode:
    """Execute a copy of ``nb`` top to bottom on a fresh kernel and return it.

    Unlike ``jupyter execute``, the reactive kernel is first told the notebook's cells and
    each request carries the cell's id (cells without one get stable ids, see
    :func:`with_cell_ids`; :class:`CellIdNotebookClient` says how), so the run builds the
    dependency graph and a cell reading a name only a later cell defines fails with
    ``BlockedCellError``, exactly as in JupyterLab with the extension. Other kernels just run
    the cells. Errors follow nbclient: a failing cell raises ``CellExecutionError`` unless it
    is tagged ``raises-exception`` (the partly executed copy is attached to the error as
    ``notebook``, e.g. to write it out as papermill does). ``parameters`` are injected
    as papermill does (:func:`inject_parameters`). ``timeout`` is per cell, in seconds.
    ``progress`` shows a progress bar over the code cells on stderr. ``cwd`` is the kernel's
    working directory (``jupyter execute`` uses the notebook's folder).

    Raises :class:`HeadlessError` for a missing kernelspec, a kernel that fails to start or
    dies, and a timeout; the kernel is stopped in every case.
    """
    if parameters:
        nb = inject_parameters(nb, parameters)
    return _execute(
        nb,
        kernel_name=kernel_name,
        timeout=timeout,
        progress=progress,
        cwd=cwd,
        allow_errors=False,
    )


def _execute(
    nb: NotebookNode,
    *,
    kernel_name: str,
    timeout: int,
    progress: bool,
    cwd: str | None,
    allow_errors: bool,
) -> NotebookNode:
    """Run a copy of ``nb`` (with cell ids) through :class:`CellIdNotebookClient`."""
    _check_kernel(kernel_name)
    executed = with_cell_ids(nb)
    client = CellIdNotebookClient(
        executed, kernel_name=kernel_name, timeout=timeout, allow_errors=allow_errors
    )
    bar = client.progress = _progress_bar(client) if progress else None
    try:
        client.execute(cwd=cwd)
    except CellExecutionError as error:
        error.notebook = executed  # type: ignore[attr-defined]
        raise
    finally:
        if bar is not None:
            bar.close()
    return executed


def _check_kernel(kernel_name: str) -> None:
    """Fail before starting anything if no such kernelspec is installed."""
    specs = KernelSpecManager()
    try:
        specs.get_kernel_spec(kernel_name)
    except NoSuchKernel:
        installed = ", ".join(sorted(specs.find_kernel_specs())) or "none"
        raise HeadlessError(
            f"no kernel named {kernel_name!r} is installed (installed kernels: {installed}); "
            "`jupyter kernelspec list` shows them"
        ) from None


def _progress_bar(client: NotebookClient) -> Any:
    """A bar on stderr over the cells nbclient will execute (tqdm is imported only here)."""
    from tqdm import tqdm

    total = sum(_runs(cell, client.skip_cells_with_tag) for cell in client.nb.cells)
    return tqdm(total=total, unit="cell", desc="cells", file=sys.stderr, dynamic_ncols=True)


# -- reproducing ---------------------------------------------------------------------------


def reproduce(
    nb: NotebookNode,
    *,
    kernel_name: str = "python3",
    timeout: int = 600,
    progress: bool = False,
    cwd: str | None = None,
    compare_images: bool = False,
) -> list[Mismatch]:
    """Run a copy of ``nb`` fresh, top to bottom, and list the code cells whose saved outputs
    the run did not give back.

    The run sends cell ids (so on the reactive kernel an out-of-order read shows up as a
    ``BlockedCellError`` output) and allows errors: every cell runs, and an error is an output
    like any other. Only cells that were run in the saved notebook are compared — those with
    an execution count or outputs; a cell never run (or cleared) claims nothing. Outputs are
    compared as :func:`comparable_text` renders them, which drops what differs between two
    honest runs (memory addresses, timings, execution counts, images and HTML by default).
    Raises :class:`HeadlessError` like :func:`run_notebook`.
    """
    fresh = _execute(
        nb,
        kernel_name=kernel_name,
        timeout=timeout,
        progress=progress,
        cwd=cwd,
        allow_errors=True,
    )
    mismatches = []
    for position, (saved, rerun) in enumerate(zip(nb.cells, fresh.cells), 1):
        if saved.cell_type != "code" or not _was_run(saved):
            continue
        before = comparable_text(saved.get("outputs", []), compare_images=compare_images)
        after = comparable_text(rerun.get("outputs", []), compare_images=compare_images)
        if before != after:
            mismatches.append(
                Mismatch(position, _snippet(saved.source), _short_diff(before, after))
            )
    return mismatches


def _was_run(cell: NotebookNode) -> bool:
    return cell.get("execution_count") is not None or bool(cell.get("outputs"))


# What legitimately differs between two honest runs of the same code, and nothing else:
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")  # default reprs: <Foo object at 0x7f3a…>
_TIME_LINE = re.compile(r"^(CPU times|Wall time):.*$", re.MULTILINE)  # %time, %%time
# lines %time and %timeit print only when a run happens to be slow enough
_SOMETIMES_LINE = re.compile(
    r"^(Compiler ?:|Parser ?:|The slowest run took ).*(\n|$)", re.MULTILINE
)
_TIMEIT_LINE = re.compile(  # %timeit: "1.2 µs ± 3 ns per loop (mean ± …)", old "… best of 3"
    r"^(<TimeitResult : )?.*\d\s*(ns|µs|us|ms|s)\b.*\bper loop\b.*$", re.MULTILINE
)
_TQDM_TIMES = re.compile(  # tqdm's "[00:01<00:00, 9.51it/s]"
    r"\[\d+:\d\d(:\d\d)?<(\d+:\d\d(:\d\d)?|\?),\s*(\?|[\d.]+)\s*\w*/\w+\]"
)
_BACKSPACED = re.compile(r"[^\n]\x08")
_OVERWRITTEN = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)


def comparable_text(outputs: list[Any], *, compare_images: bool = False) -> str:
    """A code cell's outputs as text in which two runs of the same code are equal.

    Counted: stream text (consecutive pieces of one stream joined: where a kernel splits a
    stream depends on timing), the ``text/plain`` of results and displays, and errors as
    ``ename: evalue`` (ANSI colours stripped; tracebacks name files, line numbers and frames
    that change with the environment, not the result). Not counted: execution counts (they
    record how the notebook was run, not what it computed), HTML and other rich formats
    (``text/plain`` stands for them; HTML carries generated ids), and images unless
    ``compare_images`` (then their base64 must be equal; renderers and library versions change
    pixels without changing the result). Normalised: memory addresses (``0x7f…``), ``%time``
    and ``%timeit`` results and tqdm's times; ``\\r`` and ``\\b`` are applied as a terminal
    would; trailing whitespace is dropped.
    """
    parts: list[str] = []
    last_stream: str | None = None
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            text = _joined(output.get("text", ""))
            if last_stream == output.get("name") and parts:
                parts[-1] += text
            else:
                parts.append(text)
            last_stream = output.get("name")
            continue
        last_stream = None
        if kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            if "text/plain" in data:
                parts.append(_joined(data["text/plain"]))
            if compare_images:
                parts.extend(
                    _image_digest(mime, data[mime])
                    for mime in sorted(data)
                    if mime.startswith("image/")
                )
        elif kind == "error":
            parts.append(f"{output.get('ename', '')}: {output.get('evalue', '')}")
    return "\n".join(p for p in (_normalise(part) for part in parts) if p)


def _joined(text: Any) -> str:
    return "".join(text) if isinstance(text, list) else str(text)


def _image_digest(mime: str, data: Any) -> str:
    encoded = "".join(_joined(data).split())  # base64 line breaks do not matter
    return f"<{mime} sha256:{hashlib.sha256(encoded.encode()).hexdigest()[:16]}>"


def _normalise(text: str) -> str:
    text = _ANSI.sub("", text)
    previous = None
    while previous != text:
        previous, text = text, _BACKSPACED.sub("", text)
    text = _OVERWRITTEN.sub("", text)
    text = _TIME_LINE.sub(r"\1: <time>", text)
    text = _SOMETIMES_LINE.sub("", text)
    text = _TIMEIT_LINE.sub("<timeit result>", text)
    text = _TQDM_TIMES.sub("[<time>]", text)
    text = _ADDRESS.sub("0x<address>", text)
    return "\n".join(line.rstrip() for line in text.rstrip().splitlines())


def _short_diff(saved: str, fresh: str) -> str:
    """A unified diff of at most ``MAX_DIFF_LINES`` lines, long lines cut."""
    lines = list(
        difflib.unified_diff(
            saved.splitlines(), fresh.splitlines(), "saved", "fresh run", lineterm="", n=1
        )
    )
    if len(lines) > MAX_DIFF_LINES:
        hidden = len(lines) - MAX_DIFF_LINES + 1
        lines = lines[: MAX_DIFF_LINES - 1] + [f"… ({hidden} more lines)"]
    return "\n".join(
        line if len(line) <= MAX_DIFF_LINE_CHARS else line[: MAX_DIFF_LINE_CHARS - 1] + "…"
        for line in lines
    )
