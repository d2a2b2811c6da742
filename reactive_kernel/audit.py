"""Audit a saved notebook for hidden state, without running anything.

Teams moving to the reactive kernel ask which of their notebooks already lie (saved outputs a
fresh top-to-bottom run would not give) and which would behave differently. :func:`audit`
answers from what the ``.ipynb`` file holds — sources, execution counts, error outputs — with
the kernel's own analysis (``analysis.py``) and dependency graph (``graph.py``): a cell reading
``x`` binds to the nearest cell above it defining ``x``. Nothing here runs user code, starts a
kernel or needs IPython beyond its input transformer (``%magic`` and ``!cmd`` lines).

Finding kinds, and the evidence each uses (positions count every cell, markdown included):

``out-of-order`` (warning)
    The code cells' saved execution counts do not increase top to bottom. Reported once per
    notebook, at the first cell whose count is lower than a count above it (the message says
    how many cells are out of order). On its own this is only a warning: what it broke, if
    anything, is reported by the kinds below.
``defined-below`` (hazard)
    A cell reads a name that no cell above it defines but a later cell does: a fresh run fails
    there, and the reactive kernel blocks the cell. (A builtin shadowed below, ``print(list)``
    then ``list = …``, is no hazard: a fresh run and the reactive kernel give it the builtin.)
``undefined`` (hazard)
    A cell reads a name that no cell defines and that is neither a builtin nor provided by
    IPython (``display``, ``get_ipython``, ``In``, ``Out``, ``_``, ``exit``, …): its definer was
    probably deleted. Not reported below a cell that can bind names the analysis cannot see
    (``from m import *``, ``exec``/``eval``/``globals()``, ``%run``, ``%store``, ``%pylab``,
    ``%load_ext``, ``%R``, ``%sql``) or that does not parse.
``self-reference-rerun`` (hazard)
    A cell reads and rebinds the same name (``x = x + 1``, ``df = df.dropna()``, ``x += 1``)
    and its execution count is higher than that of a cell below it that reads the name from
    it: it ran again after its value was used below, so the name may have been changed more
    than once. In-place stores (``x[k] += 1``) are reported as ``mutates-other-cell``.
``mutates-other-cell`` (warning)
    A cell changes in place an object that a cell above it defines: a subscript or attribute
    store (``df["z"] = …``, ``obj.a = …``), augmented assignment on one, ``del x[k]``. Method
    calls (``lst.append(1)``) are not counted: whether they change their receiver is a guess
    the kernel settles only by watching a run. Names bound by ``import`` are not counted
    (``plt.rcParams[…] = …``), as in the kernel.
``stale-output`` (hazard)
    A cell's execution count is lower than that of the cell above it that defines a name it
    reads: its output was computed from an older value. Names the definer binds by ``import``
    do not count (re-importing gives the same module).
``overwritten-input`` (hazard)
    A cell read a name after another cell — one that a top-to-bottom run does not run between
    them — rebound or changed it, i.e. after the definer above it last ran (by execution
    counts): its output used the other cell's value.
``unparsable`` (hazard)
    The cell does not parse, even after IPython's input transformation.
``would-block`` / ``would-rerun`` (hazard)
    What the reactive kernel would do with this history. The cells are fed to the kernel's
    ``Graph`` and the saved runs replayed in execution-count order (cells that only import are
    replayed first: re-importing changes nothing); cells it then shows blocked (or reading from
    a blocked cell) or stale are reported, unless a finding above already says so for the cell
    (``defined-below``/``undefined``/``unparsable``, ``stale-output``).
``not-reproduced`` (hazard)
    Only with ``reactive-kernel audit --execute``: a fresh run did not give the saved outputs.

A notebook never run (no execution counts) gets only the findings that need no counts.
Hazards are evidence that saved outputs or state differ from a fresh run, or that a fresh run
fails; warnings are patterns that make that easy. Nothing is exact: cells deleted after they
ran, or run several times, leave no trace in a saved notebook (``--execute`` checks the
outputs themselves).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .analysis import CellAnalysis, read_cell
from .cells import _PHRASES, BLOCKED, NEW, STALE, UPSTREAM_ERROR, Cell
from .graph import Graph
from .states import BUILTIN_NAMES

HAZARD = "hazard"
WARNING = "warning"

# Every kind, in the order findings on one cell are listed, with its severity.
KINDS: Mapping[str, str] = {
    "out-of-order": WARNING,
    "unparsable": HAZARD,
    "defined-below": HAZARD,
    "undefined": HAZARD,
    "stale-output": HAZARD,
    "overwritten-input": HAZARD,
    "self-reference-rerun": HAZARD,
    "mutates-other-cell": WARNING,
    "would-block": HAZARD,
    "would-rerun": HAZARD,
    "not-reproduced": HAZARD,
}

SNIPPET_CHARS = 60

# Names a fresh IPython namespace provides besides the builtins.
IPYTHON_NAMES = frozenset(
    {
        "In", "Out", "get_ipython", "display", "exit", "quit", "_", "__", "___", "_i", "_ii",
        "_iii", "_ih", "_oh", "_dh", "_exit_code", "__name__", "__doc__", "__builtin__",
        "__builtins__", "__package__", "__loader__", "__spec__",
    }
)
_IPYTHON_HISTORY = re.compile(r"_i?\d+")  # ``_12`` (Out[12]) and ``_i12`` (In[12])
_PROVIDED = BUILTIN_NAMES | IPYTHON_NAMES
# Builtins and magics through which a cell can bind names its source does not show.
_DYNAMIC_BUILTINS = frozenset({"exec", "eval", "globals", "vars", "locals", "__import__"})
DYNAMIC_MAGICS = frozenset({"run", "store", "pylab", "load_ext", "reload_ext", "R", "sql"})
_MAGIC_CALL = re.compile(r"get_ipython\(\)\.run_(?:line|cell)_magic\(\s*['\"](\w+)['\"]")
_GRAPH_CELL = re.compile(r"cell (\d+) · ")  # how the graph names a cell (``describe``)


@dataclass(frozen=True)
class Finding:
    """One hazard or warning about one cell; ``cell`` and ``other_cell`` are 1-based positions
    among all cells of the notebook."""

    kind: str
    cell: int
    snippet: str
    message: str
    fix: str
    names: tuple[str, ...] = ()
    other_cell: int | None = None
    diff: str | None = None

    @property
    def severity(self) -> str:
        return KINDS[self.kind]

    def as_dict(self) -> dict[str, Any]:
        """The finding as ``audit_schema.json`` describes it."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "cell": self.cell,
            "snippet": self.snippet,
            "message": self.message,
            "fix": self.fix,
            "names": list(self.names),
            "other_cell": self.other_cell,
            "diff": self.diff,
        }


