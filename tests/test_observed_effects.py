"""In-place changes observed at cell boundaries, checked against a fresh top-to-bottom run.

The kernel decides whether a cell changed a value in place by what its runs did (the values
of the names it could reach, before and after), not by the look of its source:

- A. a cell that only *reads* an object through a method call (`model.generate('hi')`,
  `pat.findall(…)`) does not count as changing it: re-running or editing it runs nothing
  upstream (no "first: this cell needs its values" header, the upstream cell prints nothing);
- B. a cell that changed a value in place — through a function, an alias, a shared inner
  object, a numpy view, a numpy `out=`, a loop variable, a class attribute — defines it:
  re-running it re-runs its upstream first (the change is applied once, as in a fresh run),
  and the readers below re-run (auto) or are marked stale (lazy);
- C. the hidden state of `random` and `np.random` is such a value: re-running a draw re-runs
  the seed and the draws above it, so it draws what a fresh run draws;
- D. `%reactive why` says which names a cell changed in place.

A cell's *first* run is judged by its source (nothing has been observed yet); the tests run
every cell once before they re-run it. Helpers and the oracle are those of test_auto_mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conftest import Notebook, Result, start, stop
from test_auto_mode import MODES, Scenario, full_text, mode_nb, scenario

__all__ = ["mode_nb"]  # the fixture, imported so that pytest finds it in this module

PULLED = "first: this cell needs its values"
RERUN = "↻ re-running cell"


# ---------------------------------------------------------------------------------------------
# Helpers


def run_ok(s: Scenario, cell_id: str, code: str) -> Result:
    """Run a cell, which must succeed, then check the mode's guarantee (auto: every name of
    the scenario has its fresh-run value; lazy: a name whose cell is ok has it)."""
    result = s.run(cell_id, code)
    assert result.status == "ok", f"{s.step}: {full_text(result)}"
    if s.mode != "auto":  # Scenario.run has checked auto mode already
        s.check()
    return result


def label(s: Scenario, cell_id: str) -> str:
    """Which run of the cell the graph knows (its serial): a new one each time it runs."""
    return str(s.value(f"get_ipython().kernel.reactive.graph.cells[{cell_id!r}].serial"))


def assert_ran_alone(result: Result, *upstream_output: str) -> None:
    """The request ran only the requested cell: nothing upstream was pulled or re-run."""
    text = full_text(result)
    assert PULLED not in text, text
    assert RERUN not in text, text
    for marker in upstream_output:
        assert marker not in text, text


def assert_reader(s: Scenario, cell_id: str, name: str, expected: Any) -> None:
    """A reader of a changed value: auto re-ran it (it has the fresh-run value); lazy does not
    show it ok with an old value."""
    if s.mode == "auto":
        assert s.value(name) == expected, f"`{name}` after {s.step}"
        return
    state = s.states()[cell_id]
    if state == "ok":
        assert s.value(name) == expected, f"`{name}` is shown ok with an old value after {s.step}"


def assert_not_ok_in_lazy(s: Scenario, *cell_ids: str) -> None:
    if s.mode == "lazy":
        states = s.states()
        for cell_id in cell_ids:
            assert states[cell_id] != "ok", f"cell {cell_id} ok after {s.step}: {states}"


def reads_alone(
    s: Scenario,
    upstream: list[tuple[str, str]],
    upstream_output: str,
    reader: str,
    versions: list[tuple[str, Any]],
    name: str,
) -> None:
    """Run the ``upstream`` cells and the ``reader`` cell once, then re-run the reader
    unchanged and as each edited version: each time it runs alone and ``name`` has the
    expected value; the upstream cells stay ok."""
    for cell_id, code in upstream:
        result = run_ok(s, cell_id, code)
    assert upstream_output in result.text  # the last upstream cell prints it when it runs
    first_code, first_value = versions[0]
    run_ok(s, reader, first_code)  # first run: judged by its source
    assert s.value(name) == first_value
    for code, expected in versions:  # the same source again, then each edit
        result = run_ok(s, reader, code)
        assert_ran_alone(result, upstream_output)
        assert s.value(name) == expected, f"`{name}` after {s.step}"
        states = s.states()
        assert all(states[c] == "ok" for c, _ in upstream), states
        s.check()


# ---------------------------------------------------------------------------------------------
# A. No needless upstream re-run: method calls that only read


def test_model_generate_does_not_reload_the_model(mode_nb: tuple[str, Notebook]) -> None:
    """Re-running, or editing and running, `out = model.generate('hi')` does not re-run the
    cell that builds the model (it does not print "loading" again): `generate` only reads."""
    s = scenario(mode_nb, "out")
    model = (
        "class Model:\n"
        "    def __init__(self):\n"
        "        print('loading')\n"
        "        self.prefix = 'm1'\n"
        "    def generate(self, p):\n"
        "        return f'{self.prefix}:{p.upper()}'\n"
        "model = Model()"
    )
    reads_alone(
        s,
        [("A", model)],
        "loading",
        "B",
        [("out = model.generate('hi')", "m1:HI"), ("out = model.generate('hello')", "m1:HELLO")],
        "out",
    )


def test_compiled_pattern_findall_does_not_recompile(mode_nb: tuple[str, Notebook]) -> None:
    """Re-running or editing `found = pat.findall(...)` does not re-run the cell compiling
    `pat` (no second "compiling")."""
    s = scenario(mode_nb, "found", "pat")
    reads_alone(
        s,
        [("A", 'import re\nprint("compiling")\npat = re.compile(r"\\d+")')],
        "compiling",
        "B",
        [
            ('found = pat.findall("a1b22")', ["1", "22"]),
            ('found = pat.findall("x333y4")', ["333", "4"]),
        ],
        "found",
    )


def test_method_in_an_fstring_does_not_rebuild_the_instance(
    mode_nb: tuple[str, Notebook],
) -> None:
    """`s = f"{p.label()}!"` only reads `p`: re-running or editing it does not re-run the cell
    that builds `p` (which prints "building") nor the class cell."""
    s = scenario(mode_nb, "s")
    person = (
        "class Person:\n"
        "    def __init__(self, name):\n"
        "        self.name = name\n"
        "    def label(self):\n"
        "        return self.name.title()"
    )
    reads_alone(
        s,
        [("cls", person), ("p", 'print("building")\np = Person("ada")')],
        "building",
        "s",
        [('s = f"{p.label()}!"', "Ada!"), ('s = f"{p.label()}?"', "Ada?")],
        "s",
    )


def test_method_reading_attributes_does_not_rebuild_the_object(
    mode_nb: tuple[str, Notebook],
) -> None:
    """`r = obj.total()`, whose method only reads `self`'s attributes (a list and a dict),
    re-runs and edits without re-running the cell that fills `obj` (no second "filling")."""
    s = scenario(mode_nb, "r")
    basket = (
        "class Basket:\n"
        "    def __init__(self, prices):\n"
        "        self.prices = list(prices)\n"
        "        self.extra = {'fee': 4}\n"
        "    def total(self):\n"
        "        return sum(self.prices) + self.extra['fee']"
    )
    reads_alone(
        s,
        [("cls", basket), ("obj", 'print("filling")\nobj = Basket([1, 2, 3])')],
        "filling",
        "r",
        [("r = obj.total()", 10), ("r = obj.total() * 2", 20)],
        "r",
    )


# ---------------------------------------------------------------------------------------------
# B. No missed change: cells that changed a value in place define it


def test_mutation_inside_a_called_function(mode_nb: tuple[str, Notebook]) -> None:
    """`drop_first(items)` pops from `items` inside a function: re-running it gives [2, 3]
    (not [3]), and after editing it to pop twice, `n = len(items)` below is 1 (auto) or not
    shown ok with 2 (lazy)."""
    s = scenario(mode_nb, "items", "n")
    run_ok(s, "def", "def drop_first(xs):\n    xs.pop(0)")
    run_ok(s, "items", "items = [1, 2, 3]")
    run_ok(s, "drop", "drop_first(items)")
    run_ok(s, "n", "n = len(items)")
    run_ok(s, "drop", "drop_first(items)")
    assert s.value("items") == [2, 3]
    run_ok(s, "drop", "drop_first(items)")
    assert s.value("items") == [2, 3]
    run_ok(s, "drop", "drop_first(items)\ndrop_first(items)")
    assert s.value("items") == [3]
    assert_reader(s, "n", "n", 1)
    assert_not_ok_in_lazy(s, "n")
    run_ok(s, "n", "n = len(items)")
    assert s.value("n") == 1


def test_mutation_through_an_alias(mode_nb: tuple[str, Notebook]) -> None:
    """`b = a` then `b.append(0)`: re-running the append leaves `a` == [1, 2, 3, 0] (not
    [1, 2, 3, 0, 0]); the reader `c = list(a)` is kept (the re-run gave `a` its previous
    value: early cutoff); editing it to append 7 gives `a` == `c` == [1, 2, 3, 7] (auto
    re-runs `c`; lazy: `c` is not shown ok with the old list)."""
    s = scenario(mode_nb, "a", "b", "c")
    run_ok(s, "a", "a = [1, 2, 3]")
    run_ok(s, "b", "b = a")
    run_ok(s, "append", "b.append(0)")
    run_ok(s, "c", 'c = list(a)\nprint("c is", c)')
    result = run_ok(s, "append", "b.append(0)")
    assert s.value("a") == [1, 2, 3, 0]
    assert s.value("b") == [1, 2, 3, 0]
    assert "c is" not in result.text, full_text(result)
    assert s.value("a is b") is True
    result = run_ok(s, "append", "b.append(7)")
    assert s.value("a") == [1, 2, 3, 7]
    assert_reader(s, "c", "c", [1, 2, 3, 7])
    assert_not_ok_in_lazy(s, "c")
    if s.mode == "auto":
        assert "c is [1, 2, 3, 7]" in result.text, full_text(result)
    run_ok(s, "c", 'c = list(a)\nprint("c is", c)')
    assert s.value("c") == [1, 2, 3, 7]


def test_mutation_of_a_shared_inner_object(mode_nb: tuple[str, Notebook]) -> None:
    """`c = copy.copy(ll); c[0].append(5)` changes `ll[0]`, which the shallow copy shares:
    re-running it leaves `ll` == [[1, 5], [2]]; editing it to append 6 updates the reader
    `first = list(ll[0])` (auto) or marks it (lazy)."""
    s = scenario(mode_nb, "ll", "c", "first")
    run_ok(s, "imp", "import copy")
    run_ok(s, "ll", "ll = [[1], [2]]")
    run_ok(s, "mut", "c = copy.copy(ll)\nc[0].append(5)")
    run_ok(s, "first", "first = list(ll[0])")
    run_ok(s, "mut", "c = copy.copy(ll)\nc[0].append(5)")
    assert s.value("ll") == [[1, 5], [2]]
    assert_reader(s, "first", "first", [1, 5])
    run_ok(s, "mut", "c = copy.copy(ll)\nc[0].append(6)")
    assert s.value("ll") == [[1, 6], [2]]
    assert_reader(s, "first", "first", [1, 6])
    assert_not_ok_in_lazy(s, "first")


def test_mutation_through_a_numpy_view(mode_nb: tuple[str, Notebook]) -> None:
    """`z = x[:]` is a view of `x`: `z[0] = 10` changes `x` (x[0] == 10, `t = int(x.sum())`
    is 20); editing it to `z[0] += 100` gives x[0] == 100 and t == 110 (auto; lazy marks
    `t`), and re-running that edit does not add 100 twice."""
    s = scenario(mode_nb, "x", "z", "t")
    run_ok(s, "x", "import numpy as np\nx = np.arange(5)")
    run_ok(s, "z", "z = x[:]")
    run_ok(s, "set", "z[0] = 10")
    run_ok(s, "t", "t = int(x.sum())")
    run_ok(s, "set", "z[0] = 10")
    assert s.value("x.tolist()") == [10, 1, 2, 3, 4]
    assert_reader(s, "t", "t", 20)
    run_ok(s, "set", "z[0] += 100")
    assert s.value("x.tolist()") == [100, 1, 2, 3, 4]
    assert_reader(s, "t", "t", 110)
    assert_not_ok_in_lazy(s, "t")
    run_ok(s, "set", "z[0] += 100")
    assert s.value("x.tolist()") == [100, 1, 2, 3, 4]
    assert_reader(s, "t", "t", 110)
    run_ok(s, "t", "t = int(x.sum())")
    assert s.value("t") == 110


@pytest.mark.parametrize(
    ("setup", "name", "call", "edited", "reader", "values"),
    [
        pytest.param(
            "import numpy as np\ndst = np.zeros(3)\nsrc = np.arange(3.0)",
            "dst",
            "np.copyto(dst, src)",
            "np.copyto(dst, src * 2)",
            "tot = float(dst.sum())",
            [([0.0, 1.0, 2.0], 3.0), ([0.0, 2.0, 4.0], 6.0)],
            id="copyto",
        ),
        pytest.param(
            "import numpy as np\na = np.arange(5)",
            "a",
            "np.add(a, 1, out=a)",
            "np.add(a, 10, out=a)",
            "tot = int(a.sum())",
            [([1, 2, 3, 4, 5], 15), ([10, 11, 12, 13, 14], 60)],
            id="add-out",
        ),
        pytest.param(
            "import numpy as np\na = np.arange(6)",
            "a",
            "np.place(a, a > 2, 0)",
            "np.place(a, a > 1, 0)",
            "tot = int(a.sum())",
            [([0, 1, 2, 0, 0, 0], 3), ([0, 1, 0, 0, 0, 0], 1)],
            id="place",
        ),
    ],
)
def test_numpy_function_changing_an_argument(
    mode_nb: tuple[str, Notebook],
    setup: str,
    name: str,
    call: str,
    edited: str,
    reader: str,
    values: list[tuple[list[Any], Any]],
) -> None:
    """A numpy function that writes into an array argument (`np.copyto`, `out=`, `np.place`)
    changes it once per fresh run: re-running its cell, or an edit of it, gives the fresh
    run's array, and the reader `tot` below follows (auto) or is marked (lazy)."""
    s = scenario(mode_nb, name, "tot")
    run_ok(s, "setup", setup)
    run_ok(s, "call", call)
    run_ok(s, "tot", reader)
    (array, total), (edited_array, edited_total) = values
    assert s.value(f"{name}.tolist()") == array
    for code, expected, expected_total in [
        (call, array, total),
        (call, array, total),
        (edited, edited_array, edited_total),
        (edited, edited_array, edited_total),
    ]:
        run_ok(s, "call", code)
        assert s.value(f"{name}.tolist()") == expected, f"after {s.step}"
        assert_reader(s, "tot", "tot", expected_total)
    run_ok(s, "tot", reader)
    assert s.value("tot") == edited_total


