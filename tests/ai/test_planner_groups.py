"""Group orders and the exact plan cache: one model plan per squad reaches every member as
its own journaled plan, a cached answer plans without a call, and both runs verify."""

import json
from collections import Counter
from pathlib import Path

import pytest

from ai import (
    Approach,
    Attack,
    BatchExecutor,
    Faction,
    GroupOrders,
    MapBounds,
    MoveTo,
    Perceivable,
    Perception,
    Plan,
    PlanCache,
    Planner,
    PlannerConfig,
    PlanStatus,
    Policies,
    Retreat,
    Scan,
    SnapshotConfig,
    TakeCover,
    Tier,
    TierProfile,
    Wait,
    proximity_squads,
)
from ai.clients import ScriptedClient, follow_schema
from ai.wire import AgentSnapshot, SeenEntity
from engine import Position, TickmindError, World, factory, start_run, verify
from examples.arena import build_arena
from examples.arena._combat import Weapon
from examples.arena._heuristic import COVER_HOLD_TICKS
from examples.arena._orders import Engage
from examples.arena._squads import squad_orders
from tests.ai.test_planner import run_llm_arena, tiers


def plans(records: list[dict]) -> list[dict]:
    return [r for r in records if r["kind"] == "ai.assign_plan"]


def test_a_squad_plan_reaches_every_member_as_its_own_journaled_plan(tmp_path: Path) -> None:
    client, planner, records = run_llm_arena(tmp_path / "run", follow_schema, ticks=2, config={"squad_size": 5})
    first_wave = [r for r in plans(records) if r["t"] == 1]
    assert len(first_wave) == 100 and tiers(first_wave) == {"llm": 100}
    by_group = Counter(r["meta"]["group"] for r in first_wave)
    assert len(by_group) == 20 and set(by_group.values()) == {5}, "100 agents in squads of 5"
    asked = sum(len(r.schema["properties"]["plans"]["prefixItems"]) for r in client.requests)
    assert asked == 20, "one state line per squad, not per agent"
    for group, n in by_group.items():
        members = sorted(r["entity"] for r in first_wave if r["meta"]["group"] == group)
        assert members[0] == group, "a squad is named by its first member"
    assert planner.stats.group_plans == 20
    assert verify(tmp_path / "run").ok


def test_members_share_out_the_squads_plan_by_what_each_sees() -> None:
    world = World(seed=0)
    enemy, other = (world.create_entity(Position(20.0, 0.0)) for _ in range(2))
    sees_it = world.create_entity(Perception(tick=0, visible=(enemy, other), enemies=(enemy, other)))
    sees_other = world.create_entity(Perception(tick=0, visible=(other,), enemies=(other,)))
    blind = world.create_entity(Perception(tick=0))
    orders = squad_orders(world, (sees_it, sees_other, blind), (Attack(target=enemy),))
    assert orders[sees_it] == (Engage(target=enemy),), "the named target first, then whoever is in sight"
    assert orders[sees_other] == (Engage(target=None),), "its own nearest enemy instead"
    assert orders[blind] == (MoveTo(x=20.0, y=0.0), Engage(target=enemy)), "to where the squad saw the target"
    cover = squad_orders(world, (sees_it,), (TakeCover(cover=other), Wait(ticks=30)))
    assert cover[sees_it] == (TakeCover(cover=None), Wait(ticks=30)), "each member its own nearest cover"
    gone = world.create_entity(Position(5.0, 5.0))
    world.delete_entity(gone)
    assert squad_orders(world, (blind,), (Approach(target=gone),))[blind] == (Scan(),), "nothing left to go to: look around"


def test_a_squad_in_cover_fires_from_it_while_armed_and_in_range_else_holds_it() -> None:
    """A take_cover that ends the squad's plan: each member then shoots at its nearest enemy
    in range, or holds the cover. (Holding it whatever happened let fights stall: hurt
    agents kept their ammo, armed ones were hurt, and every survivor hid.)"""
    world = World(seed=0)
    near, far = world.create_entity(Position(15.0, 0.0)), world.create_entity(Position(60.0, 0.0))

    def member(ammo: int, *enemies: int) -> int:
        return world.create_entity(
            Position(0.0, 0.0), Weapon(range=20.0, damage=10.0, ammo=ammo, cooldown_ticks=30),
            Perception(tick=0, visible=enemies, enemies=enemies),
        )  # fmt: skip

    armed, dry, out_of_range, blind = member(5, near), member(0, near), member(5, far), member(5)
    orders = squad_orders(world, (armed, dry, out_of_range, blind), (TakeCover(cover=None),))
    assert orders[armed] == (TakeCover(cover=None), Attack(target=near))
    hold = (TakeCover(cover=None), Wait(ticks=COVER_HOLD_TICKS))
    assert orders[dry] == orders[out_of_range] == orders[blind] == hold


