"""Who sees whom, on arrays: the numeric core of perception, free of any World.

Why a separate kernel: the rules (range, view cone, line of sight) are easiest to check and
to time on plain arrays; the system around it (``_perception_system``) only gathers
components into arrays and writes the answer back.

The rules, exactly (the brute-force reference in the tests restates them):

* ``d = target - viewer`` in float64, ``d2 = d.x*d.x + d.y*d.y``; in range iff
  ``d2 <= range*range``. Negating a difference is exact, so ``d2`` is the same bits from
  either end of a pair: range is symmetric for equal ranges.
* View cone (viewers with a non-zero ``heading`` only): visible iff
  ``d.x*h.x + d.y*h.y >= sqrt(d2) * sqrt(h.x*h.x + h.y*h.y) * cos_half``. A target on the
  viewer's own spot (``d2 == 0``) always passes.
* Line of sight: one batched call per tick with every pair that passed range and cone in at
  least one direction, each unordered pair once (order unspecified but deterministic). For
  two agents ``start`` is the one of lower entity id; for an object ``start`` is the viewer
  and ``end`` is pulled ``radius`` metres back towards it (the object's near side, so a crate
  that blocks sight can itself be seen; a viewer inside that radius gets a zero-length
  segment). Both directions of an agent pair share one answer,
  so sight is symmetric even when the game's ray caster is not (a grid walk from A to B can
  differ from B to A).

Candidates come from one ``scipy.spatial.cKDTree`` over all points and ``query_pairs`` at a
radius ``rq``: the common range, or the 90th percentile when ranges differ, in which case
the few longer-range viewers add ``query_ball_point`` for the band ``rq < d <= range``.
Measured at 10,000 points, 15 m, ~7 neighbours each (a 2-core box):
``query_pairs`` (one tree, unordered pairs, ndarray output) took ~4 ms with tree build,
``sparse_distance_matrix`` ~7-9 ms and ``query_ball_point`` ~20 ms (a Python list per
viewer); an unbalanced tree without compacted nodes builds twice as fast for the same
queries. The tree radius is padded and every candidate is re-tested with the arithmetic
above, so the tree's own rounding never decides anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from scipy.spatial import cKDTree

from engine import TickmindError

__all__ = ["LineOfSight", "Sightings", "sightings"]

#: ``line_of_sight(starts, ends) -> clear``: float64 arrays of shape (N, 2) in, a bool array
#: of shape (N,) out. Must be deterministic; it is treated as symmetric (see module doc).
LineOfSight = Callable[[np.ndarray, np.ndarray], np.ndarray]

_PAD = 1e-9  # relative and absolute padding of tree radii; the exact test decides
_SPLIT_QUANTILE = 0.9  # viewers above this quantile of range get their own ball query


class Sightings(NamedTuple):
    """Directed "viewer sees target" edges, in no particular order.

    ``viewer`` indexes the ``viewers`` argument (a slot, not a point), ``target`` indexes
    ``points``, ``d2`` is the exact squared distance.
    """

    viewer: np.ndarray
    target: np.ndarray
    d2: np.ndarray


def sightings(
    points: np.ndarray,
    viewers: np.ndarray,
    ranges: np.ndarray,
    *,
    heading: np.ndarray | None = None,
    cos_half: np.ndarray | None = None,
    ids: np.ndarray | None = None,
    radius: np.ndarray | None = None,
    line_of_sight: LineOfSight | None = None,
) -> Sightings:
    """Every (viewer, target) pair where the target is in range, in the cone and in sight.

    ``points`` (T, 2) float64: everything that can be seen, agents (ascending id) then
    objects. Objects must come last: a pair is oriented from its lower index, and an
    object's ``radius`` applies at the far end. ``viewers`` (P,) distinct indices of agent
    points; ``ranges`` (P,) >= 0. Optional: ``heading`` (P, 2) and ``cos_half`` (P,) for view
    cones (zero heading: all round); ``ids`` (T,) entity ids when one entity is listed twice
    (as agent and object: it never sees itself); ``radius`` (T,) for line-of-sight ends.
    """
    n_points, n_viewers = len(points), len(viewers)
    if n_viewers == 0 or n_points < 2:
        return _empty()
    rr = ranges * ranges
    rmin, rmax = float(ranges.min()), float(ranges.max())
    rq = rmax if rmin == rmax else float(np.quantile(ranges, _SPLIT_QUANTILE, method="lower"))
    tree = cKDTree(points, balanced_tree=False, compact_nodes=False)
    slot_of = np.full(n_points, -1, dtype=np.intp)
    slot_of[viewers] = np.arange(n_viewers, dtype=np.intp)
    cone = _Cone(heading, cos_half)

    # Unordered pairs within rq: both directions tested on one shared d2.
    pairs = tree.query_pairs(_padded(rq), output_type="ndarray").astype(np.intp, copy=False)
    lo, hi = pairs[:, 0], pairs[:, 1]
    dx, dy, d2 = _difference(points, lo, hi)
    far = np.flatnonzero(ranges > rq)
    if len(far):  # the band beyond rq belongs to the far query alone
        near = d2 <= rq * rq
        lo, hi, dx, dy, d2 = lo[near], hi[near], dx[near], dy[near], d2[near]
    rr_or_none = np.append(rr, -1.0)  # slot -1 (not a viewer) is out of range of everything
    s_lo, s_hi = slot_of[lo], slot_of[hi]
    fwd = (d2 <= rr_or_none[s_lo]) & cone.allows(s_lo, dx, dy, d2)
    back = (d2 <= rr_or_none[s_hi]) & cone.allows(s_hi, -dx, -dy, d2)
    if ids is not None:
        distinct = ids[lo] != ids[hi]
        fwd &= distinct
        back &= distinct

    # Long-range viewers: directed candidates in the band rq < d <= range.
    f_slot, f_source, f_target, f_d2 = _far_sightings(points, tree, viewers, ranges, far, rq, cone, ids)

    if line_of_sight is not None:
        wanted = np.flatnonzero(fwd | back)
        # Far edges: each unordered pair once (two far viewers may see each other).
        f_lo, f_hi = np.minimum(f_source, f_target), np.maximum(f_source, f_target)
        f_pairs, f_back = np.unique(f_lo * n_points + f_hi, return_inverse=True)
        if len(wanted) + len(f_pairs):
            clear = _ask(
                line_of_sight,
                points,
                radius,
                np.concatenate((lo[wanted], f_pairs // n_points)),
                np.concatenate((hi[wanted], f_pairs % n_points)),
            )
            blocked = wanted[~clear[: len(wanted)]]
            fwd[blocked] = False
            back[blocked] = False
            keep = clear[len(wanted) :][f_back.reshape(-1)]
            f_slot, f_target, f_d2 = f_slot[keep], f_target[keep], f_d2[keep]

    return Sightings(
        np.concatenate((s_lo[fwd], s_hi[back], f_slot)),
        np.concatenate((hi[fwd], lo[back], f_target)),
        np.concatenate((d2[fwd], d2[back], f_d2)),
    )


class _Cone:
    """The view-cone test per viewer slot; slot -1 (not a viewer) and zero headings pass."""

    def __init__(self, heading: np.ndarray | None, cos_half: np.ndarray | None) -> None:
        self.active = heading is not None and cos_half is not None and bool(heading.any())
        if self.active:
            assert heading is not None and cos_half is not None
            hx, hy = heading[:, 0], heading[:, 1]
            norm = np.sqrt(hx * hx + hy * hy)
            # One trailing entry answers for slot -1.
            self.hx, self.hy = np.append(hx, 0.0), np.append(hy, 0.0)
            self.norm, self.cos = np.append(norm, 0.0), np.append(cos_half, -1.0)
            self.narrow = self.norm > 0.0

    def allows(self, slot: np.ndarray, dx: np.ndarray, dy: np.ndarray, d2: np.ndarray) -> Any:
        """Per edge: may viewer ``slot`` see along (dx, dy)? (True when no cone is active.)"""
        if not self.active:
            return True
        ok = ~self.narrow[slot]
        n = np.flatnonzero(~ok)
        s = slot[n]
        dot = dx[n] * self.hx[s] + dy[n] * self.hy[s]
        ok[n] = dot >= np.sqrt(d2[n]) * self.norm[s] * self.cos[s]
        return ok


def _far_sightings(
    points: np.ndarray,
    tree: cKDTree,
    viewers: np.ndarray,
    ranges: np.ndarray,
    far: np.ndarray,
    rq: float,
    cone: _Cone,
    ids: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(slot, source, target, d2) of the long-range viewers ``far`` beyond ``rq``."""
    if len(far) == 0:
        none = np.empty(0, dtype=np.intp)
        return none, none, none, np.empty(0, dtype=np.float64)
    source = viewers[far]
    found = tree.query_ball_point(points[source], _padded(ranges[far]))
    counts = np.fromiter(map(len, found), dtype=np.intp, count=len(found))
    target = np.fromiter(
        (t for hits in found for t in hits), dtype=np.intp, count=int(counts.sum())
    )
    slot, source = np.repeat(far, counts), np.repeat(source, counts)
    dx, dy, d2 = _difference(points, source, target)
    keep = (d2 > rq * rq) & (d2 <= ranges[slot] * ranges[slot]) & cone.allows(slot, dx, dy, d2)
    if ids is not None:
        keep &= ids[source] != ids[target]
    return slot[keep], source[keep], target[keep], d2[keep]