def test_loop_mutating_the_values_of_a_dict(mode_nb: tuple[str, Notebook]) -> None:
    """`for _, l in x.items(): l.append(0)` changes the lists in `x`: re-running the loop
    gives {'p': [1, 0], 'q': [2, 0]} (not two zeros each); editing it to append 9 updates
    `flat` below (auto) or marks it (lazy)."""
    s = scenario(mode_nb, "x", "flat")
    loop = "for _, l in x.items():\n    l.append({})"
    run_ok(s, "x", "x = {'p': [1], 'q': [2]}")
    run_ok(s, "loop", loop.format(0))
    run_ok(s, "flat", "flat = [v for vs in x.values() for v in vs]")
    run_ok(s, "loop", loop.format(0))
    assert s.value("x") == {"p": [1, 0], "q": [2, 0]}
    assert_reader(s, "flat", "flat", [1, 0, 2, 0])
    run_ok(s, "loop", loop.format(9))
    assert s.value("x") == {"p": [1, 9], "q": [2, 9]}
    assert_reader(s, "flat", "flat", [1, 9, 2, 9])
    assert_not_ok_in_lazy(s, "flat")


def test_method_changing_a_class_level_dict(mode_nb: tuple[str, Notebook]) -> None:
    """`r.add('a')` writes into `Reg.table`, a dict on the class: re-running it leaves the
    table {'a': 0} as a fresh run does (not {'a': 1}); editing it to `r.add('b')` gives
    {'b': 0}, and the readers of the table below follow (auto) or are marked (lazy)."""
    s = scenario(mode_nb, "tbl", "size")
    reg = (
        "class Reg:\n"
        "    table = {}\n"
        "    def add(self, k):\n"
        "        self.table[k] = len(self.table)"
    )
    run_ok(s, "cls", reg)
    run_ok(s, "r", "r = Reg()")
    run_ok(s, "add", "r.add('a')")
    run_ok(s, "tbl", "tbl = dict(Reg.table)\nsize = len(r.table)")
    run_ok(s, "add", "r.add('a')")
    assert s.value("dict(Reg.table)") == {"a": 0}
    assert_reader(s, "tbl", "tbl", {"a": 0})
    run_ok(s, "add", "r.add('b')")
    assert s.value("dict(Reg.table)") == {"b": 0}
    assert s.value("dict(r.table)") == {"b": 0}
    assert_reader(s, "tbl", "tbl", {"b": 0})
    assert_reader(s, "tbl", "size", 1)
    assert_not_ok_in_lazy(s, "tbl")


