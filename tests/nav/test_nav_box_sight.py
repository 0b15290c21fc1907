"""BoxSight: exact line of sight against boxes, checked against dense sampling."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nav import BoxSight, NavError

BOX = (2.0, 2.0, 4.0, 3.0)


@pytest.mark.parametrize(
    "segment, clear",
    [
        ((0.0, 2.5, 6.0, 2.5), False),  # straight through
        ((0.0, 0.0, 6.0, 5.0), False),  # diagonal through
        ((0.0, 2.0, 6.0, 2.0), True),  # along the bottom edge: grazing is not blocking
        ((0.0, 0.0, 4.0, 2.0), True),  # ends at a corner
        ((1.0, 4.0, 5.0, 0.0), False),  # x + y = 5 cuts the box between (2, 3) and (3, 2)
        ((3.0, 2.5, 3.0, 2.5), False),  # a point inside
        ((3.0, 2.5, 9.0, 9.0), False),  # starts inside
        ((0.0, 0.0, 1.0, 1.0), True),  # far away
        ((3.0, 0.0, 3.0, 1.9), True),  # stops short
    ],
)
def test_known_cases(segment: tuple[float, float, float, float], clear: bool) -> None:
    sight = BoxSight([BOX])
    assert sight.line_of_sight(*segment) is clear


def _sampled_blocked(boxes: list[tuple[float, float, float, float]], a: np.ndarray, b: np.ndarray, samples: int) -> bool:
    """Does any of ``samples`` evenly spaced points of the segment lie strictly inside a box?"""
    points = a + np.linspace(0.0, 1.0, samples)[:, None] * (b - a)
    return any(
        bool(((points[:, 0] > x0) & (points[:, 0] < x1) & (points[:, 1] > y0) & (points[:, 1] < y1)).any())
        for x0, y0, x1, y1 in boxes
    )


coordinate = st.floats(0.0, 20.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    boxes=st.lists(
        st.tuples(st.integers(0, 18), st.integers(0, 18), st.integers(1, 4), st.integers(1, 4)), min_size=1, max_size=6
    ),
    segments=st.lists(st.tuples(coordinate, coordinate, coordinate, coordinate), min_size=1, max_size=20),
)
def test_agrees_with_dense_sampling_and_is_symmetric(
    boxes: list[tuple[int, int, int, int]], segments: list[tuple[float, float, float, float]]
) -> None:
    rects = [(float(x), float(y), float(x + w), float(y + h)) for x, y, w, h in boxes]
    sight = BoxSight(rects)
    seg = np.array(segments)
    forward = sight.line_of_sight_many(seg[:, :2], seg[:, 2:])
    backward = sight.line_of_sight_many(seg[:, 2:], seg[:, :2])
    assert (forward == backward).all()
    for (ax, ay, bx, by), clear in zip(segments, forward.tolist()):
        a, b = np.array([ax, ay]), np.array([bx, by])
        if _sampled_blocked(rects, a, b, 4001):
            assert not clear, "a sampled point lies strictly inside a box"
        elif not clear:
            # Blocked with no coarse sample inside: the chord is short (sampling can miss a
            # chord of 1e-10 m); exact rational arithmetic must still find it.
            assert any(_exactly_crosses(box, (ax, ay, bx, by)) for box in rects)


def _exactly_crosses(box: tuple[float, ...], segment: tuple[float, ...]) -> bool:
    """Does some point a + t(b - a), t in [0, 1], lie strictly inside the box? In Fractions."""
    x0, y0, x1, y1 = map(Fraction, box)
    ax, ay, bx, by = map(Fraction, segment)
    low, high = Fraction(0), Fraction(1)
    for start, delta, lo, hi in ((ax, bx - ax, x0, x1), (ay, by - ay, y0, y1)):
        if delta == 0:
            if not lo < start < hi:
                return False
            continue
        t1, t2 = (lo - start) / delta, (hi - start) / delta
        low, high = max(low, min(t1, t2)), min(high, max(t1, t2))
    return low < high


def test_bad_boxes_are_refused() -> None:
    with pytest.raises(NavError, match="box 1 needs x0 < x1"):
        BoxSight([(0, 0, 1, 1), (3, 3, 2, 4)])


@settings(max_examples=100, deadline=None)
@given(
    boxes=st.lists(
        st.tuples(st.integers(0, 18), st.integers(0, 18), st.integers(1, 4), st.integers(1, 4)), min_size=0, max_size=30
    ),
    segments=st.lists(
        st.tuples(*[st.one_of(coordinate, st.integers(0, 22).map(float)) for _ in range(4)]), min_size=0, max_size=40
    ),
)
def test_all_boxes_at_once_and_box_by_box_agree(
    boxes: list[tuple[int, int, int, int]], segments: list[tuple[float, float, float, float]]
) -> None:
    """Few segments are tested against every box in one matrix, many box by box: the two
    ways must give the same answer, grazing edges and corners (integer ends) included."""
    rects = [(float(x), float(y), float(x + w), float(y + h)) for x, y, w, h in boxes]
    seg = np.array(segments, dtype=np.float64).reshape(-1, 4)
    at_once = BoxSight(rects, matrix_segments=len(seg)).line_of_sight_many(seg[:, :2], seg[:, 2:])
    one_by_one = BoxSight(rects, matrix_segments=-1).line_of_sight_many(seg[:, :2], seg[:, 2:])
    assert at_once.tolist() == one_by_one.tolist()
