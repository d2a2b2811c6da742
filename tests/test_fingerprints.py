"""The object layer on its own: fingerprints see changes in place, and never run user code.

Pure (no kernel): ``effects.watch`` before, the change, ``effects.changes`` after, as the
kernel does around a cell.
"""

from __future__ import annotations

import collections
import copy
import io
from typing import Any

import numpy as np
import pandas as pd
import pytest

from reactive_kernel import effects
from reactive_kernel.fingerprints import Fingerprint, fingerprint


def changed_by(namespace: dict[str, Any], names: list[str], change: str) -> set[str]:
    """Names among ``names`` that running ``change`` in ``namespace`` changed in place."""
    watched = effects.watch(namespace, names)
    exec(change, namespace)  # noqa: S102 - the cell
    return effects.changes(namespace, watched).names


def shared_with(namespace: dict[str, Any], names: list[str], change: str) -> dict[str, str]:
    """Other names of ``namespace`` that share an object ``change`` changed: name -> via."""
    watched = effects.watch(namespace, names)
    exec(change, namespace)  # noqa: S102 - the cell
    seen = effects.changes(namespace, watched)
    others = [n for n in namespace if n not in names and not n.startswith("__")]
    return effects.sharers(namespace, seen, others)


class Booby:
    """Every hook a fingerprint must not call records the call and raises."""

    calls: list[str] = []

    def __init__(self) -> None:
        self.__dict__["payload"] = [1, 2]

    def _trap(name: str):  # noqa: N805 - builds methods
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            Booby.calls.append(name)
            raise AssertionError(f"fingerprinting called {name}")

        return method

    __eq__ = _trap("__eq__")
    __hash__ = _trap("__hash__")  # type: ignore[assignment]
    __len__ = _trap("__len__")
    __iter__ = _trap("__iter__")
    __repr__ = _trap("__repr__")
    __getattr__ = _trap("__getattr__")
    __bool__ = _trap("__bool__")

    @property
    def computed(self) -> int:
        Booby.calls.append("property")
        raise AssertionError("fingerprinting read a property")


class Lazy:
    """Like a lazy frame: touching anything but its stored fields would compute."""

    computed = 0

    def __init__(self) -> None:
        self.plan = ["scan", "filter"]

    def __getattribute__(self, name: str) -> Any:
        if name not in ("plan", "__dict__", "__class__"):
            Lazy.computed += 1
        return object.__getattribute__(self, name)


def test_user_code_never_runs() -> None:
    """No __eq__/__hash__/__len__/__iter__/__repr__/__getattr__/property of a user class."""
    Booby.calls.clear()
    ns: dict[str, Any] = {"b": Booby(), "d": {"k": Booby()}, "l": [Booby()], "s": {1, 2}}
    assert changed_by(ns, ["b", "d", "l", "s"], "b.payload.append(3)") == {"b"}
    assert Booby.calls == []


def test_lazy_objects_are_not_forced() -> None:
    Lazy.computed = 0
    ns: dict[str, Any] = {"lf": Lazy()}
    assert changed_by(ns, ["lf"], "pass") == set()
    assert Lazy.computed == 0


def test_a_property_named_dict_makes_an_object_opaque() -> None:
    class Sneaky:
        @property
        def __dict__(self) -> dict:  # type: ignore[override]
            raise AssertionError("ran the property")

    assert fingerprint(Sneaky()) is None
    watched = effects.watch({"x": Sneaky()}, ["x"])
    assert watched.opaque == {"x"}


def test_c_objects_without_a_fingerprint_are_opaque() -> None:
    watched = effects.watch({"buf": io.StringIO("abc")}, ["buf"])
    assert watched.opaque == {"buf"}


def test_cycles_and_deep_nesting_terminate() -> None:
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    deep: list[Any] = []
    node = deep
    for _ in range(50_000):
        node.append([])
        node = node[0]
    ns: dict[str, Any] = {"cyclic": cyclic, "deep": deep}
    assert changed_by(ns, ["cyclic", "deep"], "cyclic['more'] = 1") == {"cyclic"}
    assert changed_by(ns, ["cyclic", "deep"], "deep[0].append(1)") == {"deep"}