def test_rerun_applies_a_change_once(mode_nb: tuple[str, Notebook]) -> None:
    """`lst = [1, 2, 3]` / `add0(lst)` (appends 0 in a function) / `lst.append(4)`: re-running
    `lst.append(4)` or `add0(lst)` never applies a change twice nor drops one — `lst` ends as
    [1, 2, 3, 0, 4], as in a fresh run (lazy: after re-running `add0(lst)`, the append cell
    below is marked until it runs)."""
    s = scenario(mode_nb, "lst", "snap")
    run_ok(s, "lst", "lst = [1, 2, 3]")
    run_ok(s, "def", "def add0(v):\n    v.append(0)")
    run_ok(s, "call", "add0(lst)")
    run_ok(s, "app", "lst.append(4)")
    run_ok(s, "snap", "snap = list(lst)")
    run_ok(s, "app", "lst.append(4)")
    assert s.value("lst") == [1, 2, 3, 0, 4]
    assert_reader(s, "snap", "snap", [1, 2, 3, 0, 4])
    run_ok(s, "call", "add0(lst)")
    if s.mode == "auto":
        assert s.value("lst") == [1, 2, 3, 0, 4]
    else:
        assert s.value("lst") == [1, 2, 3, 0]
        assert_not_ok_in_lazy(s, "app", "snap")
        run_ok(s, "app", "lst.append(4)")
        assert s.value("lst") == [1, 2, 3, 0, 4]
    run_ok(s, "snap", "snap = list(lst)")
    assert s.value("snap") == [1, 2, 3, 0, 4]


