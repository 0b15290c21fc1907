"""Steering math: neighbour pairs, separation, arrival speed."""

from __future__ import annotations

import numpy as np

from nav._steering import arrival_speed, neighbour_pairs, norms, separation_push


def test_pairs_are_sorted_closer_than_the_radius_and_order_independent() -> None:
    rng = np.random.default_rng(4)
    pos = rng.uniform(0, 10, size=(300, 2))
    pairs, delta, dist = neighbour_pairs(pos, 1.0)
    assert len(pairs) > 50
    assert (pairs[:, 0] < pairs[:, 1]).all()
    assert np.array_equal(pairs, pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))])
    assert (dist < 1.0).all() and np.array_equal(delta, pos[pairs[:, 1]] - pos[pairs[:, 0]])
    brute = {(i, j) for i in range(300) for j in range(i + 1, 300) if norms(pos[j : j + 1] - pos[i : i + 1])[0] < 1.0}
    assert {tuple(p) for p in pairs.tolist()} == brute
    assert neighbour_pairs(pos[:1], 1.0)[0].shape == (0, 2)


def test_separation_pushes_apart_equally_and_splits_stacked_agents() -> None:
    pos = np.array([[0.0, 0.0], [0.5, 0.0], [5.0, 5.0], [5.0, 5.0]])
    pairs, delta, dist = neighbour_pairs(pos, 1.0)
    push = separation_push(len(pos), pairs, delta, dist, 1.0)
    assert np.allclose(push[0], [-0.5, 0.0]) and np.allclose(push[1], [0.5, 0.0])
    assert np.allclose(push[2], [-1.0, 0.0]) and np.allclose(push[3], [1.0, 0.0])  # same spot: split on x
    assert np.allclose(push.sum(axis=0), 0.0)


def test_arrival_speed_eases_in_and_never_overshoots() -> None:
    speed = np.full(4, 2.0)
    remaining = np.array([5.0, 1.0, 0.25, 0.01])
    v = arrival_speed(speed, remaining, slow_radius=1.0, dt=0.1)
    assert v.tolist() == [2.0, 2.0, 0.5, 0.02]  # full until 1 m out, then proportional
    # without easing, the step is still capped so one tick never carries past the point
    assert arrival_speed(np.array([10.0]), np.array([0.5]), slow_radius=0.0, dt=0.1).tolist() == [5.0]
