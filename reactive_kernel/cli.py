"""``reactive-kernel``: audit notebooks for hidden state, run them headlessly, install.

``reactive-kernel audit PATH...``
    Audit notebooks (files, or folders searched recursively for ``*.ipynb``, skipping
    ``.ipynb_checkpoints``) without running them (``audit.py`` lists the findings).
    ``--format text`` (default) prints ``PATH: cell N (snippet): message — fix`` per finding
    and a summary line per notebook; ``json`` prints one document following
    ``reactive_kernel/audit_schema.json``; ``github`` prints GitHub Actions workflow commands
    (``::error`` for hazards, ``::warning`` for warnings) and the summaries. ``--execute`` also
    runs each notebook fresh on a kernel (``--kernel``, default ``python3``: the question is
    whether a plain top-to-bottom run gives the saved outputs, which it does the same on the
    reactive kernel, and ``python3`` is installed wherever Jupyter is) and reports saved
    outputs that do not reproduce (``not-reproduced``), in the notebook's folder.
    ``--strict`` makes warnings fail too.
``reactive-kernel run NOTEBOOK [-o OUT] [-p NAME VALUE]...``
    Execute a notebook headlessly with cell ids (``headless.run_notebook``, kernel
    ``reactive`` by default), so the kernel builds its graph as in JupyterLab, and write the
    executed notebook: over NOTEBOOK unless ``-o OUT`` (``-o -`` prints it), like
    ``jupyter execute --inplace``. When a cell raises, NOTEBOOK is left as it was; with ``-o``
    the partly run notebook is written, as papermill does. Parameter values are Python literals when they parse as
    one (``-p n 10``, ``-p rate 0.5``, ``-p tags "['a']"``), else strings (``-p name west``);
    they go in a cell tagged ``injected-parameters``, as papermill does.
``reactive-kernel install ...``
    ``python -m reactive_kernel install``: install the kernelspec.

Exit status: 0 clean; 1 hazards (or, with ``--strict``, warnings), saved outputs that did not
reproduce, or (``run``) a cell that raised; 2 bad usage or input — a path that does not exist,
a file that is not a readable nbformat 4 notebook, or a run that could not be carried out
(no such kernel, a timeout, the kernel died). Each bad file gets one line on stderr; the
others are still audited.
"""

from __future__ import annotations

import argparse
import ast
import json
import keyword
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .audit import Report, audit, not_reproduced, snippet_of

EXIT_CLEAN = 0
EXIT_HAZARDS = 1
EXIT_BAD_INPUT = 2

JSON_SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("audit_schema.json")


