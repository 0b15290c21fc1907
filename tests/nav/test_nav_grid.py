"""GridMap: building from boxes, inflation, conversions, snapping, immutability."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nav import GridMap, NavError


def test_boxes_block_the_cells_they_overlap_even_thin_walls() -> None:
    # a 0.2 m wall inside column 4 of 1 m cells, and a box covering cells (6..7, 2..3)
    grid = GridMap.from_boxes(10, 6, 1.0, [(4.4, 0, 4.6, 3), (6, 2, 8, 4)])
    assert grid.shape == (6, 10)
    assert grid.blocked[:3, 4].all() and not grid.blocked[3:, 4].any()
    assert grid.blocked[2:4, 6:8].all()
    # touching a cell's edge is not overlapping its interior
    assert not grid.blocked[2:4, 5].any() and not grid.blocked[2:4, 8].any()
    assert not grid.blocked[1, 6] and not grid.blocked[4, 6]
    assert int(grid.blocked.sum()) == 3 + 4


def test_inflation_blocks_cells_closer_than_the_radius_to_a_box_or_the_edge() -> None:
    grid = GridMap.from_boxes(12, 12, 1.0, [(5, 5, 7, 7)], inflate=0.5)
    assert not grid.inflated[0:6, 0:6].all()
    # the cells touching the box (distance 0) and the map edge are blocked for movement
    for iy, ix in [(4, 5), (7, 6), (5, 4), (6, 7), (4, 4), (7, 7), (0, 3), (11, 3), (3, 0), (3, 11)]:
        assert grid.inflated[iy, ix], (ix, iy)
        assert not grid.blocked[iy, ix]
    # one cell further is 1 m away: free again
    for iy, ix in [(3, 5), (8, 6), (5, 3), (6, 8), (1, 3), (3, 1)]:
        assert not grid.inflated[iy, ix], (ix, iy)
    # diagonal neighbour of the box corner: rectangle distance is 0 -> blocked; two away sqrt(2) -> free
    assert grid.inflated[4, 4] and not grid.inflated[3, 3]


def test_inflation_uses_rectangle_distance_not_a_square() -> None:
    # radius 1.2: a cell diagonally off a corner by one gap (distance sqrt(2) > 1.2) stays free
    grid = GridMap.from_boxes(20, 20, 1.0, [(9, 9, 10, 10)], inflate=1.2)
    assert grid.inflated[9, 7] and grid.inflated[7, 9]  # 1 m away along an axis
    assert not grid.inflated[7, 7]  # sqrt(2) m away diagonally
    assert not grid.inflated[9, 6]  # 2 m away


def test_from_array_dilates_like_from_boxes() -> None:
    boxes = [(3, 3, 5, 4), (10, 2, 11, 9)]
    exact = GridMap.from_boxes(14, 12, 1.0, boxes, inflate=0.9)
    from_array = GridMap(exact.blocked, 1.0, inflate=0.9)
    assert np.array_equal(exact.inflated, from_array.inflated)


def test_inflate_zero_keeps_only_the_boxes_and_a_partial_last_cell() -> None:
    grid = GridMap.from_boxes(9.5, 4, 1.0, [(2, 1, 3, 2)])
    assert grid.shape == (4, 10)
    assert np.array_equal(grid.inflated[:, :9], grid.blocked[:, :9])
    assert grid.inflated[:, 9].all()  # the last column sticks out of the 9.5 m map


def test_world_cell_conversions_round_trip() -> None:
    grid = GridMap.from_boxes(10, 8, 0.5, [])
    assert grid.world_to_cell(0.0, 0.0) == (0, 0)
    assert grid.world_to_cell(0.49, 0.51) == (0, 1)
    assert grid.world_to_cell(-0.01, 3.0) == (-1, 6)
    assert grid.cell_to_world(3, 4) == (1.75, 2.25)
    pts = np.array([[0.1, 0.2], [4.99, 3.99], [2.5, 2.5]])
    cells = grid.world_to_cells(pts)
    assert cells.tolist() == [[0, 0], [9, 7], [5, 5]]
    assert np.allclose(grid.cells_to_world(cells), [[0.25, 0.25], [4.75, 3.75], [2.75, 2.75]])
    for ix, iy in [(0, 0), (7, 3), (19, 15)]:
        assert grid.world_to_cell(*grid.cell_to_world(ix, iy)) == (ix, iy)


def test_is_free_distinguishes_movement_from_walls() -> None:
    grid = GridMap.from_boxes(10, 10, 1.0, [(4, 4, 6, 6)], inflate=0.5)
    assert grid.is_free(1.5, 1.5)
    assert not grid.is_free(4.5, 4.5) and not grid.is_free(4.5, 4.5, inflated=False)
    assert not grid.is_free(3.5, 4.5) and grid.is_free(3.5, 4.5, inflated=False)  # band only
    assert not grid.is_free(-1, 5, inflated=False) and not grid.is_free(5, 10.5, inflated=False)
    assert not grid.is_free(math.nan, 1.0)


def test_snap_moves_blocked_points_to_the_nearest_free_cell_within_radius() -> None:
    grid = GridMap.from_boxes(10, 10, 1.0, [(4, 0, 5, 10)], inflate=0.4)  # band = columns 3..5
    assert grid.snap(1.5, 5.5, 0.0) == (1, 5)  # free: its own cell
    assert grid.snap(3.5, 5.5, 1.5) == (2, 5)  # band cell: one cell left
    assert grid.snap(4.5, 5.5, 0.5) is None  # the nearest free centre is 2 m away
    assert grid.snap(4.5, 5.5, 2.5) in {(2, 5), (6, 5)}
    assert grid.snap(math.inf, 0, 100) is None


def test_grid_is_immutable_and_has_a_stable_digest() -> None:
    src = np.zeros((4, 5), dtype=bool)
    grid = GridMap(src, 1.0)
    src[1, 1] = True  # the caller's array is copied
    assert not grid.blocked[1, 1]
    with pytest.raises(ValueError):
        grid.blocked[0, 0] = True
    with pytest.raises(ValueError):
        grid.inflated[0, 0] = True
    same = GridMap(np.zeros((4, 5), dtype=bool), 1.0)
    other = GridMap(np.eye(4, 5, dtype=bool), 1.0)
    assert grid.digest == same.digest != other.digest
    assert len(grid.digest) == 16


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"width": 0, "height": 5, "cell_size": 1.0, "boxes": []}, "width and height"),
        ({"width": 5, "height": 5, "cell_size": 0.0, "boxes": []}, "cell_size"),
        ({"width": 5, "height": 5, "cell_size": 1.0, "boxes": [], "inflate": -1}, "inflate"),
        ({"width": 5, "height": 5, "cell_size": 1.0, "boxes": [(3, 3, 1, 1)]}, "box #0"),
        ({"width": 5, "height": 5, "cell_size": 1.0, "boxes": [(1, 2, 3)]}, "box #0"),
    ],
)
def test_bad_maps_raise_nav_error_naming_the_problem(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(NavError, match=fragment):
        GridMap.from_boxes(**kwargs)  # type: ignore[arg-type]
