"""Exact value digests: proof that a name's new value equals its old one (early cutoff).

When a cell re-runs and a name it defines gets a value equal to the one it had, the cells
that read that name need not re-run. ``digest(a) == digest(b)`` is that proof: ``a`` and
``b`` have the same exact types, the same contents and the same aliasing inside them, so code
that reads them cannot tell them apart (only ``is`` and ``id()`` on immutable parts can).
``None`` means no proof: the value is unsupported, unsafe to look into, or over budget, and
the caller treats it as changed.

Rules, as in ``fingerprints``: digesting never runs the user's program. Types are checked
exactly (``type(x) is list``, subclasses are unsupported), contents are read with the builtin
types' own methods, and nothing of a user class is touched. A digest is built only of ints,
strs, bytes, None, tuples and frozensets of those, and code objects (which compare and hash
their constants in C without calling them; their constants are checked to be builtin ones),
so comparing two digests never runs user code either.

Identity appears as ``("id", id(obj))``: modules, classes, builtins, a function's globals,
time zones other than fixed offsets, functions inside sets. Ids are only meaningful while the
object lives: digest both values while the caller holds them both, and compare the digests
before letting either go, so no id can be reused between. A digest without ``("id", …)``
(plain data, arrays, frames) names only values, and stays valid once its objects are gone.
Inside one digest, the second visit of a mutable object (list, dict, set, function, cell,
array, frame...) gives ``("ref", k)``, k being the order of its first visit: ``[a, a]`` and
``[a, copy(a)]`` differ, and cycles end.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import fractions
import hashlib
import pathlib
import struct
import sys
import types
import uuid
from collections.abc import Callable, Hashable
from typing import Any

from .fingerprints import _HEAPTYPE, _type_dict, _type_flags

SHORT = 64  # strs and bytes up to this length are their own digest; longer ones are hashed
MAX_DEPTH = 100  # nesting deeper than this is not digested (and Python's stack stays safe)



class Budget:
    """What digesting may cost, counted across every digest taken with it (one comparison)."""

    __slots__ = ("bytes", "max_bytes", "max_objects", "objects")

    def __init__(self, max_bytes: int = 32 << 20, max_objects: int = 100_000) -> None:
        self.max_bytes = max_bytes
        self.max_objects = max_objects
        self.bytes = 0
        self.objects = 0


class _Opaque(Exception):
    """No digest: an unsupported or unsafe object, or the budget is spent."""


def digest(obj: object, budget: Budget) -> Hashable | None:
    """A summary of ``obj``'s value: equal digests prove two values interchangeable.

    Returns None when that cannot be proved cheaply and safely. The digest holds
    ``("id", id(x))`` for objects compared by identity: compare two digests only while both
    digested objects are alive (the caller keeps them), so their ids cannot be reused.
    """
    _register_libraries()
    try:
        return _Walk(budget).visit(obj)
    except (_Opaque, RecursionError, RuntimeError):  # RuntimeError: a thread resized a dict
        return None


_Handler = Callable[[Any, "_Walk"], Hashable]
_HANDLERS: dict[type, _Handler] = {}  # exact type -> how to digest it
_MUTABLE: set[type] = set()  # types whose aliasing counts: their objects are visited once


class _Walk:
    """One digest call: the budget, and the mutable objects seen so far."""

    __slots__ = ("budget", "count", "depth", "in_set", "seen")

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.seen: dict[int, tuple[int | None, object]] = {}  # id -> (k or None, obj kept alive)
        self.count = 0
        self.depth = 0
        self.in_set = 0

    def visit(self, obj: object) -> Hashable:
        self.charge(objects=1)
        cls = type(obj)
        handler = _HANDLERS.get(cls)
        if handler is None:
            handler = _fallback(cls)
        if cls in _MUTABLE:
            seen = self.seen.get(id(obj))
            if seen is not None:
                return ("ref", seen[0]) if seen[0] is not None else ("id", id(obj))
            if self.in_set:
                # A set's order is its elements' hashes, not its value: numbering objects
                # first met there would depend on it. Only functions are hashable and mutable.
                self.seen[id(obj)] = (None, obj)
                return ("id", id(obj))
            self.seen[id(obj)] = (self.count, obj)
            self.count += 1
        if self.depth >= MAX_DEPTH:
            raise _Opaque("nested too deep")
        self.depth += 1
        try:
            return handler(obj, self)
        finally:
            self.depth -= 1

    def charge(self, nbytes: int = 0, objects: int = 0) -> None:
        budget = self.budget
        budget.bytes += nbytes
        budget.objects += objects
        if budget.bytes > budget.max_bytes or budget.objects > budget.max_objects:
            raise _Opaque("over budget")

    def visit_all(self, items: Any) -> tuple[Hashable, ...]:
        return tuple([self.visit(item) for item in items])


def _fallback(cls: type) -> _Handler:
    """Types not registered exactly: classes with a metaclass are compared by identity."""
    if issubclass(cls, type):  # type is exact: a C subtype check, no metaclass hook
        return _identity
    raise _Opaque(cls)


def _register(*classes: type, mutable: bool = False) -> Callable[[_Handler], _Handler]:
    def register(handler: _Handler) -> _Handler:
        for cls in classes:
            _HANDLERS[cls] = handler
            if mutable:
                _MUTABLE.add(cls)
        return handler

    return register


def _hashed(data: Any) -> bytes:
    """SHA-256: about twice blake2b's speed where the CPU has SHA instructions (measured)."""
    return hashlib.sha256(data).digest()[:16]


