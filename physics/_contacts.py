"""This tick's contacts, as a world resource other systems read (combat, AI salience).

Why numpy-backed and not a tuple of objects: a crowd of 10,000 agents touches in tens of
thousands of pairs every tick, and building that many Python objects would cost more than
the physics step itself. ``Contacts`` behaves like an immutable tuple of ``Contact`` (len,
indexing, iteration, equality) but builds a ``Contact`` only when one is asked for; bulk
readers use the arrays (``a``, ``b``, ``normal``, ...) directly.

Order is canonical: a < b in every pair, pairs sorted by (a, b), so iterating contacts is
as deterministic as iterating entities.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

__all__ = ["Contact", "Contacts"]


@dataclass(frozen=True, slots=True)
class Contact:
    """Two entities touching after this tick's physics step.

    ``a < b``; either may be a Body or a Wall entity. ``(nx, ny)`` is the unit contact normal
    pointing from ``a`` towards ``b``; ``impulse`` (N*s) is the magnitude of the impulse that
    kept them apart during the tick (0 for a resting touch that needed none); ``depth`` (m)
    is how far they overlap; ``new`` is true on the tick they started touching.
    """

    a: int
    b: int
    nx: float
    ny: float
    impulse: float
    depth: float
    new: bool

    def other(self, entity: int) -> int:
        """The entity on the other side of the contact from ``entity``."""
        if entity == self.a:
            return self.b
        if entity == self.b:
            return self.a
        raise ValueError(f"entity {entity} is not part of {self}")


class Contacts(Sequence[Contact]):
    """An immutable, (a, b)-sorted sequence of ``Contact`` backed by read-only arrays."""

    __slots__ = ("_by_b", "a", "b", "depth", "impulse", "new", "normal")

    a: np.ndarray  #: int64, ascending
    b: np.ndarray  #: int64, b > a, ascending within equal a
    normal: np.ndarray  #: float64 (n, 2), from a towards b
    impulse: np.ndarray  #: float64
    depth: np.ndarray  #: float64
    new: np.ndarray  #: bool
    _by_b: np.ndarray | None  # rows in b order, built on the first involving() call

    def __init__(
        self,
        a: np.ndarray,
        b: np.ndarray,
        normal: np.ndarray,
        impulse: np.ndarray,
        depth: np.ndarray,
        new: np.ndarray,
    ) -> None:
        """Wrap arrays already in canonical order (the bridge builds these; see ``empty``)."""
        arrays = {
            "a": np.asarray(a, dtype=np.int64),
            "b": np.asarray(b, dtype=np.int64),
            "normal": np.asarray(normal, dtype=np.float64).reshape(-1, 2),
            "impulse": np.asarray(impulse, dtype=np.float64),
            "depth": np.asarray(depth, dtype=np.float64),
            "new": np.asarray(new, dtype=np.bool_),
        }
        n = len(arrays["a"])
        for name, arr in arrays.items():
            if len(arr) != n:
                raise ValueError(f"Contacts.{name} has {len(arr)} rows, a has {n}")
        self._fill(arrays)

    @classmethod
    def _trusted(cls, **arrays: np.ndarray) -> Contacts:
        """Wrap arrays the bridge built with the right dtypes and shapes (skips the checks
        that cost a tenth of the physics tick at 100 agents)."""
        contacts = cls.__new__(cls)
        contacts._fill(arrays)
        return contacts

    def _fill(self, arrays: dict[str, np.ndarray]) -> None:
        for name, arr in arrays.items():
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "_by_b", None)

    @classmethod
    def empty(cls) -> Contacts:
        """No contacts (what the resource holds before the first physics tick)."""
        ints = np.zeros(0, np.int64)
        floats = np.zeros(0, np.float64)
        return cls(ints, ints, np.zeros((0, 2)), floats, floats, np.zeros(0, np.bool_))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Contacts is immutable: it is this tick's record, shared by every reader")

    def __len__(self) -> int:
        return len(self.a)

    @overload
    def __getitem__(self, index: int) -> Contact: ...
    @overload
    def __getitem__(self, index: slice) -> Contacts: ...
    def __getitem__(self, index: int | slice) -> Contact | Contacts:
        if isinstance(index, slice):
            return self._take(np.arange(len(self))[index])
        i = range(len(self))[index]  # negative indices and IndexError, like a tuple
        nx, ny = self.normal[i].tolist()
        return Contact(
            int(self.a[i]), int(self.b[i]), nx, ny,
            float(self.impulse[i]), float(self.depth[i]), bool(self.new[i]),
        )

    def __iter__(self) -> Iterator[Contact]:
        columns = zip(
            self.a.tolist(), self.b.tolist(), self.normal[:, 0].tolist(),
            self.normal[:, 1].tolist(), self.impulse.tolist(), self.depth.tolist(),
            self.new.tolist(),
        )
        return (Contact(*row) for row in columns)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Contacts):
            return self.to_bytes() == other.to_bytes()
        if isinstance(other, tuple):
            return tuple(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"({a}, {b})" for a, b in zip(self.a[:4].tolist(), self.b[:4].tolist()))
        more = ", ..." if len(self) > 4 else ""
        return f"<Contacts {len(self)} pairs: {shown}{more}>"

    @property
    def pairs(self) -> np.ndarray:
        """The (a, b) pairs as an (n, 2) int64 array."""
        return np.column_stack((self.a, self.b))

    def involving(self, entity: int) -> Contacts:
        """The contacts ``entity`` takes part in (as a or b), still (a, b)-sorted.

        O(log n) after a one-off index, so every agent can ask for its own each tick.
        """
        lo, hi = np.searchsorted(self.a, [entity, entity + 1])
        by_b = self._by_b
        if by_b is None:
            by_b = np.argsort(self.b, kind="stable")
            object.__setattr__(self, "_by_b", by_b)
        blo, bhi = np.searchsorted(self.b[by_b], [entity, entity + 1])
        # rows with b == entity have a < entity and (stable sort) ascending a: they come first
        return self._take(np.concatenate((by_b[blo:bhi], np.arange(lo, hi))))

    def to_bytes(self) -> bytes:
        """Canonical bytes of every column (what the physics hash source includes)."""
        return b"".join(
            arr.tobytes() for arr in (self.a, self.b, self.normal, self.impulse, self.depth, self.new)
        )

    def _take(self, rows: np.ndarray) -> Contacts:
        return Contacts._trusted(
            a=self.a[rows], b=self.b[rows], normal=self.normal[rows],
            impulse=self.impulse[rows], depth=self.depth[rows], new=self.new[rows],
        )