@dataclass
class Report:
    """What the audit found in one notebook, and what the reactive kernel would do with it."""

    findings: list[Finding] = field(default_factory=list)
    would_block: tuple[int, ...] = ()  # positions of cells the kernel would block
    would_rerun: tuple[int, ...] = ()  # positions of cells the kernel would show stale
    never_run: bool = False  # no execution counts: only static findings
    skipped: str = ""  # why the notebook was not audited (not Python)

    @property
    def hazards(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == HAZARD]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    def add(self, findings: Iterable[Finding]) -> None:
        """Add findings (``not-reproduced`` ones from a run), keeping cell order."""
        self.findings = _sorted([*self.findings, *findings])

    @property
    def summary(self) -> str:
        """One line: "runs as is under the reactive kernel", or how many hazards."""
        if self.skipped:
            return f"skipped: {self.skipped}"
        warnings = _count(len(self.warnings), "warning")
        if not self.hazards:
            verdict = "runs as is under the reactive kernel"
            return f"{verdict} ({warnings})" if self.warnings else verdict
        parts = [_count(len(self.hazards), "hazard")]
        if self.warnings:
            parts.append(warnings)
        line = ", ".join(parts)
        kernel = []
        if self.would_block:
            kernel.append(f"block {_cells(self.would_block)}")
        if self.would_rerun:
            kernel.append(f"re-run {_cells(self.would_rerun)}")
        if kernel:
            line += "; the reactive kernel would " + " and ".join(kernel)
        if self.never_run:
            line += " (never run: static findings only)"
        return line

    def as_dict(self) -> dict[str, Any]:
        """The report as ``audit_schema.json`` describes it (without the path)."""
        return {
            "summary": self.summary,
            "skipped": self.skipped or None,
            "never_run": self.never_run,
            "hazards": len(self.hazards),
            "warnings": len(self.warnings),
            "would_block": list(self.would_block),
            "would_rerun": list(self.would_rerun),
            "findings": [f.as_dict() for f in self.findings],
        }


