"""Perception system cost at 100 / 1,000 / 10,000 agents, as ratios against a baseline
measured in the same run.

The world: agents at the arena's starting density spread evenly (100 agents per 100 x 100 m),
two teams, sight range 15 m (``--range``), N/10 cover objects, 20% of the agents with a
120-degree view cone; a stand-in for physics nudges a seventh of the positions every tick so
values change. Per size, the baseline is ``every=1`` in an open field with no structural
change (ratio 1.00); the other rows add, alone and together: staggering (``every=4``), line
of sight on a 0.5 m grid of short walls (``GridMap.line_of_sight_many``), and churn (an entity
created and deleted every tick, which replaces the world's cached query lists, so the system
rebuilds its layout). Timed: the ``perception`` system only (``world.timings``), median over
chunks of ticks (the machine is shared; a median of chunks resists other processes' bursts).

    .venv/bin/python bench/perception.py [100 1000 10000] [--range 15] [--gc-freeze]

``--gc-freeze`` moves everything built before timing out of the collector's view, to see
how much of a tick is the cyclic GC walking the world.
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
from typing import NamedTuple

import numpy as np

from ai import Faction, Perceivable, Perception, Senses, install_perception
from engine import Position, TickContext, Velocity, World
from nav import GridMap


class Variant(NamedTuple):
    every: int
    los: bool
    churn: bool


VARIANTS = [Variant(every, los, churn) for every in (1, 4) for los in (False, True) for churn in (False, True)]


def build(n: int, variant: Variant, sight: float, seed: int = 0) -> World:
    side = 100.0 * math.sqrt(n / 100)
    rng = np.random.default_rng(seed)
    world = World(seed=seed)
    for i in range(n):
        x, y = rng.uniform(1.0, side - 1.0, 2)
        parts: list[object] = [Position(float(x), float(y)), Faction(i % 2)]
        if rng.random() < 0.2:
            parts += [Senses(sight, 120.0), Velocity(*map(float, rng.normal(size=2)))]
        else:
            parts.append(Senses(sight))
        world.create_entity(*parts)
    for _ in range(n // 10):
        x, y = rng.uniform(1.0, side - 1.0, 2)
        world.create_entity(Position(float(x), float(y)), Perceivable("cover"))
    line_of_sight = None
    if variant.los:
        boxes = []
        for _ in range(n // 10):  # short walls, 4 x 0.5 m, one per 1,000 m^2
            x, y = rng.uniform(0.0, side - 4.0, 2)
            boxes.append((x, y, x + 4.0, y + 0.5) if rng.random() < 0.5 else (x, y, x + 0.5, y + 4.0))
        line_of_sight = GridMap.from_boxes(side, side, 0.5, boxes).line_of_sight_many
    install_perception(world, line_of_sight=line_of_sight, every=variant.every)
    agents = [p for _, (p, _) in world.get_components(Position, Faction)]

    def jitter(world: World, ctx: TickContext) -> None:  # stand-in for physics
        for p in agents[ctx.tick % 7 :: 7]:
            p.x = min(max(p.x + 0.05, 0.5), side - 0.5)

    world.add_system(jitter, stage="physics")
    if variant.churn:  # a structural change every tick (a bullet spawned and removed)

        def bullets(world: World, ctx: TickContext) -> None:
            world.delete_entity(world.create_entity(Position(1.0, 1.0)))

        world.add_system(bullets, stage="update")
    return world


def measure(n: int, variant: Variant, sight: float, freeze: bool) -> tuple[float, float]:
    """Median over chunks of the perception system's ms per tick, and agents seen per agent.
    Every variant gets the same number of chunks (20, or 8 above 1,000 agents): a staggered
    one's chunks are ``every`` times longer, so each refreshes every perceiver equally often."""
    ticks = (400 if n <= 1000 else 40) * variant.every
    world = build(n, variant, sight)
    if freeze:
        gc.collect()
        gc.freeze()
    world.run(max(2, variant.every))  # warm up: Perception components created, layout cached
    chunk = (20 if n <= 1000 else 5) * variant.every
    samples = []
    for _ in range(max(1, ticks // chunk)):
        before = world.timings["perception"]
        world.run(chunk)
        samples.append((world.timings["perception"] - before) / chunk * 1e3)
    perceptions = world.get_component(Perception)
    seen = sum(len(p.visible) for _, p in perceptions) / max(1, len(perceptions))
    world.close()
    if freeze:
        gc.unfreeze()
    return statistics.median(samples), seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", type=int, nargs="*", default=[100, 1000, 10000])
    parser.add_argument("--range", type=float, default=15.0, dest="sight", help="sight range, metres")
    parser.add_argument("--gc-freeze", action="store_true")
    args = parser.parse_args()
    print(f"sight range {args.sight:g} m{', gc frozen' if args.gc_freeze else ''}")
    print(f"{'agents':>7} {'every':>5} {'LOS':>4} {'churn':>5} {'ms/tick':>8} {'ratio':>6} {'seen/agent':>10}")
    for n in args.sizes:
        base = None
        for variant in VARIANTS:
            ms, seen = measure(n, variant, args.sight, args.gc_freeze)
            base = base or ms
            print(
                f"{n:>7} {variant.every:>5} {'grid' if variant.los else '-':>4} {'yes' if variant.churn else '-':>5} "
                f"{ms:>8.3f} {ms / base:>6.2f} {seen:>10.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
