"""The bridge's contract with the world: structure in id order, write-back, contacts, errors."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from engine import ComponentError, DesiredVelocity, Position, TickContext, Velocity, World
from physics import (
    Body,
    Contacts,
    PhysicsBridge,
    PhysicsError,
    PhysicsSettings,
    ShapeError,
    Wall,
    install_physics,
)


def space_order(bridge: PhysicsBridge) -> list[int]:
    """Entities in the order their pymunk bodies were inserted into the space."""
    owner = {bridge.body(e): e for e in bridge.entities()}
    return [owner[b] for b in bridge.space.bodies if b in owner]


def test_bodies_enter_the_space_in_ascending_entity_id(world: World) -> None:
    bridge = install_physics(world)
    late = world.create_entity()  # id 1: gets its Body after entity 2 has one
    early = world.create_entity(Body(0.5), Position(5.0, 0.0))
    world.add_component(late, Position(0.0, 0.0))
    world.add_component(late, Body(0.5))
    world.step()
    assert (late, early) == (1, 2)
    assert space_order(bridge) == [1, 2]
    assert bridge.entities() == [1, 2]


def test_walls_and_bodies_are_created_together_in_id_order(world: World) -> None:
    bridge = install_physics(world)
    a = world.create_entity(Body(0.5), Position(0.0, 0.0))
    w = world.create_entity(Wall(2.0, -1.0, 3.0, 1.0))
    b = world.create_entity(Body(0.5), Position(-3.0, 0.0))
    world.step()
    static = [s.body for s in bridge.space.shapes if s.body.body_type == s.body.STATIC]
    assert len(static) == 1
    inserted = list(bridge.space.bodies)
    assert inserted == [bridge.body(a), static[0], bridge.body(b)], (a, w, b)


def test_delete_entity_removes_body_and_shape(world: World) -> None:
    bridge = install_physics(world)
    ids = [world.create_entity(Body(0.5), Position(2.0 * i, 0.0)) for i in range(4)]
    wall = world.create_entity(Wall(-5.0, -5.0, -4.0, 5.0))
    world.step()
    assert len(bridge.space.bodies) == 5 and len(bridge.space.shapes) == 5
    world.delete_entity(ids[1])
    world.delete_entity(wall)
    assert bridge.entities() == [ids[0], ids[2], ids[3]]
    assert len(bridge.space.bodies) == 3 and len(bridge.space.shapes) == 3
    with pytest.raises(PhysicsError, match=f"entity {ids[1]} has no body"):
        bridge.body(ids[1])
    world.step()  # and the remaining bodies keep their mapping after Chipmunk's reshuffle
    for e in bridge.entities():
        assert world.component_for_entity(e, Position).x == bridge.body(e).position.x


def test_delete_during_a_tick_frees_the_body_at_the_stage_end(world: World) -> None:
    bridge = install_physics(world)
    doomed = world.create_entity(Body(0.5), Position(0.0, 0.0))
    keeper = world.create_entity(Body(0.5), Position(3.0, 0.0), DesiredVelocity(1.0, 0.0))

    def reap(w: World, ctx: TickContext) -> None:
        if ctx.tick == 2:
            w.delete_entity(doomed)

    world.add_system(reap, stage="update")
    world.run(3)
    assert bridge.entities() == [keeper]
    hash_after = world.state_hash().root
    world.run(2)
    assert world.state_hash().root != hash_after  # keeper still moves: the bridge is intact


def test_position_and_velocity_are_written_back(world: World) -> None:
    install_physics(world)
    e = world.create_entity(Body(0.5), Position(1.0, 2.0), DesiredVelocity(3.0, -1.5))
    world.run(31)
    position = world.component_for_entity(e, Position)
    velocity = world.component_for_entity(e, Velocity)  # added by physics
    assert velocity.vx == pytest.approx(3.0) and velocity.vy == pytest.approx(-1.5)
    # the target applies to velocity at once and to position one step later
    assert position.x == pytest.approx(1.0 + 3.0 * 30 / 60)
    assert position.y == pytest.approx(2.0 - 1.5 * 30 / 60)


def test_desired_velocity_is_clamped_to_max_speed(world: World) -> None:
    install_physics(world)
    e = world.create_entity(Body(0.5, max_speed=4.0), Position(0.0, 0.0), DesiredVelocity(30.0, 40.0))
    world.run(5)
    v = world.component_for_entity(e, Velocity)
    assert math.hypot(v.vx, v.vy) == pytest.approx(4.0)
    assert v.vy / v.vx == pytest.approx(40.0 / 30.0)  # direction kept


def test_bodies_without_desired_velocity_coast_and_decay(world: World) -> None:
    install_physics(world, settings=PhysicsSettings(idle_damping=0.1))
    e = world.create_entity(Body(0.5), Position(0.0, 0.0), Velocity(2.0, 0.0))
    world.run(60)  # one second
    assert world.component_for_entity(e, Velocity).vx == pytest.approx(0.2, rel=1e-6)
    assert world.component_for_entity(e, Position).x > 0.5


def test_agents_never_rotate(world: World) -> None:
    bridge = install_physics(world)
    a = world.create_entity(Body(0.5), Position(0.0, 0.0), DesiredVelocity(5.0, 0.0))
    world.create_entity(Body(0.5), Position(1.2, 0.45))  # an off-centre hit
    world.run(30)
    assert bridge.body(a).angle == 0.0 and bridge.body(a).angular_velocity == 0.0


def test_replacing_position_or_body_updates_the_pymunk_body(world: World) -> None:
    bridge = install_physics(world)
    e = world.create_entity(Body(0.5), Position(0.0, 0.0))
    world.step()
    world.add_component(e, Position(7.0, 8.0))
    world.add_component(e, replace(world.component_for_entity(e, Body), radius=1.25))
    world.step()
    assert tuple(bridge.body(e).position) == (7.0, 8.0)
    assert [s.radius for s in bridge.body(e).shapes] == [1.25]
    bridge.teleport(e, -1.0, -2.0)
    position = world.component_for_entity(e, Position)
    assert (position.x, position.y) == (-1.0, -2.0) == tuple(bridge.body(e).position)


def test_a_replaced_or_removed_velocity_is_seen_with_no_other_change_that_tick(world: World) -> None:
    """Replacing a Velocity, with nothing else structural happening, sets the body moving;
    removing one gets it restored (the body's own)."""
    bridge = install_physics(world)
    kicked = world.create_entity(Body(0.5), Position(0.0, 0.0))
    other = world.create_entity(Body(0.5), Position(10.0, 0.0))
    world.step()
    world.add_component(kicked, Velocity(3.0, 0.0))
    world.remove_component(other, Velocity)
    world.step()
    assert world.component_for_entity(kicked, Position).x > 0.0
    assert bridge.body(kicked).velocity.x > 0.0
    assert world.has_component(other, Velocity)


def test_contacts_are_sorted_pairs_with_a_below_b(world: World) -> None:
    bridge = install_physics(world)
    wall = world.create_entity(Wall(10.0, -20.0, 11.0, 20.0))
    for row in range(5):  # a column of bodies pushed into the wall and into each other
        for col in range(4):
            world.create_entity(Body(0.5), Position(9.0 - 1.05 * col, 1.05 * row - 2.0),
                                DesiredVelocity(5.0, 0.0))
    world.run(20)
    contacts = world.resource(Contacts)
    assert contacts is bridge.contacts and len(contacts) > 10
    keys = [(c.a, c.b) for c in contacts]
    assert all(a < b for a, b in keys)
    assert keys == sorted(set(keys)), "sorted by (a, b), one row per pair"
    assert wall in {c.a for c in contacts}  # wall id 1 is below every body id
    for c in contacts:
        assert c.depth >= 0.0
        if c.a == wall:  # bodies sit left of the wall: the normal points from it to them
            assert (c.nx, c.ny) == pytest.approx((-1.0, 0.0), abs=1e-9)
            continue
        pa, pb = (world.component_for_entity(x, Position) for x in (c.a, c.b))
        assert c.nx * (pb.x - pa.x) + c.ny * (pb.y - pa.y) > 0, "normal points from a to b"


def test_contact_is_new_only_on_its_first_tick(world: World) -> None:
    install_physics(world)
    a = world.create_entity(Body(0.5), Position(0.0, 0.0), DesiredVelocity(3.0, 0.0))
    b = world.create_entity(Body(0.5), Position(1.2, 0.0), DesiredVelocity(-3.0, 0.0))
    flags = []
    for _ in range(10):
        world.step()
        flags.append([c.new for c in world.resource(Contacts).involving(a)])
    touching = [f for f in flags if f]
    assert touching and touching[0] == [True] and all(f == [False] for f in touching[1:])
    assert world.resource(Contacts)[0].other(a) == b


def test_hash_covers_pymunk_state_not_just_components() -> None:
    roots = []
    for nudge in (False, True):
        w = World(seed=5)
        bridge = install_physics(w)
        e = w.create_entity(Body(0.5), Position(0.0, 0.0), Velocity(1.0, 0.0))
        w.step()
        if nudge:  # behind the world's back: only the physics hash source can see it
            bridge.body(e).angular_velocity = 1e-12
        roots.append(w.state_hash().root)
        w.close()
    assert roots[0] != roots[1]


def test_install_twice_is_refused(world: World) -> None:
    install_physics(world)
    with pytest.raises(PhysicsError, match="already installed"):
        install_physics(world)


def test_body_without_position_is_named(world: World) -> None:
    install_physics(world)
    e = world.create_entity(Body(0.5))
    with pytest.raises(PhysicsError, match=f"entity {e} has a physics.Body but no engine.Position"):
        world.step()


def test_non_finite_desired_velocity_is_refused(world: World) -> None:
    install_physics(world)
    world.create_entity(Body(0.5), Position(0.0, 0.0), DesiredVelocity(1.0, 0.0))
    e = world.create_entity(Body(0.5), Position(5.0, 0.0), DesiredVelocity(math.nan, 0.0))
    with pytest.raises(PhysicsError, match=f"entity {e} has DesiredVelocity"):
        world.step()


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Body(0.0), "radius"),
        (lambda: Body(0.5, mass=-1.0), "mass"),
        (lambda: Body(0.5, max_speed=math.inf), "max_speed"),
        (lambda: Wall(1.0, 0.0, 0.0, 1.0), "x0 < x1"),
        (lambda: PhysicsSettings(iterations=0), "iterations"),
        (lambda: PhysicsSettings(idle_damping=1.5), "idle_damping"),
    ],
)
def test_bad_values_raise_shape_errors_naming_the_field(make, field: str) -> None:
    with pytest.raises(ShapeError, match=field) as info:
        make()
    assert isinstance(info.value, ComponentError) and isinstance(info.value, PhysicsError)


