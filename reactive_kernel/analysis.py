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
from types import MappingProxyType
from typing import Any

from .rare_fields import RareField, set_rare

# Magics whose code runs in the user namespace, so its assignments are definitions.
CODE_CELL_MAGICS = frozenset({"time", "capture", "prun"})
# Magics whose code runs in a private scope: what it reads counts, what it binds does not.
READ_ONLY_CODE_MAGICS = frozenset({"timeit"})
# Magics whose line is getopt-style options then code (setup code, for ``%%timeit``), with
# IPython's own option specs: a letter followed by ``:`` takes a value.
_MAGIC_OPTIONS = {"timeit": "n:r:tcp:qo", "prun": "D:l:rs:T:q"}
# ``x?``, ``x??`` and friends look the object up in the user namespace.
_PINFO_MAGICS = frozenset({"pinfo", "pinfo2", "pdef", "pdoc", "psource", "pfile"})
# Methods that, by convention, return a result and leave their receiver alone. Any other
# method call on a name counts as mutating it (``rng.normal()`` advances ``rng``); without
# this list, ending a cell with ``df.head()`` would make it a definer of ``df``. A call with
# ``inplace=True`` always mutates.
READ_ONLY_METHODS = frozenset(
    {
        # pandas / numpy queries and transformations that return new objects
        "head", "tail", "describe", "info", "sample", "copy", "plot", "hist", "show",
        "mean", "median", "sum", "min", "max", "std", "var", "count", "nunique", "unique",
        "value_counts", "isna", "isnull", "notna", "notnull", "to_string", "to_csv",
        "to_json", "to_numpy", "tolist", "to_list", "to_dict", "to_frame", "to_records",
        "to_markdown", "to_html", "to_latex", "keys", "values", "items", "get", "index",
        "round", "corr", "cov", "memory_usage", "groupby", "agg", "aggregate", "merge",
        "join", "query", "assign", "drop", "dropna", "fillna", "replace", "rename",
        "sort_values", "sort_index", "reset_index", "set_index", "astype", "apply", "map",
        "filter", "pivot", "pivot_table", "melt", "where", "mask", "abs", "cumsum", "cumprod",
        "diff", "pct_change", "shift", "rolling", "expanding", "resample", "select_dtypes",
        "nlargest", "nsmallest", "idxmax", "idxmin", "any", "all", "quantile", "clip", "isin",
        "between", "duplicated", "drop_duplicates", "explode", "stack", "unstack",
        "transpose", "dot", "equals", "reindex", "reshape", "flatten", "ravel", "argmax",
        "argmin", "argsort", "prod", "nonzero", "squeeze", "item", "tobytes",
        # str, bytes and dict queries
        "find", "startswith", "endswith", "format", "split", "rsplit", "splitlines", "strip",
        "lstrip", "rstrip", "lower", "upper", "title", "capitalize", "encode", "decode",
        # fitted models queried, not refitted
        "predict", "predict_proba", "predict_log_proba", "decision_function", "score",
        "transform",
    }
)
# Names a transformed cell reads that are IPython plumbing, never a user's variable.
_PLUMBING = frozenset({"get_ipython"})
# Reading one of these, a cell (or a function it defines) can bind any global by name, not
# only those its source names: ``exec``, ``globals()[k] = …``, magics, ``sys.modules``.
DYNAMIC_NAMES = frozenset(
    {"exec", "eval", "globals", "vars", "locals", "__import__", "sys", "builtins",
     "__builtins__", "get_ipython"}
)
_INTERPOLATED_EXPR = re.compile(r"(?<!\{)\{([^{}]+)\}(?!\})")
_INTERPOLATED_NAME = re.compile(r"(?<!\$)\$([A-Za-z_]\w*)")

Transform = Callable[[str], str]

_EMPTY: frozenset[str] = frozenset()
_NO_DEFERRED: Mapping[str, frozenset[str]] = MappingProxyType({})


# One-name sets by name. A frozenset costs 216 bytes whatever it holds; in a notebook most
# cells define one name and read a few, each of them defined by one other cell, so a set
# shared by a definer and its readers halves what the graph holds. Bounded: cleared when full
# (sharing then starts over; nothing depends on it but memory).
_SINGLES: dict[str, frozenset[str]] = {}
_SINGLES_MAX = 200_000