class BadInput(Exception):
    """A path or notebook the command cannot use, and why (one line for a user)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["install"]:  # its own parser, options and help
        from .install import main as install_main

        return _guarded(lambda: install_main(args_list[1:]))
    parser = _parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as stop:  # --help, or a usage error argparse already printed
        return _exit_status(stop.code)
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("reactive-kernel: error: choose a command: audit, run or install", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("reactive-kernel: interrupted", file=sys.stderr)
        return 130


def _guarded(command: Any) -> int:
    try:
        return int(command() or 0)
    except SystemExit as stop:
        return _exit_status(stop.code)


def _exit_status(code: object) -> int:
    if code is None:
        return EXIT_CLEAN
    return code if isinstance(code, int) else EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reactive-kernel",
        description="Audit notebooks for hidden state, run them headlessly with the "
        "dependency graph, install the kernelspec.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.set_defaults(command=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    audit_parser = commands.add_parser(
        "audit",
        help="find hidden state in saved notebooks, without running them",
        description="Find hidden state in saved notebooks (out-of-order runs, stale outputs, "
        "reads of names defined below or nowhere, ...) without running anything. Exit "
        "status: 0 clean, 1 hazards, 2 bad input.",
    )
    audit_parser.add_argument("paths", nargs="+", metavar="PATH", help="notebooks or folders")
    audit_parser.add_argument(
        "--format", choices=("text", "json", "github"), default="text", help="output format"
    )
    audit_parser.add_argument(
        "--execute",
        action="store_true",
        help="also run each notebook fresh and report saved outputs that do not reproduce",
    )
    audit_parser.add_argument(
        "--kernel", default="python3", help="kernel for --execute (default: python3)"
    )
    audit_parser.add_argument(
        "--timeout", type=_seconds, default=600, help="per-cell timeout for --execute (600)"
    )
    audit_parser.add_argument(
        "--strict", action="store_true", help="exit 1 on warnings (out-of-order, in-place)"
    )
    audit_parser.set_defaults(command="audit", handler=_audit_command)

    run_parser = commands.add_parser(
        "run",
        help="execute a notebook headlessly with cell ids, so the kernel builds its graph",
        description="Execute a notebook top to bottom on a fresh kernel, sending cell ids as "
        "JupyterLab does, and write the executed notebook (in place unless -o).",
    )
    run_parser.add_argument("notebook", metavar="NOTEBOOK")
    run_parser.add_argument(
        "-o", "--output", metavar="OUT", help="write here instead of over NOTEBOOK ('-': stdout)"
    )
    run_parser.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="set a parameter (a Python literal, else a string); repeatable",
    )
    run_parser.add_argument("--kernel", default="reactive", help="kernel (default: reactive)")
    run_parser.add_argument(
        "--timeout", type=_seconds, default=600, help="per-cell timeout in seconds (600)"
    )
    run_parser.set_defaults(command="run", handler=_run_command)

    commands.add_parser(
        "install",
        help="install the kernelspec (see: reactive-kernel install --help)",
        add_help=False,
    )
    return parser


def _seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


# -- reading -------------------------------------------------------------------------------


def notebook_paths(paths: Sequence[str]) -> Iterator[Path | BadInput]:
    """The notebooks named by ``paths`` (folders searched recursively, checkpoints skipped),
    in order and each once; a ``BadInput`` in their place for a path that names none."""
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*.ipynb")
                if ".ipynb_checkpoints" not in p.parts and p.is_file()
            )
            if not found:
                yield BadInput(given, "no notebooks (*.ipynb) in this folder")
        elif path.exists():
            found = [path]
        else:
            yield BadInput(given, "no such file or folder")
            continue
        for notebook in found:
            if notebook.resolve() not in seen:
                seen.add(notebook.resolve())
                yield notebook


def read_notebook(path: Path) -> dict[str, Any]:
    """Read an nbformat 4 notebook as its JSON (what ``audit`` needs; ``as_node`` makes the
    ``NotebookNode`` runs need); raise ``BadInput`` saying why a file is not one.

    nbformat is imported only to run notebooks: importing it imports jsonschema's format
    checkers, which can take over a second, on every pre-commit run.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BadInput(path, "not a notebook (not UTF-8 text)") from None
    except OSError as error:
        raise BadInput(path, f"cannot read it: {error.strerror or error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadInput(
            path,
            f"not a notebook: invalid JSON ({error.msg}, line {error.lineno} "
            f"column {error.colno})",
        ) from None
    except RecursionError:
        raise BadInput(path, "not a notebook: JSON nested too deeply") from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise BadInput(path, "not a Jupyter notebook (no \"nbformat\" field)")
    version = data["nbformat"]
    if version != 4:
        if isinstance(version, int) and version < 4:
            raise BadInput(
                path,
                f"nbformat {version} notebooks are not supported; convert it with "
                f"`jupyter nbconvert --to notebook --inplace {path}`",
            )
        raise BadInput(path, f"nbformat {version!r} is not supported (only nbformat 4)")
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise BadInput(path, "not a Jupyter notebook (no list of cells)")
    for position, cell in enumerate(cells, 1):
        if not (
            isinstance(cell, dict)
            and isinstance(cell.get("cell_type"), str)
            and isinstance(cell.get("source", ""), (str, list))
        ):
            raise BadInput(path, f"not a valid notebook: cell {position} is malformed")
    return data


def as_node(path: Path, data: dict[str, Any]) -> Any:
    """The ``NotebookNode`` of a notebook's JSON (sources joined), for nbclient."""
    import nbformat

    try:
        return nbformat.v4.to_notebook_json(data)
    except Exception as error:  # noqa: BLE001 - a malformed file must not give a traceback
        raise BadInput(path, f"not a valid notebook: {_first_line(error)}") from None


# -- audit ---------------------------------------------------------------------------------