# ---------------------------------------------------------------------------------------------
# C. Hidden random state

LIBRARIES = {
    "random": ("import random", "random.seed({})", "random.random()"),
    "numpy": ("import numpy as np", "np.random.seed({})", "np.random.rand()"),
}


def seed_cells(library: str, seed: int, *, separate_import: bool) -> list[tuple[str, str]]:
    imp, seeding, _ = LIBRARIES[library]
    if separate_import:
        return [("imp", imp), ("seed", seeding.format(seed))]
    return [("seed", f"{imp}\n{seeding.format(seed)}")]


def assert_fresh(s: Scenario, *names: str) -> None:
    """The kernel's values of ``names`` are exactly the fresh run's (floats compared by repr,
    i.e. exactly)."""
    fresh = s.fresh()
    for name in names:
        assert repr(s.value(name)) == fresh.reprs[name], f"`{name}` after {s.step}"


@pytest.mark.parametrize("library", list(LIBRARIES))
def test_rerunning_a_draw_draws_the_fresh_run_number(
    mode_nb: tuple[str, Notebook], library: str
) -> None:
    """After `seed(42)` / `r1 = draw` / `r2 = draw`, re-running the `r2` cell alone gives the
    `r2` of a fresh run (the second number after the seed), every time; `r1` is unchanged."""
    s = scenario(mode_nb, "r1", "r2")
    draw = LIBRARIES[library][2]
    for cell_id, code in seed_cells(library, 42, separate_import=False):
        run_ok(s, cell_id, code)
    run_ok(s, "r1", f"r1 = {draw}")
    run_ok(s, "r2", f"r2 = {draw}")
    r1, r2 = s.value("r1"), s.value("r2")
    assert_fresh(s, "r1", "r2")
    for _ in range(2):
        run_ok(s, "r2", f"r2 = {draw}")
        assert s.value("r2") == r2
        assert s.value("r1") == r1
        assert_fresh(s, "r1", "r2")