def test_a_member_with_no_ammo_told_to_fight_takes_cover_and_a_retreat_runs_from_the_squads_threat() -> None:
    """A dry member's ``engage`` failed the tick it began and asked the model again for
    nothing; a member seeing no enemy retreated from nobody, which ends as it starts."""
    world = World(seed=0)
    near, far = world.create_entity(Position(15.0, 0.0)), world.create_entity(Position(40.0, 0.0))
    cover = world.create_entity(Position(3.0, 3.0), Perceivable("cover"))

    def member(ammo: int, x: float, enemies: tuple[int, ...], objects: tuple[int, ...] = ()) -> int:
        return world.create_entity(
            Position(x, 0.0), Weapon(range=20.0, damage=10.0, ammo=ammo, cooldown_ticks=30),
            Perception(tick=0, visible=enemies, enemies=enemies, objects=objects),
        )  # fmt: skip

    armed, dry, dry_in_the_open = member(5, 0.0, (near,)), member(0, 0.0, (near,), (cover,)), member(0, 0.0, (near,))
    orders = squad_orders(world, (armed, dry, dry_in_the_open), (Engage(target=near),))
    assert orders[armed] == (Engage(target=near),)
    assert orders[dry] == (TakeCover(cover=None), Wait(ticks=COVER_HOLD_TICKS))
    assert orders[dry_in_the_open] is None, "nowhere to hide: it falls through alone"
    blind_west, blind_east = member(5, 0.0, ()), member(5, 45.0, ())
    sees_near, sees_far = member(5, 10.0, (near,)), member(5, 30.0, (far,))
    orders = squad_orders(world, (blind_west, blind_east, sees_near, sees_far), (Retreat(),))
    assert orders[blind_west] == (Retreat(target=near),) and orders[blind_east] == (Retreat(target=far),)
    assert orders[sees_far] == (Retreat(),), "one that sees an enemy runs from its own nearest"
    named = squad_orders(world, (blind_west,), (Retreat(target=far),))
    assert named[blind_west] == (Retreat(target=far),), "a threat the model named stays named"


def test_a_member_that_cannot_carry_out_its_share_falls_through_alone(tmp_path: Path) -> None:
    def refuse_last(world: World, members: tuple[int, ...], steps: tuple) -> dict:
        return {m: (None if m == members[-1] else steps) for m in members}

    with start_run(build_arena, {"planner": "llm", "mode": "lockstep"}, 3, tmp_path / "run") as run:
        planner = run.world.resource(Planner)
        planner.groups = GroupOrders(groups=proximity_squads(5), orders=refuse_last)
        with BatchExecutor(ScriptedClient(follow_schema), max_concurrency=4, max_pending=256) as executor:
            planner.attach(executor)
            run.world.run(2)
    records = [json.loads(line) for line in (tmp_path / "run" / "journal.jsonl").read_text().splitlines()[1:]]
    first_wave = [r for r in plans(records) if r["t"] == 1]
    alone = [r for r in first_wave if r["meta"]["tier"] == "heuristic"]
    assert len(first_wave) == 100 and len(alone) == 20, "the last member of each squad"
    assert all(r["meta"]["reason"] == "group_share" and r["meta"]["fallback_from"] == "llm" for r in alone)
    assert planner.stats.share_fallbacks == 20
    assert verify(tmp_path / "run").ok


def test_the_same_seed_runs_the_same_squads_in_lockstep(tmp_path: Path) -> None:
    runs = [run_llm_arena(tmp_path / f"run{i}", follow_schema, ticks=120, config={"squad_size": 4})[2] for i in range(2)]
    strip = [[(r["t"], r["entity"], r["data"]["steps"], r["meta"].get("group")) for r in plans(rs)] for rs in runs]
    assert strip[0] == strip[1]