def test_auto_substeps_follow_the_fastest_and_smallest_body(world: World) -> None:
    bridge = install_physics(world)
    world.create_entity(Body(0.5, max_speed=5.0), Position(0.0, 0.0))
    world.step()
    assert bridge.substeps == 1  # 5/60 m per step < 0.25 m
    world.create_entity(Body(0.1, max_speed=20.0), Position(5.0, 0.0))
    world.step()
    assert bridge.substeps == math.ceil(20.0 / 60 / (0.5 * 0.1)) == 7
    world.create_entity(Body(0.01, max_speed=20.0), Position(9.0, 0.0))
    world.step()
    assert bridge.substeps == PhysicsSettings().max_substeps  # capped


@pytest.mark.parametrize("substeps", [1, 4])
def test_contacts_report_one_row_per_pair_with_the_ticks_whole_impulse(substeps: int) -> None:
    world = World(seed=2)
    install_physics(world, settings=PhysicsSettings(substeps=substeps))
    wall = world.create_entity(Wall(1.0, -5.0, 2.0, 5.0))
    body = world.create_entity(Body(0.5, mass=2.0), Position(0.0, 0.0), DesiredVelocity(4.0, 0.0))
    world.run(40)  # resting against the wall, pushed at 4 m/s every tick
    contacts = world.resource(Contacts)
    assert [(c.a, c.b) for c in contacts] == [(wall, body)]
    # stopping 2 kg at 4 m/s takes 8 N*s per tick, however the tick is split into substeps
    assert contacts[0].impulse == pytest.approx(8.0, rel=1e-6)
    assert 0.0 <= contacts[0].depth <= 0.05
    world.close()
