"""Flow fields: every reachable cell leads to the goal, costs match A*, the cache is an LRU."""

from __future__ import annotations

import numpy as np
import pytest

from nav import FlowField, FlowFieldCache, GridMap, NavError, find_cell_path
from nav._search import path_cost

ROOMS = GridMap.from_boxes(
    24, 16, 1.0,
    [(8, 0, 9, 10), (8, 13, 9, 16), (16, 5, 17, 16), (0, 7, 4, 8), (20, 1, 24, 2), (11, 14, 13, 15)],
    inflate=0.4,
)  # fmt: skip
GOAL = (20, 12)


@pytest.fixture(scope="module")
def field() -> FlowField:
    return FlowField(ROOMS, GOAL)


def reachable_cells(field: FlowField) -> list[tuple[int, int]]:
    iy, ix = np.nonzero(np.isfinite(field.cost) & ~ROOMS.inflated)
    return list(zip(ix.tolist(), iy.tolist(), strict=True))


def test_next_cells_descend_to_the_goal_from_every_reachable_cell(field: FlowField) -> None:
    cells = reachable_cells(field)
    assert len(cells) > 100
    nx = ROOMS.nx
    for ix, iy in cells:
        steps = 0
        cell = (ix, iy)
        while cell != GOAL:
            nxt = int(field.next_cell[cell[1], cell[0]])
            nxt_cell = (nxt % nx, nxt // nx)
            assert ROOMS.cell_free(*nxt_cell)
            assert max(abs(nxt_cell[0] - cell[0]), abs(nxt_cell[1] - cell[1])) == 1
            assert field.cost[nxt_cell[1], nxt_cell[0]] < field.cost[cell[1], cell[0]]
            cell = nxt_cell
            steps += 1
            assert steps <= len(cells)
    assert field.cost[GOAL[1], GOAL[0]] == 0


def test_field_costs_equal_astar_costs(field: FlowField) -> None:
    rng = np.random.default_rng(2)
    cells = reachable_cells(field)
    for k in rng.choice(len(cells), size=25, replace=False):
        start = cells[int(k)]
        path = find_cell_path(ROOMS, start, GOAL)
        assert path is not None and path_cost(path) == field.cost[start[1], start[0]]
    assert field.distance[GOAL[1], GOAL[0]] == 0.0


def test_following_the_directions_reaches_the_goal_from_every_reachable_cell(field: FlowField) -> None:
    cells = reachable_cells(field)
    pts = ROOMS.cells_to_world(np.array(cells))
    goal_centre = np.array(ROOMS.cell_to_world(*GOAL))
    done = np.zeros(len(pts), dtype=bool)
    for _ in range(400):  # 0.25 m steps: far more than the longest path needs
        done |= (ROOMS.world_to_cells(pts) == GOAL).all(axis=1)
        if done.all():
            break
        d = field.directions(pts)
        assert (np.hypot(d[~done, 0], d[~done, 1]) > 0.99).all()
        pts = np.where(done[:, None], pts, pts + 0.25 * d)
        assert ROOMS.line_of_sight_many(pts, np.repeat(goal_centre[None], len(pts), axis=0)).shape == (len(pts),)
        assert not ROOMS.blocked[ROOMS.world_to_cells(pts)[:, 1], ROOMS.world_to_cells(pts)[:, 0]].any()
    assert done.all()


def test_unreachable_cells_have_no_direction() -> None:
    grid = GridMap.from_boxes(12, 12, 1.0, [(6, 0, 7, 12)], inflate=0.4)  # two halves
    field = FlowField(grid, (2, 2))
    pts = np.array([[3.5, 3.5], [9.5, 9.5], [-5.0, 2.0]])
    assert field.reachable(pts).tolist() == [True, False, False]
    d = field.directions(pts)
    assert np.hypot(*d[0]) == pytest.approx(1.0)
    assert (d[1:] == 0).all()
    assert np.isnan(field.targets(pts)[1]).all()


def test_band_cells_lead_out_into_free_space() -> None:
    grid = GridMap.from_boxes(12, 12, 1.0, [(6, 0, 7, 8)], inflate=0.4)
    field = FlowField(grid, (10, 2))
    pressed = np.array([[5.6, 3.0]])  # against the wall's left face
    assert not grid.is_free(*pressed[0])
    assert field.reachable(pressed)[0]
    target = field.targets(pressed)[0]
    assert grid.is_free(*target)


def test_a_blocked_goal_is_refused() -> None:
    with pytest.raises(NavError, match="snap it first"):
        FlowField(ROOMS, (8, 2))


def test_cache_builds_once_per_goal_and_evicts_least_recently_used() -> None:
    cache = FlowFieldCache(ROOMS, capacity=2)
    a = cache.get((1, 1))
    assert cache.get((1, 1)) is a and cache.builds == 1
    cache.get((20, 12))
    cache.get((1, 1))  # refresh (1, 1): (20, 12) is now the oldest
    cache.get((3, 14))
    assert (1, 1) in cache and (3, 14) in cache and (20, 12) not in cache
    assert len(cache) == 2 and cache.builds == 3
    # a rebuilt field is identical: eviction cannot change behaviour
    again = cache.get((20, 12))
    assert np.array_equal(again.next_cell, FlowField(ROOMS, (20, 12)).next_cell)
    with pytest.raises(NavError):
        FlowFieldCache(ROOMS, capacity=0)


#: A map mirror-symmetric about x = 20.5 (41 columns of 0.5 m): a wall with a door either
#: side of the middle, the goal in the middle column. Agents crossing it from the west and
#: from the east must be led exactly alike.
MIRRORED = GridMap.from_boxes(20.5, 12, 0.5, [(7, 0, 8, 5), (7, 7, 8, 12), (12.5, 0, 13.5, 5), (12.5, 7, 13.5, 12)], inflate=0.4)


def test_a_wall_band_leads_out_alike_on_both_sides_of_a_mirror_symmetric_map() -> None:
    """The distance transform's ties went west and south: an agent pressed into a wall's band
    on its way east was led back, its mirror image on its way west led on."""
    field = FlowField(MIRRORED, (20, 12))
    nx = MIRRORED.nx
    band_y, band_x = np.nonzero(MIRRORED.inflated)
    for ix, iy in zip(band_x.tolist(), band_y.tolist(), strict=True):
        here, there = field.next_cell[iy, ix], field.next_cell[iy, nx - 1 - ix]
        if here < 0:
            assert there < 0
            continue
        assert (here % nx, here // nx) == (nx - 1 - there % nx, there // nx), (ix, iy)
        assert field.cost[iy, ix] == field.cost[iy, nx - 1 - ix]


def test_the_free_cell_nearest_a_point_in_a_wall_is_the_mirror_of_its_mirror_images() -> None:
    rng = np.random.default_rng(0)
    points = np.column_stack([rng.uniform(6.5, 8.5, 200), rng.uniform(0, 12, 200)])
    mirrored = np.column_stack([20.5 - points[:, 0], points[:, 1]])
    nx = MIRRORED.nx
    west, east = MIRRORED.nearest_free_cells(points), MIRRORED.nearest_free_cells(mirrored)
    assert (west >= 0).all()
    assert ((west % nx) == nx - 1 - (east % nx)).all() and ((west // nx) == (east // nx)).all()
    assert MIRRORED.snap(7.45, 3.1, radius=2.0) == (12, 6), "out of the band on the side nearer the point"
    assert MIRRORED.snap(7.55, 3.1, radius=2.0) == (17, 6)