def test_generators_are_not_advanced_but_their_advance_is_seen() -> None:
    pulled: list[int] = []

    def numbers():
        for i in range(3):
            pulled.append(i)
            yield i

    ns: dict[str, Any] = {"gen": numbers()}
    assert changed_by(ns, ["gen"], "pass") == set()
    assert pulled == []
    assert changed_by(ns, ["gen"], "next(gen)") == {"gen"}
    assert pulled == [0]


@pytest.mark.parametrize(
    "setup, change, expected",
    [
        ("x = [1, 2]", "x.append(3)", {"x"}),
        ("x = [1, 2]", "x.sort()", set()),  # already sorted: nothing changed
        ("x = {'a': [1]}", "x['a'].append(2)", {"x"}),
        ("x = {'a': 1}", "x.get('a')", set()),
        ("class C:\n    pass\nx = C()", "x.attr = 1", {"x"}),
        ("class C:\n    __slots__ = ('v',)\nx = C()\nx.v = 1", "x.v = 2", {"x"}),
        ("class C:\n    table = {}\nx = C()", "x.table['k'] = 1", {"x"}),
        ("def f(acc=[]):\n    acc.append(1)\nx = f", "f()", {"x"}),
        ("import collections\nx = collections.defaultdict(list)", "x['k'].append(1)", {"x"}),
        ("import collections\nx = collections.deque([1])", "x.rotate(1)", set()),
        ("import collections\nx = collections.deque([1, 2])", "x.rotate(1)", {"x"}),
        ("x = bytearray(b'ab')", "x[0] = 120", {"x"}),
        ("import re\nx = re.compile('a+')", "x.findall('aaa')", set()),
    ],
)
def test_changes_in_place_of_plain_python_values(setup: str, change: str, expected: set) -> None:
    ns: dict[str, Any] = {}
    exec(setup, ns)  # noqa: S102
    assert changed_by(ns, ["x"], change) == expected


def test_numpy_arrays_small_and_large() -> None:
    ns: dict[str, Any] = {"np": np, "small": np.arange(10), "big": np.zeros(2**21)}  # 16 MiB
    assert changed_by(ns, ["small", "big"], "small.sum(); big.mean()") == set()
    assert changed_by(ns, ["small"], "np.add(small, 1, out=small)") == {"small"}
    assert changed_by(ns, ["big"], "big[0] = 1") == {"big"}  # the first window is sampled
    assert changed_by(ns, ["big"], "big += 1") == {"big"}
    strided = np.zeros((2048, 1024))[:, ::2]  # not contiguous, 8 MiB
    ns["strided"] = strided
    assert changed_by(ns, ["strided"], "strided[:] = 2") == {"strided"}


def test_numpy_views_share_their_base_changes() -> None:
    ns: dict[str, Any] = {"x": np.arange(5)}
    ns["z"] = ns["x"][:]
    ns["other"] = np.arange(5)
    assert shared_with(ns, ["z"], "z[0] = 10") == {"x": "z"}


def test_aliases_and_containers_of_a_changed_object() -> None:
    ns: dict[str, Any] = {"copy": copy}
    exec("a = [1, 2]\nb = a\nholder = {'inner': a}\nunrelated = [1, 2]", ns)  # noqa: S102
    assert shared_with(ns, ["b"], "b.append(0)") == {"a": "b", "holder": "b"}
    exec("ll = [[1], [2]]", ns)  # noqa: S102
    assert changed_by(ns, ["ll", "copy"], "c = copy.copy(ll); c[0].append(5)") == {"ll"}


