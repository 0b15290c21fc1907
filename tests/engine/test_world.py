import esper
import numpy as np
import pytest

from engine import ComponentError, Position, TickmindError, Velocity, World, component


@component
class Tag:
    label: str


def test_queries_come_back_in_entity_id_order_even_when_esper_sets_do_not(world: World) -> None:
    ids = [world.create_entity() for _ in range(40)]
    for e in reversed(ids[::3]):
        world.add_component(e, Tag(str(e)))
    world._use()
    raw = [e for e, _ in esper.get_component(Tag)]
    assert raw != sorted(raw), "the scenario must exercise esper's unsorted set order"
    assert [e for e, _ in world.get_component(Tag)] == sorted(ids[::3])


def test_multi_component_query_is_sorted_and_filtered(world: World) -> None:
    for i in range(30):
        e = world.create_entity(Position(float(i), 0.0))
        if i % 2:
            world.add_component(e, Velocity(1.0, float(i)))
    result = world.get_components(Position, Velocity)
    assert [e for e, _ in result] == [i + 1 for i in range(30) if i % 2]
    assert all(v.vy == p.x for _, (p, v) in result)


def test_two_worlds_in_one_process_do_not_share_entities() -> None:
    a, b = World(seed=1), World(seed=1)
    try:
        ea = a.create_entity(Position(1.0, 2.0))
        eb = b.create_entity(Position(5.0, 6.0), Velocity(0.0, 0.0))
        assert ea == eb == 1
        assert a.get_component(Position)[0][1] == Position(1.0, 2.0)
        assert b.get_component(Position)[0][1] == Position(5.0, 6.0)
        assert a.get_component(Velocity) == ()
        a.delete_entity(ea)
        assert a.entities() == [] and b.entities() == [1]
    finally:
        a.close()
        b.close()


def test_query_cache_sees_added_and_removed_components(world: World) -> None:
    e = world.create_entity(Position(0.0, 0.0))
    assert world.get_components(Position, Velocity) == ()
    world.add_component(e, Velocity(1.0, 1.0))
    assert [x for x, _ in world.get_components(Position, Velocity)] == [e]
    world.remove_component(e, Velocity)
    assert world.get_components(Position, Velocity) == ()
    with pytest.raises(ComponentError, match="has no Velocity"):
        world.remove_component(e, Velocity)


def test_deletion_inside_a_tick_waits_for_the_end_of_the_stage(world: World) -> None:
    ids = [world.create_entity(Position(float(i), 0.0)) for i in range(5)]
    seen: list[list[int]] = []
    removed: list[int] = []
    world.on_delete(lambda w, e: removed.append(e))

    def reaper(w: World, ctx: object) -> None:
        for e, _ in w.get_component(Position):
            if e % 2:
                w.delete_entity(e)
        seen.append([e for e, _ in w.get_component(Position)])

    def after(w: World, ctx: object) -> None:
        seen.append([e for e, _ in w.get_component(Position)])

    world.add_system(reaper, stage="nav")
    world.add_system(after, stage="physics")
    world.step()
    assert seen[0] == ids, "still iterable within the stage that deleted them"
    assert seen[1] == [2, 4]
    assert removed == [1, 3, 5], "deletion hooks run in ascending id"
    assert not world.entity_exists(1)


def test_delete_outside_a_tick_is_immediate_and_unknown_entities_are_refused(world: World) -> None:
    e = world.create_entity(Position(0.0, 0.0))
    world.delete_entity(e)
    assert world.entities() == []
    with pytest.raises(ComponentError, match="does not exist"):
        world.delete_entity(e)



@component
class Parent:
    child: int


