"""Canonical encoding of component values: type-directed encoders, compiled once per class.

Why type-directed: a component's field annotations are read once, at registration, and
turned into an encoder. A type the hash cannot encode canonically (``Any``, callables,
arbitrary objects) is refused *then*, with the field named, instead of surfacing as a
divergence hundreds of ticks into a run. Floats are encoded by their exact IEEE-754 bits,
numpy arrays by dtype, shape and raw bytes, sets and dicts in the order of their encoded
keys: equal state gives equal bytes in any process.

Values whose encoding cannot change while they live go through the identity memo
(:mod:`engine._memo`); the predicates here decide which those are.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import keyword
import struct
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ._errors import ComponentError, UnhashableComponentError
from ._memo import _memoized

__all__ = ["Encoder", "canonical_bytes"]

Encoder = Callable[[Any], bytes]

_F64 = struct.Struct("<d")
_I64 = struct.Struct("<q")
_U32 = struct.Struct("<I")
_SCALAR_FORMATS: dict[Any, str] = {float: "d", int: "q", bool: "?"}
_SUPPORTED = (
    "int, float, bool, str, bytes, None, enums, Literal, numpy arrays, tuples/lists/dicts/"
    "sets of these, Optional/Union of these, and nested dataclasses or pydantic models"
)

_ATOMS = frozenset({int, float, bool, str, bytes, type(None)})
_compiled: dict[type, Encoder] = {}
_by_fields: dict[type, Encoder] = {}


def canonical_bytes(value: Any) -> bytes:
    """The canonical encoding of a dataclass or pydantic value by its *runtime* type's fields.

    For ``__tickmind_hash__`` hooks of polymorphic values: a field annotated with a base
    class (``steps: tuple[ActionStep, ...]``) holds subclasses whose extra fields the
    annotation cannot know about.
    """
    cls = type(value)
    encode = _by_fields.get(cls)
    if encode is None:
        encode = _by_fields[cls] = _compile_canonical(cls)
    return encode(value)


def _compile_canonical(cls: type) -> Encoder:
    """``canonical_bytes`` for one runtime class. It ignores the class's own hook (it *is*
    what the hook calls), so a frozen class's instances are memoized like any frozen value:
    the ActionSteps of a plan are encoded once, not every tick."""
    prefix = _encode_str(cls.__qualname__)
    frozen = _frozen_fields(cls) is not None
    fields = _compile_fields(cls, cls.__qualname__, memo=not frozen)

    def encode(v: Any) -> bytes:
        return prefix + fields(v)

    return _memoized(encode, _frozen_instance) if frozen else encode


# --- compiling encoders -------------------------------------------------------------------


def _is_pydantic_model(cls: type) -> bool:
    return isinstance(cls, type) and hasattr(cls, "model_fields") and hasattr(cls, "model_dump")


def _has_hook(cls: type) -> bool:
    return callable(getattr(cls, "__tickmind_hash__", None))


def _hashed_fields(cls: type) -> list[tuple[str, Any]]:
    """(name, annotation) of every field that takes part in the hash, in declared order."""
    if _is_pydantic_model(cls):
        return [(n, f.annotation) for n, f in cls.model_fields.items()]  # type: ignore[attr-defined]
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception as exc:  # an unresolvable forward reference is the user's to fix
        raise UnhashableComponentError(
            f"component {cls.__qualname__}: cannot resolve its field annotations ({exc})"
        ) from exc
    return [
        (f.name, hints.get(f.name, f.type))
        for f in dataclasses.fields(cls)
        if f.metadata.get("tickmind_hash", True)
    ]


def _field_names(cls: type) -> tuple[str, ...]:
    if _has_hook(cls):
        return ("__tickmind_hash__",)
    return tuple(n for n, _ in _hashed_fields(cls))


def _compile_class(cls: type, where: str) -> Encoder:
    if cls in _compiled:
        return _compiled[cls]
    if _has_hook(cls):
        hook = cls.__tickmind_hash__  # type: ignore[attr-defined]
        _compiled[cls] = hook
        return hook

    # Recursive types: a placeholder resolves through the table once compiling is done.
    _compiled[cls] = lambda v: _compiled[cls](v)
    try:
        encode = _compile_fields(cls, where)
    except BaseException:
        del _compiled[cls]
        raise
    _compiled[cls] = encode
    return encode


def _compile_fields(cls: type, where: str, *, memo: bool = True) -> Encoder:
    return _join_fields(field_parts(cls, where, memo=memo))


def field_parts(cls: type, where: str, *, memo: bool = True) -> list[tuple[Encoder, list[str]]]:
    """``cls``'s encoding as parts, in field order: an encoder and the fields it is called
    with. A run of consecutive scalar fields is one ``pack``; any other field is a part of
    its own. Joined, the parts' bytes are the class's encoding."""
    parts: list[tuple[Encoder, list[str]]] = []
    run_names: list[str] = []
    run_format = "<"

    def close_run() -> None:
        nonlocal run_format
        if run_names:
            parts.append((struct.Struct(run_format).pack, list(run_names)))
        run_names.clear()
        run_format = "<"

    for fname, annotation in _hashed_fields(cls):
        annotation = _strip_annotated(annotation)
        if annotation in _SCALAR_FORMATS:
            run_names.append(fname)
            run_format += _SCALAR_FORMATS[annotation]
            continue
        close_run()
        parts.append((_compile_type(annotation, f"{where}.{fname}", memo=memo), [fname]))
    close_run()
    return parts


def _join_fields(parts: list[tuple[Encoder, list[str]]]) -> Encoder:
    """One function that reads each field and joins its parts' encodings, generated as source
    (as ``dataclasses`` does): the same bytes as a closure per field, without a Python frame
    and an attrgetter per field of every component every tick."""
    env: dict[str, Any] = {f"e{i}": enc for i, (enc, _) in enumerate(parts)}
    calls = [f"e{i}({', '.join(map(_read_field, ns))})" for i, (_, ns) in enumerate(parts)]
    if not calls:
        body = 'b""'
    elif len(calls) == 1:
        body = calls[0]
    else:
        body = f'b"".join(({", ".join(calls)},))'
    exec(f"def encode(v):\n    return {body}\n", env)  # noqa: S102 - only field names, quoted
    encode: Encoder = env["encode"]
    return encode


def _read_field(name: str) -> str:
    """Source reading field ``name`` of ``v`` (a pydantic field may be named anything)."""
    if name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("__"):
        return f"v.{name}"
    return f"getattr(v, {name!r})"


def _strip_annotated(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _compile_type(tp: Any, where: str, *, memo: bool = True) -> Encoder:
    """The encoder for values annotated ``tp``. With ``memo``, an annotation whose values may
    be immutable gets an identity-memoized encoder; inside one, parts are compiled without
    (the outer entry already covers them, and a lookup per part would cost more than it saves).
    """
    tp = _strip_annotated(tp)
    memo_here = memo and _may_be_frozen(tp)
    encode = _compile_plain(tp, where, memo and not memo_here)
    return _memoized(encode, _frozen) if memo_here else encode


def _compile_plain(tp: Any, where: str, memo: bool) -> Encoder:
    if tp is float:
        return _F64.pack
    if tp is int:
        return _I64.pack
    if tp is bool:
        return lambda v: b"\x01" if v else b"\x00"
    if tp is str:
        return _encode_str
    if tp is bytes:
        return _encode_bytes
    if tp is type(None) or tp is None:
        return lambda v: b""
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_encoder(tp)
    if tp is np.ndarray:
        return _encode_array

    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is np.ndarray:
        return _encode_array
    if origin is typing.Literal:
        return _encode_literal
    if origin is typing.Union or origin is types.UnionType:
        return _compile_union(args, where, memo)
    if origin in (list, tuple) or tp in (list, tuple):
        if origin is tuple and args and args[-1] is not Ellipsis:
            items = tuple(_compile_type(a, f"{where}[{i}]", memo=memo) for i, a in enumerate(args))
            return lambda v: b"".join([e(x) for e, x in zip(items, v, strict=True)])
        if not args:
            raise _unhashable(where, tp, "give the element type, e.g. list[int]")
        element = _strip_annotated(args[0])
        if element in _SCALAR_FORMATS:
            # One pack call for the whole sequence: the same bytes as packing item by item
            # (little-endian, no padding), several times faster for long id tuples.
            return _scalar_sequence(_SCALAR_FORMATS[element])
        item = _compile_type(element, f"{where}[]", memo=memo)
        return lambda v: _U32.pack(len(v)) + b"".join(map(item, v))
    if origin in (set, frozenset):
        if not args:
            raise _unhashable(where, tp, "give the element type, e.g. frozenset[int]")
        item = _compile_type(args[0], f"{where}{{}}", memo=memo)
        return lambda v: _U32.pack(len(v)) + b"".join(sorted(_framed(item, v)))
    if origin is dict:
        if len(args) != 2:
            raise _unhashable(where, tp, "give key and value types, e.g. dict[str, float]")
        key = _compile_type(args[0], f"{where}.key", memo=memo)
        value = _compile_type(args[1], f"{where}.value", memo=memo)
        return lambda v: _U32.pack(len(v)) + b"".join(
            sorted(_framed(key, [k])[0] + value(x) for k, x in v.items())
        )
    if isinstance(tp, type) and (
        dataclasses.is_dataclass(tp) or _is_pydantic_model(tp) or _has_hook(tp)
    ):
        return _compile_class(tp, where)
    raise _unhashable(where, tp, f"supported: {_SUPPORTED}")


def _compile_union(args: tuple[Any, ...], where: str, memo: bool) -> Encoder:
    members = [a for a in args if a is not type(None)]
    optional = len(members) != len(args)
    if len(members) == 1:
        inner = _compile_type(members[0], where, memo=memo)
        if not optional:
            return inner
        return lambda v: b"\x00" if v is None else b"\x01" + inner(v)
    checks: list[tuple[type, Encoder]] = []
    for tag, member in enumerate(members, start=1):
        runtime = typing.get_origin(member) or member
        if not isinstance(runtime, type):
            raise _unhashable(where, member, "union members must be concrete types")
        enc = _compile_type(member, where, memo=memo)
        checks.append((runtime, _tagged(bytes([tag]), enc)))

    def encode(v: Any) -> bytes:
        if v is None and optional:
            return b"\x00"
        for runtime, enc in checks:
            if isinstance(v, runtime):
                return enc(v)
        raise ComponentError(f"{where}: value {v!r} matches no member of its Union annotation")

    return encode


def _framed(item: Encoder, values: Iterable[Any]) -> list[bytes]:
    """Length-prefix each element so sorted concatenations stay unambiguous."""
    out = []
    for x in values:
        b = item(x)
        out.append(_U32.pack(len(b)) + b)
    return out


def _encode_str(v: str) -> bytes:
    b = v.encode("utf-8")
    return _U32.pack(len(b)) + b


def _encode_bytes(v: bytes) -> bytes:
    return _U32.pack(len(v)) + bytes(v)


def _encode_literal(v: Any) -> bytes:
    if isinstance(v, bool):
        return b"\x01" if v else b"\x00"
    if isinstance(v, int):
        return _I64.pack(v)
    if isinstance(v, enum.Enum):
        return _encode_str(v.name)
    return _encode_str(str(v))


def _encode_array(v: np.ndarray) -> bytes:
    if not isinstance(v, np.ndarray):
        v = np.asarray(v)
    if v.dtype.hasobject:
        raise ComponentError("numpy arrays of dtype=object cannot be hashed canonically")
    header = f"{v.dtype.str}{v.shape}".encode()
    return _encode_bytes(header) + np.ascontiguousarray(v).tobytes()


def _enum_encoder(cls: type[enum.Enum]) -> Encoder:
    """An enum's name encoding from a table built once, keyed by member identity (not
    equality: a ``str`` enum equals its plain-string value, which has no ``name`` and must
    still be refused). The table holds the members, so their ids stay theirs."""
    members = tuple(cls.__members__.values())
    by_id = {id(m): _encode_str(m.name) for m in members}
    get = by_id.get

    def encode(v: Any, _members: tuple[enum.Enum, ...] = members) -> bytes:
        data = get(id(v))
        return _encode_str(v.name) if data is None else data

    return encode


@functools.cache
def _scalar_sequence(code: str) -> Encoder:
    """A variable-length sequence of one scalar type in one pack call: the same bytes as
    packing item by item (little-endian, no padding), several times faster for id tuples.
    Packers are kept by length here because ``struct``'s own cache of formats holds 100 and
    is emptied when full, which the many tuple lengths of a world keep doing."""
    packers: dict[int, Callable[..., bytes]] = {}

    def encode(v: Any) -> bytes:
        n = len(v)
        pack = packers.get(n)
        if pack is None:
            if len(packers) >= 4096:  # bound the table in a world of ever new lengths
                packers.clear()
            pack = packers[n] = struct.Struct(f"<I{n}{code}").pack
        return pack(n, *v)

    return encode



def _frozen(v: Any) -> bool:
    """Whether ``v``'s encoding can never change: an immutable scalar or enum member, a tuple
    of such, or a frozen dataclass / pydantic model (no hook) whose hashed fields hold such.
    Checked on the value, not its annotation: a tuple annotation may hold a list, a frozen
    model a list field. (Writing a frozen instance through ``object.__setattr__`` defeats
    this, as it defeats ``frozen`` itself.)"""
    t: type = type(v)
    if t in _ATOMS:
        return True
    if t is tuple:
        return _ATOMS.issuperset(map(type, v)) or all(map(_frozen, v))
    if isinstance(v, enum.Enum):
        return True
    return not _opaque_hook(t) and _frozen_instance(v)


def _tagged(tag: bytes, encode: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    """A union member's encoder: its tag byte, then the member's own encoding."""
    return lambda v: tag + encode(v)


def _frozen_instance(v: Any) -> bool:
    """``v`` is of a frozen class and its hashed fields are ``_frozen`` (its own hook, if
    any, is not consulted: ``canonical_bytes`` does not call it)."""
    cls: type = type(v)
    names = _frozen_fields(cls)
    return names is not None and all(_frozen(getattr(v, n)) for n in names)


@functools.cache
def _opaque_hook(cls: type) -> bool:
    """A ``__tickmind_hash__`` the engine cannot see through: any but ``canonical_bytes``
    itself (``__tickmind_hash__ = engine.canonical_bytes``), which encodes the runtime fields
    and so is as stable as they are."""
    return _has_hook(cls) and cls.__tickmind_hash__ is not canonical_bytes  # type: ignore[attr-defined]


@functools.cache
def _frozen_fields(cls: type) -> tuple[str, ...] | None:
    """The hashed field names of a class whose instances cannot be reassigned (a frozen
    dataclass or a frozen pydantic model), else None."""
    if _is_pydantic_model(cls):
        if not cls.model_config.get("frozen"):  # type: ignore[attr-defined]
            return None
        return tuple(cls.model_fields)  # type: ignore[attr-defined]
    if dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        return tuple(f.name for f in dataclasses.fields(cls) if f.metadata.get("tickmind_hash", True))
    return None


def _may_be_frozen(tp: Any) -> bool:
    """Whether to memoize values annotated ``tp`` (stripped): a tuple with a non-scalar part
    (``tuple[tuple[float, float], ...]``) or a frozen class, whose parts may all be immutable.

    Measured at 1,000 arena agents: a hit saves ~0.2 us, a miss (encode, check, store) costs
    ~1.1 us more than encoding. A ``str``, a number or a tuple of numbers (one ``pack`` call)
    encodes about as fast as a hit, and id tuples that are rebuilt on half the ticks lose, so
    those are not memoized; nor is a list or a hooked class (it could never be stored). The
    value itself is still checked before it is memoized."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        members = [_strip_annotated(a) for a in typing.get_args(tp)]
        return any(map(_may_be_frozen, members)) and all(_frozen_part(m, set()) for m in members)
    if origin is tuple:
        parts = [_strip_annotated(a) for a in typing.get_args(tp) if a is not Ellipsis]
        worth = not all(p in _SCALAR_FORMATS for p in parts)
    else:  # a canonical_bytes hook memoizes by itself, per runtime class
        worth = isinstance(tp, type) and not _has_hook(tp) and _frozen_fields(tp) is not None
    return worth and _frozen_part(tp, set())


def _frozen_part(tp: Any, seen: set[type]) -> bool:
    """Whether values annotated ``tp`` may be immutable through and through."""
    tp = _strip_annotated(tp)
    if tp is None or (isinstance(tp, type) and (tp in _ATOMS or issubclass(tp, enum.Enum))):
        return True
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal:
        return True
    if origin is tuple or origin is typing.Union or origin is types.UnionType:
        return bool(args) and all(_frozen_part(a, seen) for a in args if a is not Ellipsis)
    if not isinstance(tp, type) or _opaque_hook(tp) or _frozen_fields(tp) is None:
        return False
    if _has_hook(tp):  # canonical_bytes: a subclass may add fields, so only the value can tell
        return True
    if tp in seen:  # a recursive type: decided by its other fields
        return True
    seen.add(tp)
    try:
        return all(_frozen_part(a, seen) for _, a in _hashed_fields(tp))
    except UnhashableComponentError:
        return False


def _unhashable(where: str, tp: Any, hint: str) -> UnhashableComponentError:
    return UnhashableComponentError(
        f"component field {where} has type {tp!r}, which the state hash cannot encode; {hint}"
    )