def test_other_names_are_looked_into_only_when_someone_else_holds_the_object() -> None:
    """Finding holders of a changed object walks other names only if the object's reference
    count shows references the walks did not see; names bound to it are always found."""
    visited: list[int] = []

    class Spy:
        pass

    @fingerprint.register(Spy)
    def _(obj: Spy) -> Fingerprint:
        visited.append(id(obj))
        return Fingerprint(0)

    ns: dict[str, Any] = {"a": [1], "spies": [Spy() for _ in range(3)]}
    ns["b"] = ns["a"]
    assert shared_with(ns, ["a"], "a.append(2)") == {"b": "a"}
    assert visited == []
    ns["holder"] = {"inner": ns["a"]}
    assert shared_with(ns, ["a"], "a.append(3)") == {"b": "a", "holder": "a"}
    assert visited  # the other names were looked into


def test_pandas_frames() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    ns: dict[str, Any] = {"df": frame}
    assert changed_by(ns, ["df"], "df.describe(); df.head()") == set()
    assert changed_by(ns, ["df"], "df.loc[0, 'a'] = 9.0") == {"df"}
    assert changed_by(ns, ["df"], "df['c'] = 1") == {"df"}
    assert changed_by(ns, ["df"], "df.index = ['p', 'q']") == {"df"}


def test_random_generators_objects() -> None:
    ns: dict[str, Any] = {"rng": np.random.default_rng(0)}
    assert changed_by(ns, ["rng"], "rng.bit_generator") == set()
    assert changed_by(ns, ["rng"], "rng.normal()") == {"rng"}


def test_users_register_fingerprints_for_their_types() -> None:
    class Counter:
        __slots__ = ("_hidden",)  # a state only the type's author knows how to read

        def __init__(self) -> None:
            self._hidden = [0]

        def bump(self) -> None:
            self._hidden[0] += 1

    @fingerprint.register(Counter)
    def _(obj: Counter) -> Fingerprint:
        return Fingerprint(obj._hidden[0])

    ns: dict[str, Any] = {"c": Counter()}
    assert changed_by(ns, ["c"], "c.bump()") == {"c"}
    assert changed_by(ns, ["c"], "pass") == set()


def test_large_containers_stay_cheap_and_see_appends() -> None:
    ns: dict[str, Any] = {"big": list(range(1_000_000)), "table": {i: [i] for i in range(100_000)}}
    assert changed_by(ns, ["big", "table"], "big.append(1)") == {"big"}
    assert changed_by(ns, ["big", "table"], "table[0].append(1)") == {"table"}


def test_torch_tensors_and_modules() -> None:
    """Tensors by their version counter (bumped by every in-place op) and storage; a module by
    its parameters."""
    torch = pytest.importorskip("torch")  # tests/run.sh installs it
    model = torch.nn.Linear(1000, 1000)  # 10^6 parameters
    ns: dict[str, Any] = {"torch": torch, "t": torch.zeros(3), "model": model}
    assert changed_by(ns, ["t", "model"], "t.sum(); model(torch.ones(1, 1000))") == set()
    assert changed_by(ns, ["t"], "t.add_(1)") == {"t"}
    assert changed_by(ns, ["model"], "torch.nn.init.zeros_(model.bias)") == {"model"}


def test_containers_of_ordered_dicts() -> None:
    ns: dict[str, Any] = {"od": collections.OrderedDict(a=[1])}
    assert changed_by(ns, ["od"], "od['a'].append(2)") == {"od"}
    assert changed_by(ns, ["od"], "od.move_to_end('a')") == set()  # one key: same order


def test_atomic_values_are_watched_without_fingerprints() -> None:
    """An int or a str cannot change in place: it is noted as seen (so a method call on it
    counts as leaving it unchanged) but costs no fingerprint, and a rebinding is not a change."""
    namespace: dict[str, Any] = {"n": 10**6, "s": "text", "xs": [1]}
    watched = effects.watch(namespace, ["n", "s", "xs"])
    assert watched.roots.keys() == {"n", "s", "xs"}
    assert id(namespace["n"]) not in watched.states and id(namespace["xs"]) in watched.states
    namespace["n"] += 1
    namespace["xs"].append(2)
    assert effects.changes(namespace, watched).names == {"xs"}
