"""Fingerprints: cheap, safe summaries of an object's own state, to see what a run changed.

A fingerprint is the object's shallow ``state`` (built only of ints, strings and tuples, so
comparing two never calls user code) and the ``children`` whose own fingerprints make up the
rest of what the object holds. Comparing the fingerprints of every object reachable from a
name, taken before and after a cell runs, shows whether the cell changed it in place.

Rules every fingerprint keeps: it never runs the user's program. No ``__eq__``, ``__hash__``,
``__len__``, ``__repr__``, ``__getattr__``, properties or other descriptors of user classes,
no iteration of user iterables, no forcing of lazy objects. Large objects are sampled within
a fixed budget. An object no fingerprint can see into safely gives ``None`` (opaque): the
kernel then falls back to what the cell's source says.

Extend it with ``functools.singledispatch``'s register::

    from reactive_kernel.fingerprints import Fingerprint, fingerprint

    @fingerprint.register
    def _(obj: MyBuffer) -> Fingerprint:
        return Fingerprint((obj.version,))
"""

from __future__ import annotations

import collections
import datetime
import decimal
import fractions
import functools
import itertools
import pathlib
import re
import sys
import types
import uuid
import zlib
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

# Containers: the identities of at most this many elements are compared (an even sample of
# longer sequences, the first ones of larger dicts and sets), and at most ``MAX_CHILDREN`` of
# them are looked into.
MAX_ELEMENTS = 4096
MAX_CHILDREN = 256
# Arrays: contents up to this size are hashed whole; larger ones in ``SAMPLE_WINDOWS`` windows
# of ``SAMPLE_BYTES`` spread evenly over the buffer (first and last included).
FULL_HASH_BYTES = 1 << 14
SAMPLE_WINDOWS = 16
SAMPLE_BYTES = 1024

_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class defined in Python code
_type_dict = type.__dict__["__dict__"].__get__  # a class's own namespace, no metaclass hooks
_type_mro = type.__dict__["__mro__"].__get__
_type_flags = type.__dict__["__flags__"].__get__
_GETSET = types.GetSetDescriptorType
_MEMBER = types.MemberDescriptorType


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """An object's own state, and the objects it holds whose state also counts."""

    state: Hashable
    children: tuple[Any, ...] = ()


_CONSTANT = Fingerprint(0)

# Values that never change in place (their contents may be looked into as children).
ATOMS: frozenset[type] = frozenset(
    {
        type(None), bool, int, float, complex, str, bytes, range, slice, type(Ellipsis),
        type(NotImplemented), datetime.date, datetime.datetime, datetime.time,
        datetime.timedelta, datetime.timezone, decimal.Decimal, fractions.Fraction,
        uuid.UUID, re.Pattern, re.Match, types.ModuleType, types.BuiltinFunctionType,
        types.MethodDescriptorType, types.WrapperDescriptorType, types.CodeType,
        pathlib.PurePosixPath, pathlib.PosixPath, pathlib.PureWindowsPath,
    }
)


@functools.singledispatch
def fingerprint(obj: object) -> Fingerprint | None:
    """The fingerprint of ``obj``, or None if it cannot be seen into safely.

    The default handles instances of classes defined in Python: their attributes (instance
    ``__dict__`` and ``__slots__``, read through the class's own descriptors only) and their
    class, whose class-level containers are shared state too.
    """
    cls = type(obj)
    if cls in ATOMS:
        return _CONSTANT
    if not _type_flags(cls) & _HEAPTYPE:
        return None  # a C type we know nothing about: opaque
    values = _attributes(obj, cls)
    if values is None:
        return None
    return Fingerprint((id(cls), _identities(values)), (*values, cls))


def _attributes(obj: object, cls: type) -> list[Any] | None:
    """The values of an instance's attributes, or None if reading them might run its code."""
    values: list[Any] = []
    has_dict = has_slots = False
    for klass in _type_mro(cls):
        namespace = _type_dict(klass)
        descriptor = namespace.get("__dict__")
        if descriptor is not None:
            if type(descriptor) is not _GETSET:
                return None  # ``__dict__`` is a property or something else of theirs
            has_dict = True
        for slot in _slot_names(namespace):
            member = namespace.get(slot)
            if type(member) is not _MEMBER:
                continue
            has_slots = True
            try:
                values.append(member.__get__(obj, klass))
            except AttributeError:
                values.append(None)  # an empty slot
    if not has_dict:
        # No attributes we can read: its state lives where we cannot see (a C or Rust
        # extension's own fields). Python classes with ``__slots__ = ()`` hold nothing.
        return values if has_slots or _type_dict(cls).get("__slots__") == () else None
    try:
        instance_dict = object.__getattribute__(obj, "__dict__")
    except AttributeError:
        return values
    if type(instance_dict) is not dict:
        return None
    values.extend(_sampled(dict.values(instance_dict), len(instance_dict)))
    values.extend(_sampled(dict.keys(instance_dict), len(instance_dict)))
    return values


def _slot_names(namespace: Any) -> tuple[str, ...]:
    slots = namespace.get("__slots__", ())
    if isinstance(slots, str):
        return (slots,)
    if type(slots) in (tuple, list):
        return tuple(s for s in slots if type(s) is str and s not in ("__dict__", "__weakref__"))
    return ()


