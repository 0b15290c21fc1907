"""Where agents appear: a jittered grid of free slots inside each spawn zone.

A zone is cut into square slots of side ``SPAWN_PITCH * radius``; a slot is free when its
square shares no area with any wall or cover box. Each agent takes a distinct free slot,
chosen by the caller's seeded generator, and is jittered inside it by less than the slack
the slot leaves around the body. That gives three guarantees with no rejection loop that
could run out of tries: bodies never overlap each other (gap >= 0.1 radius), never touch an
obstacle, and lie wholly inside their zone. It also makes "does this zone hold its agents?"
an exact count that validation computes with the very code placement uses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._errors import Problem, ScenarioError
from ._geometry import Box

if TYPE_CHECKING:
    from ._scenario import Scenario

__all__ = ["SPAWN_PITCH", "SlotGrid", "slot_grid", "spawn_positions"]

SPAWN_PITCH = 2.5
"""Side of a spawn slot, in agent radii: each agent needs a (2.5 r) x (2.5 r) square."""

MAX_SLOTS_PER_ZONE = 1 << 20
"""A huge zone gets coarser slots rather than a huge mask (spacing only grows)."""

_CLEARANCE = 0.05
"""Radii kept between a body and its slot's edge, whatever the jitter: neighbours stay >= 0.1 r
apart and obstacles (which never enter a free slot) >= 0.05 r away."""


@dataclass(frozen=True)
class SlotGrid:
    """The spawn slots of one zone; ``free[row, col]`` is True for slots clear of obstacles."""

    x0: float
    y0: float
    pitch: float
    jitter: float
    free: np.ndarray

    @property
    def capacity(self) -> int:
        return int(np.count_nonzero(self.free))

    def centres(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Slot centres for flat (row-major) slot indices."""
        rows, cols = np.divmod(flat, self.free.shape[1])
        return self.x0 + (cols + 0.5) * self.pitch, self.y0 + (rows + 0.5) * self.pitch


def slot_grid(zone: Box, radius: float, obstacles: Sequence[Box]) -> SlotGrid:
    """Cut ``zone`` into slots for agents of ``radius`` and mark those clear of ``obstacles``."""
    pitch = max(SPAWN_PITCH * radius, math.sqrt(zone.w * zone.h / MAX_SLOTS_PER_ZONE))
    cols, rows = int(zone.w // pitch), int(zone.h // pitch)
    # centre the grid so the leftover strip is split evenly between both sides
    x0 = zone.x + (zone.w - cols * pitch) / 2
    y0 = zone.y + (zone.h - rows * pitch) / 2
    free = np.ones((rows, cols), dtype=bool)
    for box in obstacles:
        if not box.overlaps(zone):
            continue
        # slot i spans [x0 + i p, x0 + (i + 1) p]; it shares area with the box when
        # x0 + i p < box.right and x0 + (i + 1) p > box.x
        c_lo = max(0, math.floor((box.x - x0) / pitch))
        c_hi = min(cols, math.ceil((box.right - x0) / pitch))
        r_lo = max(0, math.floor((box.y - y0) / pitch))
        r_hi = min(rows, math.ceil((box.top - y0) / pitch))
        if c_lo < c_hi and r_lo < r_hi:
            free[r_lo:r_hi, c_lo:c_hi] = False
    jitter = pitch / 2 - radius * (1 + _CLEARANCE)
    return SlotGrid(x0, y0, pitch, jitter, free)


def spawn_positions(scenario: Scenario, rng: np.random.Generator) -> list[tuple[int, float, float]]:
    """Every agent's start as ``(team_index, x, y)``, in team order, then spawn-zone order.

    Deterministic for a given generator state: the same seed places the same agents, so a
    replay needs no stored positions. Call it once, at world build time, with the world's
    set-up generator (``world.rng``).
    """
    out: list[tuple[int, float, float]] = []
    obstacles = scenario.obstacles
    for team_index in range(len(scenario.teams)):
        radius = scenario.team_stats(team_index).radius
        for zone in scenario.spawns_for(team_index):
            grid = slot_grid(zone, radius, obstacles)
            free = np.flatnonzero(grid.free)
            if free.size < zone.count:  # only reachable by bypassing validation (model_construct)
                reason = f"room for {free.size} agents, not {zone.count} (validation was bypassed)"
                raise ScenarioError(scenario.source, [Problem("spawns", reason)])
            chosen = np.sort(rng.choice(free, size=zone.count, replace=False))
            xs, ys = grid.centres(chosen)
            shake = rng.uniform(-grid.jitter, grid.jitter, size=(zone.count, 2))
            xs = xs + shake[:, 0]
            ys = ys + shake[:, 1]
            out.extend((team_index, float(x), float(y)) for x, y in zip(xs, ys))
    return out
