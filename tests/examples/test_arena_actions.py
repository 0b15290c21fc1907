"""Each core ActionStep, executed by the arena's systems, ends the way its contract says."""

import json
from pathlib import Path

import pytest

from ai import ActionStep, Approach, AssignPlan, Attack, MoveTo, Plan, PlanStatus, Retreat, Tier, Wait
from ai.perception import PerceiveNow
from engine import Position, World
from examples.arena import Health, Weapon, build_arena
from examples.arena._combat import Wounded
from examples.arena._heuristic import arena_salient, heuristic_plan
from examples.arena._orders import Advance, Engage
from examples.arena._world import ArenaOutcome

# One red agent at the west, one blue at the east, a wall between the halves' north parts.
SCENARIO = {
    "map": {"width": 40.0, "height": 20.0, "cell_size": 0.5},
    "stats": {"trooper": {"hp": 30.0, "sight_range": 30.0, "weapon_range": 25.0, "damage": 10.0, "cooldown": 0.1}},
    "teams": [{"name": "red", "colour": "#ff0000", "stats": "trooper"}, {"name": "blue", "colour": "#0000ff", "stats": "trooper"}],
    "spawns": [
        {"team": "red", "x": 2.0, "y": 2.0, "w": 2.0, "h": 2.0, "count": 1},
        {"team": "blue", "x": 24.0, "y": 2.0, "w": 2.0, "h": 2.0, "count": 1},
    ],
    "walls": [{"x": 18.0, "y": 8.0, "w": 4.0, "h": 12.0}],
}


@pytest.fixture
def duel(tmp_path: Path) -> World:
    path = tmp_path / "duel.json"
    path.write_text(json.dumps(SCENARIO))
    world = build_arena({"scenario": str(path), "planner": "none"}, 7)
    world.step()  # perception sees the first tick
    return world


def agents(world: World) -> tuple[int, int]:
    red, blue = [e for e, _ in world.get_components(Health, Weapon)]
    return red, blue


def order(world: World, entity: int, *steps: ActionStep) -> Plan:
    world.submit(AssignPlan(entity=entity, plan_id=f"t{world.tick}", tier=Tier.HEURISTIC, steps=steps))
    world.step()
    return world.component_for_entity(entity, Plan)


def run_until_settled(world: World, entity: int, limit: int = 2000) -> Plan:
    for _ in range(limit):
        plan = world.try_component(entity, Plan)
        if plan is None or plan.status is not PlanStatus.RUNNING:
            break
        world.step()
    return world.component_for_entity(entity, Plan)


def test_move_to_arrives_and_finishes(duel: World) -> None:
    red, _ = agents(duel)
    order(duel, red, MoveTo(x=10.0, y=15.0))
    plan = run_until_settled(duel, red)
    pos = duel.component_for_entity(red, Position)
    assert plan.status is PlanStatus.DONE
    assert abs(pos.x - 10.0) < 1.5 and abs(pos.y - 15.0) < 1.5


def test_move_into_a_wall_fails_as_unreachable(duel: World) -> None:
    red, _ = agents(duel)
    order(duel, red, MoveTo(x=20.0, y=14.0))
    plan = run_until_settled(duel, red)
    assert plan.status is PlanStatus.FAILED and "unreachable" in plan.reason


def test_attack_shoots_until_the_target_dies(duel: World) -> None:
    red, blue = agents(duel)
    ammo = duel.component_for_entity(red, Weapon).ammo
    order(duel, red, Attack(target=blue))
    plan = run_until_settled(duel, red)
    assert plan.status is PlanStatus.DONE
    assert not duel.entity_exists(blue)
    assert duel.component_for_entity(red, Weapon).ammo < ammo


def test_wait_holds_for_its_ticks(duel: World) -> None:
    red, _ = agents(duel)
    plan = order(duel, red, Wait(ticks=10))
    start = plan.step_tick
    plan = run_until_settled(duel, red)
    assert plan.status is PlanStatus.DONE and duel.tick - 1 - start == 10


def test_approach_closes_to_weapon_range_then_the_next_step_runs(duel: World) -> None:
    red, blue = agents(duel)
    duel.add_component(red, Weapon(range=5.0, damage=0.0, ammo=1, cooldown_ticks=10))
    plan = order(duel, red, Approach(target=blue), Wait(ticks=1))
    while plan.index == 0 and plan.status is PlanStatus.RUNNING and duel.tick < 2000:
        duel.step()
    a, b = duel.component_for_entity(red, Position), duel.component_for_entity(blue, Position)
    assert plan.index == 1 and ((a.x - b.x) ** 2 + (a.y - b.y) ** 2) ** 0.5 <= 5.0


def test_retreat_moves_away_from_the_threat(duel: World) -> None:
    red, blue = agents(duel)
    before = duel.component_for_entity(blue, Position).x - duel.component_for_entity(red, Position).x
    order(duel, red, Retreat(target=blue))
    plan = run_until_settled(duel, red)
    after = duel.component_for_entity(blue, Position).x - duel.component_for_entity(red, Position).x
    assert plan.status is PlanStatus.DONE and after > before


def test_a_retreat_that_replaces_a_walk_runs_from_the_threat_not_on_to_the_old_goal(duel: World) -> None:
    """It used to take the goal the agent already had for its retreat point: a red agent
    walking towards blue "retreated" by walking on to where it was going."""
    red, blue = agents(duel)
    order(duel, red, MoveTo(x=16.0, y=3.0))
    duel.run(30)
    start = duel.component_for_entity(red, Position).x
    order(duel, red, Retreat(target=blue))
    plan = run_until_settled(duel, red)
    end = duel.component_for_entity(red, Position).x
    assert plan.status is PlanStatus.DONE
    assert end < start - 3.0, f"ran west, away from blue: {start:.1f} -> {end:.1f}"


