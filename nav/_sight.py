"""Exact line of sight over a boolean cell grid: one segment in Python, many in numpy.

Why exact and not sampled: a sampled ray misses the corner of a thin wall it clips, so an
agent would see (and, through string pulling, walk) through it. A segment is clear when no
blocked cell has interior points on it. It is found from the grid lines the segment crosses:
at each crossing of a vertical line x = k the two cells left and right of it at that height
are tested, likewise for horizontal lines, and the cells of both endpoints.

Why the epsilon and the canonical order: a segment through a cell corner, or an endpoint on a
grid line, touches cells on both sides, and any of them blocks it (a wall built of two
diagonal cells is sealed). Rows and columns are taken at ``v - EPS`` and ``v + EPS``, so such
touches are decided the same way whatever the direction of travel, and both endpoints are
ordered before any arithmetic, so ``clear(a, b)`` and ``clear(b, a)`` run the very same float
operations: sight is symmetric to the bit. The Python and numpy versions perform the same
IEEE operations in the same order and therefore always agree.

Grids here are *padded*: the caller's ``(ny, nx)`` grid with a one-cell blocked border, so
anything outside the map blocks sight without bounds checks. An endpoint outside the map (or
not finite) makes the segment blocked.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["EPS", "pad_blocked", "segment_clear", "segments_clear"]

#: Tolerance in cell units for "on a grid line" (coordinates are far below 1e6 cells).
EPS = 1e-9


def pad_blocked(blocked: np.ndarray) -> np.ndarray:
    """``blocked`` with a one-cell blocked border (the form both functions here expect)."""
    return np.pad(np.asarray(blocked, dtype=bool), 1, constant_values=True)


def segment_clear(
    padded: bytes, nx: int, ny: int, cell_size: float, ax: float, ay: float, bx: float, by: float
) -> bool:
    """Whether the segment (ax, ay)-(bx, by), in world units, touches no blocked cell.

    ``padded`` is ``pad_blocked(grid).tobytes()``: indexing bytes is the fastest cell lookup
    plain Python has.
    """
    ax, ay, bx, by = ax / cell_size, ay / cell_size, bx / cell_size, by / cell_size
    if not (math.isfinite(ax) and math.isfinite(ay) and math.isfinite(bx) and math.isfinite(by)):
        return False
    if ax > bx or (ax == bx and ay > by):
        ax, ay, bx, by = bx, by, ax, ay
    if not (0.0 <= ax <= nx and 0.0 <= bx <= nx and 0.0 <= ay <= ny and 0.0 <= by <= ny):
        return False
    w = nx + 2
    floor = math.floor
    for x, y in ((ax, ay), (bx, by)):
        c0, c1 = floor(x - EPS) + 1, floor(x + EPS) + 1
        r0, r1 = (floor(y - EPS) + 1) * w, (floor(y + EPS) + 1) * w
        if padded[r0 + c0] or padded[r0 + c1] or padded[r1 + c0] or padded[r1 + c1]:
            return False
    k0, k1 = floor(ax) + 1, math.ceil(bx) - 1
    if k1 >= k0:
        slope = (by - ay) / (bx - ax)
        for k in range(k0, k1 + 1):
            y = ay + (k - ax) * slope
            r0, r1 = (floor(y - EPS) + 1) * w, (floor(y + EPS) + 1) * w
            # cells k-1 and k sit at padded columns k and k+1
            if padded[r0 + k] or padded[r0 + k + 1] or padded[r1 + k] or padded[r1 + k + 1]:
                return False
    lo, hi = (ay, by) if ay <= by else (by, ay)
    j0, j1 = floor(lo) + 1, math.ceil(hi) - 1
    if j1 >= j0:
        slope = (bx - ax) / (by - ay)
        for j in range(j0, j1 + 1):
            x = ax + (j - ay) * slope
            c0, c1 = floor(x - EPS) + 1, floor(x + EPS) + 1
            # rows j-1 and j sit at padded rows j and j+1
            if padded[j * w + c0] or padded[j * w + c1] or padded[(j + 1) * w + c0] or padded[(j + 1) * w + c1]:
                return False
    return True


def segments_clear(padded: np.ndarray, cell_size: float, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Vectorised ``segment_clear`` for N segments: ``starts``/``ends`` are (N, 2) world points.

    The crossings of all segments are laid out in one flat array (a ragged ``repeat``), so the
    cost is proportional to the cells crossed in total, not to N times the longest segment.
    """
    a = np.asarray(starts, dtype=np.float64).reshape(-1, 2) / cell_size
    b = np.asarray(ends, dtype=np.float64).reshape(-1, 2) / cell_size
    if a.shape != b.shape:
        raise ValueError(f"starts and ends must have the same shape, got {a.shape} and {b.shape}")
    n = a.shape[0]
    ny, nx = padded.shape[0] - 2, padded.shape[1] - 2
    w = nx + 2
    flat = padded.ravel()

    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    p = np.where(swap[:, None], b, a)
    q = np.where(swap[:, None], a, b)
    with np.errstate(invalid="ignore"):
        ok = (
            np.isfinite(p).all(axis=1)
            & np.isfinite(q).all(axis=1)
            & (p[:, 0] >= 0.0) & (q[:, 0] <= nx)
            & (p[:, 1] >= 0.0) & (p[:, 1] <= ny)
            & (q[:, 1] >= 0.0) & (q[:, 1] <= ny)
        )  # fmt: skip
    if not ok.all():  # park rejected segments on a harmless point; their answer is False
        p[~ok] = 0.5
        q[~ok] = 0.5
    blocked = ~ok

    def hit(cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
        # In range without clipping: endpoints lie in [0, n], so floor(v +- EPS) is in
        # [-1, n], and crossings interpolate between endpoints.
        return flat[(rows + 1) * w + cols + 1]

    for pt in (p, q):
        lo = np.floor(pt - EPS).astype(np.int64)
        hi = np.floor(pt + EPS).astype(np.int64)
        blocked |= hit(lo[:, 0], lo[:, 1]) | hit(lo[:, 0], hi[:, 1]) | hit(hi[:, 0], lo[:, 1]) | hit(hi[:, 0], hi[:, 1])

    px, py, qx, qy = p[:, 0], p[:, 1], q[:, 0], q[:, 1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # vertical grid lines x = k crossed strictly inside the segment, then horizontal ones
        blocked[_crossed(hit, px, py, qx, qy, px, qx, lambda k, v: (k, v))] = True
        lo, hi = np.minimum(py, qy), np.maximum(py, qy)
        blocked[_crossed(hit, py, px, qy, qx, lo, hi, lambda k, v: (v, k))] = True
    return ~blocked if n else np.zeros(0, dtype=bool)


def _crossed(
    hit: Callable[[np.ndarray, np.ndarray], np.ndarray],
    pu: np.ndarray,
    pv: np.ndarray,
    qu: np.ndarray,
    qv: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    as_cells: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Segments with a blocked cell beside one of their crossings of the lines u = k,
    lo < k < hi, where u is one axis and v the other (``as_cells`` maps (u, v) indices to
    (column, row)). ``p`` is the reference endpoint, as in the Python version."""
    seg, k = _ragged(np.floor(lo).astype(np.int64) + 1, np.ceil(hi).astype(np.int64) - 1)
    if seg.size == 0:
        return seg
    pu, pv = pu[seg], pv[seg]  # only segments that cross a line: there qu - pu >= 1 ulp
    slope = (qv[seg] - pv) / (qu[seg] - pu)
    v = pv + (k - pu) * slope
    v0 = np.floor(v - EPS).astype(np.int64)
    v1 = np.floor(v + EPS).astype(np.int64)
    h = hit(*as_cells(k - 1, v0)) | hit(*as_cells(k, v0)) | hit(*as_cells(k - 1, v1)) | hit(*as_cells(k, v1))
    return seg[h]


def _ragged(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges first[i]..last[i] (inclusive, maybe empty): (segment index, value) pairs."""
    counts = np.maximum(last - first + 1, 0)
    total = int(counts.sum())
    if total == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    seg = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    values = first[seg] + (np.arange(total) - starts[seg])
    return seg, values