@pytest.mark.parametrize("in_tick", [True, False], ids=["in a tick", "outside a tick"])
def test_a_deletion_hook_may_delete_more_entities(world: World, in_tick: bool) -> None:
    """A parent's hook deletes its child: in a tick the child must not be dropped from the
    flush, outside one the parent must not be deleted twice (esper's bare KeyError)."""
    keep = world.create_entity(Position(9.0, 0.0))
    child = world.create_entity(Position(1.0, 0.0))
    parent = world.create_entity(Parent(child))
    removed: list[int] = []

    def cascade(w: World, entity: int) -> None:
        removed.append(entity)
        held = w.try_component(entity, Parent)
        if held is not None:
            w.delete_entity(held.child)

    world.on_delete(cascade)
    if in_tick:
        world.add_system(lambda w, ctx: w.delete_entity(parent) if ctx.tick == 0 else None, stage="update")
        world.step()
    else:
        world.delete_entity(parent)
    assert world.entities() == [keep]
    assert removed == [parent, child]
    assert [e for e, _ in world.get_component(Position)] == [keep]


def test_adding_to_a_missing_entity_is_refused_and_leaves_the_world_intact(world: World) -> None:
    gone = world.create_entity(Position(0.0, 0.0))
    world.delete_entity(gone)
    with pytest.raises(ComponentError, match=f"entity {gone} does not exist"):
        world.add_component(gone, Velocity(1.0, 0.0))
    other = world.create_entity(Velocity(2.0, 0.0))
    assert [e for e, _ in world.get_component(Velocity)] == [other]
    assert world.state_hash().root

def test_resources_are_per_world(world: World) -> None:
    class Grid:
        pass

    g = Grid()
    world.insert_resource(g)
    assert world.resource(Grid) is g
    other = World()
    try:
        assert other.try_resource(Grid) is None
        with pytest.raises(TickmindError, match="insert_resource"):
            other.resource(Grid)
    finally:
        other.close()


@pytest.mark.parametrize("seed", [-1, 1.5, True, np.int64(-2)])
def test_bad_seed_is_refused(seed: object) -> None:
    with pytest.raises(TickmindError, match="seed"):
        World(seed=seed)  # type: ignore[arg-type]


def test_a_numpy_integer_seed_is_the_same_seed() -> None:
    """RL tooling passes numpy ints (gymnasium's seeding): same world as the plain int."""
    a, b = World(seed=np.int64(7)), World(seed=7)  # type: ignore[arg-type]
    try:
        assert type(a.seed) is int and a.rng.random() == b.rng.random()
    finally:
        a.close()
        b.close()


def test_a_structural_change_only_invalidates_queries_of_its_component_types(world: World) -> None:
    a = world.create_entity(Position(0.0, 0.0), Tag("a"))
    positions = world.get_component(Position)
    tags = world.get_components(Position, Tag)
    world.add_component(a, Velocity(1.0, 1.0))
    assert world.get_component(Position) is positions, "Position queries were untouched"
    assert world.get_components(Position, Tag) is tags
    assert [e for e, _ in world.get_components(Position, Velocity)] == [a]
    b = world.create_entity(Tag("b"))
    assert world.get_component(Position) is positions
    assert [e for e, _ in world.get_components(Position, Tag)] == [a]
    assert [e for e, _ in world.get_component(Tag)] == [a, b]
    world.delete_entity(a)
    assert world.get_component(Position) == () and [e for e, _ in world.get_component(Tag)] == [b]


def test_query_results_are_shared_and_cannot_be_reordered(world: World) -> None:
    """A system sorting a query result in place reordered it for every later system (and
    the hash) until the next structural change; the shared result is immutable."""
    for x in (3.0, 1.0, 2.0):
        world.create_entity(Position(x, 0.0))
    rows = world.get_component(Position)
    assert rows is world.get_component(Position), "cached until a structural change"
    with pytest.raises(AttributeError):
        rows.sort(key=lambda row: row[1].x)  # type: ignore[attr-defined]
    assert [e for e, _ in sorted(rows, key=lambda row: row[1].x)] == [2, 3, 1]
    assert [e for e, _ in world.get_component(Position)] == [1, 2, 3]
