"""Physics step cost at 100 / 1,000 / 10,000 agents, and which choices pay, in one run.

A square arena (border walls plus rows of cover boxes), agents one per ~9 m^2 (a few percent
of them touching at any time), every agent steered towards its own goal by a tiny nav-stage
system. Timed: the ``physics.step`` system only (``world.timings``), per tick, after warm-up, best of
a few repeats; and, apart, the two physics hash sources a recorded run adds per tick.
Variants: the default bridge (BBTree, 10 iterations, pymunk.batch transfers), pymunk's spatial
hash, 5 solver iterations, and per-body Python transfers instead of pymunk.batch. Budgets for
the whole arena tick: 100 agents 0.3 ms, 1,000 2.5 ms, 10,000 25 ms.

    .venv/bin/python bench/physics_step.py [--sizes 100 1000 10000] [--ticks 60] [--repeats 3]
"""

from __future__ import annotations

import argparse
import math
import time

from engine import DesiredVelocity, Position, TickContext, World
from physics import Body, PhysicsBridge, PhysicsSettings, Wall, install_physics

SPACING = 3.0  # metres between agents at spawn


class PerBodyBridge(PhysicsBridge):
    """The bridge with pymunk.batch replaced by one Python call per body (the naive way)."""

    def _drive(self) -> None:
        agents = [self._agents[e] for e in self._ids.tolist()]
        driven = dict(zip(self._dv_rows.tolist(), self._dv_objects))
        for i, agent in enumerate(agents):
            body = agent.body
            vx, vy = body.velocity
            dv = driven.get(i)
            if dv is None:
                tx, ty = vx * self._idle_factor, vy * self._idle_factor
            else:
                tx, ty = dv.vx, dv.vy
                speed = math.hypot(tx, ty)
                if speed > agent.spec.max_speed:
                    tx, ty = tx * agent.spec.max_speed / speed, ty * agent.spec.max_speed / speed
            k = float(self._force_scale[i, 0])
            body.force = ((tx - vx) * k, (ty - vy) * k)

    def _write_back(self) -> None:
        for p, v, e in zip(self._positions, self._velocities, self._ids.tolist()):
            body = self._agents[e].body
            p.x, p.y = body.position
            v.vx, v.vy = body.velocity


def build(n: int, settings: PhysicsSettings, bridge_cls: type[PhysicsBridge]) -> tuple[World, PhysicsBridge]:
    world = World(seed=7)
    if bridge_cls is PhysicsBridge:
        bridge = install_physics(world, settings=settings)
    else:  # same wiring as install_physics, with the variant bridge
        bridge = bridge_cls(world.dt, settings)
        world.insert_resource(bridge)
        world.add_system(bridge.step, stage="physics", name="physics.step")
        world.on_delete(bridge.on_delete)
        world.add_hash_source("physics", bridge.state_bytes)
    side = math.ceil(math.sqrt(n)) * SPACING
    for x0, y0, x1, y1 in [(-1, -1, 0, side + 1), (side, -1, side + 1, side + 1),
                           (-1, -1, side + 1, 0), (-1, side, side + 1, side + 1)]:
        world.create_entity(Wall(x0, y0, x1, y1))
    for k in range(1, 10):  # rows of cover
        x = side * k / 10
        world.create_entity(Wall(x, side * 0.3, x + 0.8, side * 0.45))
        world.create_entity(Wall(x, side * 0.55, x + 0.8, side * 0.7))
    rng = world.rng
    cols = math.ceil(math.sqrt(n))
    for i in range(n):
        x = (i % cols + 0.5) * SPACING + float(rng.uniform(-0.5, 0.5))
        y = (i // cols + 0.5) * SPACING + float(rng.uniform(-0.5, 0.5))
        world.create_entity(Body(radius=0.4), Position(x, y), DesiredVelocity(0.0, 0.0))
    goals = rng.uniform(0, side, size=(n, 2))

    def steer(w: World, ctx: TickContext) -> None:
        for i, (_, (pos, dv)) in enumerate(w.get_components(Position, DesiredVelocity)):
            gx, gy = goals[i]
            dv.vx, dv.vy = (gx - pos.x) * 2.0, (gy - pos.y) * 2.0
        if ctx.tick % 60 == 0:
            goals[:] = ctx.rng.uniform(0, side, size=(n, 2))

    world.add_system(steer, stage="nav")
    return world, bridge


def measure(
    n: int, ticks: int, repeats: int, settings: PhysicsSettings, bridge_cls: type[PhysicsBridge]
) -> tuple[float, float, int]:
    """Best-of-``repeats`` ms per physics step, ms for the physics hash sources, contacts at the end.

    Best-of, not mean: other processes on the machine only ever add time.
    """
    world, bridge = build(n, settings, bridge_cls)
    world.run(10)  # warm-up: bodies created, Velocity added, layout settled
    best = math.inf
    for _ in range(repeats):
        world.timings.clear()
        world.run(ticks)
        best = min(best, world.timings["physics.step"] / ticks * 1e3)
    start = time.perf_counter()
    for _ in range(10):
        bridge.state_bytes()
        bridge.contact_bytes()
    hash_ms = (time.perf_counter() - start) / 10 * 1e3
    contacts = len(bridge.contacts)
    world.close()
    return best, hash_ms, contacts


VARIANTS: dict[str, tuple[PhysicsSettings, type[PhysicsBridge]]] = {
    "default (bbtree, 10 it, batch)": (PhysicsSettings(), PhysicsBridge),
    "spatial hash": (PhysicsSettings(spatial_hash=(1.0, 20_000)), PhysicsBridge),
    "5 iterations": (PhysicsSettings(iterations=5), PhysicsBridge),
    "per-body python transfers": (PhysicsSettings(), PerBodyBridge),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--ticks", type=int, default=60, help="ticks per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for n in args.sizes:
        base = None
        for name, (settings, cls) in VARIANTS.items():
            ms, hash_ms, contacts = measure(n, args.ticks, args.repeats, settings, cls)
            base = base or ms
            print(
                f"{n:>6} agents  {name:<31} {ms:8.3f} ms/step  x{ms / base:5.2f}  "
                f"hash sources {hash_ms:6.3f} ms  ({contacts} contacts)"
            )


if __name__ == "__main__":
    main()
