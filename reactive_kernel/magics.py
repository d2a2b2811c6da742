"""The ``%reactive`` line magic: mode, status, explanations and the graph diagram."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.display import display

from .execution import MODES
from .report import GraphView, explain, status_text

USAGE = """%reactive                 status: mode and every cell that is not up to date, with why
%reactive auto|lazy|off   auto re-runs dependent cells, lazy marks them stale, off is plain IPython
%reactive graph           the dependency graph: a Mermaid diagram (text where it is not rendered),
                          kept up to date while the kernel runs
%reactive why [CELL]      why a cell is in its state. CELL: its number as messages give it
                          (`4` or `cell 4`), its cell id, or `all`; none: the cell above"""


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
                view = GraphView(graph, hide=executor.running)
                executor.graph_display = display(view, display_id=True)
                executor.graph_shown = (executor.running, view.mermaid())
            elif command == "why":
                print(self._why(" ".join(words[1:])))
            else:
                raise UsageError(f"unknown %reactive command {command!r}\n{USAGE}")
        return None

    reactive.__doc__ = f"The reactive kernel's controls.\n\n{USAGE}"

    def _why(self, wanted: str) -> str:
        """Explanations, never an error: a saved ``%reactive why 5`` must not stop Run All
        when the notebook changed."""
        graph = self.executor.graph
        order = graph.order
        if wanted.lower() == "all" or (not wanted and self.executor.running not in order):
            return "\n".join(explain(graph, cid) for cid in order) or "(no cells yet)"
        if not wanted:
            position = order.index(self.executor.running)
            if position == 0:
                return "(no cell above this one to explain)"
            return explain(graph, order[position - 1])
        if wanted in graph.cells:
            return explain(graph, wanted)
        number = wanted.lower().removeprefix("cell").strip(" #")
        found = graph.numbered(int(number)) if number.isdigit() else None
        if found is not None:
            return explain(graph, found)
        return (
            f"%reactive why: no code cell {wanted!r}: give a cell's number as messages name it "
            "(`cell 4 · …`), a cell id, `all`, or nothing (the cell above)"
        )