@pytest.mark.parametrize("separate_import", [False, True], ids=["import-and-seed", "seed-alone"])
@pytest.mark.parametrize("library", list(LIBRARIES))
def test_editing_the_seed_redraws(
    mode_nb: tuple[str, Notebook], library: str, separate_import: bool
) -> None:
    """Editing the seed cell (42 → 7) re-runs the draws below (auto) or marks them stale
    (lazy), also when the seed cell only calls `seed(…)` and imports nothing; running the
    last draw then gives the fresh run's numbers for seed 7."""
    s = scenario(mode_nb, "r1", "r2")
    draw = LIBRARIES[library][2]
    for cell_id, code in seed_cells(library, 42, separate_import=separate_import):
        run_ok(s, cell_id, code)
    run_ok(s, "r1", f"r1 = {draw}")
    run_ok(s, "r2", f"r2 = {draw}")
    old = s.value("r1"), s.value("r2")
    cell_id, code = seed_cells(library, 7, separate_import=separate_import)[-1]
    run_ok(s, cell_id, code)
    if s.mode == "auto":
        assert_fresh(s, "r1", "r2")
        assert (s.value("r1"), s.value("r2")) != old
    else:
        states = s.states()
        assert states["r1"] == "stale", states
        assert states["r2"] == "stale", states
    run_ok(s, "r2", f"r2 = {draw}")
    assert_fresh(s, "r2")
    if s.mode == "lazy":
        assert s.states()["r1"] == "ok"  # pulled: r2 needs the state r1 left
    assert_fresh(s, "r1", "r2")