def audit(nb: Mapping[str, Any]) -> Report:
    """Audit a parsed nbformat v4 notebook (a ``NotebookNode`` or the plain JSON dict) from
    its saved sources, execution counts and outputs, without executing anything."""
    language = _language(nb)
    if language and not language.startswith(("python", "ipython")):
        return Report(skipped=f"not a Python notebook (language: {language})")
    cells = [c if isinstance(c, Mapping) else {} for c in nb.get("cells") or []]
    return _Audit(cells).report()


def not_reproduced(cell: int, snippet: str, diff: str) -> Finding:
    """The finding for a cell whose saved outputs a fresh run did not give back."""
    return Finding(
        "not-reproduced",
        cell,
        snippet,
        "its saved output differs from a fresh top-to-bottom run",
        "re-run the notebook from the top (Restart Kernel and Run All Cells) and save it, or "
        "find the state the saved output depended on",
        diff=diff,
    )


def snippet_of(source: str) -> str:
    """The first non-empty line of a cell, at most ``SNIPPET_CHARS`` characters."""
    line = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
    return line if len(line) <= SNIPPET_CHARS else line[: SNIPPET_CHARS - 1] + "…"


@dataclass
class _CodeCell:
    """A saved code cell: where it is, what it says, and what its saved run shows."""

    position: int
    source: str
    count: int | None
    failed: bool  # its saved outputs include an error
    analysis: CellAnalysis | None  # None: it does not parse or cannot be analysed
    problem: str  # why it does not parse ("" if it does)
    untracked: str  # why the analysis could not finish ("" if it did)
    imported: frozenset[str]  # names its top-level code binds by ``import``
    binds_unseen: bool  # may bind names the analysis cannot see (star import, exec, %run)

    @property
    def id(self) -> str:
        return str(self.position)

    @property
    def snippet(self) -> str:
        return snippet_of(self.source)