def _audit_command(args: argparse.Namespace) -> int:
    output = _Output.for_format(args.format)
    bad = False
    for item in notebook_paths(args.paths):
        if isinstance(item, BadInput):
            bad = True
            output.bad(item)
            continue
        try:
            nb = read_notebook(item)
        except BadInput as problem:
            bad = True
            output.bad(problem)
            continue
        try:
            report = audit(nb)
        except Exception as error:  # noqa: BLE001 - a bug must cost one file, not the run
            bad = True
            output.bad(BadInput(item, f"could not audit it: {type(error).__name__}: {error}"))
            continue
        if args.execute and not report.skipped:
            try:
                report.add(_not_reproduced(item, nb, args))
            except BadInput as problem:
                bad = True
                output.bad(problem)
        output.notebook(str(item), report)
    output.finish()
    if bad:
        return EXIT_BAD_INPUT
    if output.hazards or (args.strict and output.warnings):
        return EXIT_HAZARDS
    return EXIT_CLEAN


def _not_reproduced(path: Path, data: dict[str, Any], args: argparse.Namespace) -> list[Any]:
    """Run the notebook fresh (``headless.reproduce``): a finding per cell that differs."""
    try:
        from .headless import reproduce
    except ImportError as error:
        raise BadInput(path, f"cannot run notebooks here: {error}") from None
    nb = as_node(path, data)
    try:
        mismatches = reproduce(
            nb,
            kernel_name=args.kernel,
            timeout=args.timeout,
            progress=sys.stderr.isatty(),
            cwd=str(path.parent.resolve()),
        )
    except Exception as error:  # noqa: BLE001 - a failed run is reported, not a traceback
        raise BadInput(path, f"could not run it: {_first_line(error)}") from None
    return [not_reproduced(m.index, m.snippet, m.diff) for m in mismatches]


class _Output:
    """Writes reports in one format as notebooks are audited, and counts what it wrote."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.audited: set[str] = set()
        self.failed: set[str] = set()  # paths with a problem: unreadable, or a failed run
        self.with_hazards = 0
        self.hazards = 0
        self.warnings = 0
        self.problems: list[str] = []

    @staticmethod
    def for_format(name: str) -> _Output:
        return {"text": _TextOutput, "json": _JsonOutput, "github": _GithubOutput}[name]()

    def bad(self, problem: BadInput) -> None:
        self.problems.append(str(problem))
        self.failed.add(problem.path)
        print(f"reactive-kernel audit: {problem}", file=sys.stderr)

    def notebook(self, path: str, report: Report) -> None:
        self.audited.add(path)
        self.hazards += len(report.hazards)
        self.warnings += len(report.warnings)
        self.with_hazards += bool(report.hazards)
        self.write(path, report)

    def write(self, path: str, report: Report) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass


class _TextOutput(_Output):
    def write(self, path: str, report: Report) -> None:
        for finding in report.findings:
            print(
                f"{path}: cell {finding.cell} ({finding.snippet}): {finding.message} — "
                f"{finding.fix}",
                file=self.out,
            )
            if finding.diff:
                for line in finding.diff.splitlines():
                    print(f"    {line}", file=self.out)
        print(f"{path}: {report.summary}", file=self.out)

    def finish(self) -> None:
        if len(self.audited | self.failed) < 2:
            return
        audited = len(self.audited)
        parts = [f"{self.with_hazards} with hazards", f"{audited - self.with_hazards} run as is"]
        if self.failed - self.audited:
            parts.append(f"{len(self.failed - self.audited)} could not be audited")
        if self.failed & self.audited:
            parts.append(f"{len(self.failed & self.audited)} could not be run")
        noun = "notebook" if audited == 1 else "notebooks"
        print(f"audited {audited} {noun}: {', '.join(parts)}", file=self.out)


class _JsonOutput(_Output):
    """One JSON document at the end, following ``audit_schema.json``."""

    def __init__(self, out: TextIO | None = None) -> None:
        super().__init__(out)
        self.entries: list[dict[str, Any]] = []

    def write(self, path: str, report: Report) -> None:
        self.entries.append({"path": path, **report.as_dict()})

    def finish(self) -> None:
        document = {
            "version": JSON_SCHEMA_VERSION,
            "notebooks": self.entries,
            "errors": self.problems,
            "hazards": self.hazards,
            "warnings": self.warnings,
        }
        json.dump(document, self.out, indent=2, ensure_ascii=False)
        print(file=self.out)


class _GithubOutput(_Output):
    """GitHub Actions workflow commands: an annotation per finding on the notebook file."""

    def bad(self, problem: BadInput) -> None:
        super().bad(problem)
        print(
            f"::error file={_property(problem.path)},title={_property('reactive-kernel audit')}"
            f"::{_data(str(problem))}",
            file=self.out,
        )

    def write(self, path: str, report: Report) -> None:
        for finding in report.findings:
            level = "error" if finding.severity == "hazard" else "warning"
            message = f"cell {finding.cell} ({finding.snippet}): {finding.message}"
            message += f" — {finding.fix}"
            if finding.diff:
                message += "\n" + finding.diff
            title = f"{finding.kind} in cell {finding.cell}"
            print(
                f"::{level} file={_property(path)},title={_property(title)}::{_data(message)}",
                file=self.out,
            )
        print(f"{path}: {report.summary}", file=self.out)


def _data(text: str) -> str:
    """Escape a workflow command's message (``%``, CR and LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """Escape a workflow command's property value (also ``:`` and ``,``)."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


