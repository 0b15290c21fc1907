"""Perception: exact agreement with a brute-force reference, symmetry, ordering, staggering,
deletion, and identical hashes across runs."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ai.perception import PerceiveNow, perceive_now
from ai.perception._components import Faction, Perceivable, Perception, Senses
from ai.perception._system import install_perception
from engine import ComponentError, Position, TickContext, TickmindError, Velocity, World

LOS = Callable[[np.ndarray, np.ndarray], np.ndarray]


# --- the reference: the documented rules, one pair at a time ---------------------------------


def reference(world: World, los: LOS | None = None) -> dict[int, tuple[tuple[int, ...], ...]]:
    """(visible, enemies, allies, objects) per perceiver, from the rules in the docstrings.

    Line of sight is asked per pair with the documented orientation: between agents from
    the lower id; to an object from the viewer, ending ``radius`` short of the object.
    """
    agents = [(e, p, f.team) for e, (p, f) in world.get_components(Position, Faction)]
    objects = [(e, p, o.radius) for e, (p, o) in world.get_components(Position, Perceivable)]
    out = {}
    for e, (p, f, s) in world.get_components(Position, Faction, Senses):
        vel = world.try_component(e, Velocity)
        hx, hy = (vel.vx, vel.vy) if vel is not None and s.fov_deg < 360.0 else (0.0, 0.0)
        cos_half = math.cos(math.radians(s.fov_deg) / 2.0)

        def in_view(q: Position) -> float | None:
            dx, dy = q.x - p.x, q.y - p.y  # noqa: B023
            d2 = dx * dx + dy * dy
            if d2 > s.range * s.range:  # noqa: B023
                return None
            if hx * hx + hy * hy > 0.0:  # noqa: B023
                norm = math.sqrt(hx * hx + hy * hy)  # noqa: B023
                if not dx * hx + dy * hy >= math.sqrt(d2) * norm * cos_half:  # noqa: B023
                    return None
            return d2

        def clear(a: tuple[float, float], b: tuple[float, float]) -> bool:
            return los is None or bool(los(np.array([a]), np.array([b]))[0])

        enemies: list[tuple[float, int]] = []
        allies: list[tuple[float, int]] = []
        things: list[tuple[float, int]] = []
        for t, q, team in agents:
            d2 = in_view(q)
            if t != e and d2 is not None:
                a, b = ((p.x, p.y), (q.x, q.y)) if e < t else ((q.x, q.y), (p.x, p.y))
                if clear(a, b):
                    (allies if team == f.team else enemies).append((d2, t))
        for t, q, radius in objects:
            d2 = in_view(q)
            if t != e and d2 is not None:
                dx, dy = q.x - p.x, q.y - p.y
                dist = math.sqrt(dx * dx + dy * dy)
                frac = 1.0 if dist == 0.0 else min(1.0, radius / dist)
                end = (q.x + (p.x - q.x) * frac, q.y + (p.y - q.y) * frac)
                if clear((p.x, p.y), end if radius > 0.0 else (q.x, q.y)):
                    things.append((d2, t))
        visible = tuple(sorted(t for _, t in enemies + allies))
        out[e] = (visible, *(tuple(t for _, t in sorted(x)) for x in (enemies, allies, things)))
    return out


def perceived(world: World) -> dict[int, tuple[tuple[int, ...], ...]]:
    return {e: (p.visible, p.enemies, p.allies, p.objects) for e, p in world.get_component(Perception)}


# --- random worlds and line-of-sight callables --------------------------------------------


def random_world(seed: int, *, n_agents: int = 40, n_objects: int = 12, size: float = 40.0) -> World:
    """Agents of 3 teams with varied ranges and view cones; coordinates on a 0.5 m lattice
    half the time, so exact distance ties happen."""
    rng = np.random.default_rng(seed)
    world = World(seed=seed)

    def coord() -> float:
        v = float(rng.uniform(0.0, size))
        return round(v * 2) / 2 if rng.random() < 0.5 else v

    kinds = rng.integers(0, 6, n_agents + n_objects)
    for i in range(n_agents + n_objects):
        parts: list[object] = [Position(coord(), coord())]
        if i < n_agents:
            parts.append(Faction(int(rng.integers(0, 3))))
            if kinds[i] != 0:  # a few agents are seen but do not see
                fov = float(rng.choice([360.0, 360.0, 90.0, 200.0, 359.0]))
                parts.append(Senses(float(rng.uniform(0.0, 30.0)), fov))
            if kinds[i] == 1:  # standing still: sees all round whatever its cone
                parts.append(Velocity(0.0, 0.0))
            elif kinds[i] >= 3:
                parts.append(Velocity(float(rng.normal()), float(rng.normal())))
        else:
            parts.append(Perceivable("cover", float(rng.choice([0.0, rng.uniform(0.0, 3.0)]))))
        world.create_entity(*parts)
    return world


def walls_los(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Blocked by two horizontal walls: y = 12 for 5 < x < 25 and y = 28 for 15 < x < 38."""
    clear = np.ones(len(starts), dtype=bool)
    for wy, x0, x1 in ((12.0, 5.0, 25.0), (28.0, 15.0, 38.0)):
        (sx, sy), (ex, ey) = starts.T, ends.T
        crosses = (sy - wy) * (ey - wy) < 0.0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            x = sx + (wy - sy) * (ex - sx) / (ey - sy)
        clear &= ~(crosses & (x > x0) & (x < x1))
    return clear


