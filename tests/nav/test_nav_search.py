"""A* and find_path: optimal, no corner cutting, unreachable -> None, deterministic, clear."""

from __future__ import annotations

import heapq
import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nav import GridMap, find_cell_path, find_path
from nav._search import DIAGONAL, STRAIGHT, path_cost


def reference_cost(grid: GridMap, start: tuple[int, int], goal: tuple[int, int]) -> int | None:
    """Textbook Dijkstra, written independently of nav's graph: the optimum to compare to."""
    dist = {start: 0}
    heap = [(0, start)]
    while heap:
        d, (x, y) = heapq.heappop(heap)
        if (x, y) == goal:
            return d
        if d > dist[(x, y)]:
            continue
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                if (dx, dy) == (0, 0) or not grid.cell_free(x + dx, y + dy):
                    continue
                if dx and dy and not (grid.cell_free(x + dx, y) and grid.cell_free(x, y + dy)):
                    continue
                nd = d + (DIAGONAL if dx and dy else STRAIGHT)
                if nd < dist.get((x + dx, y + dy), math.inf):
                    dist[(x + dx, y + dy)] = nd
                    heapq.heappush(heap, (nd, (x + dx, y + dy)))
    return None


def assert_valid_cell_path(grid: GridMap, cells: list[tuple[int, int]]) -> None:
    for (x0, y0), (x1, y1) in itertools.pairwise(cells):
        assert max(abs(x1 - x0), abs(y1 - y0)) == 1, "steps are to neighbours"
        assert grid.cell_free(x1, y1)
        if x0 != x1 and y0 != y1:
            assert grid.cell_free(x1, y0) and grid.cell_free(x0, y1), f"corner cut at {(x0, y0)}->{(x1, y1)}"


def test_open_map_costs_the_octile_distance() -> None:
    grid = GridMap.from_boxes(10, 10, 1.0, [])
    cells = find_cell_path(grid, (0, 0), (9, 3))
    assert cells is not None and cells[0] == (0, 0) and cells[-1] == (9, 3)
    assert path_cost(cells) == 3 * DIAGONAL + 6 * STRAIGHT
    assert find_cell_path(grid, (4, 4), (4, 4)) == [(4, 4)]


def test_a_wall_forces_the_optimal_detour() -> None:
    # wall from y=0 to y=7 at x=5: from (1, 1) to (9, 1) the way is over the top
    grid = GridMap.from_boxes(11, 10, 1.0, [(5, 0, 6, 7)])
    cells = find_cell_path(grid, (1, 1), (9, 1))
    assert cells is not None
    assert_valid_cell_path(grid, cells)
    assert any(y >= 7 for _, y in cells)
    assert path_cost(cells) == reference_cost(grid, (1, 1), (9, 1))


def test_diagonal_squeeze_between_two_blocked_cells_is_refused() -> None:
    # (1, 0) and (0, 1) blocked: from (0, 0) the only way out would cut both corners
    blocked = np.zeros((3, 3), dtype=bool)
    blocked[0, 1] = blocked[1, 0] = True
    grid = GridMap(blocked, 1.0)
    assert find_cell_path(grid, (0, 0), (2, 2)) is None
    # with one of them open, the path goes round it instead of cutting the other
    blocked[0, 1] = False
    cells = find_cell_path(GridMap(blocked, 1.0), (0, 0), (2, 2))
    assert cells == [(0, 0), (1, 0), (2, 1), (2, 2)] or cells is not None and path_cost(cells) == STRAIGHT + 2 * DIAGONAL
    assert_valid_cell_path(GridMap(blocked, 1.0), cells)  # type: ignore[arg-type]


def test_unreachable_and_blocked_ends_give_none() -> None:
    # goal inside a closed room
    grid = GridMap.from_boxes(12, 12, 1.0, [(6, 6, 11, 7), (6, 10, 11, 11), (6, 6, 7, 11), (10, 6, 11, 11)])
    assert find_cell_path(grid, (1, 1), (8, 8)) is None
    assert find_path(grid, (1.5, 1.5), (8.5, 8.5)) is None
    assert find_cell_path(grid, (1, 1), (6, 6)) is None  # goal cell blocked
    assert find_cell_path(grid, (1, 1), (40, 1)) is None  # off the map
    assert find_path(grid, (1.5, 1.5), (math.nan, 2.0)) is None
    # deep inside a big block: farther from free space than the snap radius
    big = GridMap.from_boxes(20, 20, 1.0, [(5, 5, 15, 15)])
    assert find_path(big, (1.5, 1.5), (10.0, 10.0)) is None
    assert find_path(big, (1.5, 1.5), (10.0, 10.0), snap_radius=6.0) is not None


