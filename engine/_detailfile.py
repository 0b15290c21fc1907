"""``hashes.detail``: per tick, a 32-bit digest of every (entity, component), so that
``verify`` can name what diverged, not only when.

Two formats, told apart by the magic:

* ``TMHD1``: each record holds every entry of its tick: ``<II`` tick and count, then the
  keys (``<u8``) and the digests (``<u4``).
* ``TMHD2`` (what a new file is written in): each record holds what changed since the record
  before it: ``<III`` tick, gone count, set count; the keys gone; the keys set (new or with
  a new digest); their digests. The first record of a file sets every entry.

Both are read; a file is continued in its own format.

Why deltas: a tick's detail is 12 bytes per (entity, component), and from one tick to the
next most of them do not change (a team, a weapon, a standing agent's position). In full
records the arena's 100-agent README run takes 14 MB of detail beside a 74 kB journal, and
a 1,000-agent run of 3,000 ticks about 470 MB; deltas are a quarter to a third of that
(bench/detail_size.py). The file is read only on a divergence, where rebuilding a tick's entries from the start is
cheap next to the replay that found it.

Both formats are append-only with a partial tail (a crash) ignored by the readers. A file
is continued in its own format, so a resumed or forked run's detail is byte for byte what
an uninterrupted run would have written.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

from ._errors import JournalCorruptError
from ._hashing import HashRecord

__all__ = ["DetailWriter", "detail_at", "detail_ends", "empty_detail_file"]

_MAGIC_V1 = b"TMHD1\n"
_MAGIC_V2 = b"TMHD2\n"
_HEAD_V1 = struct.Struct("<II")  # tick, count
_HEAD_V2 = struct.Struct("<III")  # tick, gone, set

#: (keys, digests) of one tick: uint64 keys (entity << 32 | type id), uint32 digests.
Entries = tuple[np.ndarray, np.ndarray]


def empty_detail_file() -> bytes:
    """What a detail file with no record holds: the current format's magic."""
    return _MAGIC_V2


class DetailWriter:
    """Appends one record per tick to an open detail file, in the file's own format."""

    def __init__(self, file: IO[bytes], path: Path, *, append: bool) -> None:
        """``append``: continue ``path`` (a resume or a fork: ``cut_hash_files`` or
        ``copy_hash_prefix`` left it ending at a record), else start it with the magic."""
        self._file = file
        self._last: Entries | None = None
        self._v1 = False
        data = path.read_bytes() if append else b""
        if not data:
            file.write(_MAGIC_V2)
            return
        version, pos = _version(path, data)
        self._v1 = version == 1
        if not self._v1 and pos < len(data):
            state: dict[int, int] = {}
            for _tick, state in _states(path, data, pos, version):
                pass
            self._last = (np.fromiter(state, "<u8", len(state)), np.fromiter(state.values(), "<u4", len(state)))

    def write(self, record: HashRecord) -> None:
        keys = record.keys.astype("<u8")
        digests = record.digests.astype("<u4")
        if self._v1:
            self._file.write(_HEAD_V1.pack(record.tick, len(keys)) + keys.tobytes() + digests.tobytes())
            return
        gone, changed = _delta(self._last, keys, digests)
        self._last = (keys, digests)
        self._file.write(
            _HEAD_V2.pack(record.tick, len(gone), len(changed))
            + gone.tobytes()
            + keys[changed].tobytes()
            + digests[changed].tobytes()
        )


def _delta(last: Entries | None, keys: np.ndarray, digests: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(keys of ``last`` no longer present, ascending; indices into ``keys`` that are new or
    have a new digest). Neither depends on the order of ``last``."""
    if last is None:
        return np.zeros(0, "<u8"), np.arange(len(keys))
    last_keys, last_digests = last
    if np.array_equal(last_keys, keys):  # no structural change: the common tick
        return np.zeros(0, "<u8"), np.flatnonzero(last_digests != digests)
    if not len(last_keys):
        return np.zeros(0, "<u8"), np.arange(len(keys))
    order = np.argsort(last_keys)
    ordered = last_keys[order]
    at = np.minimum(np.searchsorted(ordered, keys), len(ordered) - 1)
    changed = (ordered[at] != keys) | (last_digests[order[at]] != digests)
    return np.setdiff1d(last_keys, keys, assume_unique=True), np.flatnonzero(changed)


def detail_at(path: Path, tick: int) -> dict[int, int] | None:
    """The {key: digest} entries recorded for ``tick``, or None when the file ends before it."""
    data = path.read_bytes()
    version, pos = _version(path, data)
    return next((state for at, state in _states(path, data, pos, version) if at == tick), None)


def _states(path: Path, data: bytes, pos: int, version: int) -> Iterator[tuple[int, dict[int, int]]]:
    """(tick, its entries) after each record: one dict, updated in place as records are read."""
    state: dict[int, int] = {}
    for tick, gone, keys, digests, _end in _records(data, pos, version):
        if gone is None:
            state = {}
        else:
            for key in gone.tolist():
                if state.pop(key, None) is None:
                    raise JournalCorruptError(f"{path}: the record of tick {tick} removes an entry no earlier record set")
        state.update(zip(keys.tolist(), digests.tolist(), strict=True))
        yield tick, state


def detail_ends(path: Path) -> list[int]:
    """Byte offset just past each complete record (index = tick)."""
    data = path.read_bytes()
    version, pos = _version(path, data)
    ends: list[int] = []
    for tick, _gone, _keys, _digests, end in _records(data, pos, version):
        if tick != len(ends):
            raise JournalCorruptError(f"{path}: record {len(ends)} is for tick {tick}")
        ends.append(end)
    return ends


def _version(path: Path, data: bytes) -> tuple[int, int]:
    """(format version, where records start). A file holding part of a magic is one a
    crash left before its first flush, with no record."""
    if data.startswith(_MAGIC_V1):
        return 1, len(_MAGIC_V1)
    if data.startswith(_MAGIC_V2):
        return 2, len(_MAGIC_V2)
    if _MAGIC_V1.startswith(data) or _MAGIC_V2.startswith(data):
        return 2, len(data)
    raise JournalCorruptError(f"{path}: not a tickmind hash detail file")


_Record = tuple[int, "np.ndarray | None", np.ndarray, np.ndarray, int]


def _records(data: bytes, pos: int, version: int) -> Iterator[_Record]:
    """(tick, keys gone or None for "every earlier entry", keys set, their digests, end
    offset) of each complete record from ``pos``; a partial tail left by a crash ends it."""
    head = _HEAD_V1 if version == 1 else _HEAD_V2
    while pos + head.size <= len(data):
        if version == 1:
            tick, count = head.unpack_from(data, pos)
            gone = 0
        else:
            tick, gone, count = head.unpack_from(data, pos)
        start = pos + head.size
        end = start + gone * 8 + count * 12
        if end > len(data):
            return
        removed = np.frombuffer(data, "<u8", gone, start) if version == 2 else None
        keys = np.frombuffer(data, "<u8", count, start + gone * 8)
        digests = np.frombuffer(data, "<u4", count, start + gone * 8 + count * 8)
        yield tick, removed, keys, digests, end
        pos = end
