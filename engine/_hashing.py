"""Canonical encoding of component values, and the per-tick state hash built from it.

Why type-directed encoders: a component's field annotations are read once, at registration,
and turned into an encoder. A type the hash cannot encode canonically (``Any``, callables,
arbitrary objects) is refused *then*, with the field named, instead of surfacing as a
divergence hundreds of ticks into a run. Floats are encoded by their exact IEEE-754 bits,
numpy arrays by dtype, shape and raw bytes, sets and dicts in the order of their encoded
keys: equal state gives equal bytes in any process.

Component names (not module paths) identify types in the hash, so a simulation run as a
script (``__main__.Position``) and replayed by import (``mysim.Position``) hash alike.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import operator
import struct
import types
import typing
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, dataclass_transform

import numpy as np

from ._errors import ComponentError, UnhashableComponentError

__all__ = [
    "ComponentInfo",
    "HashRecord",
    "canonical_bytes",
    "component",
    "component_info",
    "hash_state",
    "register_component",
    "registered_components",
]

Encoder = Callable[[Any], bytes]
T = TypeVar("T")

_F64 = struct.Struct("<d")
_I64 = struct.Struct("<q")
_U32 = struct.Struct("<I")
_SCALAR_FORMATS: dict[Any, str] = {float: "d", int: "q", bool: "?"}
_SUPPORTED = (
    "int, float, bool, str, bytes, None, enums, Literal, numpy arrays, tuples/lists/dicts/"
    "sets of these, Optional/Union of these, and nested dataclasses or pydantic models"
)


@dataclass(frozen=True)
class ComponentInfo:
    """What the hash needs to know about one registered component type."""

    cls: type
    name: str
    type_id: int
    encode: Encoder
    field_names: tuple[str, ...]


_registry: dict[type, ComponentInfo] = {}
_by_name: dict[str, ComponentInfo] = {}
_compiled: dict[type, Encoder] = {}
_by_fields: dict[type, Encoder] = {}


@dataclass_transform()
def component(cls: type[T] | None = None, *, name: str | None = None) -> Any:
    """Class decorator: make ``cls`` a dataclass (unless it already is one, or is a pydantic
    model) and register it so its instances take part in the state hash.

    Use ``@component`` or ``@component(name="Position")``.
    """

    def wrap(c: type[T]) -> type[T]:
        if not dataclasses.is_dataclass(c) and not _is_pydantic_model(c):
            c = dataclasses.dataclass(slots=True)(c)
        register_component(c, name=name)
        return c

    return wrap if cls is None else wrap(cls)


def register_component(cls: type, *, name: str | None = None) -> ComponentInfo:
    """Register an existing dataclass or pydantic model class as a hashed component type.

    Raises UnhashableComponentError naming the field whose type cannot be hashed.
    """
    if not isinstance(cls, type):
        raise ComponentError(f"register_component expects a class, got {cls!r}")
    if cls in _registry:
        return _registry[cls]
    name = name or cls.__qualname__
    if not (dataclasses.is_dataclass(cls) or _is_pydantic_model(cls) or _has_hook(cls)):
        raise UnhashableComponentError(
            f"component {name}: tickmind hashes dataclasses, pydantic models, or classes that "
            "define __tickmind_hash__(self) -> bytes; decorate it with @engine.component"
        )
    encode = _compile_class(cls, name)
    fields = _field_names(cls)
    previous = _by_name.get(name)
    if previous is not None and previous.field_names != fields:
        raise ComponentError(
            f"component name {name!r} is already registered by {previous.cls.__module__}."
            f"{previous.cls.__qualname__} with other fields; pass name=... to tell them apart"
        )
    info = ComponentInfo(cls, name, zlib.crc32(name.encode()), encode, fields)
    _registry[cls] = info
    _by_name[name] = info  # a re-import of the same class replaces its twin
    return info


def component_info(cls: type) -> ComponentInfo | None:
    """The registration of ``cls``, or None when it is not a hashed component."""
    return _registry.get(cls)


def canonical_bytes(value: Any) -> bytes:
    """The canonical encoding of a dataclass or pydantic value by its *runtime* type's fields.

    For ``__tickmind_hash__`` hooks of polymorphic values: a field annotated with a base
    class (``steps: tuple[ActionStep, ...]``) holds subclasses whose extra fields the
    annotation cannot know about.
    """
    cls = type(value)
    encode = _by_fields.get(cls)
    if encode is None:
        encode = _by_fields[cls] = _compile_fields(cls, cls.__qualname__)
    return _encode_str(cls.__qualname__) + encode(value)


def registered_components() -> list[ComponentInfo]:
    """Every registered component type, in the canonical (name) order the hash uses."""
    return sorted(_registry.values(), key=lambda i: (i.name, i.cls.__module__))


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


def _compile_fields(cls: type, where: str) -> Encoder:
    segments: list[Encoder] = []
    run_names: list[str] = []
    run_format = "<"

    def close_run() -> None:
        nonlocal run_format
        if run_names:
            packer = struct.Struct(run_format).pack
            if len(run_names) == 1:
                get1 = operator.attrgetter(run_names[0])
                segments.append(lambda v, p=packer, g=get1: p(g(v)))
            else:
                getn = operator.attrgetter(*run_names)
                segments.append(lambda v, p=packer, g=getn: p(*g(v)))
        run_names.clear()
        run_format = "<"

    for fname, annotation in _hashed_fields(cls):
        annotation = _strip_annotated(annotation)
        if annotation in _SCALAR_FORMATS:
            run_names.append(fname)
            run_format += _SCALAR_FORMATS[annotation]
            continue
        close_run()
        inner = _compile_type(annotation, f"{where}.{fname}")
        getter = operator.attrgetter(fname)
        segments.append(lambda v, e=inner, g=getter: e(g(v)))
    close_run()

    if len(segments) == 1:
        encode = segments[0]
    else:
        parts = tuple(segments)

        def encode(v: Any) -> bytes:
            return b"".join([s(v) for s in parts])

    return encode


def _strip_annotated(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _compile_type(tp: Any, where: str) -> Encoder:
    tp = _strip_annotated(tp)
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
        return lambda v: _encode_str(v.name)
    if tp is np.ndarray:
        return _encode_array

    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is np.ndarray:
        return _encode_array
    if origin is typing.Literal:
        return _encode_literal
    if origin is typing.Union or origin is types.UnionType:
        return _compile_union(args, where)
    if origin in (list, tuple) or tp in (list, tuple):
        if origin is tuple and args and args[-1] is not Ellipsis:
            items = tuple(_compile_type(a, f"{where}[{i}]") for i, a in enumerate(args))
            return lambda v: b"".join([e(x) for e, x in zip(items, v, strict=True)])
        if not args:
            raise _unhashable(where, tp, "give the element type, e.g. list[int]")
        element = _strip_annotated(args[0])
        if element in _SCALAR_FORMATS:
            # One pack call for the whole sequence: the same bytes as packing item by item
            # (little-endian, no padding), several times faster for long id tuples.
            code = _SCALAR_FORMATS[element]
            return lambda v: struct.pack(f"<I{len(v)}{code}", len(v), *v)
        item = _compile_type(element, f"{where}[]")
        return lambda v: _U32.pack(len(v)) + b"".join([item(x) for x in v])
    if origin in (set, frozenset):
        if not args:
            raise _unhashable(where, tp, "give the element type, e.g. frozenset[int]")
        item = _compile_type(args[0], f"{where}{{}}")
        return lambda v: _U32.pack(len(v)) + b"".join(sorted(_framed(item, v)))
    if origin is dict:
        if len(args) != 2:
            raise _unhashable(where, tp, "give key and value types, e.g. dict[str, float]")
        key = _compile_type(args[0], f"{where}.key")
        value = _compile_type(args[1], f"{where}.value")
        return lambda v: _U32.pack(len(v)) + b"".join(
            sorted(_framed(key, [k])[0] + value(x) for k, x in v.items())
        )
    if isinstance(tp, type) and (
        dataclasses.is_dataclass(tp) or _is_pydantic_model(tp) or _has_hook(tp)
    ):
        return _compile_class(tp, where)
    raise _unhashable(where, tp, f"supported: {_SUPPORTED}")


def _compile_union(args: tuple[Any, ...], where: str) -> Encoder:
    members = [a for a in args if a is not type(None)]
    optional = len(members) != len(args)
    if len(members) == 1:
        inner = _compile_type(members[0], where)
        if not optional:
            return inner
        return lambda v: b"\x00" if v is None else b"\x01" + inner(v)
    checks: list[tuple[type, Encoder]] = []
    for tag, member in enumerate(members, start=1):
        runtime = typing.get_origin(member) or member
        if not isinstance(runtime, type):
            raise _unhashable(where, member, "union members must be concrete types")
        enc = _compile_type(member, where)
        checks.append((runtime, lambda v, t=bytes([tag]), e=enc: t + e(v)))

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


def _unhashable(where: str, tp: Any, hint: str) -> UnhashableComponentError:
    return UnhashableComponentError(
        f"component field {where} has type {tp!r}, which the state hash cannot encode; {hint}"
    )


# --- the state hash -----------------------------------------------------------------------


@dataclass(frozen=True)
class HashRecord:
    """The state hash of one tick.

    ``root`` identifies the whole state. ``keys``/``digests`` are the detail: one CRC32 per
    (entity, component type), key = entity << 32 | type_id (entity 0 stands for world-level
    hash sources such as the physics space), so verify can name what diverged.
    """

    tick: int
    root: str
    keys: np.ndarray
    digests: np.ndarray

    def detail(self) -> dict[int, int]:
        return dict(zip(self.keys.tolist(), self.digests.tolist(), strict=True))


def hash_state(
    tick: int,
    components: Iterable[tuple[ComponentInfo, list[tuple[int, Any]]]],
    sources: Iterable[tuple[str, bytes]],
) -> HashRecord:
    """Hash ``components`` (per type, entity-sorted) and world-level ``sources`` for ``tick``.

    The caller supplies types in ascending name order; the bytes fed to the root digest are
    therefore canonical. Each type is encoded as one batch: entity ids as one int64 array,
    the encodings joined, so the per-component Python work is one encoder call.
    """
    root = hashlib.blake2b(_I64.pack(tick), digest_size=16)
    keys: list[np.ndarray] = []
    digests: list[np.ndarray] = []
    for info, pairs in components:
        entities = np.fromiter((e for e, _ in pairs), dtype=np.int64, count=len(pairs))
        encoded = _encode_all(info, pairs)
        blob = b"".join(encoded)
        root.update(_encode_str(info.name))
        root.update(entities.tobytes())
        root.update(blob)
        keys.append((entities.astype(np.uint64) << np.uint64(32)) | np.uint64(info.type_id))
        digests.append(_row_digests(encoded, blob))
    for name, data in sources:
        root.update(_encode_str(name))
        root.update(_encode_bytes(data))
        keys.append(np.array([zlib.crc32(name.encode())], dtype=np.uint64))
        digests.append(np.array([zlib.crc32(data)], dtype=np.uint32))
    return HashRecord(
        tick,
        root.hexdigest(),
        np.concatenate(keys) if keys else np.zeros(0, np.uint64),
        np.concatenate(digests) if digests else np.zeros(0, np.uint32),
    )


def _encode_all(info: ComponentInfo, pairs: list[tuple[int, Any]]) -> list[bytes]:
    encode = info.encode
    try:
        return [encode(value) for _, value in pairs]
    except ComponentError:
        raise
    except (struct.error, TypeError, AttributeError, ValueError, OverflowError):
        pass
    for entity, value in pairs:  # find and name the offending entity
        try:
            encode(value)
        except (struct.error, TypeError, AttributeError, ValueError, OverflowError) as exc:
            raise ComponentError(
                f"entity {entity} component {info.name}: a value does not match its "
                f"declared field types ({exc})"
            ) from exc
    raise AssertionError("unreachable: the batch failed but no single value did")


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _row_digests(encoded: list[bytes], blob: bytes) -> np.ndarray:
    """A 32-bit digest per encoded component, for naming divergences (not for security).

    Fixed-size encodings (all-scalar components, the common case) are digested as rows of
    one numpy matrix; variable-size ones fall back to a CRC32 each.
    """
    n = len(encoded)
    if n == 0:
        return np.zeros(0, np.uint32)
    width = len(encoded[0])
    if width == 0 or width % 8 or len(set(map(len, encoded))) != 1:
        return np.fromiter((zlib.crc32(b) for b in encoded), dtype=np.uint32, count=n)
    words = np.frombuffer(blob, dtype=np.uint64).reshape(n, width // 8)
    h = np.full(n, width, dtype=np.uint64)
    for column in range(words.shape[1]):
        h = (h ^ words[:, column]) * _MIX
        h ^= h >> np.uint64(29)
    return (h ^ (h >> np.uint64(32))).astype(np.uint32)
