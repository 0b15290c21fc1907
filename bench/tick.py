"""Bare scheduler cost: tickmind's World vs the same work as a naive esper loop, in one run.

Three trivial systems (integrate, bounce, age) over N entities. The baseline is what a user
would write with esper directly: module-level esper processors. tickmind adds sorted cached
queries, per-system RNG contexts and timing; the ratio says what that costs. The state hash
(what recording adds per tick) is measured separately.

    .venv/bin/python bench/tick.py [--sizes 100 1000 10000] [--ticks 200] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import esper

from engine import Position, TickContext, Velocity, World, component


@component
class Age:
    ticks: int


DT = 1 / 60


def integrate(world: World, ctx: TickContext) -> None:
    dt = ctx.dt
    for _, (p, v) in world.get_components(Position, Velocity):
        p.x += v.vx * dt
        p.y += v.vy * dt


def bounce(world: World, ctx: TickContext) -> None:
    for _, (p, v) in world.get_components(Position, Velocity):
        if p.x < 0.0 or p.x > 100.0:
            v.vx = -v.vx
        if p.y < 0.0 or p.y > 100.0:
            v.vy = -v.vy


def age(world: World, ctx: TickContext) -> None:
    for _, a in world.get_component(Age):
        a.ticks += 1


def build_tickmind(n: int) -> World:
    world = World(seed=0)
    for i in range(n):
        world.create_entity(Position(i % 100, i // 100 % 100), Velocity(1.0 + i % 7, 2.0 - i % 5), Age(0))
    world.add_system(integrate, stage="physics")
    world.add_system(bounce, stage="physics", after=["integrate"])
    world.add_system(age)
    return world


class Integrate(esper.Processor):
    def process(self) -> None:
        for _, (p, v) in esper.get_components(Position, Velocity):
            p.x += v.vx * DT
            p.y += v.vy * DT


class Bounce(esper.Processor):
    def process(self) -> None:
        for _, (p, v) in esper.get_components(Position, Velocity):
            if p.x < 0.0 or p.x > 100.0:
                v.vx = -v.vx
            if p.y < 0.0 or p.y > 100.0:
                v.vy = -v.vy


class Aging(esper.Processor):
    def process(self) -> None:
        for _, a in esper.get_component(Age):
            a.ticks += 1


def build_esper(n: int) -> None:
    name = f"bench-{n}"
    esper.switch_world(name)
    esper.clear_database()
    for p in list(esper._processors):
        esper.remove_processor(type(p))
    for i in range(n):
        esper.create_entity(Position(i % 100, i // 100 % 100), Velocity(1.0 + i % 7, 2.0 - i % 5), Age(0))
    esper.add_processor(Integrate(), priority=3)
    esper.add_processor(Bounce(), priority=2)
    esper.add_processor(Aging(), priority=1)


def per_tick_ms(step: Callable[[], None], ticks: int, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(ticks):
            step()
        samples.append((time.perf_counter() - start) * 1000 / ticks)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--ticks", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    print(f"{'entities':>9} {'esper ms':>9} {'tickmind ms':>12} {'ratio':>6} {'hash ms':>8} {'hash/tick':>9}")
    for n in args.sizes:
        ticks = max(10, args.ticks * 100 // max(n, 100))
        build_esper(n)
        naive = per_tick_ms(esper.process, ticks, args.repeats)
        world = build_tickmind(n)
        ours = per_tick_ms(world.step, ticks, args.repeats)
        hashing = per_tick_ms(lambda: world.state_hash(), max(3, ticks // 4), args.repeats)
        world.close()
        print(f"{n:>9} {naive:>9.3f} {ours:>12.3f} {ours / naive:>6.2f} {hashing:>8.3f} {hashing / ours:>9.2f}")


if __name__ == "__main__":
    main()
