"""Line of sight: exact against walls, symmetric, and the vectorised version agrees."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nav import GridMap

WALLED = GridMap.from_boxes(20, 12, 1.0, [(9.9, 0, 10.1, 8), (3, 9, 5, 11), (14, 3, 15, 4), (15, 4, 16, 5)])


def test_a_wall_blocks_and_open_ground_does_not() -> None:
    assert not WALLED.line_of_sight(2.5, 2.5, 17.5, 2.5)  # through the thin wall
    assert WALLED.line_of_sight(2.5, 8.5, 17.5, 8.5)  # above it
    assert WALLED.line_of_sight(1.5, 1.5, 8.5, 7.5)  # diagonal in the open
    assert not WALLED.line_of_sight(2.5, 8.5, 5.5, 11.5)  # into the box at (3..5, 9..11)
    assert WALLED.line_of_sight(5.5, 5.5, 5.5, 5.5)  # a point sees itself


def test_two_diagonal_cells_seal_the_corner_between_them() -> None:
    # cells (14, 3) and (15, 4) touch only at the point (15, 4): a line through it is blocked
    assert not WALLED.line_of_sight(14.5, 4.5, 15.5, 3.5)
    assert not WALLED.line_of_sight(13.0, 6.0, 17.0, 2.0)
    # the same line shifted off the corner into free cells is clear
    assert WALLED.line_of_sight(15.2, 6.0, 18.0, 3.2)


def test_grazing_a_wall_face_counts_as_touching() -> None:
    # the thin wall at x = 9.9..10.1 blocks cells 9 and 10; x = 9.0 runs along cell 9's face
    assert not WALLED.line_of_sight(9.0, 1.0, 9.0, 7.0)
    assert WALLED.line_of_sight(8.99, 1.0, 8.99, 7.0)
    assert not WALLED.line_of_sight(8.0, 1.0, 9.0, 1.0)  # ends on the face


def test_outside_the_map_or_not_finite_is_blocked() -> None:
    assert not WALLED.line_of_sight(-0.5, 1.0, 5.0, 1.0)
    assert not WALLED.line_of_sight(1.0, 1.0, 1.0, 12.5)
    assert not WALLED.line_of_sight(1.0, float("nan"), 2.0, 2.0)
    many = WALLED.line_of_sight_many(np.array([[-0.5, 1.0], [1.0, np.inf]] * 6), np.array([[5.0, 1.0], [2.0, 2.0]] * 6))
    assert not many.any()


def test_inflated_sight_uses_the_movement_grid() -> None:
    grid = GridMap.from_boxes(10, 10, 1.0, [(4, 0, 5, 5)], inflate=0.5)
    # passes 0.5 m above the wall's top: the eye clears it, a body of radius 0.5 does not
    assert grid.line_of_sight(1.5, 5.5, 8.5, 5.5)
    assert not grid.line_of_sight(1.5, 5.5, 8.5, 5.5, inflated=True)
    assert grid.line_of_sight(1.5, 6.5, 8.5, 6.5, inflated=True)


def test_many_agrees_with_single_on_grid_aligned_segments() -> None:
    # integer and half-integer endpoints hit every corner case of the crossing logic
    rng = np.random.default_rng(5)
    hi = np.array([42, 26])  # half-metres, one step past the map on every side
    a = (rng.integers(-1, hi, size=(3000, 2))) / 2.0
    b = (rng.integers(-1, hi, size=(3000, 2))) / 2.0
    many = WALLED.line_of_sight_many(a, b)
    single = np.array([WALLED.line_of_sight(*p, *q) for p, q in zip(a.tolist(), b.tolist(), strict=True)])
    assert np.array_equal(many, single)
    assert 0.1 < many.mean() < 0.9  # both outcomes are exercised
    assert WALLED.line_of_sight_many(np.zeros((0, 2)), np.zeros((0, 2))).shape == (0,)


coord = st.floats(min_value=-1.0, max_value=21.0, allow_nan=False)
box = st.tuples(
    st.floats(0, 18), st.floats(0, 10), st.floats(0.05, 4), st.floats(0.05, 4)
).map(lambda b: (b[0], b[1], b[0] + b[2], b[1] + b[3]))


@settings(max_examples=150, deadline=None)
@given(
    boxes=st.lists(box, max_size=6),
    segs=st.lists(st.tuples(coord, coord, coord, coord), min_size=1, max_size=24),
    cell=st.sampled_from([0.5, 1.0, 0.7]),
    inflated=st.booleans(),
)
def test_sight_is_symmetric_and_many_matches_single(boxes, segs, cell, inflated) -> None:  # type: ignore[no-untyped-def]
    grid = GridMap.from_boxes(20, 12, cell, boxes, inflate=0.3)
    a = np.array([s[:2] for s in segs])
    b = np.array([s[2:] for s in segs])
    single = [grid.line_of_sight(*s, inflated=inflated) for s in segs]
    reverse = [grid.line_of_sight(s[2], s[3], s[0], s[1], inflated=inflated) for s in segs]
    assert single == reverse
    # pad to more than a handful so the numpy path (not the small-batch loop) is compared
    reps = 1 + 9 // len(segs)
    many = grid.line_of_sight_many(np.tile(a, (reps, 1)), np.tile(b, (reps, 1)), inflated=inflated)
    assert many.tolist() == single * reps
    assert grid.line_of_sight_many(np.tile(b, (reps, 1)), np.tile(a, (reps, 1)), inflated=inflated).tolist() == single * reps


@settings(max_examples=100, deadline=None)
@given(x=st.floats(0.5, 19.5), y=st.floats(0.5, 11.5), dx=st.floats(-3, 3), dy=st.floats(-3, 3))
def test_a_segment_inside_free_cells_is_clear_and_through_a_wall_is_not(x: float, y: float, dx: float, dy: float) -> None:
    grid = GridMap.from_boxes(20, 12, 1.0, [(9, 0, 11, 12)])  # full-height wall on cells 9 and 10
    bx, by = min(max(x + dx, 0.01), 19.99), min(max(y + dy, 0.01), 11.99)
    crosses = (min(x, bx) <= 11) and (max(x, bx) >= 9)  # touching a face blocks
    assert grid.line_of_sight(x, y, bx, by) == (not crosses)
