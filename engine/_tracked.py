"""Change tracking for the state hash: a component keeps its own encoding until a field of
it is assigned.

Why: a recorded tick re-encoded every component, and most of them did not change since the
last tick (a plan's index, a path, a perception between refreshes). Encoding is per-value
Python work; a cached ``bytes`` is one attribute read. The root is fed the same bytes as a
full re-encoding, so the hash format is unchanged and a run hashes alike with or without
the cache (``World.state_hash(fresh=True)`` re-encodes everything, to check just that).

What is tracked: classes that ``@engine.component`` makes into dataclasses itself and that
have a field other than an ``int``/``float``/``bool`` (an all-scalar component packs in one
call, about what a cache lookup costs, and is usually written every tick anyway). Such a
class is replaced by a subclass with one more slot and a ``__setattr__`` that drops the
cached bytes on every assignment: a field write costs a second slot write. A value is only
cached when every hashed field holds an immutable value (checked on the value, as the
identity memo does), so a list mutated in place can never leave stale bytes behind. Writing
a field through ``object.__setattr__`` bypasses the tracking, as it bypasses ``frozen``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._encoding import _SCALAR_FORMATS, Encoder, _frozen, _hashed_fields, _strip_annotated

__all__ = ["CACHE_SLOT", "cached_encoder", "is_tracked", "tracked_subclass", "wants_tracking"]

CACHE_SLOT = "_tickmind_bytes"
_set = object.__setattr__


def wants_tracking(cls: type) -> bool:
    """Whether ``cls`` (a slotted dataclass ``@component`` just made) has a field worth caching."""
    return any(_strip_annotated(tp) not in _SCALAR_FORMATS for _, tp in _hashed_fields(cls))


def tracked_subclass(cls: type) -> type:
    """``cls`` with the cache slot and an assignment that empties it; it stands in for
    ``cls`` under the same name, module and docs (``dataclasses`` sees the same fields)."""

    def __setattr__(self: Any, name: str, value: Any) -> None:
        _set(self, name, value)
        _set(self, CACHE_SLOT, None)

    namespace = {
        "__slots__": (CACHE_SLOT,),
        "__setattr__": __setattr__,
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
        "__tickmind_tracked__": True,
    }
    return type(cls.__name__, (cls,), namespace)


def is_tracked(cls: type) -> bool:
    return cls.__dict__.get("__tickmind_tracked__", False) is True


def cached_encoder(cls: type, encode: Encoder) -> Encoder:
    """``encode`` behind the instance's cache slot, filled only for values whose hashed
    fields are all immutable (the scalar ones are: ``encode`` packs only numbers and bools
    into them)."""
    names = tuple(name for name, tp in _hashed_fields(cls) if _strip_annotated(tp) not in _SCALAR_FORMATS)
    immutable: Callable[[Any], bool] = lambda v: all(_frozen(getattr(v, n)) for n in names)  # noqa: E731

    def cached(v: Any) -> bytes:
        data: bytes | None = getattr(v, CACHE_SLOT, None)
        if data is None:
            data = encode(v)
            if immutable(v):
                _set(v, CACHE_SLOT, data)
        return data

    return cached
