"""A crowded physics world for the determinism tests, importable and runnable as a script.

    python tests/physics/physics_scenario.py SEED TICKS   # prints one state-hash root per tick

Bodies of mixed size, mass and speed crowd towards the centre of a walled arena (so they
collide constantly), a fifth of them coast without a DesiredVelocity, steering wobbles from
the system's seeded stream, at tick 60 every 7th body and one cover wall are deleted, and
at tick 100 new bodies spawn: every structural path of the bridge runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: make the repo importable without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine import DesiredVelocity, Position, TickContext, Velocity, World  # noqa: E402
from physics import Body, Wall, install_physics  # noqa: E402

SIDE = 30.0
CULL_TICK = 60
SPAWN_TICK = 100


def build(seed: int, bodies: int = 150) -> World:
    world = World(seed=seed)
    install_physics(world)
    for box in [(-1, -1, 0, SIDE + 1), (SIDE, -1, SIDE + 1, SIDE + 1), (-1, -1, SIDE + 1, 0),
                (-1, SIDE, SIDE + 1, SIDE + 1), (12, 12, 14, 18), (17, 9, 19, 13)]:
        world.create_entity(Wall(*box))
    for i in range(bodies):
        spawn(world, coasting=i % 5 == 0)
    world.add_system(steer, stage="nav")
    world.add_system(churn, stage="update")
    return world


def spawn(world: World, *, coasting: bool = False) -> int:
    rng = world.rng
    body = Body(float(rng.uniform(0.3, 0.6)), float(rng.uniform(0.5, 2.0)), float(rng.uniform(3, 6)))
    position = Position(float(rng.uniform(1, SIDE - 1)), float(rng.uniform(1, SIDE - 1)))
    if coasting:
        return world.create_entity(body, position, Velocity(*map(float, rng.normal(0, 3, 2))))
    return world.create_entity(body, position, DesiredVelocity(0.0, 0.0))


def steer(world: World, ctx: TickContext) -> None:
    """Towards the centre, with a seeded wobble: crowding guarantees contacts."""
    for _, (position, desired) in world.get_components(Position, DesiredVelocity):
        wobble_x, wobble_y = ctx.rng.normal(0.0, 1.5, 2)
        desired.vx = (SIDE / 2 - position.x) + float(wobble_x)
        desired.vy = (SIDE / 2 - position.y) + float(wobble_y)


def churn(world: World, ctx: TickContext) -> None:
    """Remove bodies and a wall mid-run, later spawn more (structural changes mid-tick)."""
    if ctx.tick == CULL_TICK:
        for entity, _ in world.get_component(Body)[::7]:
            world.delete_entity(entity)
        world.delete_entity(world.get_component(Wall)[-1][0])
    if ctx.tick == SPAWN_TICK:
        for i in range(10):
            spawn(world, coasting=i % 2 == 0)


def hashes(seed: int, ticks: int) -> list[str]:
    world = build(seed)
    roots = []
    for _ in range(ticks):
        world.step()
        roots.append(world.state_hash().root)
    world.close()
    return roots


if __name__ == "__main__":
    print("\n".join(hashes(int(sys.argv[1]), int(sys.argv[2]))))
