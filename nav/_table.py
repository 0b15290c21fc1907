"""The nav system's per-tick table: one row of columns per agent with a goal, and the
per-world runtime and geometry helpers that planning and following share."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine import DesiredVelocity, Position

from ._components import NavGoal, NavPath, NavStatus
from ._config import NavConfig
from ._grid import GridMap

__all__ = ["Row"]

# Row modes in the per-tick arrays.
_INACTIVE, _PATH, _FLOW, _ARRIVED = 0, 1, 2, 3
_PACKING = 0.9  # fraction of a disc that packed agents fill (hexagonal packing)


class _NavRuntime:
    """Per-world memo for the nav system. Holds nothing the simulation's outcome depends on:
    only which query lists were already scanned for structural work."""

    def __init__(self, grid: GridMap, cfg: NavConfig) -> None:
        self.grid = grid
        self.cfg = cfg
        self.scanned: tuple[Any, Any] | None = None


Row = tuple[int, tuple[Position, NavGoal, NavStatus, NavPath, DesiredVelocity]]


# The per-tick columns, one row per agent (see _columns).
_PX, _TX, _NX, _FX, _SPEED, _ARRIVE, _MODE, _LAST, _GX = 0, 2, 4, 6, 8, 9, 10, 11, 12
_NCOLS = 14


def _columns(pos: Position, goal: NavGoal, status: NavStatus, path: NavPath) -> tuple[float, ...]:
    """One agent's row: position, current and next target, final point, speed, arrive
    radius, mode, whether the target is the final point, goal."""
    wps = path.waypoints
    if status.state == "moving" and wps:
        k = path.index
        t = wps[k]
        n = wps[k + 1] if k + 1 < len(wps) else t
        f = wps[-1]
        mode = _FLOW if path.flow else _PATH
        return (pos.x, pos.y, *t, *n, *f, goal.speed, goal.arrive_radius, mode, k + 1 >= len(wps), goal.x, goal.y)
    f = wps[-1] if wps else (pos.x, pos.y)
    mode = _ARRIVED if status.state == "arrived" else _INACTIVE
    return (pos.x, pos.y, pos.x, pos.y, pos.x, pos.y, *f, 0.0, goal.arrive_radius, mode, 1, goal.x, goal.y)


def _can_walk(rt: _NavRuntime, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Whether a body at each start can walk straight to its end.

    A start in the inflated band (where crowds press agents against walls all the time) is
    first moved to the nearest free cell, the way the wall push will take it; from there the
    movement grid must be clear. Plain sight would be too lenient (a body does not fit past a
    door frame that the eye clears), movement sight from the pressed position too strict.
    """
    return rt.grid.line_of_sight_many(_back_in_free_space(rt, starts), ends, inflated=True)


def _back_in_free_space(rt: _NavRuntime, pts: np.ndarray) -> np.ndarray:
    """Points in band cells replaced by the centre of their nearest free cell."""
    rows, centres = _way_out(rt, pts, np.isfinite(pts).all(axis=1))
    if rows.size == 0:
        return pts
    out = np.array(pts, dtype=np.float64)
    out[rows] = centres
    return out


def _way_out(rt: _NavRuntime, pts: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the active points standing in band cells: their row numbers and the centre of
    the movement-free cell nearest each (``GridMap.nearest_free_cells``; points with no free
    cell anywhere are left out)."""
    grid = rt.grid
    cells = grid.world_to_cells(np.where(active[:, None], pts, 0.0))
    ix, iy = cells[:, 0], cells[:, 1]
    inside = active & (ix >= 0) & (ix < grid.nx) & (iy >= 0) & (iy < grid.ny)
    flat = np.where(inside, iy * grid.nx + ix, 0)
    rows = np.flatnonzero(inside & grid.inflated.ravel()[flat])
    nearest = grid.nearest_free_cells(pts[rows])
    rows, nearest = rows[nearest >= 0], nearest[nearest >= 0]
    if rows.size == 0:
        return rows, np.zeros((0, 2))
    return rows, grid.cells_to_world(np.stack([nearest % grid.nx, nearest // grid.nx], axis=1))