def test_astar_and_the_dijkstra_fallback_agree_on_cost() -> None:
    rng = np.random.default_rng(1)
    boxes = [(float(x), float(y), float(x) + 2, float(y) + 2) for x, y in rng.uniform(0, 28, size=(25, 2))]
    grid = GridMap.from_boxes(30, 30, 1.0, boxes, inflate=0.3)
    free = np.argwhere(~grid.inflated)
    checked = 0
    for _ in range(30):
        (sy, sx), (gy, gx) = free[rng.choice(len(free), size=2)]
        s, g = (int(sx), int(sy)), (int(gx), int(gy))
        ref = reference_cost(grid, s, g)
        astar = find_cell_path(grid, s, g, astar_budget=1 << 40)
        dijkstra = find_cell_path(grid, s, g, astar_budget=0)
        if ref is None:
            assert astar is None and dijkstra is None
            continue
        assert astar is not None and dijkstra is not None
        assert path_cost(astar) == path_cost(dijkstra) == ref
        assert_valid_cell_path(grid, astar)
        assert_valid_cell_path(grid, dijkstra)
        checked += 1
    assert checked >= 20


def test_planning_is_deterministic() -> None:
    grid = GridMap.from_boxes(40, 30, 0.5, [(10, 0, 11, 20), (20, 10, 21, 30), (30, 0, 31, 20)], inflate=0.4)
    first = find_path(grid, (2.0, 2.0), (38.0, 28.0))
    assert first is not None
    for _ in range(3):
        assert find_path(grid, (2.0, 2.0), (38.0, 28.0)) == first
    # the fallback is deterministic too, and as short
    a = find_cell_path(grid, (4, 4), (76, 56), astar_budget=0)
    assert a == find_cell_path(grid, (4, 4), (76, 56), astar_budget=0)


def test_find_path_is_smoothed_and_ends_exactly_at_the_goal() -> None:
    grid = GridMap.from_boxes(20, 20, 0.5, [(9, 0, 10, 14)], inflate=0.4)
    path = find_path(grid, (2.2, 2.3), (17.9, 2.1))
    assert path is not None
    assert path[-1] == (17.9, 2.1)
    assert len(path) <= 4  # over the wall's end and down: a handful of corners, not cells
    pts = [(2.2, 2.3), *path]
    for a, b in itertools.pairwise(pts):
        assert grid.line_of_sight(*a, *b, inflated=True)
    # same cell: straight to the point
    assert find_path(grid, (2.2, 2.3), (2.3, 2.4)) == [(2.3, 2.4)]


def test_a_start_in_the_band_first_steps_out_to_the_snapped_cell() -> None:
    grid = GridMap.from_boxes(20, 20, 1.0, [(9, 0, 10, 14)], inflate=0.4)
    start = (8.7, 5.0)  # pressed against the wall: inside the inflated band
    assert not grid.is_free(*start)
    path = find_path(grid, start, (17.5, 5.5))
    assert path is not None
    snapped = grid.snap(*start, 2.4)
    assert snapped is not None and path[0] == grid.cell_to_world(*snapped)
    for a, b in itertools.pairwise(path):
        assert grid.line_of_sight(*a, *b, inflated=True)


box = st.tuples(st.integers(0, 36), st.integers(0, 26), st.integers(1, 8), st.integers(1, 8)).map(
    lambda b: (b[0] * 0.5, b[1] * 0.5, b[0] * 0.5 + b[2] * 0.5, b[1] * 0.5 + b[3] * 0.5)
)


@settings(max_examples=60, deadline=None)
@given(
    boxes=st.lists(box, max_size=10),
    start=st.tuples(st.floats(0.5, 19.5), st.floats(0.5, 13.5)),
    goal=st.tuples(st.floats(0.5, 19.5), st.floats(0.5, 13.5)),
)
def test_paths_never_cross_blocked_cells(boxes, start, goal) -> None:  # type: ignore[no-untyped-def]
    grid = GridMap.from_boxes(20, 14, 0.5, boxes, inflate=0.3)
    path = find_path(grid, start, goal)
    s, g = grid.snap(*start, 1.3), grid.snap(*goal, 1.3)
    if s is None or g is None or reference_cost(grid, s, g) is None:
        assert path is None
        return
    assert path is not None
    # from the start (or, if it had to snap, from the snapped cell) every leg is clear
    settled = grid.is_free(*start) and grid.line_of_sight(*start, *grid.cell_to_world(*s), inflated=True)
    pts = [start, *path] if settled else path
    if not settled:
        assert path[0] == grid.cell_to_world(*s)
    for a, b in itertools.pairwise(pts):
        assert grid.line_of_sight(*a, *b, inflated=True), (a, b)
    goal_settled = grid.is_free(*goal) and grid.line_of_sight(*goal, *grid.cell_to_world(*g), inflated=True)
    assert path[-1] == (goal if goal_settled else grid.cell_to_world(*g))