def frozen(names: Iterable[str]) -> frozenset[str]:
    """``frozenset(names)``, sharing one empty set and one set per single name: the graph
    holds several sets per cell, most of them empty or of one name."""
    found = frozenset(names)
    if len(found) != 1:
        return found if found else _EMPTY
    (name,) = found
    shared = _SINGLES.get(name)
    if shared is None:
        if len(_SINGLES) >= _SINGLES_MAX:
            _SINGLES.clear()
        shared = _SINGLES[name] = found
    return shared


@dataclass(frozen=True, slots=True, init=False)
class CellAnalysis:
    """What a cell does to the global namespace, as far as its source tells.

    ``defines`` includes names bound, deleted or mutated at top level (and names a function
    declares ``global`` and assigns). ``mutates`` holds the names the cell defines *only* by
    mutating them, so a caller can drop those bound to modules (``plt.plot()``). ``reads``
    are the names the cell needs from earlier cells when it runs. ``deferred`` maps a
    function or class the cell defines (or a global it stores a lambda in, ``obj.cb = lambda:
    …``) to the globals its body reads when called: a cell that uses it reads those too
    (globals are late-bound). ``maybe`` holds the defined names the cell may leave unbound
    (bound only inside ``if``/``try``/loops, or by a function's ``global`` statement): after
    such a run the name keeps the value it had before the cell. ``stars`` are the modules it
    star-imports (``from m import *``): their names are known only once ``m`` is imported.

    Mutation by a method call is a guess: ``calls`` holds the names among ``mutates`` that
    only receive method calls (``model.generate()``), which the kernel judges by what the
    cell's runs were seen to change. ``seeds``: the cell calls something named like a seed
    function (``random.seed(1)``, ``np.random.seed(0)``, ``set_seed(42)``).

    ``attributes``: ``name.attr`` for each attribute it reads, as the cell runs, of an earlier
    cell's value (``slider.value``): a widget's value changed in the frontend makes the cells
    reading it out of date, not every cell using the widget.

    ``assigns``: the globals the functions it defines assign when called (``global x``), which
    any cell calling them may rebind. ``dynamic``: the cell, or a function it defines, reads
    one of ``DYNAMIC_NAMES`` (or runs a magic), so its runs may bind names its source does not
    show.
    """

    defines: frozenset[str]
    reads: frozenset[str]
    _rare: dict[str, object] | None  # the fields below that are not at their default

    mutates = RareField(_EMPTY)
    deferred = RareField(_NO_DEFERRED)
    maybe = RareField(_EMPTY)
    stars = RareField(())
    calls = RareField(_EMPTY)
    seeds = RareField(False)
    assigns = RareField(_EMPTY)
    dynamic = RareField(False)
    attributes = RareField(_EMPTY)

    def __init__(
        self, defines: frozenset[str] = _EMPTY, reads: frozenset[str] = _EMPTY, **rare: Any
    ) -> None:
        object.__setattr__(self, "defines", defines)
        object.__setattr__(self, "reads", reads)
        object.__setattr__(self, "_rare", None)
        for name, value in rare.items():
            set_rare(self, name, value)

    def replace(self, **changes: Any) -> CellAnalysis:
        """A copy with ``changes`` (``dataclasses.replace``, which its own fields defeat)."""
        fields = {"defines": self.defines, "reads": self.reads, **(self._rare or {})}
        return CellAnalysis(**{**fields, **changes})


class CellTooComplex(Exception):
    """Source Python can run but this analysis cannot finish (nested too deeply, too large)."""


def analyse(source: str, transform: Transform | None = None) -> CellAnalysis:
    """Analyse Python ``source`` (already passed through IPython's transformation, if any).

    ``transform`` is applied to the code of code-running magics (``%%time`` bodies, ``%timeit``
    lines) before it is parsed. Raises ``SyntaxError`` for source that does not parse, and
    ``CellTooComplex`` when the analysis runs out of stack or memory.
    """
    return _analysed(source, transform)[0]


def _analysed(source: str, transform: Transform | None) -> tuple[CellAnalysis, ast.Module]:
    try:
        tree = ast.parse(source)
        visitor = _CellVisitor(transform)
        visitor.visit_statements(tree.body)
        return visitor.result(), tree
    except RecursionError:
        raise CellTooComplex("its expressions are nested too deeply to analyse") from None
    except MemoryError:
        raise CellTooComplex("it is too large to analyse") from None


