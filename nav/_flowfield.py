"""Flow fields: one whole-map Dijkstra from a goal cell, shared by every agent heading there.

Why: when many agents share a goal, one search from the goal answers all of them, and each
agent then only looks up its cell every tick (vectorised over all agents) instead of
carrying a path. ``install_nav`` switches to a field when a goal cell has at least
``NavConfig.flow_threshold`` agents (measured in ``bench/nav_pathfinding.py``).

How it stays deterministic and version-stable: distances come from scipy's Dijkstra on the
integer-cost grid graph, so they are exact integers whatever order scipy relaxes edges in.
The step each cell takes is then chosen by us, not by scipy's predecessor array: the
neighbour minimising ``distance + step cost``, ties to the first in a fixed neighbour order.

Why a lookahead target instead of the raw step: following next-cell steps walks 45-degree
staircases. Each cell steers instead to the farthest of its 16th, 8th, 4th or 2nd ancestor
that is in movement sight from its centre (else its next cell). Targets are computed lazily,
for the cells agents actually stand in; each is a pure function of the map and the goal, so
when a cell is computed never matters.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from scipy.sparse import csgraph

from ._errors import NavError
from ._grid import GridMap
from ._search import DIAGONAL, STRAIGHT, _shifted, default_snap_radius, grid_graph
from ._steering import norms

__all__ = ["FlowField", "FlowFieldCache"]

#: Neighbour order for tie-breaking: straight moves first (E, N, W, S), then diagonals.
_STEPS = ((1, 0), (0, 1), (-1, 0), (0, -1), (1, 1), (-1, 1), (-1, -1), (1, -1))
_LOOKAHEAD = (16, 8, 4, 2)
_UNSET = -2


class FlowField:
    """Distance to ``goal`` from every cell, the next cell toward it, and steering targets.

    Cells inside the movement-blocked band within the snap radius of a reachable free cell
    lead to that cell first, so an agent pushed against a wall still finds its way out.
    """

    def __init__(self, grid: GridMap, goal: tuple[int, int]) -> None:
        if not grid.cell_free(*goal):
            raise NavError(f"flow field goal cell {goal} is blocked or outside the map; snap it first (GridMap.snap)")
        self.grid = grid
        self.goal = (int(goal[0]), int(goal[1]))
        ny, nx = grid.shape
        goal_flat = self.goal[1] * nx + self.goal[0]
        cost = csgraph.dijkstra(grid_graph(grid), directed=True, indices=goal_flat).reshape(ny, nx)  # symmetric
        nxt = _next_cells(grid, cost)
        nxt[self.goal[1], self.goal[0]] = goal_flat
        cost, nxt = _lead_out_of_band(grid, cost.ravel(), nxt.ravel())
        #: integer path cost to the goal per cell (STRAIGHT per cell step), inf = unreachable
        self.cost: np.ndarray = cost.reshape(ny, nx)
        #: flat index ``iy * nx + ix`` of the next cell toward the goal; -1 = unreachable
        self.next_cell: np.ndarray = nxt.reshape(ny, nx)
        self._next = nxt
        self._ancestors: list[np.ndarray] | None = None
        self._target = np.full(nx * ny, _UNSET, dtype=np.int64)
        for a in (self.cost, self.next_cell):
            a.setflags(write=False)

    @property
    def distance(self) -> np.ndarray:
        """Path length to the goal in metres per cell (inf where unreachable)."""
        return self.cost * (self.grid.cell_size / STRAIGHT)

    def _flat(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat cell index per point (0 where outside the map) and whether it was inside."""
        cells = self.grid.world_to_cells(points)
        ix, iy = cells[:, 0], cells[:, 1]
        inside = (ix >= 0) & (ix < self.grid.nx) & (iy >= 0) & (iy < self.grid.ny)
        return np.where(inside, iy * self.grid.nx + ix, 0), inside

    def reachable(self, points: np.ndarray) -> np.ndarray:
        """(N,) bool: whether the goal can be reached from each (N, 2) world point."""
        flat, inside = self._flat(points)
        return inside & (self._next[flat] >= 0)

    def target_cells(self, points: np.ndarray) -> np.ndarray:
        """(N,) flat index of the cell each point should steer to (-1 where unreachable)."""
        flat, inside = self._flat(points)
        out = self._target[flat]
        missing = inside & (out == _UNSET)
        if missing.any():
            cells = np.unique(flat[missing])
            self._target[cells] = self._lookahead(cells)
            out = self._target[flat]
        return np.where(inside, out, -1)

    def targets(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) world point each point should steer to (NaN where unreachable)."""
        cells = self.target_cells(points)
        nx = self.grid.nx
        out = self.grid.cells_to_world(np.stack([cells % nx, cells // nx], axis=1))
        out[cells < 0] = np.nan
        return out

    def directions(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) unit vectors from each point toward its steering target.

        Zero where unreachable or already at the target (the goal cell's centre); an agent
        in the goal cell should steer to its exact goal point instead.
        """
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        d = self.targets(pts) - pts
        norm = norms(d)
        ok = np.isfinite(norm) & (norm > 0)
        out = np.zeros_like(pts)
        out[ok] = d[ok] / norm[ok, None]
        return out

    def _lookahead(self, cells: np.ndarray) -> np.ndarray:
        """Steering target for each of ``cells`` (flat indices), see the module docstring."""
        nxt = self._next
        if self._ancestors is None:
            safe = np.where(nxt >= 0, nxt, np.arange(nxt.size))  # -1 would index the last cell
            doubling = {1: safe}  # k-th ancestor by pointer doubling
            for k in (2, 4, 8, 16):
                doubling[k] = doubling[k // 2][doubling[k // 2]]
            self._ancestors = [doubling[k] for k in _LOOKAHEAD]
        result: np.ndarray = nxt[cells].copy()
        todo = ~self.grid.inflated.ravel()[cells] & (result >= 0)  # band cells keep "next"
        nx = self.grid.nx
        for anc in self._ancestors:
            rows = np.flatnonzero(todo)
            if rows.size == 0:
                break
            src = cells[rows]
            dst = anc[src]
            far = dst != nxt[src]
            rows, src, dst = rows[far], src[far], dst[far]
            if rows.size == 0:
                continue
            a = self.grid.cells_to_world(np.stack([src % nx, src // nx], axis=1))
            b = self.grid.cells_to_world(np.stack([dst % nx, dst // nx], axis=1))
            seen = self.grid.line_of_sight_many(a, b, inflated=True)
            result[rows[seen]] = dst[seen]
            todo[rows[seen]] = False
        return result


def _next_cells(grid: GridMap, cost: np.ndarray) -> np.ndarray:
    """Per free cell, the flat index of its cheapest neighbour toward the goal (-1 if none)."""
    ny, nx = grid.shape
    free = ~grid.inflated
    inf = np.inf
    candidates = np.full((len(_STEPS), ny, nx), inf)
    for i, (dx, dy) in enumerate(_STEPS):
        ok = free & _shifted(free, dx, dy)
        step = STRAIGHT
        if dx and dy:
            ok &= _shifted(free, dx, 0) & _shifted(free, 0, dy)
            step = DIAGONAL
        candidates[i] = np.where(ok, _shifted(cost, dx, dy, fill=inf) + step, inf)
    best = np.argmin(candidates, axis=0)  # first minimum: the fixed order breaks ties
    reachable = np.isfinite(cost) & free
    sx = np.array([s[0] for s in _STEPS])[best]
    sy = np.array([s[1] for s in _STEPS])[best]
    iy, ix = np.indices((ny, nx))
    out: np.ndarray = np.where(reachable, (iy + sy) * nx + (ix + sx), -1).astype(np.int64)
    return out


def _lead_out_of_band(grid: GridMap, cost: np.ndarray, nxt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Band cells within the snap radius of a reachable free cell lead to the nearest one,
    the one nearer the goal when several are as near.

    Why not the distance transform's nearest cell: its ties go to the lower index, west and
    south. Inside a wall's band a cell is often as near the free cells either side of it, so
    an agent pushed into the band while crossing eastward was led back west, one crossing
    westward on: the east side won every decided heuristic game (bench/RESULTS.md §28)."""
    ny, nx = grid.shape
    band = np.flatnonzero(grid.inflated.ravel())
    if band.size == 0:
        return cost, nxt
    reach = default_snap_radius(grid) / grid.cell_size
    r = int(np.floor(reach))
    bx, by = band % nx, band // nx
    best_d = np.full(band.size, np.inf)
    best_cost = np.full(band.size, np.inf)
    best = np.full(band.size, -1, dtype=np.int64)
    open_cell = nxt >= 0  # free and reachable
    offsets = sorted(((dx * dx + dy * dy) ** 0.5, dx, dy) for dy in range(-r, r + 1) for dx in range(-r, r + 1))
    for d, dx, dy in offsets:
        if d == 0 or d > reach:
            continue
        tx, ty = bx + dx, by + dy
        inside = (tx >= 0) & (tx < nx) & (ty >= 0) & (ty < ny)
        target = np.where(inside, ty * nx + tx, 0)
        ok = inside & open_cell[target]
        here = cost[target]
        better = ok & ((d < best_d) | ((d == best_d) & (here < best_cost)))
        best_d[better], best_cost[better], best[better] = d, here[better], target[better]
    led = best >= 0
    cost = cost.copy()
    nxt = nxt.copy()
    nxt[band[led]] = best[led]
    cost[band[led]] = best_cost[led] + np.round(best_d[led] * STRAIGHT)
    return cost, nxt


class FlowFieldCache:
    """A small LRU of flow fields by goal cell, kept as a world resource by ``install_nav``.

    Eviction only costs a rebuild: a field is a pure function of the map and its goal cell,
    so what the cache holds can never change what agents do.
    """

    def __init__(self, grid: GridMap, capacity: int = 8) -> None:
        if capacity < 1:
            raise NavError(f"FlowFieldCache capacity must be >= 1, got {capacity}")
        self.grid = grid
        self.capacity = capacity
        self.builds = 0  #: fields built so far (misses)
        self._fields: OrderedDict[tuple[int, int], FlowField] = OrderedDict()

    def get(self, goal: tuple[int, int]) -> FlowField:
        """The field for a free goal cell, built on first use."""
        key = (int(goal[0]), int(goal[1]))
        field = self._fields.get(key)
        if field is not None:
            self._fields.move_to_end(key)
            return field
        field = FlowField(self.grid, key)
        self.builds += 1
        self._fields[key] = field
        if len(self._fields) > self.capacity:
            self._fields.popitem(last=False)
        return field

    def __len__(self) -> int:
        return len(self._fields)

    def __contains__(self, goal: object) -> bool:
        return goal in self._fields