def _sampled(values: Any, length: int) -> list[Any]:
    """At most ``MAX_ELEMENTS`` of a sized iterable: all of them, or the first ones."""
    if length <= MAX_ELEMENTS:
        return list(values)
    return list(itertools.islice(values, MAX_ELEMENTS))


def _identities(values: Any) -> int:
    return hash(tuple(map(id, values)))


def _sequence(obj: list | tuple) -> Fingerprint:
    base = list if isinstance(obj, list) else tuple
    length = base.__len__(obj)
    step = length // MAX_ELEMENTS + 1  # an even sample of long sequences
    elements = base.__getitem__(obj, slice(None, None, step)) if step > 1 else obj
    return Fingerprint((length, _identities(elements)), _children(elements))


def _children(elements: Any) -> tuple[Any, ...]:
    """The elements worth looking into: not atoms, at most ``MAX_CHILDREN``."""
    atoms = ATOMS
    return tuple(itertools.islice((e for e in elements if type(e) not in atoms), MAX_CHILDREN))


@fingerprint.register(list)
@fingerprint.register(tuple)
def _(obj: list | tuple) -> Fingerprint | None:
    if type(obj) not in (list, tuple):
        return _subclassed(obj, _sequence(obj))
    return _sequence(obj)


@fingerprint.register(dict)
def _(obj: dict) -> Fingerprint | None:
    length = dict.__len__(obj)
    keys = _sampled(dict.keys(obj), length)
    values = _sampled(dict.values(obj), length)
    found = Fingerprint((length, _identities(keys), _identities(values)), _children(values))
    return found if type(obj) is dict else _subclassed(obj, found)


@fingerprint.register(set)
@fingerprint.register(frozenset)
def _(obj: set | frozenset) -> Fingerprint | None:
    base = set if isinstance(obj, set) else frozenset
    length = base.__len__(obj)
    elements = _sampled(base.__iter__(obj), length)
    found = Fingerprint((length, hash(frozenset(map(id, elements)))), _children(elements))
    return found if type(obj) in (set, frozenset) else _subclassed(obj, found)


@fingerprint.register(collections.deque)
def _(obj: collections.deque) -> Fingerprint | None:
    length = collections.deque.__len__(obj)
    elements = _sampled(collections.deque.__iter__(obj), length)
    found = Fingerprint((length, _identities(elements)), _children(elements))
    return found if type(obj) is collections.deque else _subclassed(obj, found)


@fingerprint.register(bytearray)
def _(obj: bytearray) -> Fingerprint:
    return Fingerprint((len(obj), _digest(memoryview(obj))))


def _subclassed(obj: Any, contents: Fingerprint) -> Fingerprint | None:
    """A subclass of a builtin container: its contents (read with the builtin's own methods)
    and, for a Python class, its own attributes."""
    if not _type_flags(type(obj)) & _HEAPTYPE:
        return contents  # a C subclass of the standard library (OrderedDict, defaultdict)
    own = fingerprint.dispatch(object)(obj)
    if own is None:
        return None
    return Fingerprint((contents.state, own.state), contents.children + own.children)


@fingerprint.register(type)
def _(cls: type) -> Fingerprint:
    """A class: its own namespace (class-level containers are shared by its instances)."""
    if not _type_flags(cls) & _HEAPTYPE:
        return _CONSTANT
    namespace = _type_dict(cls)
    values = [v for k, v in namespace.items() if k not in ("__dict__", "__weakref__", "__doc__")]
    mutable = [v for v in values if type(v) in (list, dict, set, bytearray) or _is_plain(v)]
    return Fingerprint(_identities(values), tuple(mutable[:MAX_CHILDREN]))


def _is_plain(value: Any) -> bool:
    """An instance of a Python class (not a function, class or descriptor)."""
    cls = type(value)
    return bool(_type_flags(cls) & _HEAPTYPE) and not isinstance(value, type)


@fingerprint.register(types.FunctionType)
def _(function: types.FunctionType) -> Fingerprint:
    """Functions: their defaults can be mutable (``def f(acc=[])``)."""
    defaults = function.__defaults__ or ()
    keywords = function.__kwdefaults__ or {}
    return Fingerprint(
        (id(function.__code__), id(function.__defaults__), id(function.__kwdefaults__)),
        _children([*defaults, *keywords.values()]),
    )


@fingerprint.register(types.MethodType)
def _(method: types.MethodType) -> Fingerprint:
    return Fingerprint(id(method.__func__), (method.__self__,))


@fingerprint.register(types.GeneratorType)
def _(gen: types.GeneratorType) -> Fingerprint:
    """Where the generator stands (advancing it would run the user's code)."""
    frame = gen.gi_frame
    return Fingerprint(-1 if frame is None else frame.f_lasti)


@fingerprint.register(types.CoroutineType)
def _(coroutine: types.CoroutineType) -> Fingerprint:
    frame = coroutine.cr_frame
    return Fingerprint(-1 if frame is None else frame.f_lasti)