@dataclass(frozen=True, slots=True)
class Reading:
    """What reading a cell's source gave: its ``analysis`` and the Python source that came
    from, or why there is none: ``syntax`` (neither Python nor IPython syntax: it cannot run)
    or ``complexity`` (Python may run it, this analysis cannot finish)."""

    analysis: CellAnalysis | None
    python: str | None = None
    syntax: str = ""
    complexity: str = ""
    tree: ast.Module | None = None  # the parse of ``python`` (IPython may reuse it once)


def read_cell(source: str, transform: Transform) -> Reading:
    """Analyse a cell as IPython runs it: plain Python first (most cells need no
    transformation), then after IPython's ``transform`` (magics, ``!ls``, ``x?``)."""
    try:
        analysis, tree = _analysed(source, transform)
        return Reading(analysis, source, tree=tree)
    except SyntaxError:
        pass
    except CellTooComplex as problem:
        return Reading(None, complexity=str(problem))
    try:
        transformed = transform(source)
    except Exception as error:  # noqa: BLE001 - IPython's transformer on arbitrary text
        return Reading(None, syntax=f"IPython cannot read it: {error}")
    try:
        analysis, tree = _analysed(transformed, transform)
        return Reading(analysis, transformed, tree=tree)
    except SyntaxError as error:
        where = f" on line {error.lineno}" if error.lineno else ""
        return Reading(None, syntax=f"{error.msg}{where}")
    except CellTooComplex as problem:
        return Reading(None, complexity=str(problem))


def same_code(source: str, other: str, transform: Transform) -> bool:
    """Whether two sources are the same code: equal once parsed (they differ only in
    comments, blank lines, spacing or line breaks inside brackets)."""
    if source == other:
        return True
    try:
        return _parsed(source, transform) == _parsed(other, transform)
    except Exception:  # noqa: BLE001 - not readable: not provably the same
        return False


def _parsed(source: str, transform: Transform) -> str:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = ast.parse(transform(source))
    return ast.dump(tree)  # without positions: where the code sits does not count


@dataclass
class _Scope:
    kind: str  # "module", "class", "function" or "comprehension"
    locals: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)
    deferred: bool = False  # body runs later (a function), not while the cell runs


@dataclass
class _Body:
    """What the body of a function or class defined at top level does when it is called."""

    reads: set[str] = field(default_factory=set)  # globals it reads (late-bound)
    binds: set[str] = field(default_factory=set)  # globals it assigns (``global x; x = …``)


