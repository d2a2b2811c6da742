"""Needless re-runs: what re-running unchanged cells costs in the reactive kernel.

For every notebook in tests/notebooks/ and docs/demo.ipynb, a fresh "reactive" kernel (cwd:
the notebook's directory) runs all code cells top to bottom once, then re-runs cells
unchanged, sending ``cellId`` metadata as JupyterLab does. Nothing changed, so every other
cell the kernel runs is a needless re-run. It counts the headers the kernel prints:

- ``↻ re-running cell [N] first: this cell needs its values``: an upstream cell pulled in
  before the requested one ("pulled");
- ``↻ re-running cell [N]``: a dependent re-run after it ("deps"; ``auto`` mode only).

Three sessions per notebook:

- ``lazy``: re-run every cell once, top to bottom, in lazy mode (no dependents run);
- ``auto``: the same in auto mode (dependents run; pulls come with them);
- ``alone``: lazy, one fresh kernel per cell: run all, then re-run only that cell. This is
  the cost of re-running one unchanged cell in an up-to-date notebook (in ``lazy`` each
  cell's upstream has just been re-run itself, so there is nothing left to pull).

For each pulled cell it says why, from the graph: the re-run cell changes a name from it in
place (seen on its last run: ``Cell.changed``, which 557efad lacks), reads and rebinds it
(``x = x + 1``; at 557efad also a change guessed from a method call), reads a name a cell
below has since rebound, or another pulled cell needs it.

    python benchmarks/rerun_cost.py                    # the reactive_kernel the kernelspec runs
    mkdir -p /tmp/old_rk && git archive 557efad reactive_kernel | tar -x -C /tmp/old_rk
    python benchmarks/rerun_cost.py --kernel-path /tmp/old_rk --json /tmp/rerun_cost_old.json

``--kernel-path DIR`` prepends DIR to the kernel's PYTHONPATH (the "reactive" kernelspec
runs ``python -m reactive_kernel``) and checks that the kernel imported the package from DIR;
a ``git archive HEAD`` copy likewise keeps the code fixed while the tree is being edited.
Notebook paths as arguments measure only those. Prints a table and why each lone re-run
pulled, and writes benchmarks/rerun_cost.json (or ``--json PATH``). About 4 minutes.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = [*sorted((ROOT / "tests" / "notebooks").glob("*.ipynb")), ROOT / "docs" / "demo.ipynb"]
HEADER = re.compile(r"↻ re-running cell (\S+?)( first: this cell needs its values)?$", re.M)
TIMEOUT = 120
# Evaluated silently before a cell's re-run: every cell's label (execution count) -> id and
# defined names; the cell whose run put each name's value in the namespace; this cell's reads
# and what its last run was seen to change in place (557efad has neither ``Cell.reads`` nor
# ``Cell.changed``).
PROBE = """(lambda g, cell: (
    {c.label: c.id for c in g.cells.values()},
    {c.id: sorted(c.defines) for c in g.cells.values()},
    {name: cid for name, (cid, _) in g.writer.items()},
    sorted(getattr(cell, 'reads', None) or cell.analysis.reads),
    dict(getattr(cell, 'changed', None) or {}),
))(get_ipython().kernel.reactive.graph, get_ipython().kernel.reactive.graph.cells[CELL_ID])"""


# How many values the kernel keeps for cells reading rebound names, and their size (bytes).
KEPT = "(lambda r: (len(r.kept), r.kept.size) if r is not None else (0, 0))(getattr(" \
    "get_ipython().kernel.reactive, 'reuse', None))"


class Kernel:
    def __init__(self, cwd: Path, mode: str, kernel_path: str | None) -> None:
        env = dict(os.environ)
        if kernel_path:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [kernel_path, env.get("PYTHONPATH")]))
        self.manager, self.client = start_new_kernel(
            kernel_name="reactive",
            cwd=str(cwd),
            env=env,
            extra_arguments=[f"--ReactiveKernel.mode={mode}"],
            stderr=subprocess.DEVNULL,  # the kernel's "running over TCP" warnings
        )

    def run(self, code: str, cell_id: str | None = None, **content: Any) -> tuple[dict, str]:
        """Send an execute_request (with ``cellId``); return its reply and its stream text."""
        body = dict(code=code, silent=False, store_history=True, user_expressions={},
                    allow_stdin=False, stop_on_error=True)
        body.update(content)
        msg = self.client.session.msg(
            "execute_request", body, metadata={"cellId": cell_id} if cell_id else {}
        )
        self.client.shell_channel.send(msg)
        msg_id, text = msg["header"]["msg_id"], []
        while True:
            out = self.client.get_iopub_msg(timeout=TIMEOUT)
            if out["parent_header"].get("msg_id") != msg_id:
                continue
            kind, c = out["msg_type"], out["content"]
            if kind == "status" and c["execution_state"] == "idle":
                break
            if kind == "stream":
                text.append(c["text"])
            elif kind == "error":
                text.append(f"{c['ename']}: {c['evalue']}\n")
        while True:
            reply = self.client.get_shell_msg(timeout=TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"], "".join(text)

    def value(self, expression: str) -> Any:
        """An expression's value, without running a cell."""
        expressions = {"v": expression}
        reply, _ = self.run("", silent=True, store_history=False, user_expressions=expressions)
        data = reply["user_expressions"]["v"]
        if data["status"] != "ok":
            raise RuntimeError(f"{expression}: {data.get('ename')}: {data.get('evalue')}")
        return ast.literal_eval(data["data"]["text/plain"])

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def code_cells(path: Path) -> list[tuple[str, str]]:
    """(id, source) of each code cell; a cell without an id gets one from its index."""
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    return [(c.get("id") or f"{path.stem}-{i}", c.source) for i, c in enumerate(cells)]


