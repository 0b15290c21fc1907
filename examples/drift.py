"""Drift: discs that wander, bounce off the walls and each other, and obey journaled commands.

The smallest complete tickmind simulation: components, systems in stages, random choices
from the world's seeded streams, and a "commander" that — like the AI planner — decides
outside the world's state and changes it only through submitted inputs, applied a few ticks
later and journaled. ``tickmind demo`` records a run; ``tickmind verify`` replays it.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from typing import Any

from engine import Input, TickContext, World, component, factory, start_run
from engine.cli import SubCommands, add_command, add_recording_flags, positive_int

__all__ = ["Disc", "Push", "Velocity", "build_world", "command"]

ARENA = 100.0


@component
class Disc:
    x: float
    y: float
    r: float


@component
class Velocity:
    vx: float
    vy: float


class Push(Input):
    """A command from outside the world: add (dvx, dvy) to an entity's velocity."""

    kind = "drift.push"
    dvx: float
    dvy: float

    def apply(self, world: World) -> None:
        vel = world.try_component(self.entity, Velocity)
        if vel is not None:
            vel.vx += self.dvx
            vel.vy += self.dvy


def wander(world: World, ctx: TickContext) -> None:
    """Each disc turns a little at random (randomly acting entities)."""
    for _, vel in world.get_component(Velocity):
        if ctx.rng.random() < 0.05:
            angle = ctx.rng.uniform(-0.5, 0.5)
            c, s = math.cos(angle), math.sin(angle)
            vel.vx, vel.vy = vel.vx * c - vel.vy * s, vel.vx * s + vel.vy * c


def commander(world: World, ctx: TickContext) -> None:
    """Every 30 ticks, push one disc; the push lands 3 ticks later, through the journal."""
    if ctx.tick % 30 == 0:
        discs = world.get_component(Disc)
        if discs:
            target = discs[int(ctx.rng.integers(len(discs)))][0]
            dvx, dvy = ctx.rng.normal(0.0, 5.0, size=2)
            world.submit(Push(entity=target, dvx=float(dvx), dvy=float(dvy)), ctx.tick + 3)


def move(world: World, ctx: TickContext) -> None:
    """Integrate and bounce off the arena walls."""
    for _, (disc, vel) in world.get_components(Disc, Velocity):
        disc.x += vel.vx * ctx.dt
        disc.y += vel.vy * ctx.dt
        if disc.x < disc.r or disc.x > ARENA - disc.r:
            vel.vx = -vel.vx
            disc.x = min(max(disc.x, disc.r), ARENA - disc.r)
        if disc.y < disc.r or disc.y > ARENA - disc.r:
            vel.vy = -vel.vy
            disc.y = min(max(disc.y, disc.r), ARENA - disc.r)


def collide(world: World, ctx: TickContext) -> None:
    """Equal-mass elastic collisions: overlapping discs moving together swap normal speeds."""
    bodies = world.get_components(Disc, Velocity)
    for i, (_, (a, va)) in enumerate(bodies):
        for _, (b, vb) in bodies[i + 1 :]:
            dx, dy = b.x - a.x, b.y - a.y
            dist2 = dx * dx + dy * dy
            if dist2 == 0.0 or dist2 > (a.r + b.r) ** 2:
                continue
            dist = math.sqrt(dist2)
            nx, ny = dx / dist, dy / dist
            closing = (va.vx - vb.vx) * nx + (va.vy - vb.vy) * ny
            if closing > 0:
                va.vx -= closing * nx
                va.vy -= closing * ny
                vb.vx += closing * nx
                vb.vy += closing * ny


@factory
def build_world(config: Mapping[str, Any], seed: int) -> World:
    """The run factory: everything about the world follows from ``config`` and ``seed``."""
    world = World(seed=seed, dt=float(config.get("dt", 1 / 60)))
    rng = world.rng
    for _ in range(int(config.get("discs", 50))):
        r = float(rng.uniform(1.0, 2.5))
        angle = float(rng.uniform(0, 2 * math.pi))
        speed = float(rng.uniform(5.0, 20.0))
        world.create_entity(
            Disc(float(rng.uniform(r, ARENA - r)), float(rng.uniform(r, ARENA - r)), r),
            Velocity(speed * math.cos(angle), speed * math.sin(angle)),
        )
    world.add_system(commander, stage="ai")
    world.add_system(wander, stage="nav")
    world.add_system(move, stage="physics")
    world.add_system(collide, stage="physics", after=["move"])
    return world


def command(sub: SubCommands) -> None:
    """The ``tickmind demo`` subcommand (registered through the tickmind.commands entry point)."""
    p = add_command(
        sub, "demo", handler=_run_demo,
        help="record a small drift simulation, ready for `tickmind verify`",
        description="Run the drift demo (wandering, colliding discs with journaled pushes) "
        "and record it into --out.",
    )  # fmt: skip
    p.add_argument("--discs", type=_disc_count, default=50, help=f"number of discs (1-{MAX_DISCS}, default 50)")
    p.add_argument("--ticks", type=positive_int, default=600, help="ticks to run (default 600 = 10 s)")
    add_recording_flags(p, out="runs/demo")


#: The demo tests every pair of discs in plain Python (it shows a system, not a broadphase):
#: 500 discs are about 0.05 s a tick here, and the cost grows with the square.
MAX_DISCS = 500


def _disc_count(text: str) -> int:
    count = positive_int(text)
    if count > MAX_DISCS:
        raise argparse.ArgumentTypeError(
            f"{count} discs is more than the demo's {MAX_DISCS} (it checks every pair of discs each tick); "
            "for large worlds run tickmind arena --agents N"
        )
    return count


def _run_demo(args: argparse.Namespace) -> int:
    with start_run(build_world, {"discs": args.discs}, args.seed, args.out, force=args.force) as run:
        run.world.run(args.ticks)
    print(f"recorded {args.ticks} ticks of {args.discs} discs into {args.out}")
    print(f"verify it with: tickmind verify {args.out}")
    return 0