class _Audit:
    """One notebook's audit: its code cells fed to a ``Graph``, the saved runs replayed."""

    def __init__(self, cells: Iterable[Mapping[str, Any]]) -> None:
        self.graph = Graph()
        self.code: dict[int, _CodeCell] = {}
        self.findings: list[Finding] = []
        raw = list(cells)
        for position, cell in enumerate(raw, 1):
            if cell.get("cell_type") == "code":
                self.code[position] = _code_cell(position, cell)
        modules = frozenset().union(*(c.imported for c in self.code.values()))
        for position in range(1, len(raw) + 1):
            code = self.code.get(position)
            if code is None:  # markdown and raw cells hold a place, so positions match
                self.graph.set_source(str(position), "", CellAnalysis())
                continue
            if code.analysis is not None:
                code.analysis = _without_guesses(code.analysis, modules)
            self.graph.set_source(code.id, code.source, code.analysis, untracked=code.untracked)
        self.never_run = all(c.count is None for c in self.code.values())
        self.graph.status()  # builds the indexes that definer() and effective_reads() read

    def report(self) -> Report:
        self._out_of_order()
        for code in self.code.values():
            self._static(code)
        self._replay()
        for code in self.code.values():
            self._stale_output(code)
            self._self_reference_rerun(code)
        would_block, would_rerun = self._kernel_view()
        return Report(
            findings=_sorted(self.findings),
            would_block=would_block,
            would_rerun=would_rerun,
            never_run=self.never_run,
        )

    # -- helpers -------------------------------------------------------------------------

    def cell(self, code: _CodeCell) -> Cell:
        return self.graph.cells[code.id]

    def named(self, position: int) -> str:
        """How messages refer to another cell: its position and first line."""
        return f"cell {position} (`{self.code[position].snippet}`)"

    def add(self, kind: str, code: _CodeCell, message: str, fix: str, **extra: Any) -> None:
        self.findings.append(Finding(kind, code.position, code.snippet, message, fix, **extra))

    def has(self, code: _CodeCell, kinds: Iterable[str]) -> bool:
        return any(f.cell == code.position and f.kind in kinds for f in self.findings)

    def definer(self, name: str, code: _CodeCell) -> _CodeCell | None:
        """The code cell above ``code`` a top-to-bottom run takes ``name`` from (the graph's
        rule: the nearest one defining it)."""
        source = self.graph.definer(name, self.cell(code))
        return self.code[int(source.id)] if source is not None else None

    def reads(self, code: _CodeCell) -> list[str]:
        """Names it reads from cells above, also through the functions it uses."""
        return sorted(self.graph.effective_reads(self.cell(code)))

    # -- findings ------------------------------------------------------------------------

    def _out_of_order(self) -> None:
        highest: _CodeCell | None = None
        first: tuple[_CodeCell, _CodeCell] | None = None
        late = 0
        for code in self.code.values():
            if code.count is None:
                continue
            if highest is not None and code.count < highest.count:  # type: ignore[operator]
                late += 1
                first = first or (code, highest)
            if highest is None or code.count > highest.count:  # type: ignore[operator]
                highest = code
        if first is None:
            return
        code, above = first
        others = f"; {_count(late - 1, 'more cell')} below also ran early" if late > 1 else ""
        self.add(
            "out-of-order",
            code,
            f"the cells were saved out of execution order: this cell ran [{code.count}], "
            f"before {self.named(above.position)} above it, which ran [{above.count}]{others}",
            "restart the kernel and run all cells from the top, then save",
            other_cell=above.position,
        )

    def _static(self, code: _CodeCell) -> None:
        """Findings that need no execution counts."""
        if code.problem:
            self.add(
                "unparsable",
                code,
                f"the cell does not parse ({code.problem}); a top-to-bottom run stops here",
                "fix the syntax error, or delete the cell",
            )
            return
        if code.analysis is None:
            return
        cell = self.cell(code)
        unseen = any(c.binds_unseen for p, c in self.code.items() if p <= code.position)
        for name in self.reads(code):
            if name in cell.soft_reads or self.definer(name, code) is not None:
                continue
            provided = name in _PROVIDED or bool(_IPYTHON_HISTORY.fullmatch(name))
            through = self._through(name, code)
            later = next(
                (
                    c
                    for p, c in self.code.items()
                    if p > code.position and name in self.cell(c).defines
                ),
                None,
            )
            if later is not None and not provided:  # (a builtin shadowed below is the builtin)
                self.add(
                    "defined-below",
                    code,
                    f"reads `{name}`{through}, which only {self.named(later.position)} below "
                    "it defines: a top-to-bottom run fails here",
                    f"move the cell defining `{name}` (cell {later.position}) above this "
                    "cell, or this cell below it",
                    names=(name,),
                    other_cell=later.position,
                )
            elif later is None and not (provided or unseen):
                self.add(
                    "undefined",
                    code,
                    f"reads `{name}`{through}, which no cell defines (was its cell deleted?): "
                    "a top-to-bottom run fails here",
                    f"define `{name}` in a cell above this one, or stop using it",
                    names=(name,),
                )
        for name in sorted(code.analysis.mutates):
            source = self.definer(name, code)
            if source is None:
                continue  # reported above: it reads the name too
            self.add(
                "mutates-other-cell",
                code,
                f"changes `{name}`, defined by {self.named(source.position)}, in place: in "
                f"plain Jupyter, cells between them re-run afterwards see the changed "
                f"`{name}`, and re-running this cell changes it again",
                f"make the change in cell {source.position}, where `{name}` is defined, or "
                f"build a new object under a new name here (`{name}_2 = …`)",
                names=(name,),
                other_cell=source.position,
            )

    def _through(self, name: str, code: _CodeCell) -> str:
        """`` (through `f`)`` when a cell reads ``name`` only in the body of a function."""
        cell = self.cell(code)
        if name in cell.reads:
            return ""
        for used in sorted(cell.reads):
            source = self.graph.definer(used, cell)
            if source is not None and name in source.analysis.deferred.get(used, ()):
                return f" (through `{used}`)"
        return ""

    def _replay(self) -> None:
        """Replay the saved runs in execution-count order through the graph, noting cells
        that read a value another cell wrote after their definer last ran."""
        runs = sorted(
            (not _imports_only(c), c.count, c.position)
            for c in self.code.values()
            if c.count is not None
        )
        for _, _, position in runs:
            code = self.code[position]
            self._overwritten_input(code)
            analysis = code.analysis or CellAnalysis()
            self.graph.record_run(code.id, ok=not code.failed, bound=analysis.defines)
        self.graph.status()

    def _overwritten_input(self, code: _CodeCell) -> None:
        """Before ``code``'s run is replayed: which of its inputs hold another cell's value."""
        by_writer: dict[int, list[str]] = {}
        sources: dict[int, int] = {}
        for name in self.reads(code):
            source = self.definer(name, code)
            if source is None or source.count is None or name in source.imported:
                continue
            definer = self.graph.cells[source.id]
            writer = self.graph.writer.get(name)
            if not definer.serial or writer is None or writer == (source.id, definer.serial):
                continue
            if not writer[0].isdigit() or int(writer[0]) not in self.code:
                continue
            by_writer.setdefault(int(writer[0]), []).append(name)
            sources.setdefault(int(writer[0]), source.position)
        for position, names in by_writer.items():
            writer = self.code[position]
            source = self.code[sources[position]]
            mutated = writer.analysis is not None and set(names) <= writer.analysis.mutates
            how = "changed in place" if mutated else "redefined"
            self.add(
                "overwritten-input",
                code,
                f"ran [{code.count}] after {self.named(position)}, which ran [{writer.count}], "
                f"{how} {_names(names)}: it used that value, not the one "
                f"{self.named(source.position)} above it gives it in a top-to-bottom run",
                "restart the kernel and run all cells from the top, then save; if this cell "
                f"needs cell {position}'s value, move it below cell {position}",
                names=tuple(names),
                other_cell=position,
            )

    def _stale_output(self, code: _CodeCell) -> None:
        if code.count is None or code.analysis is None:
            return
        by_source: dict[int, list[str]] = {}
        for name in self.reads(code):
            source = self.definer(name, code)
            if source is None or source.count is None or name in source.imported:
                continue
            if source.count > code.count:
                by_source.setdefault(source.position, []).append(name)
        for position, names in by_source.items():
            source = self.code[position]
            self.add(
                "stale-output",
                code,
                f"its output predates the {_names(names)} it reads: "
                f"{self.named(position)} above it ran [{source.count}], after this cell "
                f"[{code.count}]",
                "re-run this cell (or the notebook from the top) and save",
                names=tuple(names),
                other_cell=position,
            )

    def _self_reference_rerun(self, code: _CodeCell) -> None:
        if code.count is None or code.analysis is None:
            return
        analysis = code.analysis
        for name in sorted((analysis.reads & analysis.defines) - analysis.mutates):
            reader = next(
                (
                    c
                    for p, c in self.code.items()
                    if p > code.position
                    and c.count is not None
                    and c.count < code.count
                    and name in self.graph.effective_reads(self.cell(c))
                    and self.definer(name, c) is code
                ),
                None,
            )
            if reader is None:
                continue
            self.add(
                "self-reference-rerun",
                code,
                f"reads and rebinds `{name}`, and ran [{code.count}] after "
                f"{self.named(reader.position)} below it read `{name}` [{reader.count}]: it ran "
                f"again after its value was used, so `{name}` may have been changed more than "
                "once",
                f"bind the result to a new name (`{name}_2 = …`) so the cell gives the same "
                "value however often it runs, or run the notebook from the top",
                names=(name,),
                other_cell=reader.position,
            )

    def _kernel_view(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Cells the graph, after the replay, shows blocked or stale; findings for those not
        already explained."""
        blocked, stale = [], []
        for cell_id, status in self.graph.status().items():
            code = self.code.get(int(cell_id))
            if code is None:
                continue
            reason = status.reason
            for number in {int(n) for n in _GRAPH_CELL.findall(reason)}:
                reason = reason.replace(self.graph.describe(str(number)), self.named(number))
            reason = reason.replace(_PHRASES[NEW], "has no saved execution count")
            if status.state in (BLOCKED, UPSTREAM_ERROR):
                blocked.append(code.position)
                if not self.has(code, ("defined-below", "undefined", "unparsable")):
                    self.add(
                        "would-block",
                        code,
                        f"the reactive kernel would block it: {reason}",
                        "fix the cell it reads from first (see its finding)",
                        other_cell=_other(status.reason),
                    )
            elif status.state == STALE:
                stale.append(code.position)
                if not self.has(code, ("stale-output",)):
                    self.add(
                        "would-rerun",
                        code,
                        f"the reactive kernel would show it stale and re-run it: {reason}",
                        "run the notebook from the top and save",
                        other_cell=_other(status.reason),
                    )
        return tuple(blocked), tuple(stale)


def _code_cell(position: int, cell: Mapping[str, Any]) -> _CodeCell:
    source = cell.get("source", "")
    if not isinstance(source, str):  # the on-disk form: a list of lines
        source = "".join(line for line in source if isinstance(line, str))
    count = cell.get("execution_count")
    outputs = cell.get("outputs")
    failed = isinstance(outputs, list) and any(
        isinstance(o, Mapping) and o.get("output_type") == "error" for o in outputs
    )
    reading = read_cell(source, _transform)
    analysis, parsed = reading.analysis, reading.python
    imported = _imported_names(parsed) if parsed is not None else frozenset()
    unseen = analysis is None  # what it binds is unknown
    if analysis is not None:
        unseen = bool(analysis.stars) or not _DYNAMIC_BUILTINS.isdisjoint(analysis.reads)
    if parsed is not None:
        unseen = unseen or any(m in DYNAMIC_MAGICS for m in _MAGIC_CALL.findall(parsed))
    return _CodeCell(
        position=position,
        source=source,
        count=count if isinstance(count, int) else None,
        failed=failed,
        analysis=analysis,
        problem=reading.syntax,
        untracked=reading.complexity,
        imported=imported,
        binds_unseen=unseen,
    )


@lru_cache(maxsize=1)
def _transformer() -> Any:
    """IPython's input transformer (``%magic``, ``!cmd`` → Python), made once."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


def _transform(source: str) -> str:
    return _transformer().transform_cell(source)


def _imported_names(source: str) -> frozenset[str]:
    """Names the cell's own top-level code binds by ``import`` (not inside functions)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()
    names: set[str] = set()
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(
                alias.asname or alias.name.split(".")[0]
                for alias in node.names
                if alias.name != "*"
            )
        pending.extend(ast.iter_child_nodes(node))
    return frozenset(names)


def _without_guesses(analysis: CellAnalysis, modules: frozenset[str]) -> CellAnalysis:
    """The analysis without method-call "mutations" (``lst.append(1)``: a guess the kernel
    settles by watching runs) and without stores into modules (``plt.rcParams[k] = v``,
    which the kernel drops for names bound to modules)."""
    guessed = analysis.calls | (analysis.mutates & modules)
    if not guessed:
        return analysis
    return analysis.replace(
        defines=analysis.defines - guessed,
        mutates=analysis.mutates - guessed,
        calls=frozenset(),
    )


def _imports_only(code: _CodeCell) -> bool:
    """A cell that binds nothing but imported names: re-running it changes no value."""
    return (
        code.analysis is not None
        and bool(code.analysis.defines)
        and code.analysis.defines <= code.imported
    )


def _language(nb: Mapping[str, Any]) -> str:
    """The notebook's language, lower case ("" if it does not say)."""
    metadata = nb.get("metadata")
    for section, key in (("language_info", "name"), ("kernelspec", "language")):
        entry = metadata.get(section) if isinstance(metadata, Mapping) else None
        language = entry.get(key) if isinstance(entry, Mapping) else None
        if isinstance(language, str) and language:
            return language.lower()
    return ""


def _sorted(findings: Iterable[Finding]) -> list[Finding]:
    order = list(KINDS)
    return sorted(findings, key=lambda f: (f.cell, order.index(f.kind)))


def _other(reason: str) -> int | None:
    """The first cell a graph reason names."""
    match = _GRAPH_CELL.search(reason)
    return int(match.group(1)) if match else None


def _names(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _cells(positions: tuple[int, ...]) -> str:
    return ("cell " if len(positions) == 1 else "cells ") + ", ".join(map(str, positions))
