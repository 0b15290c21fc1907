"""The per-tick state hash: every registered component, encoded canonically, in one root.

One digest over the whole state identifies the tick; a 32-bit digest per (entity, component
type) lets verify name what diverged. Which classes are hashed is :mod:`engine._components`,
how a value becomes bytes is :mod:`engine._encoding`, and what is remembered between ticks
is :mod:`engine._memo`.
"""

from __future__ import annotations

import hashlib
import operator
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._components import ComponentInfo
from ._encoding import _I64, _encode_bytes, _encode_str
from ._errors import ComponentError
from ._memo import HashMemo, memo_turn

__all__ = ["HashRecord", "hash_state"]

# --- the state hash -----------------------------------------------------------------------


@dataclass(frozen=True)
class HashRecord:
    """The state hash of one tick.

    ``root`` identifies the whole state. ``keys``/``digests`` are the detail: one 32-bit digest
    per (entity, component type) (``_row_digests``), key = entity << 32 | type_id (entity 0
    stands for world-level hash sources such as the physics space), so verify can name what
    diverged.
    """

    tick: int
    root: str
    keys: np.ndarray
    digests: np.ndarray

    def detail(self) -> dict[int, int]:
        return dict(zip(self.keys.tolist(), self.digests.tolist(), strict=True))


def hash_state(
    tick: int,
    components: Iterable[tuple[ComponentInfo, Sequence[tuple[int, Any]]]],
    sources: Iterable[tuple[str, bytes]],
    memo: HashMemo | None = None,
    *,
    detail: bool = True,
    entity_ids: EntityIds | None = None,
    packed: Packed | None = None,
) -> HashRecord:
    """Hash ``components`` (per type, entity-sorted) and world-level ``sources`` for ``tick``.

    The caller supplies types in ascending name order; the bytes fed to the root digest are
    therefore canonical. Each type is encoded as one batch: entity ids as one int64 array,
    the encodings joined, so the per-component Python work is one encoder call.

    ``memo`` is the caller's (a world's) memo of immutable values' encodings; without one a
    memo shared by such callers is used. It changes the cost, never the bytes.

    The encoders read the running call's memo from this module, so calls take turns: two
    worlds hashed on two threads wait for each other here, rather than swap each other's
    memo mid-call (which would leak entries into the idle memo).

    ``detail=False`` leaves ``keys``/``digests`` empty: the root alone is what a replay
    compares each tick, and the detail is only read where the roots differ.
    ``entity_ids(info, pairs)``, if given, is the int64 array of ``pairs``' entities (a world
    keeps it while the query it came from is unchanged).
    ``packed(info, entities)``, if given, is a type's joined encoding for those entities
    and where each row ends (None for rows of one size), where the caller holds it without
    encoding each value (column storage), else None.
    """
    with memo_turn(memo):
        return _hash_state(tick, components, sources, detail, entity_ids or pair_entities, packed or _no_packed)


#: ``entity_ids(info, pairs)``: the entities of ``pairs``, in order, as an int64 array.
EntityIds = Callable[[ComponentInfo, Sequence[tuple[int, Any]]], np.ndarray]
#: ``packed(info, entities)``: the joined encoding of a type's values and its row ends (None
#: when all rows have one size), or None to encode them.
Packed = Callable[[ComponentInfo, np.ndarray], "tuple[bytes, np.ndarray | None] | None"]


def _no_packed(info: ComponentInfo, entities: np.ndarray) -> None:
    return None


def pair_entities(info: ComponentInfo, pairs: Sequence[tuple[int, Any]]) -> np.ndarray:
    return np.fromiter(map(_first, pairs), dtype=np.int64, count=len(pairs))