@pytest.fixture(params=MODES)
def untracked_nb(request: pytest.FixtureRequest) -> Iterator[tuple[str, Notebook]]:
    """A kernel in the given mode with random-state tracking turned off by traitlets."""
    mode = request.param
    arguments = [f"--ReactiveKernel.mode={mode}", "--ReactiveKernel.track_random_state=False"]
    notebook = start(extra_arguments=arguments)
    try:
        yield mode, notebook
    finally:
        stop(notebook)


def test_random_state_tracking_can_be_turned_off(untracked_nb: tuple[str, Notebook]) -> None:
    """With `track_random_state=False`, re-running a draw just draws the next number (the
    documented limitation: it may differ from a fresh run); the kernel answers and the cell
    is not marked stale."""
    s = scenario(untracked_nb, "r1", "r2")
    run_ok(s, "seed", "import random\nrandom.seed(42)")
    run_ok(s, "r1", "r1 = random.random()")
    run_ok(s, "r2", "r2 = random.random()")
    first = s.value("r2")
    result = s.nb.run("r2", "r2 = random.random()")  # no oracle check: it differs
    assert result.status == "ok", full_text(result)
    assert "↻" not in full_text(result)  # nothing above re-ran, no state was put back
    assert s.value("r2") != first  # the generator's sequence simply went on
    assert s.states()["r2"] != "stale"


def test_draw_inside_a_helper_function(mode_nb: tuple[str, Notebook]) -> None:
    """A draw hidden in a function (`np.random.shuffle` inside `shuffle_copy`, like a library
    object without its own random_state) is a draw too: re-running `s2 = shuffle_copy(…)`
    gives a fresh run's `s2`, and `s1` is unchanged."""
    s = scenario(mode_nb, "s1", "s2")
    run_ok(s, "seed", "import numpy as np\nnp.random.seed(42)")
    run_ok(
        s,
        "def",
        "def shuffle_copy(v):\n    w = list(v)\n    np.random.shuffle(w)\n    return w",
    )
    run_ok(s, "s1", "s1 = shuffle_copy(range(10))")
    run_ok(s, "s2", "s2 = shuffle_copy(range(10))")
    s1, s2 = s.value("s1"), s.value("s2")
    assert s1 == [8, 1, 5, 0, 7, 2, 9, 4, 3, 6]
    assert s2 == [0, 1, 8, 5, 3, 4, 7, 9, 6, 2]
    for _ in range(2):
        run_ok(s, "s2", "s2 = shuffle_copy(range(10))")
        assert s.value("s2") == s2
        assert s.value("s1") == s1
        assert_fresh(s, "s1", "s2")


# ---------------------------------------------------------------------------------------------
# D. Explanations


def test_why_names_the_value_changed_in_place(mode_nb: tuple[str, Notebook]) -> None:
    """`%reactive why N` for the cell `b.append(0)` (with `b = a` above) says that it changed
    `a` in place."""
    s = scenario(mode_nb, "a", "b")
    run_ok(s, "a", "a = [1, 2, 3]")
    run_ok(s, "b", "b = a")
    run_ok(s, "append", "b.append(0)")
    result = s.nb.run("why", f"%reactive why {label(s, 'append')}")
    assert result.status == "ok", full_text(result)
    assert "`a`" in result.text, result.text
    assert "in place" in result.text, result.text