@fingerprint.register(types.AsyncGeneratorType)
def _(gen: types.AsyncGeneratorType) -> Fingerprint:
    frame = gen.ag_frame
    return Fingerprint(-1 if frame is None else frame.f_lasti)


def _digest(buffer: memoryview) -> int:
    """A checksum of a contiguous buffer: all of it up to ``FULL_HASH_BYTES``, else of its
    sampled windows, gathered in one small copy (one checksum call, not one per window)."""
    size = buffer.nbytes
    if size <= FULL_HASH_BYTES:
        return zlib.crc32(buffer)
    last = size - SAMPLE_BYTES
    starts = (last * window // (SAMPLE_WINDOWS - 1) for window in range(SAMPLE_WINDOWS))
    return zlib.crc32(b"".join(buffer[start : start + SAMPLE_BYTES] for start in starts))


# -- libraries, registered once they are imported (we never import them ourselves) ----------

_REGISTERED: set[str] = set()


def register_libraries() -> None:
    """Register the fingerprints of numpy, pandas and torch types that are imported now."""
    for module, register in _LIBRARIES.items():
        if module not in _REGISTERED and module in sys.modules:
            _REGISTERED.add(module)
            try:
                register(sys.modules[module])
            except Exception:  # noqa: BLE001 - an unexpected version: its objects stay opaque
                pass


def array_bounds(array: Any) -> tuple[int, int] | None:
    """The byte range a numpy array's data spans (views of the same memory overlap)."""
    numpy = sys.modules.get("numpy")
    if numpy is None or not isinstance(array, numpy.ndarray):
        return None
    low = high = array.__array_interface__["data"][0]
    for extent, stride in zip(array.shape, array.strides):
        if extent == 0:
            return (low, low)
        if stride < 0:
            low += stride * (extent - 1)
        else:
            high += stride * (extent - 1)
    return (low, high + array.itemsize)


def _register_numpy(numpy: types.ModuleType) -> None:
    ndarray = numpy.ndarray

    def sampled(array: Any) -> int:
        if array.dtype.hasobject:
            flat = array.reshape(-1) if array.flags.c_contiguous else array.flat
            count = array.size
            picks = range(0, count, max(1, count // MAX_ELEMENTS))
            return _identities(flat[i] for i in picks)
        if array.flags.c_contiguous:
            return _digest(memoryview(array).cast("B"))
        if array.nbytes <= FULL_HASH_BYTES:
            return zlib.crc32(array.tobytes())
        picks = numpy.linspace(0, array.size - 1, SAMPLE_WINDOWS * 64, dtype=numpy.intp)
        return zlib.crc32(array.flat[picks].tobytes())

    @fingerprint.register(ndarray)
    def _(array: Any) -> Fingerprint | None:
        if type(array) is not ndarray:
            return None  # subclasses (memmap, matrix, masked) may compute on access
        interface = array.__array_interface__
        state = (array.shape, array.strides, interface["data"][0], array.dtype.str)
        if array.size == 0:
            return Fingerprint(state)
        return Fingerprint((state, sampled(array)))



def _register_numpy_random(random: types.ModuleType) -> None:
    for generator in (random.Generator, random.RandomState):
        fingerprint.register(generator, _random_generator)


def _random_generator(generator: Any) -> Fingerprint:
    """numpy generators: their bit generator's state (a few hundred bytes)."""
    bit_generator = getattr(generator, "bit_generator", None) or generator._bit_generator
    return Fingerprint(repr(bit_generator.state))


def _register_pandas(pandas: types.ModuleType) -> None:
    def frame(obj: Any) -> Fingerprint | None:
        manager = object.__getattribute__(obj, "_mgr")
        blocks = tuple(manager.blocks)
        values = tuple(block.values for block in blocks)
        axes = tuple(manager.axes)
        state = (id(manager), tuple(map(id, blocks)), tuple(map(id, values)), tuple(map(id, axes)))
        return Fingerprint(state, values)

    fingerprint.register(pandas.DataFrame, frame)
    fingerprint.register(pandas.Series, frame)
    fingerprint.register(pandas.Index, lambda index: _CONSTANT)  # immutable


def _register_torch(torch: types.ModuleType) -> None:
    @fingerprint.register(torch.Tensor)
    def _(tensor: Any) -> Fingerprint:
        """Version counter (bumped by every in-place op) and storage, without syncing a GPU."""
        return Fingerprint((tensor._version, tensor.data_ptr(), tuple(tensor.shape)))


def _register_ipywidgets(ipywidgets: types.ModuleType) -> None:
    """A widget's state belongs to the frontend (a dragged slider): comparing it would blame
    the next cell that reads it for the change. The frontend's changes are followed as such
    (``widgets.py``); a cell's own (``slider.value = 3``) shows in its source."""

    @fingerprint.register(ipywidgets.Widget)
    def _(widget: Any) -> Fingerprint:
        return _CONSTANT


_LIBRARIES = {
    "numpy": _register_numpy,
    "numpy.random": _register_numpy_random,
    "pandas": _register_pandas,
    "torch": _register_torch,
    "ipywidgets": _register_ipywidgets,
}