def test_a_retreat_from_a_threat_that_fell_runs_from_the_nearest_enemy_in_sight(duel: World) -> None:
    """The model names its threat; by the time the plan lands it may be down. Ending the
    retreat at once left the agent to the heuristic while the model was asked again."""
    red, blue = agents(duel)
    fallen = duel.create_entity(Position(9.0, 3.0))
    duel.delete_entity(fallen)
    start = duel.component_for_entity(red, Position).x
    plan = order(duel, red, Retreat(target=fallen))
    assert plan.status is PlanStatus.RUNNING
    plan = run_until_settled(duel, red)
    assert plan.status is PlanStatus.DONE and duel.component_for_entity(red, Position).x < start - 1.0


def test_targets_that_do_not_exist_fail_the_plan_not_the_tick(duel: World) -> None:
    red, _ = agents(duel)
    plan = order(duel, red, Approach(target=999))
    assert plan.status is PlanStatus.FAILED and "not visible" in plan.reason


def test_engage_fights_the_named_target_then_ends_with_no_enemy_in_sight(duel: World) -> None:
    red, blue = agents(duel)
    ammo = duel.component_for_entity(red, Weapon).ammo
    order(duel, red, Engage(target=blue))
    plan = run_until_settled(duel, red)
    assert plan.status is PlanStatus.DONE, "nobody left in sight"
    assert not duel.entity_exists(blue) and duel.component_for_entity(red, Weapon).ammo < ammo


def test_an_advance_fires_on_the_move_at_the_enemy_in_range_and_a_walk_does_not(duel: World) -> None:
    """Attack-move: an enemy coming into view asks the model for orders, and a squad that
    walked on without firing while it answered lost every swapped game (RESULTS §29)."""
    red, blue = agents(duel)
    weapon = duel.component_for_entity(red, Weapon)
    full, start = weapon.ammo, duel.component_for_entity(red, Position).x
    order(duel, red, MoveTo(x=12.0, y=3.0))
    for _ in range(30):
        duel.step()
    assert weapon.ammo == full, "a walk holds its fire"
    moved = duel.component_for_entity(red, Position).x
    order(duel, red, Advance())
    for _ in range(30):
        duel.step()
    assert weapon.ammo < full, "an advance shoots the enemy in range"
    assert duel.component_for_entity(red, Position).x > moved > start, "and keeps walking"


def test_a_hit_and_a_plan_ending_mark_the_agent_for_a_perception_refresh(duel: World) -> None:
    """With staggered perception these are the moments an old view costs: being shot at,
    and the planner about to read what the agent sees."""
    red, blue = agents(duel)
    order(duel, red, Attack(target=blue))
    while not duel.has_component(blue, Wounded) and duel.tick < 300:
        duel.step()
    assert duel.has_component(blue, PerceiveNow) and not duel.has_component(red, PerceiveNow)
    plan = order(duel, red, Wait(ticks=3))
    while plan.status is PlanStatus.RUNNING and duel.tick < 400:
        duel.step()
    assert plan.status is PlanStatus.DONE and duel.has_component(red, PerceiveNow)


def test_engage_without_ammo_fails(duel: World) -> None:
    red, blue = agents(duel)
    duel.add_component(red, Weapon(range=25.0, damage=0.0, ammo=0, cooldown_ticks=10))
    plan = order(duel, red, Engage())
    assert plan.status is PlanStatus.FAILED and plan.reason == "out of ammo"


def test_a_hit_is_news_except_to_an_agent_engaging_as_ordered_and_not_badly_hurt(duel: World) -> None:
    red, blue = agents(duel)
    fighting = order(duel, red, Engage(target=blue))
    duel.add_component(red, Wounded(tick=duel.tick, by=blue))
    assert not arena_salient(duel, red, fighting), "being shot at is what engaging means"
    health = duel.component_for_entity(red, Health)
    health.hp = 0.2 * health.max_hp
    assert arena_salient(duel, red, fighting), "hurt enough to flee: replan"
    health.hp = health.max_hp
    for steps in ((Wait(ticks=100),), (Attack(target=blue),)):
        plan = order(duel, red, *steps)
        duel.add_component(red, Wounded(tick=duel.tick, by=blue))
        assert arena_salient(duel, red, plan), steps


def test_a_hurt_agent_fires_where_it_cannot_hide_and_falls_back_once_out_of_ammo(duel: World) -> None:
    """The duel has no cover. A hurt agent that ran whatever happened kept its ammo for good:
    whole games ran out their clock with every survivor retreating from the others."""
    red, blue = agents(duel)
    duel.component_for_entity(red, Health).hp = 5.0
    assert heuristic_plan(duel, red) == (Attack(target=blue),)
    duel.component_for_entity(red, Weapon).ammo = 0
    assert heuristic_plan(duel, red) == (Retreat(target=blue),)


@pytest.mark.parametrize(("red_count", "winner"), [(2, "red"), (1, "nobody")])
def test_once_nobody_has_a_shot_left_the_team_with_more_standing_wins(tmp_path: Path, red_count: int, winner: str) -> None:
    scenario = json.loads(json.dumps(SCENARIO))
    scenario["spawns"][0]["count"] = red_count
    path = tmp_path / "dry.json"
    path.write_text(json.dumps(scenario))
    world = build_arena({"scenario": str(path), "planner": "none"}, 7)
    world.step()
    outcome = world.resource(ArenaOutcome)
    assert outcome.winner is None, "armed and apart: the fight goes on"
    for _, weapon in world.get_component(Weapon):
        weapon.ammo = 0
    world.step()
    assert (outcome.winner, outcome.decided_tick, outcome.alive) == (winner, world.tick - 1, (red_count, 1))