def _hash_state(
    tick: int,
    components: Iterable[tuple[ComponentInfo, Sequence[tuple[int, Any]]]],
    sources: Iterable[tuple[str, bytes]],
    detail: bool,
    entity_ids: EntityIds,
    packed: Packed,
) -> HashRecord:
    root = hashlib.blake2b(_I64.pack(tick), digest_size=16)
    keys: list[np.ndarray] = []
    digests: list[np.ndarray] = []
    for info, pairs in components:
        entities = entity_ids(info, pairs)
        blob, encoded, ends = encode_type(info, pairs, entities, packed)
        root.update(_encode_str(info.name))
        root.update(entities.tobytes())
        root.update(blob)
        if detail:
            keys.append((entities.astype(np.uint64) << np.uint64(32)) | np.uint64(info.type_id))
            digests.append(_row_digests(blob, len(entities), encoded, ends))
    for name, data in sources:
        root.update(_encode_str(name))
        root.update(_encode_bytes(data))
        if detail:
            keys.append(np.array([zlib.crc32(name.encode())], dtype=np.uint64))
            digests.append(np.array([zlib.crc32(data)], dtype=np.uint32))
    return HashRecord(
        tick,
        root.hexdigest(),
        np.concatenate(keys) if keys else np.zeros(0, np.uint64),
        np.concatenate(digests) if digests else np.zeros(0, np.uint32),
    )


def encode_type(
    info: ComponentInfo, pairs: Sequence[tuple[int, Any]], entities: np.ndarray, packed: Packed
) -> tuple[bytes, list[bytes] | None, np.ndarray | None]:
    """One type's joined encoding, with what ``_row_digests`` needs to cut it into rows:
    each row's bytes where they were encoded one by one, or the row ends ``packed`` gave."""
    held = packed(info, entities)
    if held is not None:
        return held[0], None, held[1]
    encoded = _encode_all(info, pairs)
    return b"".join(encoded), encoded, None


_first = operator.itemgetter(0)
_second = operator.itemgetter(1)
#: What an encoder raises on a value that does not fit its component's declared field types.
_ENCODE_FAILURES = (ComponentError, struct.error, TypeError, AttributeError, ValueError, OverflowError)


def _encode_all(info: ComponentInfo, pairs: Sequence[tuple[int, Any]]) -> list[bytes]:
    try:
        return list(map(info.encode, map(_second, pairs)))
    except _ENCODE_FAILURES:
        pass
    for entity, value in pairs:  # find and name the offending entity
        try:
            info.encode(value)
        except ComponentError as exc:  # the encoder's own words (an object array, say)
            raise ComponentError(f"entity {entity} component {info.name}: {exc}") from exc
        except _ENCODE_FAILURES as exc:
            raise ComponentError(
                f"entity {entity} component {info.name}: a value does not match its "
                f"declared field types ({exc})"
            ) from exc
    raise AssertionError("unreachable: the batch failed but no single value did")


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _row_digests(blob: bytes, n: int, encoded: list[bytes] | None, ends: np.ndarray | None = None) -> np.ndarray:
    """A 32-bit digest per encoded component, for naming divergences (not for security).

    Rows of one size that is a whole number of 8-byte words (all-scalar components, the
    common case) are digested as rows of one numpy matrix; any other set of rows falls back
    to a CRC32 each. The rows are ``encoded`` (each row's bytes) or, where ``blob`` came
    packed from columns, ``blob`` cut at ``ends`` (None: rows of 8-byte fields, by
    construction the matrix case). Which rule applies depends on the rows alone, so packed
    and encoded rows get the same digests.
    """
    if n == 0:
        return np.zeros(0, np.uint32)
    rows: Sequence[bytes | memoryview] | None = encoded
    if ends is not None:
        view, cuts = memoryview(blob), [0, *ends.tolist()]
        rows = [view[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    width = len(blob) // n
    if rows is not None and (width == 0 or width % 8 or len(set(map(len, rows))) != 1):
        return np.fromiter(map(zlib.crc32, rows), dtype=np.uint32, count=n)
    words = np.frombuffer(blob, dtype=np.uint64).reshape(n, width // 8)
    h = np.full(n, width, dtype=np.uint64)
    for column in range(words.shape[1]):
        h = (h ^ words[:, column]) * _MIX
        h ^= h >> np.uint64(29)
    return (h ^ (h >> np.uint64(32))).astype(np.uint32)