# -- run -----------------------------------------------------------------------------------


def parameter_value(text: str) -> object:
    """A ``-p`` value: the Python literal it spells (``10``, ``0.5``, ``None``, ``[1, 2]``,
    ``'10'``), or else the text itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def _run_command(args: argparse.Namespace) -> int:
    parameters: dict[str, object] = {}
    for name, value in args.parameter:
        if not name.isidentifier() or keyword.iskeyword(name):
            return _fail(f"parameter name {name!r} is not a Python identifier")
        parameters[name] = parameter_value(value)
    path = Path(args.notebook)
    if not path.is_file():
        return _fail(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    try:
        nb = as_node(path, read_notebook(path))
    except BadInput as problem:
        return _fail(str(problem))
    try:
        from .headless import HeadlessError, run_notebook
    except ImportError as error:
        return _fail(f"cannot run notebooks here: {error}")
    target = args.output or str(path)
    try:
        executed = run_notebook(
            nb,
            kernel_name=args.kernel,
            timeout=args.timeout,
            parameters=parameters or None,
            progress=sys.stderr.isatty(),
            cwd=str(path.parent.resolve()),
        )
    except HeadlessError as error:  # no such kernel, a timeout, the kernel died
        return _fail(f"{path}: {_first_line(error)}")
    except Exception as error:  # noqa: BLE001 - a cell raised (nbclient): one line, not a trace
        partial = getattr(error, "notebook", None)
        if partial is None:
            return _fail(f"{path}: {_first_line(error)}", EXIT_HAZARDS)
        ename, evalue = getattr(error, "ename", ""), getattr(error, "evalue", "")
        raised = f"{ename}: {evalue}" if ename else _first_line(error)
        where = f"{path}: {_failed_cell(partial)} raised {raised}"
        if args.output is None:  # never replace a notebook's outputs with a failed run's
            return _fail(f"{where}; {path} was left as it was", EXIT_HAZARDS)
        if not _write(partial, target):
            return EXIT_BAD_INPUT
        written = "" if target == "-" else f"; the partly run notebook is in {target}"
        return _fail(f"{where}{written}", EXIT_HAZARDS)
    return EXIT_CLEAN if _write(executed, target) else EXIT_BAD_INPUT


def _write(nb: Any, target: str) -> bool:
    """Write the executed notebook (``-``: to stdout); False, said on stderr, if it cannot."""
    import nbformat

    if target == "-":
        sys.stdout.write(nbformat.writes(nb) + "\n")
        return True
    try:
        nbformat.write(nb, target)
    except OSError as error:
        _fail(f"{target}: cannot write it: {error.strerror or error}")
        return False
    return True


def _failed_cell(nb: Any) -> str:
    for position, cell in enumerate(nb.cells, 1):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return f"cell {position} ({snippet_of(cell.source)})"
    return "a cell"


def _fail(message: str, status: int = EXIT_BAD_INPUT) -> int:
    print(f"reactive-kernel: {message}", file=sys.stderr)
    return status


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