def session(path: Path, mode: str, kernel_path: str | None, rerun: list[int]) -> dict[str, Any]:
    """A fresh kernel runs all code cells, then re-runs the cells ``rerun`` (indexes)."""
    cells = code_cells(path)
    index = {cid: i for i, (cid, _) in enumerate(cells)}
    kernel = Kernel(path.parent, mode, kernel_path)
    try:
        package = kernel.value("__import__('reactive_kernel').__file__")
        if kernel_path and not package.startswith(kernel_path + os.sep):
            raise SystemExit(f"the kernel imported {package}, not the copy in {kernel_path}")
        errors: dict[str, str] = {}
        started = time.perf_counter()
        for i, (cid, source) in enumerate(cells):
            errors.update(problem(f"run {i}", *kernel.run(source, cid)))
        run_all = time.perf_counter() - started
        rerun_time = 0.0
        pulls: dict[int, list] = {}
        deps: dict[int, list] = {}
        reasons: dict[int, dict] = {}
        for i in rerun:
            cid, source = cells[i]
            probe = kernel.value(PROBE.replace("CELL_ID", repr(cid)))
            labels, defines, writers, reads, changed = probe
            started = time.perf_counter()
            reply, text = kernel.run(source, cid)
            rerun_time += time.perf_counter() - started
            errors.update(problem(f"re-run {i}", reply, text))
            for label, first in HEADER.findall(text):
                j = index.get(labels.get(label.strip("[]")), label)  # its label if unknown
                (pulls if first else deps).setdefault(i, []).append(j)
            if i in pulls:
                reasons[i] = {"source": source, "changed_in_place": changed, "why": {
                    j: why(i, defines[cid], set(reads) & set(defines[cells[j][0]]), changed,
                           {n: index.get(w) for n, w in writers.items()})
                    for j in pulls[i] if isinstance(j, int)
                }}
        kept = kernel.value(KEPT)
        return {"package": package, "pulls": pulls, "deps": deps, "reasons": reasons,
                "errors": errors, "run_all_s": run_all, "rerun_s": rerun_time,
                "kept": kept[0], "kept_mib": kept[1] / 2**20}
    finally:
        kernel.close()


def problem(where: str, reply: dict, text: str) -> dict[str, str]:
    """The error a request ended with, or the kernel's internal-error warning."""
    lines = text.strip().splitlines()
    internal = [line for line in lines if line.startswith("reactive_kernel: internal error")]
    if internal:
        return {where: internal[0]}
    return {where: lines[-1] if lines else reply["status"]} if reply["status"] != "ok" else {}


def why(i: int, own: list[str], names: set[str], changed: dict, writers: dict) -> str:
    """Why cell ``i`` pulled a cell from which it reads ``names``."""
    reasons = []
    for name in sorted(names):
        if name in changed:
            reasons.append(f"changes `{name}` in place (seen on its last run)")
        elif name in own:
            reasons.append(f"rebinds `{name}`, which it reads (x = f(x), or a guessed change)")
        elif writers.get(name) is not None and writers[name] > i:
            reasons.append(f"`{name}` now holds the value cell {writers[name]} below gave it")
        else:
            reasons.append(f"reads `{name}`")
    return "; ".join(reasons) or "a cell pulled with it needs it"