class _CellVisitor(ast.NodeVisitor):
    """Walks a cell in execution order, tracking Python's scoping rules."""

    def __init__(self, transform: Transform | None) -> None:
        self.transform = transform
        self.module = _Scope("module")
        self.scopes: list[_Scope] = [self.module]
        self.reads: set[str] = set()
        self.defines: set[str] = set()
        self.surely: set[str] = set()  # bound on every path through the cell
        self.mutated: set[str] = set()  # changed in place by a store (``x[k] = …``)
        self.called: set[str] = set()  # receivers of method calls (maybe changed in place)
        self.seeds = False
        self.stars: list[str] = []
        self.deferred: dict[str, set[str]] = {}
        self.binds: dict[str, set[str]] = {}  # function -> globals a call assigns
        self.magic = False  # runs a magic other than those running code analysed here
        self.attributes: set[str] = set()  # ``name.attr`` read at top level
        self._sink: _Body | None = None  # collects what the current top-level definition does
        self._branches = 0  # > 0 inside code that may or may not run (if, loop, try, match)

    def result(self) -> CellAnalysis:
        bound = self.defines
        changed = self.mutated | self.called
        rare: dict[str, Any] = {}  # only fields off their default: most cells set none
        if changed - bound:
            rare["mutates"] = frozen(changed - bound)
            rare["calls"] = frozen(self.called - self.mutated - bound)
        if self.deferred:
            rare["deferred"] = {
                name: frozen(names - _PLUMBING) for name, names in self.deferred.items()
            }
        if bound - self.surely:
            rare["maybe"] = frozen(bound - self.surely)
        if self.stars:
            rare["stars"] = tuple(self.stars)
        if self.seeds:
            rare["seeds"] = True
        if self.binds:
            rare["assigns"] = frozen(set().union(*self.binds.values()))
        if self.magic or any(
            not DYNAMIC_NAMES.isdisjoint(n) for n in (self.reads, *self.deferred.values())
        ):
            rare["dynamic"] = True
        if self.attributes:
            rare["attributes"] = frozen(self.attributes)
        return CellAnalysis(frozen(bound | changed), frozen(self.reads - _PLUMBING), **rare)

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
                self._sink.reads.add(name)
            return
        self._read_global(name)

    def _read_global(self, name: str) -> None:
        """A read at cell-run time: from an earlier cell unless bound earlier in this cell."""
        if name not in self.module.locals:
            self.reads.add(name)
            return
        # Using (so probably calling) a function defined earlier in this cell reads its globals
        # now, and binds the globals it assigns.
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
            self.module.locals.update(self.binds.get(current, ()))

    def bind(self, name: str, scope: _Scope | None = None) -> None:
        scope = self.scopes[-1] if scope is None else scope
        if scope.kind in ("function", "comprehension"):
            return  # their locals are known in advance
        if scope.kind == "class" and name not in scope.globals:
            scope.locals.add(name)
            return
        self.module.locals.add(name)
        self.defines.add(name)
        if not self._branches:
            self.surely.add(name)
            # Surely a new value: what an earlier definition of the name would read is moot.
            # (A conditional one keeps it: either definition may be the one called.)
            self.deferred.pop(name, None)
            self.binds.pop(name, None)

    def mutate(self, target: ast.expr, into: set[str] | None = None) -> None:
        """``x.a = …``, ``x[k] = …`` mutate (so redefine) a global ``x``; ``x.m()`` may
        (``into``: where to note it).

        Only in code that runs as the cell runs: top level, and class bodies (they run when
        the class is defined), where ``x`` is not a class attribute.
        """
        base = _base_name(target)
        innermost = self.scopes[-1]
        if base is None or (innermost.kind == "class" and base in innermost.locals):
            return
        if self._runs_now:
            (self.mutated if into is None else into).add(base)

    @property
    def _runs_now(self) -> bool:
        return all(scope.kind != "function" for scope in self.scopes)

    def own(self, owners: Iterable[str], body: _Body | None) -> None:
        """Record what calling a definition bound (or stored) under ``owners`` does."""
        if body is None:
            return
        for owner in owners:
            self.deferred.setdefault(owner, set()).update(body.reads)
            self.binds.setdefault(owner, set()).update(body.binds)

    # -- statements ----------------------------------------------------------------------

    def visit_statements(self, body: Iterable[ast.stmt]) -> None:
        for stmt in body:
            self.visit(stmt)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.read(node.id)
        else:
            self.bind(node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        base = node.value
        if (
            isinstance(node.ctx, ast.Load)
            and isinstance(base, ast.Name)
            and self.at_top
            and base.id not in self.module.locals
        ):
            self.attributes.add(f"{base.id}.{node.attr}")
        self.generic_visit(node)

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
        body = self._visit_value(node.value, node.targets)
        for target in node.targets:
            self._visit_target(target)
        if body is not None:
            self.own(_owners(node.targets), body)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if self.scopes[-1].kind != "function":  # local annotations are never evaluated
            self.visit(node.annotation)
        if node.value is None:
            if not isinstance(node.target, ast.Name):
                self.visit(node.target)  # evaluated, all but the final store (``x[k]: int``)
            return  # ``x: int`` alone binds nothing
        body = self._visit_value(node.value, [node.target])
        self._visit_target(node.target)
        if body is not None:
            self.own(_owners([node.target]), body)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.read(node.target.id)
            self.bind(node.target.id)
        else:
            self._visit_target(node.target)

    def _visit_value(self, value: ast.expr, targets: list[ast.expr]) -> _Body | None:
        """``f = lambda: b`` defines a function: its body's reads are deferred to ``f``'s callers.

        Returns what the body does when called, for the caller to record once the targets are
        bound. In a class or function body the enclosing definition collects it.
        """
        if not isinstance(value, ast.Lambda):
            self.visit(value)
            return None
        # ``f().x = lambda: b`` at top level has no owner to defer to: count its reads now.
        deferred = not self.at_top or bool(_owners(targets))
        return self._visit_function(value, deferred=deferred)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            for name in _deleted_names(target):
                self.read(name)  # ``del x`` fails unless x exists
            self._visit_target(target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        for scope in reversed(self.scopes):  # binds in the nearest non-comprehension scope
            if scope.kind != "comprehension":
                self.bind(node.target.id, scope)
                return

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self._branches += 1
        self._visit_target(node.target)
        self.visit_statements(node.body)
        self.visit_statements(node.orelse)
        self._branches -= 1

    visit_AsyncFor = visit_For

    def _visit_branches(self, node: ast.stmt) -> None:
        self._branches += 1
        self.generic_visit(node)
        self._branches -= 1

    visit_If = visit_While = visit_Try = visit_TryStar = visit_Match = _visit_branches

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
            if alias.name != "*":
                self.bind(alias.asname or alias.name)
            elif self.at_top and node.module and not node.level:
                self.stars.append(node.module)  # its names are learnt at run time

    def visit_Call(self, node: ast.Call) -> None:
        if self._visit_ipython_call(node):
            return
        if self._visit_exec(node):
            return
        func = node.func
        callee = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if "seed" in callee.lower() and self._runs_now:
            self.seeds = True
        if isinstance(func, ast.Attribute):
            if any(
                k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in node.keywords
            ):
                self.mutate(func.value)  # ``df.dropna(inplace=True)``
            elif func.attr not in READ_ONLY_METHODS:
                self.mutate(func.value, self.called)  # ``lst.append(1)``, ``rng.normal()``
        self.generic_visit(node)

    def _visit_exec(self, call: ast.Call) -> bool:
        """``exec("k = 1")`` at top level with a literal string runs that code here."""
        if not (
            self.at_top
            and isinstance(call.func, ast.Name)
            and call.func.id == "exec"
            and len(call.args) == 1
            and not call.keywords
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
        ):
            return False
        try:
            body = ast.parse(call.args[0].value).body
        except SyntaxError:
            return False
        self.read("exec")
        self.visit_statements(body)
        return True

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
        body = self._visit_function(node, deferred=True)
        self.bind(node.name)
        self.own([node.name], body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        # A lambda inside an expression (``sorted(xs, key=lambda v: v + off)``) runs now.
        self._visit_function(node, deferred=False)

    def _visit_function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, *, deferred: bool
    ) -> _Body | None:
        """Defaults and annotations run now; the body runs when called (if ``deferred``).

        Returns what the body does when called, if this is a top-level definition.
        """
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
        bound, declared_global, declared_nonlocal = _scope_names(body)
        # ``global x`` then ``x = …`` in a function defines ``x`` for the whole notebook, and
        # calling it binds ``x`` (only its own body: a nested function may never be called).
        assigned = declared_global & bound
        self.defines.update(assigned)
        opened_sink = deferred and self._sink is None
        if opened_sink:
            self._sink = _Body(binds=assigned)
        scope = _Scope(
            "function",
            locals={arg.arg for arg in _all_args(args)} | (bound - declared_nonlocal - assigned),
            globals=declared_global,
            deferred=deferred,
        )
        self.scopes.append(scope)
        try:
            if is_lambda:
                self.visit(node.body)
            else:
                self.visit_statements(node.body)  # type: ignore[arg-type]
        finally:
            self.scopes.pop()
        if not opened_sink:
            return None
        sink, self._sink = self._sink, None
        return sink

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        opened_sink = self._sink is None
        if opened_sink:
            self._sink = _Body()  # its methods' globals are deferred to the class
        self.scopes.append(_Scope("class", globals=_scope_names(node.body)[1]))
        try:
            self.visit_statements(node.body)
        finally:
            self.scopes.pop()
        sink = None
        if opened_sink:
            sink, self._sink = self._sink, None
        self.bind(node.name)
        self.own([node.name], sink)

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
            if name in _MAGIC_OPTIONS:  # the line is code too: ``%%timeit -n1 setup``
                self._visit_magic_code(name, _strip_options(line, name) + "\n" + body)
                return True
            self._read_interpolated(line)
            if not self._visit_magic_code(name, body):
                self.magic = True
            elif name == "capture":
                words = [w for w in line.split() if not w.startswith("-")]
                if words:
                    self.bind(words[0])  # assigned once the body has run
        elif func.attr == "run_line_magic" and len(args) == 2:
            name, line = args
            if name in _PINFO_MAGICS:
                self._read_object(line)
            elif not self._visit_magic_code(name, _strip_options(line, name)):
                self._read_interpolated(line)
                self.magic = True  # ``%store -r``, ``%run -i``: may bind any name
        else:
            for arg in args:  # system(), getoutput(): ``!echo {x} $y``
                self._read_interpolated(arg)
        return True

    def _visit_magic_code(self, magic: str, code: str) -> bool:
        """Analyse the code a code-running magic runs; False if ``magic`` is not one."""
        if magic not in CODE_CELL_MAGICS | READ_ONLY_CODE_MAGICS:
            return False
        if self.transform is not None:
            code = self.transform(code)  # as the magics themselves do
        try:
            tree = ast.parse(code)
        except SyntaxError:
            return True  # the magic reports it when the cell runs
        if magic in READ_ONLY_CODE_MAGICS:
            inner = _CellVisitor(self.transform)
            inner.visit_statements(tree.body)
            for name in inner.reads - _PLUMBING:
                self.read(name)
        else:
            self.visit_statements(tree.body)
        return True

    def _read_object(self, text: str) -> None:
        """``x.attr?`` reads ``x``."""
        try:
            expr = ast.parse(text.strip(), mode="eval")
        except SyntaxError:
            return
        base = _base_name(expr.body)
        if base is not None:
            self.read(base)

    def _read_interpolated(self, text: str) -> None:
        """IPython expands ``{expr}`` and ``$name`` in magic and shell lines."""
        for match in _INTERPOLATED_EXPR.finditer(text):
            try:
                expr = ast.parse(match.group(1).strip(), mode="eval")
            except SyntaxError:
                continue
            self.visit(expr.body)  # evaluated where the line runs, with its scoping
        for match in _INTERPOLATED_NAME.finditer(text):
            self.read(match.group(1))


def _strip_options(line: str, magic: str) -> str:
    """Drop the leading getopt-style options (``-n1 -r 3 -o``) of a code-running magic."""
    spec = _MAGIC_OPTIONS.get(magic)
    if spec is None:
        return line
    words = line.split(None, 1)
    while words and len(words[0]) > 1 and words[0].startswith("-"):
        option = words[0]
        words = words[1].split(None, 1) if len(words) > 1 else []
        for position, letter in enumerate(option[1:], start=2):
            if letter + ":" in spec:  # takes a value: the rest of the word, or the next one
                if position == len(option) and words:
                    words = words[1].split(None, 1) if len(words) > 1 else []
                break
    return " ".join(words)


def _base_name(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _owners(targets: Iterable[ast.expr]) -> list[str]:
    """The globals a value assigned to ``targets`` lands in: ``f, obj`` for ``f = obj.a = …``."""
    names = []
    for target in targets:
        base = _base_name(target)
        names.extend([base] if base is not None else _target_names(target))
    return names


def _deleted_names(target: ast.expr) -> Iterator[str]:
    for node in ast.walk(target):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Del):
            yield node.id


def _target_names(target: ast.expr) -> Iterator[str]:
    for node in ast.walk(target):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            yield node.id


def _all_args(args: ast.arguments) -> list[ast.arg]:
    extra = [a for a in (args.vararg, args.kwarg) if a is not None]
    return [*args.posonlyargs, *args.args, *args.kwonlyargs, *extra]


_NEW_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _local_nodes(body: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Nodes of one scope: skips nested functions, lambdas, classes and comprehension targets."""
    pending = list(body)
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, _NEW_SCOPES):
            continue
        if isinstance(node, ast.comprehension):
            pending.append(node.iter)  # its target is the comprehension's own
            pending.extend(node.ifs)
            continue
        pending.extend(ast.iter_child_nodes(node))


def _scope_names(body: Iterable[ast.AST]) -> tuple[set[str], set[str], set[str]]:
    """The names a scope's body binds, declares ``global`` and declares ``nonlocal``.

    Python decides a function's locals at compile time, from its whole body. One walk for all
    three, as this runs for every function in every cell.
    """
    bound: set[str] = set()
    declared_global: set[str] = set()
    declared_nonlocal: set[str] = set()
    for node in _local_nodes(body):
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update(a.asname or a.name.split(".")[0] for a in node.names if a.name != "*")
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
        elif isinstance(node, ast.Global):
            declared_global.update(node.names)
        elif isinstance(node, ast.Nonlocal):
            declared_nonlocal.update(node.names)
    return bound, declared_global, declared_nonlocal
