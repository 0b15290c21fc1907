"""The identity memo behind the state hash: the bytes of values that cannot change.

A recorded run hashes every tick, and most of what it encodes is the same immutable objects
as last tick (an agent's id tuples, path, plan steps, strings). A value whose encoding cannot
change while it lives (a ``str``, a tuple of such, a frozen dataclass or pydantic model of
such, checked on the value itself, not on its annotation) keeps its bytes keyed by
``id(value)``, the entry holding the value so the id cannot be reused. Anything mutable is
encoded afresh each call, so the bytes are exactly those of encoding everything afresh.

Each world owns a :class:`HashMemo` holding only what its last hash used. The encoders read
the running hash's memo from this module, so hashes take turns (:func:`memo_turn`): two
worlds hashed on two threads wait for each other rather than swap each other's memo.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["HashMemo", "memo_turn"]

Encoder = Callable[[Any], bytes]

_Entry = tuple[Any, bytes]
#: Installed while no hash_state call runs: it stays empty, so a lookup misses and nothing is
#: kept (canonical_bytes called from outside a hash must not grow a memo nobody rotates).
_IDLE: dict[int, _Entry] = {}
_young: dict[int, _Entry] = _IDLE  # entries the running call used or made
_old: dict[int, _Entry] = _IDLE  # entries the previous call of the same memo used
_sites = itertools.count(1)


class HashMemo:
    """One world's memo of the encodings of immutable values, for ``hash_state``.

    Bounded by use: a call looks values up in what the previous call used and keeps only
    what it uses itself, so between calls the memo holds one tick's worth of entries and
    during a call at most two. Each world owns one (``World.state_hash`` passes it), so
    worlds hashed in turn do not evict each other's entries. Sharing one would still give
    the right bytes: an entry is keyed by encoder and value identity, never by world.
    """

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[int, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)


_shared_memo = HashMemo()  # for hash_state callers that pass none
_turn = threading.RLock()  # one hash_state call at a time (re-entrant: a nested call is fine)


@contextmanager
def memo_turn(memo: HashMemo | None) -> Iterator[None]:
    """Make ``memo`` (or, for callers with none, one shared memo) the running hash's memo
    for the block: the block's lookups see what the memo's previous turn used, and keep
    only what this one uses. Re-entrant: a nested hash (a hash source hashing another world)
    hands the outer one its memo back."""
    global _young, _old
    memo = _shared_memo if memo is None else memo
    with _turn:
        young: dict[int, _Entry] = {}
        outer = _young, _old
        _old, _young = memo._entries, young
        try:
            yield
        finally:
            memo._entries = young
            _young, _old = outer


def _memoized(encode: Encoder, frozen: Callable[[Any], bool]) -> Encoder:
    """``encode`` behind an identity memo: a value found in the memo *is* (``is``) the value
    that was encoded, and it was memoized only if ``frozen(value)`` held, so its bytes
    cannot have changed. Keys are ``site + id(value)``: each memoized encoder has its own
    range, because one object (the empty tuple, say) encodes differently per annotation.
    """
    site = next(_sites) << 64  # ids are pointers, below 2**64

    def memoized(v: Any) -> bytes:
        key = site + id(v)
        entry = _young.get(key)
        if entry is None:
            entry = _old.get(key)
            if entry is None or entry[0] is not v:
                return _memo_miss(v, key, encode, frozen)
            _young[key] = entry
        elif entry[0] is not v:  # cannot happen while the entry holds v; cheap to be sure
            return _memo_miss(v, key, encode, frozen)
        return entry[1]

    return memoized


def _memo_miss(v: Any, key: int, encode: Encoder, frozen: Callable[[Any], bool]) -> bytes:
    data = encode(v)
    if _young is not _IDLE and frozen(v):
        _young[key] = (v, data)
    return data

