"""One column of ``tuple[int, ...]`` values: a padded int64 table with a length per row.

Why: a field such as ``Perception.enemies`` is rewritten for hundreds of agents a tick and
hashed every tick. As a tuple per entity, writing it builds Python ints and hashing it is a
``pack`` call per value; as a table, a system writes every row in one numpy scatter and the
hash reads the rows back as one masked copy. Per-entity readers still get tuples: a row's
tuple is built on first read and kept until the row changes, so code that reads a list many
times a tick pays once.

Cells past a row's length are always zero, so two tables that hold the same lists are
equal cell for cell and a write can tell, in one comparison, which rows it really changed
(only those lose their kept tuple).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["IntLists"]


class IntLists:
    """The values of one ``tuple[int, ...]`` field, row ``r`` being entity ``r``'s."""

    def __init__(self) -> None:
        self.table = np.zeros((0, 0), dtype=np.int64)
        self.counts = np.zeros(0, dtype=np.int64)
        self.kept: list[tuple[int, ...] | None] = []

    def reserve(self, rows: int) -> None:
        """Make room for rows ``0 .. rows - 1`` (the store's own growth policy decides ``rows``)."""
        have = len(self.counts)
        if rows <= have:
            return
        table = np.zeros((rows, self.table.shape[1]), dtype=np.int64)
        table[:have] = self.table
        counts = np.zeros(rows, dtype=np.int64)
        counts[:have] = self.counts
        self.table, self.counts = table, counts
        self.kept.extend([None] * (rows - have))

    def _widen(self, width: int) -> None:
        have = self.table.shape[1]
        if width <= have:
            return
        table = np.zeros((len(self.counts), max(width, 2 * have, 4)), dtype=np.int64)
        table[:, :have] = self.table
        self.table = table

    def get(self, row: int) -> tuple[int, ...]:
        value = self.kept[row]
        if value is None:
            value = self.kept[row] = tuple(self.table[row, : self.counts[row]].tolist())
        return value

    def put(self, row: int, value: Sequence[Any]) -> None:
        """Store one row; raises what ``struct.pack`` raises for a value that is not a
        sequence of 64-bit ints (the same refusals the hash's encoder makes)."""
        n = len(value)
        data = np.frombuffer(struct.pack(f"<{n}q", *value), dtype="<i8")
        self._widen(n)
        old = int(self.counts[row])
        self.table[row, :n] = data
        if old > n:
            self.table[row, n:old] = 0
        self.counts[row] = n
        # Kept as given only when it is what a read would build: a tuple of plain ints (a
        # numpy scalar or array item could change under it, and would leak into readers).
        self.kept[row] = value if type(value) is tuple and all(type(item) is int for item in value) else None

    def put_many(self, rows: np.ndarray, values: np.ndarray, counts: np.ndarray) -> None:
        """Store ``rows[i]``'s list as the next ``counts[i]`` of ``values`` (checked by the
        caller: int64, lengths that add up). Rows whose list is unchanged keep their tuple."""
        n = len(rows)
        if n == 0:
            return
        width = int(counts.max())
        self._widen(width)
        new = np.zeros((n, width), dtype=np.int64)
        starts = np.cumsum(counts) - counts
        owner = np.repeat(np.arange(n), counts)
        new[owner, np.arange(len(values)) - starts[owner]] = values
        changed = (self.counts[rows] != counts) | (self.table[rows, :width] != new).any(axis=1)
        if not changed.any():
            return
        at = rows[changed]
        longer = at[self.counts[at] > width]
        if longer.size:
            self.table[longer, width:] = 0
        self.table[at, :width] = new[changed]
        self.counts[at] = counts[changed]
        kept = self.kept
        for row in at.tolist():
            kept[row] = None

    def rows_with(self, item: int) -> np.ndarray:
        """Every row whose list holds ``item``, ascending (rows of any entity, in or out of
        the world: the caller filters)."""
        hit = self.table == item
        if item == 0:  # the padding is zeros too
            hit &= np.arange(self.table.shape[1]) < self.counts[:, None]
        return np.flatnonzero(hit.any(axis=1))

    def _block(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(counts, table cells) of ``rows``, the cells as wide as the longest of them."""
        counts = self.counts[rows]
        width = int(counts.max()) if len(rows) else 0
        return counts, self.table[rows, :width]

    def read_many(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values, counts) of ``rows``: their lists joined, and each one's length."""
        counts, block = self._block(rows)
        return block[np.arange(block.shape[1]) < counts[:, None]], counts

    def words(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``rows`` as the hash encodes them, in 32-bit words: (words, mask), both (n, 1 + 2w).

        A row's encoding is its length (uint32) then its values (int64, little-endian), so
        its words are column 0 and the first ``2 * length`` of the rest; ``mask`` marks them.
        """
        counts, block = self._block(rows)
        width = block.shape[1]
        words = np.empty((len(rows), 1 + 2 * width), dtype=np.uint32)
        words[:, 0] = counts
        words[:, 1:] = block.view(np.uint32)
        mask = np.empty(words.shape, dtype=np.bool_)
        mask[:, 0] = True
        mask[:, 1:] = np.arange(2 * width) < 2 * counts[:, None]
        return words, mask
