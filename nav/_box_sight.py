"""Line of sight against axis-aligned boxes, exactly and without a grid.

Why beside the grid's: maps built from a few dozen boxes (walls, crates) are answered far
more cheaply by testing each sight line against the boxes than by walking the grid cells it
crosses — a 30 m line over 0.5 m cells visits ~60 cells, while a per-box broadphase rejects
almost every box with four comparisons. The answer is also exact for the real box edges
rather than their rasterised cells. Use it for perception on box maps; use
``GridMap.line_of_sight_many`` when the occluders are only known as a grid.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ._errors import NavError

__all__ = ["BoxSight"]

#: Up to this many segments a call tests them against all boxes at once (bench/box_sight.py).
MATRIX_SEGMENTS = 4096


class BoxSight:
    """Occluding boxes ``(x0, y0, x1, y1)``; a sight line is blocked when it passes through a
    box's interior (grazing an edge or a corner does not block).

    ``matrix_segments``: a call with at most this many segments tests each against every box
    in one pass, a larger one box by box. The answer is the same bits either way; only the
    cost differs.
    """

    def __init__(
        self, boxes: Iterable[tuple[float, float, float, float]], *, matrix_segments: int = MATRIX_SEGMENTS
    ) -> None:
        self.matrix_segments = matrix_segments
        self.boxes = np.asarray(list(boxes), dtype=np.float64).reshape(-1, 4)
        bad = ~((self.boxes[:, 0] < self.boxes[:, 2]) & (self.boxes[:, 1] < self.boxes[:, 3]))
        if bad.any():
            raise NavError(f"box {int(np.flatnonzero(bad)[0])} needs x0 < x1 and y0 < y1: {self.boxes[bad][0].tolist()}")

    def line_of_sight(self, ax: float, ay: float, bx: float, by: float) -> bool:
        return bool(self.line_of_sight_many(np.array([[ax, ay]]), np.array([[bx, by]]))[0])

    def line_of_sight_many(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """(N, 2) starts and ends -> (N,) bool, True where nothing blocks the segment.

        Symmetric to the bit: each segment is oriented by its lexicographically smaller end
        before any arithmetic, so A->B and B->A are the same computation.
        """
        # Contiguous columns first: every later pass reads one, and strided (N, 2) columns
        # cost about twice as much per pass.
        ax, ay = np.asarray(starts, dtype=np.float64).reshape(-1, 2).T.copy()
        bx, by = np.asarray(ends, dtype=np.float64).reshape(-1, 2).T.copy()
        swap = (bx < ax) | ((bx == ax) & (by < ay))
        sx, sy = np.where(swap, bx, ax), np.where(swap, by, ay)
        dx, dy = np.where(swap, ax, bx) - sx, np.where(swap, ay, by) - sy
        lo_x, hi_x = np.minimum(ax, bx), np.maximum(ax, bx)
        lo_y, hi_y = np.minimum(ay, by), np.maximum(ay, by)
        clear = np.ones(len(ax), dtype=bool)
        if len(ax) <= self.matrix_segments:
            # Every (segment, box) candidate in one pass: for a few thousand segments a
            # Python loop over the boxes costs several times the arithmetic. Beyond that the
            # (segments x boxes) matrix costs more than the loop (bench/box_sight.py).
            left, bottom, right, top = self.boxes.T
            seg, box = np.nonzero(_overlap(lo_x[:, None], hi_x[:, None], lo_y[:, None], hi_y[:, None], left, bottom, right, top))
            hit = _crosses(sx[seg], sy[seg], dx[seg], dy[seg], left[box], bottom[box], right[box], top[box])
            clear[seg[hit]] = False
            return clear
        for x0, y0, x1, y1 in self.boxes.tolist():
            near = np.flatnonzero(_overlap(lo_x, hi_x, lo_y, hi_y, x0, y0, x1, y1) & clear)
            if near.size:
                hit = _crosses(sx[near], sy[near], dx[near], dy[near], x0, y0, x1, y1)
                clear[near[hit]] = False
        return clear


def _overlap(
    lo_x: np.ndarray,
    hi_x: np.ndarray,
    lo_y: np.ndarray,
    hi_y: np.ndarray,
    x0: np.ndarray | float,
    y0: np.ndarray | float,
    x1: np.ndarray | float,
    y1: np.ndarray | float,
) -> np.ndarray:
    """The broadphase: do the segments' bounding boxes overlap the boxes' (broadcast)?"""
    return (lo_x < x1) & (hi_x > x0) & (lo_y < y1) & (hi_y > y0)


def _crosses(
    sx: np.ndarray,
    sy: np.ndarray,
    dx: np.ndarray,
    dy: np.ndarray,
    x0: np.ndarray | float,
    y0: np.ndarray | float,
    x1: np.ndarray | float,
    y1: np.ndarray | float,
) -> np.ndarray:
    """Liang-Barsky, per row: does ``s + t*d``, t in [0, 1], pass through the open interior of
    box ``(x0, y0, x1, y1)`` (one box for every row, or one per row)?"""
    enter = np.zeros(len(sx))
    leave = np.ones(len(sx))
    for start, delta, low, high in ((sx, dx, x0, x1), (sy, dy, y0, y1)):
        moving = delta != 0.0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            t_low = (low - start) / delta
            t_high = (high - start) / delta
        t_in = np.where(moving, np.minimum(t_low, t_high), -np.inf)
        t_out = np.where(moving, np.maximum(t_low, t_high), np.inf)
        # A segment parallel to this axis crosses only if it lies strictly between the sides.
        parallel_outside = ~moving & ((start <= low) | (start >= high))
        enter = np.maximum(enter, t_in)
        leave = np.where(parallel_outside, -np.inf, np.minimum(leave, t_out))
    return enter < leave