def _ask(
    line_of_sight: LineOfSight,
    points: np.ndarray,
    radius: np.ndarray | None,
    start: np.ndarray,
    end: np.ndarray,
) -> np.ndarray:
    """The one line-of-sight call of a tick; ``end`` points with a radius are pulled back."""
    starts, ends = points[start], points[end]
    if radius is not None:
        r = radius[end]
        solid = np.flatnonzero(r > 0.0)
        if len(solid):
            s, e = starts[solid], ends[solid]
            d = e - s
            dist = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])
            with np.errstate(divide="ignore"):
                frac = np.minimum(1.0, r[solid] / dist)
            ends[solid] = e + (s - e) * frac[:, None]
    try:
        clear = np.asarray(line_of_sight(starts, ends))
    except TickmindError:
        raise
    except Exception as exc:
        raise TickmindError(
            f"line_of_sight {line_of_sight!r} raised on {len(start)} segments: {exc!r}"
        ) from exc
    if clear.shape != (len(start),) or clear.dtype != np.bool_:
        raise TickmindError(
            f"line_of_sight {line_of_sight!r} returned dtype {clear.dtype}, shape {clear.shape} "
            f"for {len(start)} segments; it must return a bool array of shape ({len(start)},), "
            "one answer per (start, end) row"
        )
    return clear


def _difference(
    points: np.ndarray, source: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dx = points[target, 0] - points[source, 0]
    dy = points[target, 1] - points[source, 1]
    return dx, dy, dx * dx + dy * dy


def _padded(radius: Any) -> Any:
    return radius * (1.0 + _PAD) + _PAD


def _empty() -> Sightings:
    none = np.empty(0, dtype=np.intp)
    return Sightings(none, none, np.empty(0, dtype=np.float64))
