"""The ``%reactive`` line magic: mode, status, explanations and the graph picture."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class

from .execution import MODES
from .report import GraphView, explain, status_text

USAGE = """%reactive                 status: mode and every cell that is not up to date, with why
%reactive auto|lazy|off   auto re-runs dependent cells, lazy marks them stale, off is plain IPython
%reactive graph           the dependency graph (a picture where the frontend shows SVG)
%reactive why [N]         why cell [N] (its execution count) is in its state; all cells if no N"""


@magics_class
class ReactiveMagics(Magics):
    def __init__(self, shell: Any, executor: Any) -> None:
        super().__init__(shell)
        self.executor = executor

    @line_magic
    def reactive(self, line: str) -> Any:
        words = line.split()
        command = words[0].lower() if words else ""
        executor = self.executor
        with executor.lock:
            graph = executor.graph
            if not command:
                print(status_text(graph, executor.mode, executor.reuse.kept))
            elif command in MODES:
                executor.set_mode(command)
                print(f"reactive mode: {command}")
            elif command == "graph":
                return GraphView(graph)
            elif command == "why":
                wanted = [w.strip("[]") for w in words[1:]]
                cells = [c for c in graph.order if not wanted or graph.cells[c].label in wanted]
                if wanted and not cells:
                    raise UsageError(f"no cell with execution count {' '.join(wanted)}")
                print("\n".join(explain(graph, cid) for cid in cells) or "(no cells yet)")
            else:
                raise UsageError(f"unknown %reactive command {command!r}\n{USAGE}")
        return None