def lopsided_los(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Deliberately asymmetric: swapping start and end changes the answer."""
    return np.asarray((np.floor(starts[:, 0]) + 2 * np.floor(ends[:, 1])) % 3 != 0)


def mover(world: World, ctx: TickContext) -> None:
    """Moves every agent a little (random walk from the system's own stream)."""
    for _, (pos, _) in world.get_components(Position, Faction):
        dx, dy = ctx.rng.normal(0.0, 0.5, size=2)
        pos.x = float(min(max(pos.x + dx, 0.0), 40.0))
        pos.y = float(min(max(pos.y + dy, 0.0), 40.0))


# --- correctness --------------------------------------------------------------------------


@pytest.mark.parametrize("los", [None, walls_los, lopsided_los])
@pytest.mark.parametrize("seed", range(12))
def test_matches_brute_force_reference(seed: int, los: LOS | None) -> None:
    world = random_world(seed)
    install_perception(world, line_of_sight=los)
    world.add_system(mover, stage="update")
    world.run(3)
    world.schedule.remove("mover")  # compare on a tick whose positions stay put afterwards
    world.step()
    expected = reference(world, los)
    assert perceived(world) == expected
    assert any(v[0] for v in expected.values())  # the worlds are not trivially empty
    if los is not None:
        assert reference(world, los) != reference(world, None)  # the walls actually block
    world.close()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("sort", ["lexsort", "composite key"])
def test_both_sort_strategies_agree_with_the_reference(
    seed: int, sort: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ai.perception._system as system

    monkeypatch.setattr(system, "_LEXSORT_UP_TO", 10**9 if sort == "lexsort" else 0)
    world = random_world(100 + seed, n_agents=80, n_objects=20)
    install_perception(world, line_of_sight=walls_los)
    world.step()
    assert perceived(world) == reference(world, walls_los)
    world.close()


def test_large_world_with_equal_ranges_matches_reference() -> None:
    rng = np.random.default_rng(7)
    world = World()
    for i in range(400):
        x, y = rng.uniform(0.0, 200.0, 2)
        world.create_entity(Position(float(x), float(y)), Faction(i % 4), Senses(15.0))
    install_perception(world)
    world.step()
    assert perceived(world) == reference(world)
    world.close()


def test_range_is_inclusive_and_exact_around_the_long_range_split(world: World) -> None:
    # Ten viewers of range 10 and one of range 20: the kernel pairs up to 10 m and gives the
    # long-range viewer its own query beyond; a target just past 10 m must appear once.
    just_past = float(np.nextafter(10.0, 11.0))
    sniper = world.create_entity(Position(0.0, 0.0), Faction(1), Senses(20.0))
    at_range = world.create_entity(Position(10.0, 0.0), Faction(2), Senses(10.0))
    past = world.create_entity(Position(0.0, just_past), Faction(2), Senses(10.0))
    for i in range(8):
        world.create_entity(Position(100.0 + 30.0 * i, 100.0), Faction(2), Senses(10.0))
    install_perception(world)
    world.step()
    assert world.component_for_entity(sniper, Perception).enemies == (at_range, past)
    assert world.component_for_entity(at_range, Perception).enemies == (sniper,)
    assert world.component_for_entity(past, Perception).enemies == ()
    assert perceived(world) == reference(world)


def test_entity_both_agent_and_object_is_listed_in_both_and_never_sees_itself(world: World) -> None:
    turret = world.create_entity(Position(0.0, 0.0), Faction(1), Senses(10.0), Perceivable("turret"))
    soldier = world.create_entity(Position(3.0, 0.0), Faction(2), Senses(10.0))
    install_perception(world)
    world.step()
    t, s = world.component_for_entity(turret, Perception), world.component_for_entity(soldier, Perception)
    assert (t.visible, t.objects) == ((soldier,), ())
    assert (s.enemies, s.objects) == ((turret,), (turret,))
    assert s.sees(turret) and t.sees(soldier) and not t.sees(turret)


def test_view_cone_follows_velocity_and_standing_still_sees_all_round(world: World) -> None:
    guard = world.create_entity(Position(0.0, 0.0), Faction(1), Senses(10.0, fov_deg=90.0), Velocity(1.0, 0.0))
    ahead = world.create_entity(Position(5.0, 4.0), Faction(2))  # 38.7 deg off the heading
    wide = world.create_entity(Position(5.0, 6.0), Faction(2))  # 50.2 deg: outside 45
    behind = world.create_entity(Position(-5.0, 0.0), Faction(2))
    install_perception(world)
    world.step()
    assert world.component_for_entity(guard, Perception).enemies == (ahead,)
    world.component_for_entity(guard, Velocity).vx = 0.0
    world.step()
    assert world.component_for_entity(guard, Perception).visible == (ahead, wide, behind)


# --- symmetry -----------------------------------------------------------------------------

coords = st.floats(0.0, 30.0, allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(coords, coords, st.integers(0, 2)), min_size=2, max_size=25),
    st.floats(0.0, 20.0),
    st.sampled_from([None, walls_los, lopsided_los]),
)
def test_equal_ranges_see_each_other_symmetrically(
    agents: list[tuple[float, float, int]], sense_range: float, los: LOS | None
) -> None:
    world = World()
    for x, y, team in agents:
        world.create_entity(Position(x, y), Faction(team), Senses(sense_range))
    install_perception(world, line_of_sight=los)
    world.step()
    seen = {e: p for e, p in world.get_component(Perception)}
    pairs = {(a, b) for a, p in seen.items() for b in p.visible}
    assert pairs == {(b, a) for a, b in pairs}
    for a, p in seen.items():  # enemies/allies split by team, consistently from both sides
        team = world.component_for_entity(a, Faction).team
        assert all(world.component_for_entity(b, Faction).team != team for b in p.enemies)
        assert sorted(p.enemies + p.allies) == list(p.visible)
    world.close()


# --- ordering -----------------------------------------------------------------------------


def test_ties_in_distance_break_by_ascending_id(world: World) -> None:
    # Created out of order so that id order differs from placement order.
    spots = [(0.0, 5.0), (3.0, 4.0), (-5.0, 0.0), (4.0, -3.0), (0.0, 2.0), (1.0, 1.0)]
    ids = [world.create_entity(Position(x, y), Faction(2 if i % 2 else 3)) for i, (x, y) in enumerate(spots)]
    crate_far = world.create_entity(Position(-3.0, -4.0), Perceivable("crate"))
    crate_near = world.create_entity(Position(0.0, -1.0), Perceivable("crate"))
    crate_tie = world.create_entity(Position(5.0, 0.0), Perceivable("crate"))
    me = world.create_entity(Position(0.0, 0.0), Faction(2), Senses(6.0))
    install_perception(world)
    world.step()
    p = world.component_for_entity(me, Perception)
    # team 2 (allies): ids[1] (3,4), ids[3] (4,-3), ids[5] (1,1); team 3: ids[0], ids[2], ids[4]
    assert p.allies == (ids[5], ids[1], ids[3])  # d2 = 2, then 25 and 25 by id
    assert p.enemies == (ids[4], ids[0], ids[2])  # d2 = 4, then 25 and 25 by id
    assert p.objects == (crate_near, crate_far, crate_tie)
    assert p.visible == tuple(sorted(ids))
    assert (p.nearest_enemy, p.nearest_ally) == (ids[4], ids[5])


def test_nearest_is_zero_when_nothing_is_seen(world: World) -> None:
    loner = world.create_entity(Position(0.0, 0.0), Faction(1), Senses(1.0))
    world.create_entity(Position(50.0, 0.0), Faction(2))
    install_perception(world)
    world.step()
    p = world.component_for_entity(loner, Perception)
    assert (p.visible, p.nearest_enemy, p.nearest_ally) == ((), 0, 0)
    assert not p.sees(2)


def test_line_of_sight_is_called_once_per_tick_with_each_pair_once(world: World) -> None:
    calls: list[tuple[np.ndarray, np.ndarray]] = []

    def spy(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        calls.append((starts.copy(), ends.copy()))
        return np.ones(len(starts), dtype=bool)

    a = world.create_entity(Position(2.0, 0.0), Faction(1), Senses(10.0))
    b = world.create_entity(Position(0.0, 0.0), Faction(2), Senses(10.0))
    world.create_entity(Position(1.0, 5.0), Faction(2))  # seen, does not see
    crate = world.create_entity(Position(0.0, 3.0), Perceivable("crate"))
    world.create_entity(Position(60.0, 0.0), Faction(2), Senses(100.0))  # far viewer
    install_perception(world, line_of_sight=spy)
    world.step()
    assert len(calls) == 1
    starts, ends = calls[0]
    rows = sorted((tuple(s), tuple(e)) for s, e in zip(starts.tolist(), ends.tolist(), strict=True))
    assert rows == sorted([
        ((2.0, 0.0), (0.0, 0.0)),  # a-b once, from the lower id
        ((2.0, 0.0), (1.0, 5.0)),
        ((2.0, 0.0), (0.0, 3.0)),  # agent -> object
        ((0.0, 0.0), (1.0, 5.0)),
        ((0.0, 0.0), (0.0, 3.0)),
        ((2.0, 0.0), (60.0, 0.0)),  # the far viewer's pairs, once each
        ((0.0, 0.0), (60.0, 0.0)),
        ((1.0, 5.0), (60.0, 0.0)),
        ((60.0, 0.0), (0.0, 3.0)),
    ])
    assert world.component_for_entity(a, Perception).visible == (b, 3)  # 5 is out of a's range
    assert world.component_for_entity(a, Perception).objects == (crate,)
    assert world.component_for_entity(5, Perception).visible == (a, b, 3)


def test_an_object_radius_lets_a_sight_blocking_object_be_seen(world: World) -> None:
    def crate_blocks(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """A solid disc of radius 1 at (10, 10): segments passing within 1 m are blocked."""
        d = ends - starts
        t = np.clip(((10.0 - starts[:, 0]) * d[:, 0] + (10.0 - starts[:, 1]) * d[:, 1])
                    / np.maximum((d * d).sum(axis=1), 1e-300), 0.0, 1.0)
        closest = starts + d * t[:, None]
        return np.asarray(np.hypot(closest[:, 0] - 10.0, closest[:, 1] - 10.0) > 1.0)

    bare = world.create_entity(Position(10.0, 10.0), Perceivable("crate"))
    solid = world.create_entity(Position(10.0, 10.0), Perceivable("crate", radius=1.5))
    west = world.create_entity(Position(0.0, 10.0), Faction(1), Senses(10.0))
    short = world.create_entity(Position(10.0, 0.1), Faction(1), Senses(9.8))
    behind = world.create_entity(Position(10.0, 20.0), Faction(1), Senses(15.0))
    world.create_entity(Position(10.0, 12.0), Faction(2))  # between the crate and `behind`
    install_perception(world, line_of_sight=crate_blocks)
    world.step()
    assert world.component_for_entity(west, Perception).objects == (solid,)
    assert world.component_for_entity(short, Perception).objects == ()  # range is to the centre
    assert world.component_for_entity(behind, Perception).objects == (solid,)
    assert world.component_for_entity(behind, Perception).enemies == (6,)
    assert perceived(world) == reference(world, crate_blocks)
    assert bare < solid
    with pytest.raises(ComponentError, match="radius"):
        Perceivable("crate", radius=-1.0)


# --- staggering, spawning and deletion -----------------------------------------------------


def test_every_k_refreshes_exactly_ids_congruent_to_the_tick_and_the_marked(world: World) -> None:
    """Marked: ``PerceiveNow``, set on every enemy a refreshed agent lists for the first time
    (the movers here walk into each other's sight)."""
    every = 3
    for i in range(12):
        world.create_entity(Position(float(i), 0.0), Faction(i % 2), Senses(4.0))
    install_perception(world, every=every)
    world.add_system(mover, stage="update")
    world.step()  # tick 0: nobody has a Perception yet, so everyone is refreshed
    assert {p.tick for _, p in world.get_component(Perception)} == {0}
    late = None
    marked_any = False
    for tick in range(1, 8):
        before = {e: (p.tick, p.visible, p.enemies, p.allies, p.objects) for e, p in world.get_component(Perception)}
        marked = {e for e, _ in world.get_component(PerceiveNow)}
        newly_seen = {e for e, p in world.get_component(Perception) if p.tick == tick - 1 for e in p.enemies}
        assert marked <= newly_seen
        marked_any |= bool(marked - {e for e, _ in world.get_component(Perception) if e % every == tick % every})
        if tick == 5:
            late = world.create_entity(Position(3.0, 1.0), Faction(0), Senses(4.0))
        world.step()
        after = world.get_component(Perception)
        refreshed = {e for e, p in after if p.tick == tick}
        assert refreshed == {e for e, _ in after if e % every == tick % every or e == late and tick == 5 or e in marked}
        for e, p in after:
            if e not in refreshed:
                assert (p.tick, p.visible, p.enemies, p.allies, p.objects) == before[e]
    assert late is not None and late % every != 5 % every  # the spawn really was off-phase
    assert marked_any, "some agent was refreshed off its phase because an enemy first saw it"


def test_an_enemy_one_agent_sees_first_is_marked_though_another_saw_it_before(world: World) -> None:
    """Agent 3 already listed enemy 2 and newly lists enemy 4; agent 1 newly lists enemy 2.
    Enemy 2 is news to agent 1, so it is marked, whatever agent 3 knew."""
    a = world.create_entity(Position(20.0, 0.0), Faction(0), Senses(4.0))
    x = world.create_entity(Position(1.0, 0.0), Faction(1))
    b = world.create_entity(Position(0.0, 0.0), Faction(0), Senses(4.0))
    y = world.create_entity(Position(30.0, 0.0), Faction(1))
    install_perception(world, every=2)
    world.step()  # tick 0: both perceivers are new; b sees x
    world.component_for_entity(a, Position).x = 4.5  # 3.5 from x, 6.5 from y
    world.component_for_entity(y, Position).x = -2.0  # 2 from b
    world.step()  # tick 1: a (id 1) and b (id 3) are in phase
    assert set(world.component_for_entity(a, Perception).enemies) == {x}
    assert set(world.component_for_entity(b, Perception).enemies) == {x, y}
    assert {e for e, _ in world.get_component(PerceiveNow)} == {x, y}


def test_an_agent_marked_perceive_now_is_refreshed_on_the_next_pass_off_its_phase(world: World) -> None:
    for i in range(4):
        world.create_entity(Position(float(i), 0.0), Faction(0), Senses(4.0))
    install_perception(world, every=4)
    world.step()  # tick 0: everyone
    perceive_now(world, 3)  # phase 3; tick 1 is entity 1's
    world.step()
    ticks = {e: p.tick for e, p in world.get_component(Perception)}
    assert ticks == {1: 1, 2: 0, 3: 1, 4: 0}
    assert not world.get_component(PerceiveNow), "the mark is used up"


def test_refreshed_agents_see_current_positions_under_staggering(world: World) -> None:
    for i in range(10):
        world.create_entity(Position(float(2 * i), 0.0), Faction(i % 2), Senses(5.0))
    install_perception(world, every=2)
    world.step()
    world.component_for_entity(4, Position).x = 100.0  # moved far away before tick 1
    world.step()  # tick 1 refreshes odd ids only
    expected = reference(world)
    for e, p in world.get_component(Perception):
        if e % 2 == 1:
            assert (p.visible, p.enemies, p.allies, p.objects) == expected[e]
    assert 4 in world.component_for_entity(2, Perception).visible  # stale until tick 2
    assert 4 not in world.component_for_entity(3, Perception).visible


def test_deleted_entities_vanish_from_every_perception_at_once() -> None:
    world = World()
    for i in range(8):
        world.create_entity(Position(float(i), 0.0), Faction(i % 2), Senses(20.0))
    crate = world.create_entity(Position(3.5, 1.0), Perceivable("crate"))
    bullet = world.create_entity(Position(3.0, 0.5))
    install_perception(world, every=4)

    def killer(world: World, ctx: TickContext) -> None:
        if ctx.tick == 2:
            world.delete_entity(5)
            world.delete_entity(crate)
            world.delete_entity(bullet)

    world.add_system(killer, stage="update")
    world.run(2)
    assert all(p.sees(5) and p.sees(crate) for e, p in world.get_component(Perception) if e != 5)
    world.step()  # tick 2 deletes inside the tick; most perceptions are not refreshed until later
    perceptions = world.get_component(Perception)
    assert [e for e, _ in perceptions] == [1, 2, 3, 4, 6, 7, 8]
    assert any(p.tick < 2 for _, p in perceptions)
    for _, p in perceptions:
        assert 5 not in p.visible + p.enemies + p.allies and crate not in p.objects
        assert p.visible == tuple(sorted(p.enemies + p.allies)) and len(p.visible) == 6
    world.close()


def test_perception_is_removed_when_an_entity_stops_perceiving(world: World) -> None:
    a = world.create_entity(Position(0.0, 0.0), Faction(1), Senses(5.0))
    b = world.create_entity(Position(1.0, 0.0), Faction(1), Senses(5.0))
    install_perception(world)
    world.step()
    world.remove_component(a, Senses)
    world.step()
    assert world.try_component(a, Perception) is None
    assert world.component_for_entity(b, Perception).allies == (a,)


# --- determinism ----------------------------------------------------------------------------


def run_hashes(every: int) -> list[str]:
    world = random_world(99, n_agents=60, n_objects=10)
    install_perception(world, line_of_sight=walls_los, every=every)
    world.add_system(mover, stage="update")

    def reaper(world: World, ctx: TickContext) -> None:
        if ctx.tick % 7 == 3:
            victims = [e for e, _ in world.get_component(Faction)]
            world.delete_entity(victims[int(ctx.rng.integers(len(victims)))])

    world.add_system(reaper, stage="update")
    roots = []
    for _ in range(30):
        world.step()
        roots.append(world.state_hash().root)
    assert world.get_component(Perception)
    world.close()
    return roots


@pytest.mark.parametrize("every", [1, 3])
def test_two_runs_give_identical_hash_sequences(every: int) -> None:
    first, second = run_hashes(every), run_hashes(every)
    assert first == second
    assert len(set(first)) == len(first)


def test_perception_takes_part_in_the_state_hash(world: World) -> None:
    a = world.create_entity(Position(0.0, 0.0), Faction(1), Senses(5.0))
    world.create_entity(Position(1.0, 0.0), Faction(2), Senses(5.0))
    install_perception(world)
    world.step()
    before = world.state_hash().root
    world.component_for_entity(a, Perception).enemies = ()
    assert world.state_hash().root != before


# --- user mistakes ----------------------------------------------------------------------------


@pytest.mark.parametrize("every", [0, -1, 1.5, True])
def test_every_must_be_a_positive_int(world: World, every: object) -> None:
    with pytest.raises(TickmindError, match="every"):
        install_perception(world, every=every)  # type: ignore[arg-type]


def test_line_of_sight_must_be_callable_and_answer_one_bool_per_pair(world: World) -> None:
    with pytest.raises(TickmindError, match="line_of_sight"):
        install_perception(world, line_of_sight=42)  # type: ignore[arg-type]
    world.create_entity(Position(0.0, 0.0), Faction(1), Senses(5.0))
    world.create_entity(Position(1.0, 0.0), Faction(2), Senses(5.0))
    install_perception(world, line_of_sight=lambda s, e: np.ones(len(s) + 1, dtype=bool))
    with pytest.raises(TickmindError, match="one answer per"):
        world.step()


def test_bad_senses_are_refused_at_construction_and_when_mutated(world: World) -> None:
    with pytest.raises(ComponentError, match="range"):
        Senses(-1.0)
    with pytest.raises(ComponentError, match="fov_deg"):
        Senses(5.0, fov_deg=0.0)
    e = world.create_entity(Position(0.0, 0.0), Faction(1), Senses(5.0))
    install_perception(world)
    world.component_for_entity(e, Senses).range = math.nan
    with pytest.raises(ComponentError, match=f"entity {e} Senses.range"):
        world.step()


def test_non_finite_positions_are_refused_with_the_entity_named(world: World) -> None:
    world.create_entity(Position(0.0, 0.0), Faction(1), Senses(5.0))
    bad = world.create_entity(Position(math.inf, 0.0), Faction(2))
    install_perception(world)
    with pytest.raises(ComponentError, match=f"entity {bad} has a non-finite Position"):
        world.step()
    assert not world.get_component(Perception), "a refused pass leaves no half-made perception behind"


def test_installing_twice_is_refused(world: World) -> None:
    from engine import DuplicateSystemError

    install_perception(world)
    with pytest.raises(DuplicateSystemError, match="perception"):
        install_perception(world)


def test_max_listed_keeps_the_nearest_and_visible_matches_the_lists() -> None:
    def crowd(cap: int | None) -> World:
        world = World(seed=5)
        for i in range(30):
            world.create_entity(Position(float(i), 0.0), Faction(i % 2), Senses(100.0))
        install_perception(world, max_listed=cap)
        world.step()
        return world

    full, capped = crowd(None), crowd(3)
    for (e, everything), (_, nearest) in zip(full.get_component(Perception), capped.get_component(Perception)):
        assert nearest.enemies == everything.enemies[:3] and nearest.allies == everything.allies[:3]
        assert nearest.visible == tuple(sorted(nearest.enemies + nearest.allies))
        assert len(everything.visible) == 29
    with pytest.raises(TickmindError, match="max_listed"):
        install_perception(World(), max_listed=0)
