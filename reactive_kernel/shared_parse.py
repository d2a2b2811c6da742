"""IPython parses every cell it runs; the kernel has just parsed it to analyse it. The tree
the analysis made is handed to IPython once, for the same source, instead of a second parse
(the analysis's own parse of a one-line cell measured about 50 µs inside a request: the
parser's code is cold after the messaging). One tree at most is held, the last offered.

Only an exact match is handed over: the source IPython parses (after its own transformation)
is the analysed one, possibly with the newline IPython appends, under compiler flags that
parse as ``ast.parse`` does. The tree is handed over at most once: IPython's AST
transformers may change it. Anything else, IPython parses as usual.
"""

from __future__ import annotations

import __future__
import ast
from typing import Any

# The one future import that changes how source parses (``<>``); ``annotations`` and the
# others only change the compiled code.
_PARSE_FLAGS = __future__.barry_as_FLUFL.compiler_flag


class SharedParse:
    """Holds the last analysed tree until IPython parses the same source."""

    @classmethod
    def on(cls, compiler: Any) -> SharedParse:
        """The one installed on this compiler (an executor made again for the same shell, as
        tests do, does not wrap the compiler twice)."""
        shared = vars(compiler).get("_reactive_shared_parse")
        if shared is None:
            shared = compiler._reactive_shared_parse = cls(compiler)
        return shared

    def __init__(self, compiler: Any) -> None:
        self._source: str | None = None
        self._tree: ast.Module | None = None
        self._compiler = compiler
        self._parse = compiler.ast_parse
        compiler.ast_parse = self.ast_parse  # this compiler only (the shell's)

    def offer(self, source: str, tree: ast.Module) -> None:
        self._source, self._tree = source, tree

    def ast_parse(self, source: str, filename: str = "<unknown>", symbol: str = "exec") -> Any:
        """IPython's ``CachingCompiler.ast_parse``, with the offered tree if it fits."""
        tree, offered = self._tree, self._source
        if (
            tree is not None
            and symbol == "exec"
            and (source == offered or source == f"{offered}\n")
            and not self._compiler.flags & _PARSE_FLAGS
        ):
            self._source = self._tree = None
            return tree
        return self._parse(source, filename, symbol)
