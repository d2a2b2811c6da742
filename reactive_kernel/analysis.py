"""Static analysis of one cell: the top-level names it defines and the names it reads.

Pure Python (stdlib ``ast`` only) so that it is fast to test and reusable outside a kernel.
IPython syntax (``%magic``, ``!cmd``) is handled by the caller passing IPython's transformed
source; this module recognises the ``get_ipython().run_*magic(...)`` calls that transformation
produces, and analyses the bodies of code-running magics as code.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

# Cell magics whose body runs in the user namespace, so its assignments are definitions.
CODE_CELL_MAGICS = frozenset({"time", "capture", "prun"})
# Magics whose code runs in a private scope: what it reads counts, what it binds does not.
READ_ONLY_CODE_MAGICS = frozenset({"timeit"})
# Method calls used as statements that, by convention, do not change their receiver. Without
# this list, ending a cell with ``df.head()`` would count as mutating ``df``.
READ_ONLY_METHODS = frozenset(
    {
        "head", "tail", "describe", "info", "sample", "copy", "plot", "hist", "show",
        "mean", "median", "sum", "min", "max", "std", "var", "count", "nunique", "unique",
        "value_counts", "isna", "isnull", "notna", "to_string", "to_csv", "to_json",
        "to_numpy", "tolist", "to_list", "keys", "values", "items", "get", "index",
        "find", "startswith", "endswith", "format", "round", "corr", "memory_usage",
    }
)
# Names a transformed cell reads that are IPython plumbing, never a user's variable.
_PLUMBING = frozenset({"get_ipython"})
_INTERPOLATED_EXPR = re.compile(r"(?<!\{)\{([^{}]+)\}(?!\})")
_INTERPOLATED_NAME = re.compile(r"(?<!\$)\$([A-Za-z_]\w*)")

Transform = Callable[[str], str]


@dataclass(frozen=True)
class CellAnalysis:
    """What a cell does to the global namespace, as far as its source tells.

    ``defines`` includes names bound, deleted or mutated at top level (and names a function
    declares ``global`` and assigns). ``mutates`` holds the names the cell defines *only* by
    mutating them, so a caller can drop those bound to modules (``plt.plot()``). ``reads``
    are the names the cell needs from earlier cells when it runs. ``deferred`` maps a
    function or class the cell defines to the globals its body reads when called: a cell
    that calls it reads those too (globals are late-bound).
    """

    defines: frozenset[str] = frozenset()
    reads: frozenset[str] = frozenset()
    mutates: frozenset[str] = frozenset()
    deferred: Mapping[str, frozenset[str]] = field(default_factory=dict)


def analyse(source: str, transform: Transform | None = None) -> CellAnalysis:
    """Analyse Python ``source`` (already passed through IPython's transformation, if any).

    ``transform`` is applied to the bodies of code-running cell magics before they are
    parsed. Raises ``SyntaxError`` for source that does not parse.
    """
    tree = ast.parse(source)
    visitor = _CellVisitor(transform)
    visitor.visit_statements(tree.body)
    return visitor.result()


@dataclass
class _Scope:
    kind: str  # "module", "class", "function" or "comprehension"
    locals: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)
    deferred: bool = False  # body runs later (a function), not while the cell runs


class _CellVisitor(ast.NodeVisitor):
    """Walks a cell in execution order, tracking Python's scoping rules."""

    def __init__(self, transform: Transform | None) -> None:
        self.transform = transform
        self.module = _Scope("module")
        self.scopes: list[_Scope] = [self.module]
        self.reads: set[str] = set()
        self.defines: set[str] = set()
        self.mutated: set[str] = set()
        self.deferred: dict[str, set[str]] = {}
        self._sink: set[str] | None = None  # collects deferred reads of the current definition

    def result(self) -> CellAnalysis:
        bound = self.defines
        return CellAnalysis(
            defines=frozenset(bound | self.mutated),
            reads=frozenset(self.reads - _PLUMBING),
            mutates=frozenset(self.mutated - bound),
            deferred={name: frozenset(names - _PLUMBING) for name, names in self.deferred.items()},
        )

    # -- names ---------------------------------------------------------------------------

    @property
    def at_top(self) -> bool:
        """True while visiting code that runs as the cell runs at module level."""
        return len(self.scopes) == 1

    def read(self, name: str) -> None:
        innermost = self.scopes[-1]
        deferred = False
        for scope in reversed(self.scopes):
            if scope.kind == "module":
                break
            deferred = deferred or scope.deferred
            if scope.kind == "class" and scope is not innermost:
                continue  # class bodies are not visible from nested scopes
            if name in scope.globals:
                break
            if name in scope.locals:
                return
        if deferred:
            if self._sink is not None:
                self._sink.add(name)
            return
        self._read_global(name)

    def _read_global(self, name: str) -> None:
        """A read at cell-run time: from an earlier cell unless bound earlier in this cell."""
        if name not in self.module.locals:
            self.reads.add(name)
            return
        # Calling a function defined earlier in this cell reads its globals now.
        seen: set[str] = set()
        pending = [name]
        while pending:
            current = pending.pop()
            for needed in self.deferred.get(current, ()):
                if needed in seen:
                    continue
                seen.add(needed)
                if needed in self.module.locals:
                    pending.append(needed)
                else:
                    self.reads.add(needed)

    def bind(self, name: str) -> None:
        scope = self.scopes[-1]  # function and comprehension locals are known in advance
        if scope.kind in ("module", "class"):
            scope.locals.add(name)
        if scope is self.module:
            self.defines.add(name)

    def mutate(self, target: ast.expr) -> None:
        """``x.a = …``, ``x[k] = …``, ``x.m()`` at top level mutate (so redefine) ``x``."""
        base = _base_name(target)
        if base is not None and self.at_top:
            self.mutated.add(base)

    # -- statements ----------------------------------------------------------------------

    def visit_statements(self, body: Iterable[ast.stmt]) -> None:
        for stmt in body:
            self.visit(stmt)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.read(node.id)
        else:
            self.bind(node.id)

    def _visit_target(self, target: ast.expr) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._visit_target(element)
            return
        if isinstance(target, ast.Starred):
            self._visit_target(target.value)
            return
        if isinstance(target, (ast.Attribute, ast.Subscript)):
            self.mutate(target)
        self.visit(target)

    def visit_Assign(self, node: ast.Assign) -> None:
        self._visit_value(node.value, node.targets)
        for target in node.targets:
            self._visit_target(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.visit(node.annotation)
        if node.value is None:
            if not isinstance(node.target, ast.Name):
                self.visit(node.target.value)  # type: ignore[union-attr]
            return  # ``x: int`` alone binds nothing
        self._visit_value(node.value, [node.target])
        self._visit_target(node.target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.read(node.target.id)
            self.bind(node.target.id)
        else:
            self._visit_target(node.target)

    def _visit_value(self, value: ast.expr, targets: list[ast.expr]) -> None:
        """``f = lambda: b`` defines a function: its body's reads are deferred to ``f``'s callers."""
        if isinstance(value, ast.Lambda) and self.at_top:
            owners = [name for target in targets for name in _target_names(target)]
            self._visit_function(value, owners)
        else:
            self.visit(value)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._visit_target(target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        name = node.target.id
        for scope in reversed(self.scopes):  # binds in the nearest non-comprehension scope
            if scope.kind != "comprehension":
                if scope.kind == "module":
                    self.module.locals.add(name)
                    self.defines.add(name)
                return

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self._visit_target(node.target)
        self.visit_statements(node.body)
        self.visit_statements(node.orelse)

    visit_AsyncFor = visit_For

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._visit_target(item.optional_vars)
        self.visit_statements(node.body)

    visit_AsyncWith = visit_With

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.bind(node.name)
        self.visit_statements(node.body)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.bind(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":  # star imports are learnt at run time
                self.bind(alias.asname or alias.name)

    def visit_Expr(self, node: ast.Expr) -> None:
        call = node.value.value if isinstance(node.value, ast.Await) else node.value
        if isinstance(call, ast.Call) and self._visit_ipython_call(call):
            return
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr not in READ_ONLY_METHODS
        ):
            self.mutate(call.func.value)
        self.visit(node.value)

    # match statement patterns
    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.pattern is not None:
            self.visit(node.pattern)
        if node.name:
            self.bind(node.name)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self.bind(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        for key in node.keys:
            self.visit(key)
        for pattern in node.patterns:
            self.visit(pattern)
        if node.rest:
            self.bind(node.rest)

    # -- nested scopes -------------------------------------------------------------------

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._visit_function(node, [node.name])
        self.bind(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._visit_function(node, [])

    def _visit_function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, owners: list[str]
    ) -> None:
        """Defaults and annotations run now; the body runs when called."""
        args = node.args
        for default in [*args.defaults, *args.kw_defaults]:
            if default is not None:
                self.visit(default)
        if not isinstance(node, ast.Lambda):
            for arg in _all_args(args):
                if arg.annotation is not None:
                    self.visit(arg.annotation)
            if node.returns is not None:
                self.visit(node.returns)
        body = node.body if isinstance(node.body, list) else [ast.Expr(node.body)]
        is_lambda = isinstance(node, ast.Lambda)
        scope = _Scope(
            "function",
            locals={arg.arg for arg in _all_args(args)} | _bound_names(body),
            globals=_declared(body, ast.Global),
            # A lambda inside an expression runs while the cell runs; one assigned to a name is
            # a function definition like ``def``.
            deferred=not is_lambda or bool(owners),
        )
        # ``global x`` then ``x = …`` in a function defines ``x`` for the whole notebook.
        self.defines.update(scope.globals & scope.locals)
        scope.locals -= scope.globals | _declared(body, ast.Nonlocal)
        opened_sink = scope.deferred and self._sink is None
        if opened_sink:
            self._sink = set()
        self.scopes.append(scope)
        try:
            if is_lambda:
                self.visit(node.body)
            else:
                self.visit_statements(node.body)  # type: ignore[arg-type]
        finally:
            self.scopes.pop()
        if opened_sink:
            sink, self._sink = self._sink, None
            for owner in owners:
                self.deferred.setdefault(owner, set()).update(sink or ())

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        opened_sink = self.at_top and self._sink is None
        if opened_sink:
            self._sink = set()
        self.scopes.append(_Scope("class", globals=_declared(node.body, ast.Global)))
        try:
            self.visit_statements(node.body)
        finally:
            self.scopes.pop()
        if opened_sink:
            self.deferred.setdefault(node.name, set()).update(self._sink or ())
            self._sink = None
        self.bind(node.name)

    def _visit_comprehension(self, node: ast.expr, elements: list[ast.expr]) -> None:
        generators: list[ast.comprehension] = node.generators  # type: ignore[attr-defined]
        self.visit(generators[0].iter)  # evaluated in the enclosing scope
        scope = _Scope("comprehension")
        for generator in generators:
            scope.locals.update(_target_names(generator.target))
        self.scopes.append(scope)
        try:
            for index, generator in enumerate(generators):
                if index:
                    self.visit(generator.iter)
                for condition in generator.ifs:
                    self.visit(condition)
            for element in elements:
                self.visit(element)
        finally:
            self.scopes.pop()

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> None:
        self._visit_comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._visit_comprehension(node, [node.key, node.value])

    # -- IPython -------------------------------------------------------------------------

    def _visit_ipython_call(self, call: ast.Call) -> bool:
        """Handle ``get_ipython().run_cell_magic(...)`` and friends; False if not one."""
        func = call.func
        if not (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name)
            and func.value.func.id == "get_ipython"
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args)
        ):
            return False
        args: list[str] = [a.value for a in call.args]  # type: ignore[attr-defined]
        if func.attr == "run_cell_magic" and len(args) == 3:
            name, line, body = args
            self._read_interpolated(line)
            if name == "capture":
                words = [w for w in line.split() if not w.startswith("-")]
                if words:
                    self.bind(words[0])
            self._visit_magic_code(name, body, cell=True)
        elif func.attr == "run_line_magic" and len(args) == 2:
            name, line = args
            if not self._visit_magic_code(name, line, cell=False):
                self._read_interpolated(line)
        else:
            for arg in args:  # system(), getoutput(): ``!echo {x} $y``
                self._read_interpolated(arg)
        return True

    def _visit_magic_code(self, magic: str, code: str, *, cell: bool) -> bool:
        if magic not in CODE_CELL_MAGICS | READ_ONLY_CODE_MAGICS:
            return False
        if cell and self.transform is not None:
            code = self.transform(code)
        if magic == "timeit" and not cell:
            code = _strip_options(code)
        try:
            tree = ast.parse(code)
        except SyntaxError:
            return True  # the magic reports it when the cell runs
        if magic in READ_ONLY_CODE_MAGICS:
            inner = analyse(code, self.transform)
            for name in inner.reads:
                self.read(name)
        else:
            self.visit_statements(tree.body)
        return True

    def _read_interpolated(self, text: str) -> None:
        """IPython expands ``{expr}`` and ``$name`` in magic and shell lines."""
        for match in _INTERPOLATED_EXPR.finditer(text):
            try:
                expr = ast.parse(match.group(1).strip(), mode="eval")
            except SyntaxError:
                continue
            for node in ast.walk(expr):
                if isinstance(node, ast.Name):
                    self.read(node.id)
        for match in _INTERPOLATED_NAME.finditer(text):
            self.read(match.group(1))


def _strip_options(line: str) -> str:
    """Drop leading ``-n1 -r 3`` style options of ``%timeit``."""
    words = line.split()
    while words and words[0].startswith("-"):
        option = words.pop(0)
        if len(option) == 2 and words:
            words.pop(0)
    return " ".join(words)


def _base_name(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _target_names(target: ast.expr) -> Iterator[str]:
    for node in ast.walk(target):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            yield node.id


def _all_args(args: ast.arguments) -> list[ast.arg]:
    extra = [a for a in (args.vararg, args.kwarg) if a is not None]
    return [*args.posonlyargs, *args.args, *args.kwonlyargs, *extra]


def _local_nodes(body: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Nodes of one scope: skips nested functions, lambdas, classes and comprehension targets."""
    pending = list(body)
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.comprehension):
            pending.extend([node.iter, *node.ifs])  # its target is the comprehension's own
            continue
        pending.extend(ast.iter_child_nodes(node))


def _bound_names(body: Iterable[ast.AST]) -> set[str]:
    """Names a function body binds (its locals), per Python's compile-time rules."""
    names: set[str] = set()
    for node in _local_nodes(body):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(a.asname or a.name.split(".")[0] for a in node.names if a.name != "*")
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    return names


def _declared(body: Iterable[ast.AST], kind: type[ast.Global] | type[ast.Nonlocal]) -> set[str]:
    return {name for node in _local_nodes(body) if isinstance(node, kind) for name in node.names}