@factory
def still_guards(config: dict, seed: int) -> World:
    """Guards of one team standing on one spot who finish every plan a tick after it starts
    (two, in lockstep, with a plan cache, unless ``config`` says otherwise): their state
    lines repeat, so after the first answer the cache plans them."""
    world = World(seed=seed)
    for _ in range(config.get("guards", 2)):
        world.create_entity(Position(3.0, 2.0), Faction(0), Perception(tick=0))
    settings = PlannerConfig(
        mode=config.get("mode", "lockstep"),
        agents_per_request=None,
        llm_tiers=(TierProfile(Tier.LLM, actions=("scan", "wait")),),
        cache_size=config.get("cache_size", 16),
    )
    planner = Planner(
        Policies(heuristic=lambda w, e: (Wait(ticks=1),), emergency=lambda w, e: (Wait(ticks=1),)),
        snapshots=SnapshotConfig(bounds=MapBounds(0, 0, 40, 40)),
        config=settings,
    )
    world.insert_resource(planner)
    world.add_system(planner, stage="ai", name="planner")

    def finish(world: World, ctx: object) -> None:
        for _, plan in world.get_component(Plan):
            plan.advance(world.tick) if plan.status is PlanStatus.RUNNING else None

    world.add_system(finish, stage="update")
    return world


def test_a_cache_hit_is_journaled_under_its_own_tier_and_replays(tmp_path: Path) -> None:
    client = ScriptedClient(follow_schema)
    with start_run(still_guards, {}, 0, tmp_path / "run") as run:
        planner = run.world.resource(Planner)
        with BatchExecutor(client, max_concurrency=1, max_pending=8) as executor:
            planner.attach(executor)
            run.world.run(12)
    records = [json.loads(line) for line in (tmp_path / "run" / "journal.jsonl").read_text().splitlines()[1:]]
    cached = [r for r in plans(records) if r["meta"]["tier"] == "cache"]
    cache = planner.cache
    assert cache is not None and cache.hits > 0 and len(cached) == cache.hits
    assert all(r["meta"]["cached_from"] == "llm" for r in cached)
    asked = sum(len(r.schema["properties"]["plans"]["prefixItems"]) for r in client.requests)
    # Both guards miss on their first line (no plan yet) and on their first 'last:done' line,
    # asked together before either answer is in; every later ask is a hit.
    assert asked == cache.misses == 4 and cache.hits >= 8
    assert verify(tmp_path / "run").ok


def snapshot(agent: int, x: float, enemies: tuple[SeenEntity, ...] = ()) -> AgentSnapshot:
    return AgentSnapshot(agent_id=agent, team=0, tick=5, x=x, y=2.0, bounds=MapBounds(0, 0, 40, 40), enemies=enemies)


def test_the_cache_key_is_the_whole_state_line_but_the_agents_own_id() -> None:
    profile = TierProfile(Tier.LLM)
    seen = (SeenEntity(9, 20.0, 5.0),)
    same = PlanCache.key(snapshot(1, 3.0, seen), profile, "lines"), PlanCache.key(snapshot(2, 3.0, seen), profile, "lines")
    assert same[0] == same[1]
    assert PlanCache.key(snapshot(1, 3.1, seen), profile, "lines") != same[0], "a tenth of a metre is another state"
    assert PlanCache.key(snapshot(1, 3.0, seen), profile, "json") != same[0], "another wire"
    cache = PlanCache(size=1)
    cache.put(same[0], (Attack(target=9),))
    assert cache.get(same[1]) == (Attack(target=9),)
    cache.put(PlanCache.key(snapshot(1, 3.1), profile, "lines"), (Attack(target=9),))
    assert cache.get(same[0]) is None, "the oldest entry goes beyond the size"
    assert (cache.hits, cache.misses) == (1, 1)


def agents_at(xs: list[float], teams: list[int]) -> tuple[World, list[int]]:
    from ai import Faction

    world = World(seed=0)
    ids = [world.create_entity(Position(x, 0.0), Faction(team), Perception(tick=0)) for x, team in zip(xs, teams)]
    return world, ids


def test_proximity_squads_group_near_teammates_and_never_mix_teams() -> None:
    world, ids = agents_at([0, 50, 1, 51, 2, 3], [0, 0, 0, 0, 0, 1])
    groups = GroupOrders(groups=proximity_squads(3)).units(world, ids)
    a, b, c, d, e, f = ids
    assert groups == [(a, c, e), (b, d), (f,)]


def test_a_grouping_that_loses_or_repeats_an_agent_is_refused() -> None:
    world, ids = agents_at([0, 1], [0, 0])
    with pytest.raises(TickmindError, match="exactly one group"):
        GroupOrders(groups=lambda w, agents: [agents, agents[:1]]).units(world, ids)
    with pytest.raises(TickmindError, match="squad size"):
        proximity_squads(0)


def test_build_arena_plans_squads_only_when_asked() -> None:
    assert build_arena({"planner": "llm"}, 0).resource(Planner).groups is None
    assert build_arena({"planner": "llm", "squad_size": 5}, 0).resource(Planner).groups is not None
    assert build_arena({"planner": "heuristic", "squad_size": 5}, 0).resource(Planner).groups is None