def merge(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {"package": sessions[0]["package"]}
    for key in ("pulls", "deps", "reasons", "errors"):
        merged[key] = {k: v for s in sessions for k, v in s[key].items()}
    for key in ("run_all_s", "rerun_s", "kept", "kept_mib"):
        merged[key] = sum(s[key] for s in sessions)
    return merged


def measure(path: Path, kernel_path: str | None) -> dict[str, Any]:
    n = len(code_cells(path))
    result: dict[str, Any] = {"notebook": os.path.relpath(path, ROOT), "cells": n}
    result["lazy"] = session(path, "lazy", kernel_path, list(range(n)))
    result["auto"] = session(path, "auto", kernel_path, list(range(n)))
    result["alone"] = merge([session(path, "lazy", kernel_path, [i]) for i in range(n)])
    for key in ("lazy", "auto", "alone"):
        result[key]["pulled"] = sum(map(len, result[key]["pulls"].values()))
        result[key]["deps_rerun"] = sum(map(len, result[key]["deps"].values()))
    return result


def short(by_cell: dict[int, list]) -> str:
    """``4<-1,3``: cell 4 pulled cells 1 and 3 (indexes among the code cells)."""
    return " ".join(f"{i}<-{','.join(map(str, js))}" for i, js in sorted(by_cell.items())) or "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all of them")
    parser.add_argument("--kernel-path", help="directory holding the reactive_kernel to run")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "rerun_cost.json"))
    args = parser.parse_args()
    kernel_path = str(Path(args.kernel_path).resolve()) if args.kernel_path else None
    results = [measure(path.resolve(), kernel_path) for path in args.notebooks or NOTEBOOKS]

    print(f"reactive_kernel: {results[0]['lazy']['package']}\n")
    row = "{:<40} {:>5} {:>6} {:>6} {:>6} {:>6} {:>7} {:>7} {:>5} {:>6}  {}"
    print(row.format("", "cells", "lazy", "auto", "auto", "alone", "run all", "auto",
                     "kept", "kept", "alone: cell<-pulled cells"))
    print(row.format("notebook", "rerun", "pulled", "pulled", "deps", "pulled", "s",
                     "rerun s", "", "MiB", "(code cells)"))
    for r in results:
        auto = r["auto"]
        print(row.format(r["notebook"], r["cells"], r["lazy"]["pulled"], auto["pulled"],
                         auto["deps_rerun"], r["alone"]["pulled"], f"{auto['run_all_s']:.2f}",
                         f"{auto['rerun_s']:.2f}", auto["kept"], f"{auto['kept_mib']:.1f}",
                         short(r["alone"]["pulls"])))
        errors: dict[tuple[str, str], list[str]] = {}
        for key in ("lazy", "auto", "alone"):
            for where, message in r[key]["errors"].items():
                errors.setdefault((where, message), []).append(key)
        for (where, message), keys in errors.items():
            print(f"    {where} ({', '.join(keys)}): {message}")
    totals = {"rerun": sum(r["cells"] for r in results)}
    for key, count in (("lazy", "pulled"), ("auto", "pulled"), ("auto", "deps_rerun"),
                       ("alone", "pulled"), ("auto", "run_all_s"), ("auto", "rerun_s"),
                       ("auto", "kept"), ("auto", "kept_mib")):
        totals[f"{key}_{count}"] = sum(r[key][count] for r in results)
    shown = [f"{v:.2f}" if isinstance(v, float) else v for v in totals.values()]
    print(row.format("total", *shown, ""))
    print(f"auto: re-running every cell once ran {totals['auto_pulled'] + totals['auto_deps_rerun']}"
          f" other cells and took {totals['auto_rerun_s'] / totals['auto_run_all_s']:.2f}× the"
          " time of running the notebooks top to bottom")
    print("\nalone: why each cell pulled")
    for r in results:
        for i, reason in sorted(r["alone"]["reasons"].items()):
            first_line = reason["source"].splitlines()[0]
            print(f"  {Path(r['notebook']).stem} {i} ({first_line[:50]})")
            for j, text in reason["why"].items():
                print(f"      <- {j}: {text}")
    report = {"kernel_path": kernel_path, "totals": totals, "notebooks": results}
    Path(args.json).write_text(json.dumps(report, indent=1))
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
