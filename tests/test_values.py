"""Exact value digests: equal digests prove equal values, and digesting never runs user code.

Pure (no kernel). Every digest a test takes goes through ``d``, which also checks that the
digest is built only of the allowed plain types.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import fractions
import math
import pathlib
import subprocess
import sys
import types
import uuid
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from reactive_kernel.values import MAX_DEPTH, Budget, digest

PLAIN = (int, str, bytes, type(None), types.CodeType)


def plain(found: Any) -> None:
    """Fail unless ``found`` is made only of the types a digest may hold."""
    if type(found) in (tuple, frozenset):
        for item in found:
            plain(item)
    else:
        assert type(found) in PLAIN, f"{type(found).__name__} in a digest"


def d(obj: object, budget: Budget | None = None) -> Hashable | None:
    found = digest(obj, Budget() if budget is None else budget)
    plain(found)
    return found


def same(a: object, b: object) -> bool:
    """Both digestible and equal (keeps both alive while comparing, as the caller must)."""
    first, second = d(a), d(b)
    assert first is not None and second is not None
    return first == second


# -- equal values, built differently -----------------------------------------------------------


def test_equal_builtin_values_built_twice() -> None:
    assert same([1, 2.5, "a" * 100, {"k": (1, None)}], [1, 2.5, "a" * 100, {"k": (1, None)}])
    assert same(0.1 + 0.2, 0.30000000000000004)
    assert same({3, 1, 2}, set(range(1, 4)))
    assert same(b"x" * 1000, bytes(1000).replace(b"\0", b"x"))
    assert same("\ud800 lone surrogate" * 10, "\ud800 lone surrogate" * 10)
    assert same(range(0, 10, 2), range(0, 10, 2))
    assert same(slice(1, None, [2]), slice(1, None, [2]))
    assert same(10**400, int("1" + "0" * 400))
    assert same(complex(1, -0.5), 1 - 0.5j)
    assert same([..., NotImplemented, None], [..., NotImplemented, None])
    assert same(bytearray(b"abc"), bytearray(b"ab") + b"c")


def test_equal_standard_library_atoms() -> None:
    tz = datetime.timezone(datetime.timedelta(hours=2), "X")
    when = datetime.datetime(2024, 5, 1, 12, 30, tzinfo=tz)
    assert same(when, datetime.datetime.fromisoformat("2024-05-01T12:30:00").replace(tzinfo=tz))
    assert same(datetime.date(2024, 1, 31), datetime.date.fromordinal(738916))
    assert same(datetime.time(1, 2, 3), datetime.time.fromisoformat("01:02:03"))
    assert same(datetime.timedelta(hours=1), datetime.timedelta(minutes=60))
    assert same(decimal.Decimal("1.50"), decimal.Decimal("1.5") + decimal.Decimal("0.00"))
    assert same(decimal.Decimal("NaN"), decimal.Decimal("nan"))
    assert same(fractions.Fraction(2, 4), fractions.Fraction(1, 2))
    assert same(uuid.UUID(int=5), uuid.UUID("00000000-0000-0000-0000-000000000005"))
    assert same(pathlib.PurePosixPath("a/b"), pathlib.PurePosixPath("a") / "b")
    assert same([math, int, len, list.append], [math, int, len, list.append])


def test_nan_equals_only_itself_bit_for_bit() -> None:
    nan = float("nan")
    assert same(nan, float("nan"))
    assert not same(nan, -nan)  # the sign bit
    assert same({nan, float("nan")}, {float("nan"), float("nan")})  # two NaNs: a multiset
    assert not same({nan, float("nan")}, {nan})


def test_equal_numpy_arrays_from_different_expressions() -> None:
    assert same(np.arange(6.0) * 2, np.array([0.0, 2, 4, 6, 8, 10]))
    assert same(np.zeros((2, 3)) + 1, np.ones((2, 3)))
    assert same(np.array(["2020-01-01"], "M8[D]"), np.array([18262], "M8[D]"))
    assert same(np.asfortranarray(np.eye(3)), np.eye(3, order="F"))
    assert same(np.float64(0.5), np.float64(1) / 2)
    assert same(np.array([], np.int8), np.empty(0, np.int8))
    assert same([np.str_("ab"), np.bool_(True)], [np.array(["ab"])[0], np.bool_(1)])


def frame() -> pd.DataFrame:
    objects = np.empty(3, dtype=object)
    objects[0], objects[1], objects[2] = 1, "a", (2, None)
    result = pd.DataFrame(
        {
            "n": [1, 2, 3],
            "s": ["x", "y", None],
            "f": [0.5, None, 1.5],
            "t": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"]),
            "o": objects,
        },
        index=pd.Index([10, 20, 30], name="id"),
    )
    result.attrs["source"] = "test"
    return result


def test_equal_dataframes_built_twice() -> None:
    assert same(frame(), frame())
    assert same(frame()["s"], frame()["s"])
    assert same(frame().index, pd.Index([10, 20, 30], name="id"))
    assert same([pd.NA, pd.NaT], [pd.NA, pd.NaT])
    assert same(pd.Series(pd.to_timedelta([1, 2], unit="s")), pd.to_timedelta(pd.Series([1, 2]), unit="s"))
    transposed = pd.DataFrame(np.arange(12.0).reshape(3, 4).T.copy())
    assert same(transposed, pd.DataFrame(np.arange(12.0).reshape(3, 4).T.copy()))


def define(source: str, namespace: dict[str, Any]) -> Any:
    exec(compile(source, "<cell>", "exec"), namespace)  # noqa: S102 - the cell, run twice
    return namespace["f"]


def test_a_function_defined_twice_from_the_same_source_is_equal() -> None:
    namespace: dict[str, Any] = {}
    first = define("def f(x, y=[1]):\n    return x + y[0]\n", namespace)
    again = define("def f(x, y=[1]):\n    return x + y[0]\n", namespace)
    assert first is not again
    assert same(first, again)
    assert not same(first, define("def f(x, y=[2]):\n    return x + y[0]\n", namespace))
    assert not same(first, define("def f(x, y=[1]):\n    return x - y[0]\n", namespace))
    assert not same(first, define("def f(x, y=[1]):\n    return x + y[0]\n", {}))  # globals


def test_closures_compare_their_cells_contents() -> None:
    namespace: dict[str, Any] = {}
    source = "def make(n):\n    def f():\n        return n\n    return f\n"
    exec(source, namespace)  # noqa: S102
    make = namespace["make"]
    assert same(make(1), make(1))
    assert not same(make(1), make(2))
    empty = "def make():\n    def f():\n        return n\n    return f\n    n = 1\n"
    exec(empty, namespace)  # noqa: S102
    assert same(namespace["make"](), namespace["make"]())


def test_functions_sharing_a_cell_differ_from_functions_that_do_not() -> None:
    namespace: dict[str, Any] = {}
    source = (
        "def counter():\n    n = 0\n"
        "    def inc():\n        nonlocal n\n        n += 1\n"
        "    def get():\n        return n\n"
        "    return inc, get\n"
    )
    exec(source, namespace)  # noqa: S102
    counter = namespace["counter"]
    assert same(counter(), counter())
    assert not same(counter(), (counter()[0], counter()[1]))


def names_identities(found: Hashable) -> bool:
    if type(found) is tuple and len(found) == 2 and found[0] == "id":
        return True
    return type(found) in (tuple, frozenset) and any(map(names_identities, found))


def test_digests_of_plain_data_name_no_identities() -> None:
    """The caller may keep those after their objects are gone (no id to be reused)."""
    data = [
        frame(), frame()["s"], np.ones((2, 2)), np.float32(1), uuid.UUID(int=1), {1, 2.5},
        pathlib.PurePosixPath("a"), decimal.Decimal("1.5"), fractions.Fraction(1, 3),
        datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc), [pd.NA, pd.NaT],
    ]
    found = d(data)
    assert found is not None and not names_identities(found)
    assert names_identities(d([math]))
    assert names_identities(d(test_digests_of_plain_data_name_no_identities))


# -- values that differ --------------------------------------------------------------------------


def test_unequal_values_differ() -> None:
    assert not same([1, 2, 3], [1, 2, 4])
    assert not same("a" * 100, "a" * 99 + "b")
    assert len({d(1), d(True), d(1.0), d(1 + 0j), d("1"), d(b"1"), d(np.int64(1))}) == 7
    assert not same(-0.0, 0.0)
    assert not same({"a": 1, "b": 2}, {"b": 2, "a": 1})  # dict order
    assert not same((1,), [1])
    assert not same({1, 2}, frozenset({1, 2}))
    assert not same(decimal.Decimal("1.0"), decimal.Decimal("1.00"))
    assert not same(pathlib.PurePosixPath("a"), pathlib.PureWindowsPath("a"))
    utc = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    named = datetime.timezone(datetime.timedelta(0), "UTC")
    assert not same(utc, utc.replace(tzinfo=named))  # equal by ==, but not in repr
    assert not same(utc, utc.replace(tzinfo=None))
    assert not same(utc, utc.replace(fold=1))


def test_aliasing_inside_a_value_counts() -> None:
    a = [1, 2]
    assert not same([a, a], [a, copy.copy(a)])
    assert same([a, a], [[1, 2]] * 2)
    array = np.ones(3)
    assert not same([array, array], [array, array.copy()])
    assert not same({"x": a, "y": a}, {"x": a, "y": [1, 2]})


def test_numpy_arrays_differ_by_dtype_layout_and_flags() -> None:
    assert not same(np.array([1, 2], np.int32), np.array([1, 2], np.int64))
    assert not same(np.array([1, 2], "<i8"), np.array([1, 2], ">i8"))
    assert not same(np.eye(3), np.asfortranarray(np.eye(3)))  # C vs F order, same contents
    assert not same(np.ones((2, 3)), np.ones((3, 2)))
    frozen = np.ones(3)
    frozen.flags.writeable = False
    assert not same(frozen, np.ones(3))
    assert not same(np.array([1], "M8[D]"), np.array([1], "M8[s]"))
    assert not same(np.float64(1.0), np.float32(1.0))
    assert not same(np.float64(1.0), 1.0)
    assert not same(np.datetime64(1, "D"), np.datetime64(1, "s"))


def test_pandas_values_differ_by_contents_labels_and_metadata() -> None:
    base = d(frame())
    changes = [
        lambda f: f.iloc.__setitem__((0, 0), 9),
        lambda f: setattr(f, "columns", ["m", "s", "f", "t", "o"]),
        lambda f: f.index.__setattr__("name", "key"),
        lambda f: f.attrs.__setitem__("source", "other"),
        lambda f: f.__setitem__("s", f["s"].astype(object)),
        lambda f: f.__setitem__("n", f["n"].astype("int32")),
        lambda f: f.set_flags(allows_duplicate_labels=False),
    ]
    for change in changes:
        changed = frame()
        result = change(changed)
        changed = result if isinstance(result, pd.DataFrame) else changed
        assert d(changed) not in (None, base)
    assert not same(pd.Series([1, 2], name="a"), pd.Series([1, 2], name="b"))
    assert not same(pd.Series([1, 2]), pd.Series([1, 2], index=[0, 1]))  # RangeIndex or not


# -- no digest -----------------------------------------------------------------------------------


class Plain:
    def __init__(self) -> None:
        self.x = 1


class Items(list):
    pass


def generator() -> Iterator[int]:
    yield 1


VIEWED = np.arange(6)


def test_a_view_of_a_temporary_is_its_own_array() -> None:
    """``np.arange(6).reshape(2, 3)`` views an array nothing else holds: compared as an
    array; a view of an array something else holds is not comparable."""
    # (Outside ``assert``: pytest's rewriting would hold the temporaries.)
    first, again, other = (d(np.arange(6).reshape(*shape)) for shape in ((2, 3), (2, 3), (3, 2)))
    assert first is not None and first == again and first != other
    base = np.arange(6)
    assert d(base.reshape(2, 3)) is None
    del base


def test_numpy_generators_by_state() -> None:
    assert d(np.random.default_rng(0)) == d(np.random.default_rng(0))
    assert d(np.random.default_rng(0)) != d(np.random.default_rng(1))
    drawn = np.random.default_rng(0)
    drawn.random()
    assert d(drawn) != d(np.random.default_rng(0))
    assert d(np.random.RandomState(3)) == d(np.random.RandomState(3))


@pytest.mark.parametrize(
    "value",
    [
        Plain(),
        Items([1]),
        OrderedDict(a=1),
        [1, Plain()],
        {"k": Plain()},
        np.array([1, "a"], dtype=object),
        VIEWED[1:],  # a view of an array a name holds
        np.zeros(2, dtype=[("a", "i4"), ("b", "f8")]),  # structured
        np.ma.masked_array([1, 2]),  # a subclass
        generator(),
        sys.stdout,
        Plain().__init__,  # a bound method
        pd.Series(pd.Categorical(["a", "b"])),
        pd.Series([1, None], dtype="Int64"),
        pd.date_range("2020", periods=3),
        pd.Series(pd.date_range("2020", periods=3, tz="UTC")),  # a zone: pandas' own dtype
        pd.MultiIndex.from_tuples([(1, 2)]),
        pd.Timestamp("2020-01-01"),
    ],
)
def test_unsupported_values_have_no_digest(value: object) -> None:
    assert d(value) is None


def test_the_byte_budget() -> None:
    big = np.zeros(1 << 17)  # 1 MiB
    assert d(big, Budget(max_bytes=1000)) is None
    assert d("x" * 2000, Budget(max_bytes=1000)) is None
    assert d(big, Budget(max_bytes=2 << 20)) is not None
    shared = Budget(max_bytes=(1 << 20) + 1000)
    assert d(big, shared) is not None
    assert d(big, shared) is None  # counted across the digests of one comparison


def test_the_object_budget() -> None:
    assert d(list(range(1000)), Budget(max_objects=100)) is None
    assert d(list(range(1000)), Budget(max_objects=2000)) is not None
    assert d(pd.Series(["a"] * 1000), Budget(max_objects=100)) is None
    doubling: tuple = ()
    for _ in range(64):
        doubling = (doubling, doubling)  # 2**64 paths: immutable, so not deduplicated
    assert d(doubling) is None


def test_nesting_too_deep_has_no_digest() -> None:
    shallow: list = []
    deep: list = []
    for _ in range(MAX_DEPTH - 1):
        shallow = [shallow]
    for _ in range(100_000):
        deep = [deep]
    assert d(shallow) is not None
    assert d(deep) is None


def test_a_cyclic_list_terminates() -> None:
    def cyclic() -> list:
        a: list = [1]
        a.append(a)
        return a

    assert same(cyclic(), cyclic())
    assert not same(cyclic(), [1, [1]])
    mutual: dict = {}
    mutual["self"] = [mutual]
    assert d(mutual) is not None


# -- never running user code ---------------------------------------------------------------------


class Booby:
    """Every hook a digest must not call records the call and raises, once armed."""

    calls: ClassVar[list[str]] = []
    armed: ClassVar[bool] = False

    def _trap(name: str, default: Any = None):
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not Booby.armed:  # building the test's values
                if default is None:
                    raise (AttributeError if name == "__getattr__" else TypeError)(name)
                return default(self, *args)
            Booby.calls.append(name)
            raise AssertionError(f"digesting called {name}")

        return method

    __eq__ = _trap("__eq__", lambda self, other: self is other)
    __hash__ = _trap("__hash__", object.__hash__)  # type: ignore[assignment]
    __len__ = _trap("__len__")
    __iter__ = _trap("__iter__")
    __repr__ = _trap("__repr__", object.__repr__)
    __getattr__ = _trap("__getattr__")
    __bool__ = _trap("__bool__")
    __reduce__ = _trap("__reduce__")
    __index__ = _trap("__index__")

    @property
    def computed(self) -> int:
        Booby.calls.append("property")
        raise AssertionError("digesting read a property")


@contextmanager
def armed() -> Iterator[None]:
    Booby.calls.clear()
    Booby.armed = True
    try:
        yield
    finally:
        Booby.armed = False
    assert Booby.calls == []


class Meta(type):
    __eq__ = Booby.__eq__
    __hash__ = Booby.__hash__  # type: ignore[assignment]


class Hostile(metaclass=Meta):
    pass


class HostileStr(str):
    __eq__ = Booby.__eq__
    __hash__ = Booby.__hash__  # type: ignore[assignment]


def test_hostile_objects_give_no_digest_and_are_never_called() -> None:
    trap = Booby()
    values = [
        trap,
        [1, trap],
        {"k": trap},
        {trap: 1},
        {1, trap},
        frozenset({trap}),
        (trap,),
        slice(trap),
        [range(3), trap],
        pd.Series([1, trap], dtype=object),
        pd.DataFrame({"a": [trap]}),
        pd.DataFrame({trap: [1]}),
        pd.Series([1], name=trap),
        pd.Index([trap]),
        HostileStr("a"),
        [HostileStr("a" * 100)],
    ]
    with armed():
        for value in values:
            assert d(value) is None


def test_a_function_whose_code_holds_a_hostile_constant_has_no_digest() -> None:
    def f() -> str:
        return "a"

    f.__code__ = f.__code__.replace(co_consts=(*f.__code__.co_consts, Booby()))
    g = copy.copy(f)
    g.__code__ = g.__code__.replace(co_name=HostileStr("g"))
    with armed():
        assert d(f) is None
        assert d(g) is None


def test_a_function_whose_attributes_are_hostile_has_no_digest() -> None:
    def f(x: int = 1) -> int:
        return x

    for attribute, value in [
        ("__defaults__", (Booby(),)),
        ("__kwdefaults__", {"y": Booby()}),
        ("__annotations__", {"x": Booby()}),
        ("__module__", HostileStr("m")),
        ("__doc__", Booby()),
    ]:
        g = types.FunctionType(f.__code__, f.__globals__, "g", f.__defaults__, f.__closure__)
        setattr(g, attribute, value)
        with armed():
            assert d(g) is None, attribute
    with armed():
        h = types.FunctionType(f.__code__, f.__globals__)
        h.__dict__["flag"] = Booby()
        assert d(h) is None


class Zone(datetime.tzinfo):
    utcoffset = Booby._trap("utcoffset")
    dst = Booby._trap("dst")
    tzname = Booby._trap("tzname")


def test_classes_and_zones_are_compared_by_identity_even_when_hostile() -> None:
    keyed = {Hostile: Hostile}
    zone = Zone()
    when = datetime.datetime(2020, 1, 1, tzinfo=zone)
    with armed():
        assert d([Hostile, Hostile]) == d([Hostile, Hostile])
        assert d(Hostile) == ("id", id(Hostile))
        assert d(keyed) == d(keyed)
        assert d(when) == d(when.replace(hour=0))
        assert d(when) != d(when.replace(tzinfo=Zone()))


def test_functions_in_sets_are_compared_by_identity() -> None:
    """A set's iteration order is not its value: objects first met in one are not numbered
    (else ``[{f, g}, f]`` and ``[{f, g}, g]`` could look alike)."""
    namespace: dict[str, Any] = {}
    f = define("def f():\n    return 1\n", namespace)
    g = define("def f():\n    return 1\n", namespace)
    assert same(f, g)
    assert not same([{f}, f], [{f}, g])
    assert same([{f}, f], [{f}, f])
    assert not same({f}, {g})


def test_libraries_are_never_imported() -> None:
    script = (
        "import sys\n"
        "from reactive_kernel.values import Budget, digest\n"
        "assert digest([1, 'a', {2: 3.5}], Budget()) is not None\n"
        "assert 'numpy' not in sys.modules and 'pandas' not in sys.modules, 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
