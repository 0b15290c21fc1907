"""Grid search: A* for one agent, the grid graph for whole-map Dijkstra, string pulling.

Why integer step costs (1000 straight, 1414 diagonal): path costs are then exact integers,
whatever order they are summed in. Equal-cost alternatives compare equal in every process
and every library version, and ties are broken by rules written here (heap key
``(f, h, cell)``; fixed neighbour order in the flow field), never by float rounding or a
library's heap internals. A recorded run must replan the same paths when it is replayed
on another machine.

Moves are 8-connected without corner cutting: a diagonal step needs both cells it squeezes
between to be free, so a body never clips a wall corner.

Why this planner (``bench/nav_pathfinding.py`` measures it): our heapq A* explores only the
region between start and goal and answers short moves in well under a millisecond, but it
costs ~3 us per expanded cell in Python; scipy's ``csgraph.dijkstra`` always pays for the
whole map (~0.1 us per cell in C, plus a fixed set-up cost). So A* runs first with a budget
of expansions worth about one whole-map Dijkstra (``ncells // 32``); a query that exhausts it
(long, winding paths) finishes with scipy, and the path is read back from scipy's exact
integer distances with our own tie-break, so the result never depends on scipy's internals.
At worst a query costs about twice the cheaper of the two.
"""

from __future__ import annotations

import heapq
import itertools
import weakref
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from ._grid import GridMap

__all__ = [
    "DIAGONAL",
    "STRAIGHT",
    "default_snap_radius",
    "find_cell_path",
    "find_path",
    "grid_graph",
    "octile",
    "path_cost",
    "smooth_path",
]

STRAIGHT = 1000  #: cost of a straight step, in thousandths of a cell
DIAGONAL = 1414  #: cost of a diagonal step (sqrt(2) to three digits)

_graphs: weakref.WeakKeyDictionary[GridMap, sparse.csr_matrix] = weakref.WeakKeyDictionary()


def find_path(
    grid: GridMap,
    start: tuple[float, float],
    goal: tuple[float, float],
    *,
    snap_radius: float | None = None,
) -> list[tuple[float, float]] | None:
    """Smoothed waypoints (world metres) from ``start`` to ``goal``, or None if unreachable.

    The start itself is not in the list; the last waypoint is ``goal`` (or, if the goal's cell
    is blocked or the goal sits on a blocked cell's edge, the centre of the free cell it
    snapped to). A start or goal inside the
    movement-blocked band snaps to the nearest free cell within ``snap_radius`` metres
    (default ``2 * cell_size + inflate``: how deep a crowd can push a body into the band);
    farther than that it is unreachable. Every segment of the result, from ``start`` on, is
    clear on the movement (inflated) grid, except the first one when the start had to snap:
    that one leads out of the band to the snapped cell's centre.
    """
    radius = default_snap_radius(grid) if snap_radius is None else snap_radius
    s = grid.snap(start[0], start[1], radius)
    g = grid.snap(goal[0], goal[1], radius)
    if s is None or g is None:
        return None
    cells = find_cell_path(grid, s, g)
    if cells is None:
        return None
    start_pt, goal_pt = (float(start[0]), float(start[1])), (float(goal[0]), float(goal[1]))
    last = goal_pt if _settled(grid, goal_pt, g) else grid.cell_to_world(*g)
    if _settled(grid, start_pt, s):
        return smooth_path(grid, cells, start_pt, last)
    first = grid.cell_to_world(*s)  # snapped: step out of the band first, then follow
    return _dedupe([first, *smooth_path(grid, cells, first, last)], start_pt)


def _settled(grid: GridMap, point: tuple[float, float], cell: tuple[int, int]) -> bool:
    """Whether ``point`` lies in free ``cell`` and clear of its blocked neighbours.

    A point exactly on the edge of a blocked cell (integer coordinates from a language model
    land on grid lines all the time) touches it, so no clear leg can start or end there;
    such a point plans from its cell's centre instead.
    """
    return grid.world_to_cell(*point) == cell and grid.line_of_sight(*point, *grid.cell_to_world(*cell), inflated=True)


def default_snap_radius(grid: GridMap) -> float:
    """How far a point may lie from the free cell it plans from (see ``find_path``)."""
    return 2.0 * grid.cell_size + grid.inflate


