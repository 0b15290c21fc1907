"""Property: a body driven at full speed into a wall stops in front of it, never in or past it."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import DesiredVelocity, Position, World
from physics import Body, PhysicsBridge, PhysicsSettings, Wall, install_physics

DT = 1 / 60
# Within these limits auto substeps stay under the cap (speed * dt <= 8 * 0.5 * radius).
RADIUS = st.floats(0.2, 1.5)
SPEED = st.floats(0.5, 40.0)


@settings(max_examples=60, deadline=None)
@given(
    radius=RADIUS,
    max_speed=SPEED,
    overdrive=st.floats(1.0, 5.0),
    thickness=st.floats(0.05, 2.0),
    gap=st.floats(0.0, 6.0),
    angle=st.floats(-1.2, 1.2),
    seed=st.integers(0, 2**16),
)
def test_full_speed_into_a_wall_never_tunnels(
    radius: float, max_speed: float, overdrive: float, thickness: float, gap: float,
    angle: float, seed: int,
) -> None:
    world = World(seed=seed)
    bridge = install_physics(world)
    world.create_entity(Wall(0.0, -1e4, thickness, 1e4))  # tall: no way round it
    start = -radius - gap - 0.01
    ask = max_speed * overdrive  # nav may ask for more than max_speed; physics clamps
    body = world.create_entity(
        Body(radius, max_speed=max_speed), Position(start, 0.0),
        DesiredVelocity(ask * math.cos(angle), ask * math.sin(angle)),
    )
    reach = (gap + 0.01) / (max_speed * math.cos(angle)) / DT
    allowed = max_speed * DT / bridge_substeps(bridge, world)  # one substep of travel
    deepest = 0.0
    for _ in range(int(reach) + 30):
        world.step()
        x = world.component_for_entity(body, Position).x
        assert x < 0.0, f"centre at x={x}: inside or beyond the wall"
        deepest = max(deepest, x + radius)
    assert deepest > -1e-9, "the body must have reached the wall"
    slop = PhysicsSettings().collision_slop
    assert deepest <= allowed + slop + 1e-9, "overlap beyond one substep of travel"
    world.close()


def bridge_substeps(bridge: PhysicsBridge, world: World) -> int:
    world.step()  # the body enters the space at the first physics tick
    return bridge.substeps
