"""Fixtures for nav tests: more fresh worlds, small maps, and a stand-in for physics.

(``world``, one fresh world per test, comes from tests/conftest.py.)

Physics is another package, so nav's own tests move bodies with ``mover``: a tiny
deterministic integrator (desired velocity -> position, bodies kept apart, walls solid), so
crowds can actually jam in a doorway the way they would under a real physics step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest
from scipy.spatial import cKDTree

from engine import DesiredVelocity, Position, TickContext, World
from nav import GridMap

BODY = 0.4  # agent radius used by every nav test map
_PROBES = np.array([(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)], dtype=float) * BODY * 0.999


@pytest.fixture
def make_world() -> Iterator[Callable[[], World]]:
    made: list[World] = []

    def make() -> World:
        made.append(World(seed=7))
        return made[-1]

    yield make
    for w in made:
        w.close()


def door_map(gap: float = 2.0) -> GridMap:
    """30 x 20 m, a 1 m thick wall at x = 14.5..15.5 with a door of ``gap`` metres at y = 10."""
    return GridMap.from_boxes(
        30, 20, 0.5, [(14.5, 0, 15.5, 10 - gap / 2), (14.5, 10 + gap / 2, 15.5, 20)], inflate=BODY
    )


@pytest.fixture
def doors() -> Callable[..., GridMap]:
    return door_map


def _solid(grid: GridMap, pts: np.ndarray) -> np.ndarray:
    """Whether a body at each point would overlap a wall (or leave the map)."""
    probe = (pts[:, None, :] + _PROBES[None]).reshape(-1, 2)
    cells = grid.world_to_cells(probe)
    inside = (cells[:, 0] >= 0) & (cells[:, 0] < grid.nx) & (cells[:, 1] >= 0) & (cells[:, 1] < grid.ny)
    hit = np.ones(len(probe), dtype=bool)
    hit[inside] = grid.blocked[cells[inside, 1], cells[inside, 0]]
    solid: np.ndarray = hit.reshape(len(pts), -1).any(axis=1)
    return solid


def move_bodies(world: World, ctx: TickContext) -> None:
    """Stand-in physics: integrate, push overlapping bodies apart, refuse moves into walls
    (per axis, so bodies slide along them)."""
    grid = world.resource(GridMap)
    rows = world.get_components(Position, DesiredVelocity)
    if not rows:
        return
    cur = np.array([(p.x, p.y, d.vx, d.vy) for _, (p, d) in rows])
    pos, vel = cur[:, :2], cur[:, 2:]
    new = pos + vel * ctx.dt
    pairs = cKDTree(new).query_pairs(2 * BODY, output_type="ndarray")
    if len(pairs):
        pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
        d = new[pairs[:, 1]] - new[pairs[:, 0]]
        dist = np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)
        corr = d / dist[:, None] * ((2 * BODY - dist) / 2)[:, None]
        np.add.at(new, pairs[:, 0], -corr)
        np.add.at(new, pairs[:, 1], corr)
    x = np.where(_solid(grid, np.stack([new[:, 0], pos[:, 1]], axis=1)), pos[:, 0], new[:, 0])
    y = np.where(_solid(grid, np.stack([x, new[:, 1]], axis=1)), pos[:, 1], new[:, 1])
    for (_, (p, _)), xi, yi in zip(rows, x.tolist(), y.tolist(), strict=True):
        p.x, p.y = xi, yi


@pytest.fixture
def mover() -> Callable[[World], None]:
    """``mover(world)`` registers the stand-in physics in stage "physics"."""

    def install(w: World) -> None:
        w.add_system(move_bodies, stage="physics", name="test.move_bodies")

    return install
