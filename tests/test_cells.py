"""The compact per-cell records: rare fields, shared one-name sets, flat consumed versions.

They exist to keep 10,000 cells cheap (docs/benchmarks.md); these tests pin that they still
behave as the plain records they replace.
"""

from __future__ import annotations

import pytest

from reactive_kernel.analysis import CellAnalysis, analyse, frozen, read_cell
from reactive_kernel.cells import NOTHING, Cell, Consumed


def test_rare_fields_read_their_default_until_set_and_drop_it_when_reset() -> None:
    cell = Cell("a", "x = 1")
    assert (cell.parsed, cell.note, cell.learnt, cell.changed) == (True, "", frozenset(), {})
    assert cell._rare is None
    cell.note = "changed outside"
    cell.learnt = frozenset({"y"})
    assert (cell.note, cell.learnt) == ("changed outside", frozenset({"y"}))
    assert Cell("b").note == ""  # the value is the instance's, not the class's
    cell.note = ""
    cell.learnt = frozenset()
    assert cell._rare is None
    with pytest.raises(AttributeError):
        cell.no_such_field = 1  # type: ignore[attr-defined]


def test_analyses_with_the_same_content_are_equal_and_replace_keeps_the_rest() -> None:
    first = analyse("import os\nrows.append(os.sep)\ndef f():\n    global g\n    g = 1")
    assert first == analyse("import os\nrows.append(os.sep)\ndef f():\n    global g\n    g = 1")
    assert first.calls == {"rows"} and first.assigns == {"g"} and "f" in first.deferred
    plain = first.replace(calls=frozenset())
    assert plain.calls == frozenset() and plain.assigns == {"g"} and plain.defines == first.defines
    assert plain != first
    assert CellAnalysis(defines=frozenset({"x"}), mutates=frozenset()) == CellAnalysis(
        defines=frozenset({"x"})
    )
    with pytest.raises(TypeError):
        CellAnalysis(not_a_field=1)
    with pytest.raises((AttributeError, TypeError)):  # frozen (3.11 slots: TypeError)
        first.mutates = frozenset()


def test_one_name_sets_are_shared_between_definer_and_reader() -> None:
    definer, reader = analyse("v1 = v0 + 1"), analyse("v2 = v1 * 2")
    assert definer.defines is reader.reads
    assert frozen(["a", "b"]) == {"a", "b"} and frozen([]) is frozen(())


def test_consumed_versions_are_a_mapping_small_or_large() -> None:
    small = Consumed.of([("a", ("c1", 3)), ("b", ("", 7))])
    assert small.get("a") == ("c1", 3) and small.get("b") == ("", 7)
    assert small.get("c") is None and small.get("c1") is None  # an id is not a name
    assert dict(small.items()) == {"a": ("c1", 3), "b": ("", 7)}
    large = Consumed.of((f"n{i}", ("c", i)) for i in range(40))
    assert isinstance(large, dict) and large["n39"] == ("c", 39)
    assert Consumed.of([]) is NOTHING


def test_reading_a_cell_says_why_it_has_no_analysis() -> None:
    def transform(source: str) -> str:
        if "boom" in source:
            raise ValueError("boom")
        return source.replace("%time ", "")

    assert read_cell("x = 1", transform).python == "x = 1"
    assert read_cell("%time y = x", transform).analysis.defines == {"y"}
    assert read_cell("x = = 1", transform).syntax.startswith("invalid syntax")
    assert read_cell("x = = boom", transform).syntax == "IPython cannot read it: boom"
    deep = read_cell("s = " + " + ".join(["one"] * 5000), transform)
    assert deep.analysis is None and deep.complexity and not deep.syntax
