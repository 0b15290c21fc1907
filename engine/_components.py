"""The component registry: which classes take part in the state hash, under which names.

Component names (not module paths) identify types in the hash, so a simulation run as a
script (``__main__.Position``) and replayed by import (``mysim.Position``) hash alike. A class
is compiled to its encoder (:mod:`engine._encoding`) when it is registered, so a field the
hash cannot encode is refused then, not hundreds of ticks into a run.
"""

from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass
from typing import Any, TypeVar, dataclass_transform

from ._columns import column_subclass
from ._encoding import Encoder, _compile_class, _field_names, _has_hook, _is_pydantic_model, field_parts
from ._errors import ComponentError, UnhashableComponentError
from ._tracked import cached_encoder, is_tracked, tracked_subclass, wants_tracking

__all__ = ["ComponentInfo", "component", "component_info", "register_component", "registered_components"]

T = TypeVar("T")


@dataclass(frozen=True)
class ComponentInfo:
    """What the hash needs to know about one registered component type."""

    cls: type
    name: str
    type_id: int
    encode: Encoder  #: behind the instance's cache for change-tracked classes (engine._tracked)
    field_names: tuple[str, ...]
    encode_fresh: Encoder  #: always re-encodes: the same bytes as ``encode``


_registry: dict[type, ComponentInfo] = {}
_by_name: dict[str, ComponentInfo] = {}


@dataclass_transform()
def component(cls: type[T] | None = None, *, name: str | None = None, columns: bool = False) -> Any:
    """Class decorator: make ``cls`` a dataclass (unless it already is one, or is a pydantic
    model) and register it so its instances take part in the state hash.

    Use ``@component`` or ``@component(name="Position")``. A class made a dataclass here and
    holding a field other than a number or a bool comes back as a change-tracked subclass
    (``engine._tracked``): it keeps its encoding between ticks until a field is assigned.

    ``columns=True`` (``float``, ``int`` and ``tuple[int, ...]`` fields only) stores the
    class's instances in a world as numpy columns (``engine._columns``): whole systems read
    and write them with ``World.columns(cls)``, and the hash packs them in one pass; a field
    access on one instance costs a property call. The hash bytes are the same either way.
    """

    def wrap(c: type[T]) -> type[T]:
        if columns and (dataclasses.is_dataclass(c) or _is_pydantic_model(c) or _has_hook(c)):
            raise ComponentError(
                f"component {c.__qualname__}: columns=True needs a plain class for @component to "
                "make into a dataclass (not a dataclass, a pydantic model or a class with __tickmind_hash__)"
            )
        if not dataclasses.is_dataclass(c) and not _is_pydantic_model(c):
            c = dataclasses.dataclass(slots=True)(c)
            if columns:
                c = column_subclass(c)
            elif not _has_hook(c) and wants_tracking(c):
                c = tracked_subclass(c)
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
    cached = cached_encoder(cls, field_parts(cls, name)) if is_tracked(cls) else encode
    info = ComponentInfo(cls, name, zlib.crc32(name.encode()), cached, fields, encode)
    _registry[cls] = info
    _by_name[name] = info  # a re-import of the same class replaces its twin
    return info


def component_info(cls: type) -> ComponentInfo | None:
    """The registration of ``cls``, or None when it is not a hashed component."""
    return _registry.get(cls)


def registered_components() -> list[ComponentInfo]:
    """Every registered component type, in the canonical (name) order the hash uses."""
    return sorted(_registry.values(), key=lambda i: (i.name, i.cls.__module__))

