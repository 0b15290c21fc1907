"""Bulk transfer between a pymunk space and numpy arrays, through ``pymunk.batch``.

Why: one Python attribute access per body per tick (``body.velocity = ...``) costs more than
the physics step at 10,000 bodies; ``pymunk.batch`` copies every body's fields in one C loop.

Rows come in the space's own body order (``cpSpaceEachBody``: dynamic bodies, then static
ones), which is *not* entity order and changes when a body is removed (Chipmunk deletes from
its body array by moving the last body into the hole). Callers map rows to entities with
``body_ids()`` after every structural change; see ``PhysicsBridge``.
"""

from __future__ import annotations

import numpy as np
import pymunk
import pymunk.batch as pb

__all__ = ["ARBITER_FLOATS", "ARBITER_INTS", "SpaceIO"]

_B = pb.BodyFields
_A = pb.ArbiterFields
_ARBITER_FIELDS = (
    _A.BODY_A_ID | _A.BODY_B_ID | _A.IS_FIRST_CONTACT | _A.CONTACT_COUNT
    | _A.TOTAL_IMPULSE | _A.NORMAL | _A.DISTANCE_1 | _A.DISTANCE_2
)
#: Column names of ``SpaceIO.arbiters()`` output, in pymunk's push order.
ARBITER_INTS = ("body_a", "body_b", "first", "count")
ARBITER_FLOATS = ("jx", "jy", "nx", "ny", "distance1", "distance2")


class SpaceIO:
    """Reusable batch buffers for one space (reads and the force write never share one:
    a write buffer points into a numpy array, which pymunk must never grow)."""

    def __init__(self, space: pymunk.Space) -> None:
        self._space = space
        self._read = pb.Buffer()
        self._write = pb.Buffer()
        self._force = np.zeros((0, 2))

    def body_ids(self) -> np.ndarray:
        """``pymunk.Body.id`` of every body, in row order (process-specific pointers)."""
        self._read.clear()
        pb.get_space_bodies(self._space, _B.BODY_ID, self._read)
        return np.frombuffer(self._read.int_buf(), dtype=np.uintp).copy()

    def bodies(self, fields: pb.BodyFields, width: int) -> np.ndarray:
        """Float fields of every body as a (rows, width) array, in row order."""
        self._read.clear()
        pb.get_space_bodies(self._space, fields, self._read)
        return np.frombuffer(self._read.float_buf(), dtype=np.float64).reshape(-1, width).copy()

    def force_rows(self, rows: int) -> np.ndarray:
        """The (rows, 2) array ``write_forces`` sends; fill it in place, then call that."""
        if len(self._force) != rows:
            self._force = np.zeros((rows, 2))
            self._write.set_float_buf(self._force.reshape(-1))
        return self._force

    def clear_forces(self) -> None:
        """Zero ``force_rows`` (after a re-layout: rows may now belong to other bodies)."""
        self._force.fill(0.0)

    def write_forces(self) -> None:
        """Set every body's force from ``force_rows`` (pymunk resets forces after a step)."""
        pb.set_space_bodies(self._space, _B.FORCE, self._write)

    def arbiters(self) -> tuple[np.ndarray, np.ndarray]:
        """Every cached arbiter: uintp (m, 4) ``ARBITER_INTS`` and (m, 6) ``ARBITER_FLOATS``.

        Includes arbiters kept for a few steps after their shapes separated (count == 0);
        the caller filters those out.
        """
        self._read.clear()
        pb.get_space_arbiters(self._space, _ARBITER_FIELDS, self._read)
        ints = np.frombuffer(self._read.int_buf(), dtype=np.uintp).reshape(-1, 4).copy()
        floats = np.frombuffer(self._read.float_buf(), dtype=np.float64).reshape(-1, 6).copy()
        return ints, floats