def find_cell_path(
    grid: GridMap, start: tuple[int, int], goal: tuple[int, int], *, astar_budget: int | None = None
) -> list[tuple[int, int]] | None:
    """The cheapest 8-connected, no-corner-cutting cell path ``[(ix, iy), ...]`` from start
    to goal inclusive, or None when either is blocked or no path exists.

    Optimal for the integer costs, and deterministic: A* breaks ties toward the cell nearest
    the goal (lowest ``h``), then the lowest index; past ``astar_budget`` expansions (default
    ``ncells // 32``, at least 256) the search finishes as a whole-map Dijkstra (see the
    module docstring). ``astar_budget=0`` forces Dijkstra; a huge one forces A*.
    """
    if not (grid.cell_free(*start) and grid.cell_free(*goal)):
        return None
    w = grid.nx + 2

    def to_node(cell: tuple[int, int]) -> int:  # padded flat index
        return (cell[1] + 1) * w + cell[0] + 1

    budget = max(256, grid.nx * grid.ny // 32) if astar_budget is None else astar_budget
    nodes = _astar(grid._bytes[1], w, to_node(start), to_node(goal), budget)
    if nodes is _OVER_BUDGET:
        nodes = _dijkstra_path(grid, to_node(start), to_node(goal))
    if nodes is None:
        return None
    return [(n % w - 1, n // w - 1) for n in nodes]


_OVER_BUDGET: list[int] = []


def _astar(blocked: bytes, w: int, start: int, goal: int, budget: int) -> list[int] | None:
    """A* on a padded (border-blocked) grid of ``w`` columns, nodes as flat indices.

    Returns ``_OVER_BUDGET`` after ``budget`` expansions without reaching the goal.
    """
    gx, gy = goal % w, goal // w
    # (step, cost, the two orthogonal cells a diagonal squeezes between; 0 for straight
    # steps, whose own cell is then tested twice)
    moves = (
        (1, STRAIGHT, 0, 0), (-1, STRAIGHT, 0, 0), (w, STRAIGHT, 0, 0), (-w, STRAIGHT, 0, 0),
        (w + 1, DIAGONAL, 1, w), (w - 1, DIAGONAL, -1, w), (-w + 1, DIAGONAL, 1, -w), (-w - 1, DIAGONAL, -1, -w),
    )  # fmt: skip
    # octile h = STRAIGHT * (dx + dy) - saving * min(dx, dy); min() is inlined below as a
    # conditional because a call costs more than the rest of the line in this hot loop
    saving = 2 * STRAIGHT - DIAGONAL
    dx, dy = abs(start % w - gx), abs(start // w - gy)
    h0 = STRAIGHT * (dx + dy) - saving * (dx if dx < dy else dy)
    g = {start: 0}
    parent = {start: start}
    closed: set[int] = set()  # membership only, never iterated: order cannot leak
    heap = [(h0, h0, start)]
    pop, push, far = heapq.heappop, heapq.heappush, 1 << 62
    while heap:
        _, _, node = pop(heap)
        if node in closed:
            continue
        if node == goal:
            path = [node]
            while node != start:
                node = parent[node]
                path.append(node)
            path.reverse()
            return path
        closed.add(node)
        budget -= 1
        if budget < 0:
            return _OVER_BUDGET
        base = g[node]
        for step, cost, a, b in moves:
            nb = node + step
            if blocked[nb] or blocked[node + a] or blocked[node + b] or nb in closed:
                continue
            cost += base
            if cost < g.get(nb, far):
                g[nb] = cost
                parent[nb] = node
                dx, dy = abs(nb % w - gx), abs(nb // w - gy)
                hn = STRAIGHT * (dx + dy) - saving * (dx if dx < dy else dy)
                push(heap, (cost + hn, hn, nb))
    return None


def _dijkstra_path(grid: GridMap, start: int, goal: int) -> list[int] | None:
    """Whole-map Dijkstra from ``start`` (scipy), path read back from ``goal`` by us.

    Walks back through the first neighbour, in a fixed order, whose exact integer distance
    plus the step equals the current cell's: the same path for the same map, in any version.
    """
    w, nx = grid.nx + 2, grid.nx

    def flat(node: int) -> int:  # padded -> unpadded flat index
        return (node // w - 1) * nx + node % w - 1

    dist = csgraph.dijkstra(grid_graph(grid), directed=True, indices=flat(start))  # symmetric already
    if not np.isfinite(dist[flat(goal)]):
        return None
    blocked = grid._bytes[1]
    straight = (1, -1, w, -w)
    diagonal = ((w + 1, 1, w), (w - 1, -1, w), (-w + 1, 1, -w), (-w - 1, -1, -w))
    path = [goal]
    node = goal
    while node != start:
        here = dist[flat(node)]
        for step in straight:
            nb = node + step
            if not blocked[nb] and dist[flat(nb)] + STRAIGHT == here:
                break
        else:
            for step, a, b in diagonal:
                nb = node + step
                if not (blocked[nb] or blocked[node + a] or blocked[node + b]) and dist[flat(nb)] + DIAGONAL == here:
                    break
            else:  # pragma: no cover - exact integer distances always have a predecessor
                raise AssertionError("no predecessor on an exact distance field")
        node = nb
        path.append(node)
    path.reverse()
    return path


def smooth_path(
    grid: GridMap, cells: Sequence[tuple[int, int]], first: tuple[float, float], last: tuple[float, float]
) -> list[tuple[float, float]]:
    """String pulling: from each anchor, jump to the farthest candidate in movement sight.

    Candidates are ``first``, the start cell's centre, the centres of the cells where the raw
    path turns, the goal cell's centre and ``last``. Consecutive candidates along a raw
    no-corner-cutting path are always in sight of each other, so the pull never gets stuck;
    each anchor tests all farther candidates in one vectorised sight call.
    """
    pts = [first, grid.cell_to_world(*cells[0])]
    for i in range(1, len(cells) - 1):
        (x0, y0), (x1, y1), (x2, y2) = cells[i - 1], cells[i], cells[i + 1]
        if (x1 - x0, y1 - y0) != (x2 - x1, y2 - y1):
            pts.append(grid.cell_to_world(x1, y1))
    if len(cells) > 1:
        pts.append(grid.cell_to_world(*cells[-1]))
    pts.append(last)
    cand = np.asarray(pts, dtype=np.float64)
    out: list[tuple[float, float]] = []
    i = 0
    while i < len(cand) - 1:
        rest = cand[i + 1 :]
        seen = grid.line_of_sight_many(np.broadcast_to(cand[i], rest.shape), rest, inflated=True)
        visible = np.flatnonzero(seen)
        i = i + 1 + (int(visible[-1]) if visible.size else 0)
        out.append((float(cand[i, 0]), float(cand[i, 1])))
    return _dedupe(out, first)


def _dedupe(points: list[tuple[float, float]], first: tuple[float, float]) -> list[tuple[float, float]]:
    """Drop waypoints equal to the one before (e.g. ``last`` is the goal cell's centre)."""
    out: list[tuple[float, float]] = []
    prev = first
    for p in points:
        if p != prev:
            out.append(p)
        prev = p
    return out or [first]


def path_cost(cells: Sequence[tuple[int, int]]) -> int:
    """The integer cost of a cell path (STRAIGHT/DIAGONAL per step)."""
    total = 0
    for (x0, y0), (x1, y1) in itertools.pairwise(cells):
        total += DIAGONAL if (x0 != x1 and y0 != y1) else STRAIGHT
    return total


def grid_graph(grid: GridMap) -> sparse.csr_matrix:
    """The movement grid as a sparse graph: node ``iy * nx + ix``, integer edge costs,
    8-connected without corner cutting. Built once per map (vectorised) and memoised."""
    graph = _graphs.get(grid)
    if graph is not None:
        return graph
    free = ~grid.inflated
    ny, nx = free.shape
    idx = np.arange(ny * nx).reshape(ny, nx)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    costs: list[np.ndarray] = []
    for dx, dy in ((1, 0), (0, 1), (1, 1), (-1, 1)):  # each undirected edge once
        ok = free & _shifted(free, dx, dy)
        cost = STRAIGHT
        if dx and dy:  # no corner cutting: both orthogonal neighbours free
            ok &= _shifted(free, dx, 0) & _shifted(free, 0, dy)
            cost = DIAGONAL
        a = idx[ok]
        b = a + dy * nx + dx
        rows += [a, b]
        cols += [b, a]
        costs.append(np.full(2 * a.size, cost, dtype=np.float64))
    n = ny * nx
    graph = sparse.csr_matrix(
        (np.concatenate(costs), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    _graphs[grid] = graph
    return graph


def _shifted(a: np.ndarray, dx: int, dy: int, fill: bool | float = False) -> np.ndarray:
    """``out[iy, ix] = a[iy + dy, ix + dx]`` (``fill`` outside the map)."""
    ny, nx = a.shape
    out = np.full_like(a, fill)
    ys, yd = (slice(dy, ny), slice(0, ny - dy)) if dy >= 0 else (slice(0, ny + dy), slice(-dy, ny))
    xs, xd = (slice(dx, nx), slice(0, nx - dx)) if dx >= 0 else (slice(0, nx + dx), slice(-dx, nx))
    out[yd, xd] = a[ys, xs]
    return out


def octile(a: tuple[int, int], b: tuple[int, int]) -> int:
    """The integer octile distance between two cells: the cost on an empty map."""
    dx, dy = abs(a[0] - b[0]), abs(a[1] - b[1])
    return STRAIGHT * max(dx, dy) + (DIAGONAL - STRAIGHT) * min(dx, dy)

