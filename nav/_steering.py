"""Per-tick steering math over all agents at once: neighbours, separation, arrival speed.

Pure functions of arrays, so the nav system stays a thin gather/compute/scatter and these
can be tested without a world. Determinism: cKDTree's pair order follows its tree walk;
pairs are sorted before any sum, so each agent's push adds up its neighbours in ascending
index order and the float result depends on positions only.

Across machines too: lengths are ``sqrt(x*x + y*y)`` from separate numpy ufuncs, which IEEE
754 rounds exactly the same everywhere. ``np.hypot`` (libm) may differ by an ulp between C
libraries and ``einsum`` may fuse multiply-adds on some CPUs; either could flip a decision
("arrived", "passed the waypoint") on one machine and not on another.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["arrival_speed", "dot", "neighbour_pairs", "norms", "separation_push"]


def norms(v: np.ndarray) -> np.ndarray:
    """Row lengths of an (n, 2) array, rounded identically on every machine."""
    x, y = v[:, 0], v[:, 1]
    out: np.ndarray = np.sqrt(x * x + y * y)
    return out


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row dot products of two (n, 2) arrays, without fused multiply-adds."""
    out: np.ndarray = a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1]
    return out


def neighbour_pairs(pos: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i < j) of agents closer than ``radius``, sorted; with ``pos[j] - pos[i]`` and
    the distance of each pair."""
    n = len(pos)
    if n < 2 or radius <= 0:
        return np.zeros((0, 2), dtype=np.int64), np.zeros((0, 2)), np.zeros(0)
    # a hair wider than asked, then cut with our own lengths: which pairs count never
    # depends on how a scipy build rounds a distance right at the radius
    # An unbalanced tree without compacted nodes builds about twice as fast and finds the
    # same pairs (their order differs, and they are sorted next).
    tree = cKDTree(pos, balanced_tree=False, compact_nodes=False)
    found = tree.query_pairs(radius * (1 + 1e-9), output_type="ndarray")
    if len(found) == 0:
        return np.zeros((0, 2), dtype=np.int64), np.zeros((0, 2)), np.zeros(0)
    key = np.sort(found[:, 0].astype(np.int64) * n + found[:, 1])  # (i, j) order, one sort
    pairs = np.stack((key // n, key % n), axis=1)
    delta = pos[pairs[:, 1]] - pos[pairs[:, 0]]
    dist = norms(delta)
    keep = dist < radius
    if keep.all():
        return pairs, delta, dist
    return pairs[keep], delta[keep], dist[keep]


def separation_push(n: int, pairs: np.ndarray, delta: np.ndarray, dist: np.ndarray, radius: float) -> np.ndarray:
    """(n, 2) push away from close neighbours: per neighbour, the unit direction away from it
    times ``1 - dist / radius`` (1 when touching centres, 0 at ``radius``).

    Agents on the very same point are split along x, the lower index to the left, so even
    a stack of agents spawned on one spot comes apart deterministically.
    """
    push = np.zeros((n, 2))
    if len(pairs) == 0:
        return push
    unit = np.zeros_like(delta)
    ok = dist > 0
    unit[ok] = delta[ok] / dist[ok, None]
    unit[~ok] = (1.0, 0.0)
    force = unit * (1.0 - dist / radius)[:, None]
    # One bincount per axis over (firsts, seconds) adds into each agent in exactly the order
    # np.add.at(push, i, -force) then np.add.at(push, j, force) did, so the same bits, at a
    # fraction of add.at's cost.
    at = np.concatenate((pairs[:, 0], pairs[:, 1]))
    both = np.concatenate((-force, force))
    push[:, 0] = np.bincount(at, weights=both[:, 0], minlength=n)
    push[:, 1] = np.bincount(at, weights=both[:, 1], minlength=n)
    return push


def arrival_speed(speed: np.ndarray, remaining: np.ndarray, slow_radius: float, dt: float) -> np.ndarray:
    """Speed that eases into the final point: full speed until ``slow_radius`` metres out,
    then proportional to the remaining distance, and never past the point in one tick."""
    eased = speed * np.minimum(1.0, remaining / slow_radius) if slow_radius > 0 else speed
    return np.minimum(eased, remaining / dt)