# -- atoms ------------------------------------------------------------------------------------


@_register(
    types.ModuleType, type, types.BuiltinFunctionType, types.MethodDescriptorType,
    types.WrapperDescriptorType, types.MethodWrapperType, types.ClassMethodDescriptorType,
)
def _identity(obj: Any, walk: _Walk) -> Hashable:
    """Modules, classes and builtins: the same object, or not."""
    return ("id", id(obj))


@_register(type(None), type(Ellipsis), type(NotImplemented))
def _singleton(obj: Any, walk: _Walk) -> Hashable:
    return (type(obj).__name__,)


@_register(bool)
def _bool(obj: bool, walk: _Walk) -> Hashable:
    return ("bool", int(obj))


@_register(int)
def _int(obj: int, walk: _Walk) -> Hashable:
    walk.charge(int.bit_length(obj) // 8)
    return ("int", obj)


@_register(float)
def _float(obj: float, walk: _Walk) -> Hashable:
    """Its bits: ``-0.0`` differs from ``0.0``, a NaN equals only the same NaN."""
    return ("float", struct.pack("<d", obj))


@_register(complex)
def _complex(obj: complex, walk: _Walk) -> Hashable:
    return ("complex", struct.pack("<dd", obj.real, obj.imag))


@_register(str)
def _str(obj: str, walk: _Walk) -> Hashable:
    length = str.__len__(obj)
    if length <= SHORT:
        walk.charge(length)
        return obj
    data = str.encode(obj, "utf-8", "surrogatepass")
    walk.charge(len(data))
    return ("str", length, _hashed(data))


@_register(bytes)
def _bytes(obj: bytes, walk: _Walk) -> Hashable:
    length = bytes.__len__(obj)
    walk.charge(length)
    return obj if length <= SHORT else ("bytes", length, _hashed(obj))


@_register(range)
def _range(obj: range, walk: _Walk) -> Hashable:
    return ("range", walk.visit(obj.start), walk.visit(obj.stop), walk.visit(obj.step))


@_register(slice)
def _slice(obj: slice, walk: _Walk) -> Hashable:
    return ("slice", walk.visit(obj.start), walk.visit(obj.stop), walk.visit(obj.step))


@_register(datetime.date)
def _date(obj: datetime.date, walk: _Walk) -> Hashable:
    return ("date", obj.year, obj.month, obj.day)


@_register(datetime.datetime)
def _datetime(obj: datetime.datetime, walk: _Walk) -> Hashable:
    """Fields, not ``isoformat()`` (which asks the tzinfo, maybe user code, its offset)."""
    fields = (obj.year, obj.month, obj.day, obj.hour, obj.minute, obj.second, obj.microsecond)
    return ("datetime", fields, obj.fold, _tzinfo(obj.tzinfo, walk))


@_register(datetime.time)
def _time(obj: datetime.time, walk: _Walk) -> Hashable:
    fields = (obj.hour, obj.minute, obj.second, obj.microsecond)
    return ("time", fields, obj.fold, _tzinfo(obj.tzinfo, walk))


def _tzinfo(tz: Any, walk: _Walk) -> Hashable:
    """None and fixed offsets by value; other zones (zoneinfo, user classes) by identity."""
    return walk.visit(tz) if tz is None or type(tz) is datetime.timezone else ("id", id(tz))


@_register(datetime.timezone)
def _timezone(obj: datetime.timezone, walk: _Walk) -> Hashable:
    """Offset and name as given (``timezone.utc`` differs from one named "UTC" in repr)."""
    return ("timezone", walk.visit(datetime.timezone.__getinitargs__(obj)))


@_register(datetime.timedelta)
def _timedelta(obj: datetime.timedelta, walk: _Walk) -> Hashable:
    return ("timedelta", obj.days, obj.seconds, obj.microseconds)


@_register(decimal.Decimal)
def _decimal(obj: decimal.Decimal, walk: _Walk) -> Hashable:
    """Sign, digits and exponent: ``Decimal("1.0")`` differs from ``Decimal("1.00")``."""
    sign, digits, exponent = tuple.__iter__(decimal.Decimal.as_tuple(obj))
    walk.charge(objects=len(digits))
    return ("Decimal", sign, tuple(digits), exponent)


_FRACTION = tuple(_type_dict(fractions.Fraction).get(n) for n in ("_numerator", "_denominator"))
_UUID_INT = _type_dict(uuid.UUID).get("int")
_UUID_SAFE = _type_dict(uuid.UUID).get("is_safe")
_SAFE_UUID = tuple((member, member.name) for member in uuid.SafeUUID)


@_register(fractions.Fraction)
def _fraction(obj: fractions.Fraction, walk: _Walk) -> Hashable:
    """Its slots, read by their member descriptors (the public properties are Python code)."""
    if not all(type(slot) is types.MemberDescriptorType for slot in _FRACTION):
        raise _Opaque("an unknown Fraction layout")
    return ("Fraction", *(walk.visit(slot.__get__(obj)) for slot in _FRACTION))


@_register(uuid.UUID)
def _uuid(obj: uuid.UUID, walk: _Walk) -> Hashable:
    if type(_UUID_INT) is not types.MemberDescriptorType:
        raise _Opaque("an unknown UUID layout")
    safe = _UUID_SAFE.__get__(obj) if type(_UUID_SAFE) is types.MemberDescriptorType else None
    names = [name for member, name in _SAFE_UUID if member is safe]
    if not names:
        raise _Opaque("an unknown UUID layout")
    return ("UUID", walk.visit(_UUID_INT.__get__(obj)), names[0])


@_register(pathlib.PurePosixPath, pathlib.PureWindowsPath, pathlib.PosixPath, pathlib.WindowsPath)
def _path(obj: pathlib.PurePath, walk: _Walk) -> Hashable:
    """The standard library's own ``__str__`` (the type is exact, so not overridden)."""
    return ("path", type(obj).__name__, walk.visit(pathlib.PurePath.__str__(obj)))


@_register(types.CodeType)
def _code(obj: types.CodeType, walk: _Walk) -> Hashable:
    """Code objects stand for themselves, once their parts are known to be builtin."""
    _check_code(obj, walk)
    return ("code", obj, obj.co_filename)


_CONSTANTS = frozenset(
    {type(None), bool, int, float, complex, str, bytes, type(Ellipsis), tuple, frozenset}
)
_CODE_FIELDS = (
    ("co_name", str), ("co_qualname", str), ("co_filename", str),
    ("co_linetable", bytes), ("co_exceptiontable", bytes),
)


def _check_code(code: types.CodeType, walk: _Walk) -> None:
    """Code compares in C, but with its fields' and constants' own ``__eq__`` and ``__hash__``:
    ``CodeType.replace`` can plant a str subclass or any constant there. Builtins only."""
    pending: list[Any] = [code]
    while pending:
        item = pending.pop()
        walk.charge(objects=1)
        cls = type(item)
        if cls is types.CodeType:
            for field, kind in _CODE_FIELDS:
                if type(getattr(item, field, kind())) is not kind:  # a C member: no hooks
                    raise _Opaque("a code object with a non-builtin field")
            pending.extend(item.co_consts)
        elif cls is tuple or cls is frozenset:
            pending.extend(cls.__iter__(item))
        elif cls not in _CONSTANTS:
            raise _Opaque("a code object with a non-builtin constant")


# -- containers and functions -------------------------------------------------------------------


@_register(tuple)
def _tuple(obj: tuple, walk: _Walk) -> Hashable:
    return ("tuple", walk.visit_all(tuple.__iter__(obj)))


@_register(list, mutable=True)
def _list(obj: list, walk: _Walk) -> Hashable:
    return ("list", walk.visit_all(list.__iter__(obj)))


@_register(dict, mutable=True)
def _dict(obj: dict, walk: _Walk) -> Hashable:
    """Keys and values in insertion order (the order is part of a dict's value)."""
    return ("dict", tuple([(walk.visit(k), walk.visit(v)) for k, v in dict.items(obj)]))


@_register(set, mutable=True)
@_register(frozenset)
def _set(obj: set | frozenset, walk: _Walk) -> Hashable:
    """The multiset of element digests (two distinct NaNs have equal digests)."""
    base = set if type(obj) is set else frozenset
    counts: dict[Hashable, int] = {}
    walk.in_set += 1
    try:
        for element in base.__iter__(obj):
            found = walk.visit(element)
            counts[found] = counts.get(found, 0) + 1
    finally:
        walk.in_set -= 1
    return (base.__name__, frozenset(counts.items()))


@_register(bytearray, mutable=True)
def _bytearray(obj: bytearray, walk: _Walk) -> Hashable:
    length = bytearray.__len__(obj)
    walk.charge(length)
    return ("bytearray", length, _hashed(obj))


@_register(types.CellType, mutable=True)
def _cell(obj: types.CellType, walk: _Walk) -> Hashable:
    """A closure cell (shared by the functions that close over it)."""
    try:
        contents = obj.cell_contents
    except ValueError:
        return ("cell",)  # empty
    return ("cell", walk.visit(contents))


_ANNOTATE = _type_dict(types.FunctionType).get("__annotate__")  # 3.14's lazy annotations
_TYPE_PARAMS = _type_dict(types.FunctionType).get("__type_params__")  # 3.12
_BUILTINS = _type_dict(types.FunctionType).get("__builtins__")  # 3.10


@_register(types.FunctionType, mutable=True)
def _function(obj: types.FunctionType, walk: _Walk) -> Hashable:
    """Same code, globals, defaults, closure contents and attributes: the same behaviour.

    Read through the function type's own descriptors (an exact function cannot shadow them).
    """
    if _ANNOTATE is not None and _ANNOTATE.__get__(obj) is not None:
        annotations = ("annotate", walk.visit(_ANNOTATE.__get__(obj)))  # not evaluated here
    else:
        annotations = walk.visit(obj.__annotations__)
    params = () if _TYPE_PARAMS is None else _TYPE_PARAMS.__get__(obj)
    if type(params) is not tuple or tuple.__len__(params):
        raise _Opaque("a generic function")
    return (
        "function",
        walk.visit(obj.__code__),
        ("id", id(obj.__globals__)),
        ("id", id(_BUILTINS.__get__(obj))) if _BUILTINS is not None else None,
        walk.visit(obj.__name__),
        walk.visit(obj.__qualname__),
        walk.visit(obj.__module__),
        walk.visit(obj.__doc__),
        walk.visit(obj.__defaults__),
        walk.visit(obj.__kwdefaults__),
        walk.visit(obj.__closure__),
        annotations,
        walk.visit(obj.__dict__),
    )


# -- libraries, registered once they are imported (we never import them ourselves) ------------

_REGISTERED: set[str] = set()


def _register_libraries() -> None:
    for module, register in _LIBRARIES.items():
        if module not in _REGISTERED and module in sys.modules:
            _REGISTERED.add(module)
            with contextlib.suppress(Exception):  # an unexpected version: its objects stay opaque
                register(sys.modules[module])


def _guarded(handler: _Handler) -> _Handler:
    """A library's surprises (an unexpected version raising) mean no digest."""

    def run(obj: Any, walk: _Walk) -> Hashable:
        try:
            return handler(obj, walk)
        except (_Opaque, RecursionError):
            raise
        except Exception as error:
            raise _Opaque(error) from error

    return run


_PLAIN_KINDS = frozenset("biufcmMSUV")  # numpy kinds whose values live in the buffer itself


def _dtype(dtype: Any) -> Hashable:
    """Unstructured builtin numpy dtypes: ``str`` has byte order, size and datetime unit, the
    scalar type's name tells ``int64`` from ``longlong``. No objects, no string-dtype
    pointers. Names, not ids: a digest without ids can be kept after its value is gone."""
    if (
        type(dtype).__module__ != "numpy.dtypes"
        or dtype.kind not in _PLAIN_KINDS
        or dtype.isbuiltin == 2
        or dtype.fields is not None
        or dtype.subdtype is not None
        or dtype.metadata is not None
    ):
        raise _Opaque(dtype)
    return (dtype.str, dtype.type.__name__)


def _buffer(array: Any, walk: _Walk) -> bytes:
    """A hash of an array's contiguous buffer, in memory order (hashlib also takes the
    datetimes that memoryview refuses)."""
    walk.charge(array.nbytes)
    flags = array.flags
    if flags.c_contiguous:
        return _hashed(array)
    if flags.f_contiguous:
        return _hashed(array.T)
    raise _Opaque("not contiguous")


def _register_numpy(numpy: types.ModuleType) -> None:
    def alone(array: Any) -> bool:
        """Whether the array alone holds its memory: it owns it, or it views an array
        nothing else holds (``np.arange(6).reshape(2, 3)``: the array it viewed was a
        temporary). Any other view shares memory with another array, and sees its changes."""
        base = array.base
        if base is None:
            return bool(array.flags.owndata)
        # References to ``base``: the view's, ``base`` here, getrefcount's argument.
        return (
            type(base) is numpy.ndarray
            and base.base is None
            and bool(base.flags.owndata)
            and sys.getrefcount(base) <= 3
        )

    @_register(numpy.ndarray, mutable=True)
    @_guarded
    def _(array: Any, walk: _Walk) -> Hashable:
        flags = array.flags
        if not alone(array):
            raise _Opaque("a view")
        layout = (array.shape, array.strides, int(flags.c_contiguous), int(flags.f_contiguous))
        return ("ndarray", _dtype(array.dtype), layout, int(flags.writeable), _buffer(array, walk))

    scalars, pending = [], [numpy.generic]
    while pending:
        cls = pending.pop()
        pending.extend(type.__subclasses__(cls))
        if not _type_flags(cls) & _HEAPTYPE:  # numpy's own, not a user subclass
            scalars.append(cls)

    @_register(*scalars)
    @_guarded
    def _(obj: Any, walk: _Walk) -> Hashable:
        found = _dtype(obj.dtype)
        data = numpy.generic.tobytes(obj)
        walk.charge(len(data))
        return ("numpy", found, data)


def _register_pandas(pandas: types.ModuleType) -> None:
    """Frames, series and plain indexes, from their values (no ``_mgr`` internals)."""
    numpy = sys.modules["numpy"]
    arrays = pandas.arrays
    times = {arrays.DatetimeArray, arrays.TimedeltaArray}
    strings = {arrays.StringArray, getattr(arrays, "ArrowStringArray", None)} - {None}

    def values(array: Any, walk: _Walk) -> Hashable:
        """A column's or an index's values: a numpy buffer, or element by element."""
        dtype = array.dtype
        if type(dtype) is pandas.StringDtype and type(array) in strings:
            found = ("str", walk.visit(dtype.storage), walk.visit(dtype.na_value))
            return (found, elements(array.to_numpy(dtype=object), walk))
        if type(array) in times:
            _dtype(dtype)  # naive ones: a time zone's dtype is pandas' own
            array = numpy.asarray(array)
        elif type(array) is arrays.NumpyExtensionArray:
            array = numpy.asarray(array)
        if type(array) is not numpy.ndarray or array.ndim != 1:
            raise _Opaque("an extension array")
        if array.dtype.kind == "O":
            return ("object", elements(array, walk))
        if not array.flags.c_contiguous:
            walk.charge(array.nbytes)  # the copy
            array = numpy.ascontiguousarray(array)
        return (_dtype(array.dtype), array.shape, _buffer(array, walk))

    def elements(array: Any, walk: _Walk) -> Hashable:
        walk.charge(objects=array.size)  # before ``tolist`` makes a list as long
        return walk.visit_all(array.tolist())

    def shared(obj: Any, walk: _Walk) -> Hashable:
        return (walk.visit(obj.attrs), int(obj.flags.allows_duplicate_labels))

    @_register(pandas.Index)
    @_guarded
    def _(obj: Any, walk: _Walk) -> Hashable:
        return ("Index", values(obj.array, walk), walk.visit(obj.name))

    @_register(pandas.RangeIndex)
    @_guarded
    def _(obj: Any, walk: _Walk) -> Hashable:
        found = (walk.visit(obj.start), walk.visit(obj.stop), walk.visit(obj.step))
        return ("RangeIndex", found, walk.visit(obj.name))

    @_register(pandas.Series, mutable=True)
    @_guarded
    def _(obj: Any, walk: _Walk) -> Hashable:
        found = values(obj.array, walk)
        return ("Series", found, walk.visit(obj.index), walk.visit(obj.name), shared(obj, walk))

    @_register(pandas.DataFrame, mutable=True)
    @_guarded
    def _(obj: Any, walk: _Walk) -> Hashable:
        """Labels first, so none but builtin ones meet pandas' code. Each column's array as
        stored: ``items()`` would make Series, whose names pandas hashes."""
        columns = obj.columns
        labels = walk.visit(columns)
        rows = walk.visit(obj.index)
        found = tuple([values(obj._get_column_array(i), walk) for i in range(len(columns))])
        return ("DataFrame", labels, rows, found, shared(obj, walk))

    missing = {type(pandas.NA): pandas.NA, type(pandas.NaT): pandas.NaT}

    @_register(*missing)
    def _(obj: Any, walk: _Walk) -> Hashable:
        if obj is not missing[type(obj)]:
            raise _Opaque(obj)
        return ("pandas", type(obj).__name__)


def _register_numpy_random(random: types.ModuleType) -> None:
    """numpy's generators: their bit generator's state (a dict of ints and strings, or a
    small array), read through numpy's own ``state`` property."""
    bit_generators = {
        getattr(random, name) for name in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
        if hasattr(random, name)
    }

    @_register(random.Generator, random.RandomState, mutable=True)
    @_guarded
    def _(generator: Any, walk: _Walk) -> Hashable:
        bits = generator.bit_generator if type(generator) is random.Generator else None
        if bits is None:
            bits = generator._bit_generator
        if type(bits) not in bit_generators:
            raise _Opaque(bits)
        return (type(generator).__name__, type(bits).__name__, walk.visit(bits.state))


_LIBRARIES = {
    "numpy": _register_numpy,
    "numpy.random": _register_numpy_random,
    "pandas": _register_pandas,
}
