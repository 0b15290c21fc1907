"""Change tracking for the state hash: a component keeps its encoding, and each of its
non-scalar fields keeps its own, until that field is assigned.

Why: without it a recorded tick would re-encode every component, and most of them do not
change from one tick to the next (a plan's index, a path, a perception between refreshes).
Encoding is per-value Python work; a cached ``bytes`` is one attribute read. And a component that did change
usually changed in a number only (a perception's ``tick``, a plan's ``index``, a path's
``index``): its tuples of ids, steps or waypoints keep their bytes, so re-encoding it is one
``pack`` of its numbers joined with the bytes its other fields kept. The root is fed the
same bytes as a full re-encoding, so the hash format is unchanged and a run hashes alike
with or without the caches (``World.state_hash(fresh=True)`` re-encodes everything, to
check just that).

What is tracked: classes that ``@engine.component`` makes into dataclasses itself and that
have a field other than an ``int``/``float``/``bool`` (an all-scalar component packs in one
call, about what a cache lookup costs, and is usually written every tick anyway). Such a
class is replaced by a subclass with one more slot for its whole encoding, one per
non-scalar field, and a ``__setattr__`` that empties the whole one and the assigned field's
on every assignment. A field's bytes are only kept when the value it holds is immutable
(checked on the value, as the identity memo does), and the whole encoding only when every
field's is, so a list mutated in place can never leave stale bytes behind. Writing a field
through ``object.__setattr__`` bypasses the tracking, as it bypasses ``frozen``.
"""

from __future__ import annotations

from typing import Any

from ._encoding import _SCALAR_FORMATS, Encoder, _frozen, _hashed_fields, _read_field, _strip_annotated

__all__ = ["CACHE_SLOT", "cached_encoder", "field_slot", "is_tracked", "tracked_subclass", "wants_tracking"]

CACHE_SLOT = "_tickmind_bytes"
_set = object.__setattr__


def field_slot(name: str) -> str:
    """The slot that keeps the bytes of field ``name`` of a tracked instance."""
    return f"{CACHE_SLOT}_{name}"


def _cached_fields(cls: type) -> tuple[str, ...]:
    """The hashed fields whose bytes a tracked instance keeps: the non-scalar ones."""
    return tuple(name for name, tp in _hashed_fields(cls) if _strip_annotated(tp) not in _SCALAR_FORMATS)


def wants_tracking(cls: type) -> bool:
    """Whether ``cls`` (a slotted dataclass ``@component`` just made) has a field worth caching."""
    return bool(_cached_fields(cls))


def tracked_subclass(cls: type) -> type:
    """``cls`` with the cache slots and an assignment that empties them; it stands in for
    ``cls`` under the same name, module and docs (``dataclasses`` sees the same fields)."""
    slot_of = {name: field_slot(name) for name in _cached_fields(cls)}
    get_slot = slot_of.get

    def __setattr__(self: Any, name: str, value: Any) -> None:
        _set(self, name, value)
        _set(self, CACHE_SLOT, None)
        slot = get_slot(name)
        if slot is not None:
            _set(self, slot, None)

    namespace = {
        "__slots__": (CACHE_SLOT, *slot_of.values()),
        "__setattr__": __setattr__,
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
        "__tickmind_tracked__": True,
    }
    return type(cls.__name__, (cls,), namespace)


def is_tracked(cls: type) -> bool:
    return cls.__dict__.get("__tickmind_tracked__", False) is True


def cached_encoder(cls: type, parts: list[tuple[Encoder, list[str]]]) -> Encoder:
    """The encoding of ``parts`` (``engine._encoding.field_parts`` of ``cls``) behind the
    instance's caches, generated as source as ``_join_fields`` is: the whole encoding if
    kept, else each scalar run packed and each other field's kept bytes (encoded, and kept
    if immutable, when missing), joined."""
    env: dict[str, Any] = {"_set": _set, "_frozen": _frozen, "CACHE": CACHE_SLOT}
    lines = ["def cached(v):", "    data = getattr(v, CACHE, None)", "    if data is not None:", "        return data", "    whole = True"]
    pieces = []
    kept = _cached_fields(cls)
    for i, (encode, names) in enumerate(parts):
        env[f"e{i}"] = encode
        reads = ", ".join(map(_read_field, names))
        if not (len(names) == 1 and names[0] in kept):
            pieces.append(f"e{i}({reads})")
            continue
        slot = field_slot(names[0])
        lines += [
            f"    p{i} = getattr(v, {slot!r}, None)",
            f"    if p{i} is None:",
            f"        x = {reads}",
            f"        p{i} = e{i}(x)",
            "        if _frozen(x):",
            f"            _set(v, {slot!r}, p{i})",
            "        else:",
            "            whole = False",
        ]
        pieces.append(f"p{i}")
    joined = pieces[0] if len(pieces) == 1 else f'b"".join(({", ".join(pieces)},))'
    lines += [f"    data = {joined}", "    if whole:", "        _set(v, CACHE, data)", "    return data"]
    exec("\n".join(lines) + "\n", env)  # noqa: S102 - only field names and slot names, quoted
    encoder: Encoder = env["cached"]
    return encoder
