"""The nav system in a world: goals reached, failures reported, crowds flow, runs replay."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

import nav
from engine import DesiredVelocity, Position, World
from nav import GridMap, NavConfig, NavError, NavGoal, NavPath, NavStatus, install_nav

Mover = Callable[[World], None]


def states(world: World, ids: list[int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in ids:
        s = world.component_for_entity(e, NavStatus).state
        out[s] = out.get(s, 0) + 1
    return out


def run_until_arrived(world: World, ids: list[int], max_ticks: int) -> int:
    for tick in range(max_ticks):
        world.step()
        if all(world.component_for_entity(e, NavStatus).state == "arrived" for e in ids):
            return tick
    return max_ticks


def test_agents_reach_goals_behind_walls(world: World, mover: Mover) -> None:
    grid = GridMap.from_boxes(30, 20, 0.5, [(10, 0, 11, 14), (20, 6, 21, 20), (4, 16, 8, 17)], inflate=0.4)
    install_nav(world, grid)
    mover(world)
    orders = [((2, 2), (27, 3)), ((2, 18), (28, 18)), ((25, 2), (3, 10)), ((15, 18), (15, 2))]
    ids = [world.create_entity(Position(*s), NavGoal(*g, speed=4.0)) for s, g in orders]
    ticks = run_until_arrived(world, ids, 1200)
    assert ticks < 1200, states(world, ids)
    for e, (_, (gx, gy)) in zip(ids, orders, strict=True):
        p = world.component_for_entity(e, Position)
        assert math.hypot(p.x - gx, p.y - gy) <= 0.5
        dv = world.component_for_entity(e, DesiredVelocity)
        assert (dv.vx, dv.vy) == (0.0, 0.0)  # arrived agents are held still
        assert world.component_for_entity(e, NavStatus).since <= world.tick


def test_moving_agents_get_a_desired_velocity_capped_at_their_speed(world: World) -> None:
    install_nav(world, GridMap.from_boxes(20, 20, 1.0, [], inflate=0.4))
    e = world.create_entity(Position(2.0, 2.0), NavGoal(18.0, 2.0, speed=3.0))
    world.step()
    dv = world.component_for_entity(e, DesiredVelocity)
    assert dv.vx == pytest.approx(3.0) and abs(dv.vy) < 1e-9
    assert world.component_for_entity(e, NavStatus).state == "moving"
    assert world.component_for_entity(e, NavPath).waypoints[-1] == (18.0, 2.0)
    # close to the goal the agent slows down instead of overshooting
    world.component_for_entity(e, Position).x = 17.3  # 0.7 m out, inside the 1 m slow radius
    world.step()
    assert world.component_for_entity(e, DesiredVelocity).vx == pytest.approx(3.0 * 0.7)
    world.component_for_entity(e, Position).x = 17.6  # within arrive_radius: done, held still
    world.step()
    assert world.component_for_entity(e, NavStatus).state == "arrived"
    assert world.component_for_entity(e, DesiredVelocity).vx == 0.0


def test_unreachable_goals_are_reported_not_raised(world: World) -> None:
    grid = GridMap.from_boxes(20, 20, 1.0, [(10, 0, 11, 20), (14, 14, 19, 19)], inflate=0.4)
    install_nav(world, grid)
    walled_off = world.create_entity(Position(2.0, 2.0), NavGoal(15.0, 5.0, speed=2.0))
    inside_block = world.create_entity(Position(2.0, 2.0), NavGoal(16.5, 16.5, speed=2.0))
    not_a_point = world.create_entity(Position(2.0, 2.0), NavGoal(math.nan, 5.0, speed=2.0))
    off_map = world.create_entity(Position(2.0, 2.0), NavGoal(500.0, 5.0, speed=2.0))
    ids = [walled_off, inside_block, not_a_point, off_map]
    world.run(3)
    assert states(world, ids) == {"unreachable": 4}
    for e in ids:
        dv = world.component_for_entity(e, DesiredVelocity)
        assert (dv.vx, dv.vy) == (0.0, 0.0)
    assert world.component_for_entity(not_a_point, NavStatus).since == 0  # not replanned each tick
    # a new, reachable goal clears the failure
    world.add_component(walled_off, NavGoal(5.0, 15.0, speed=2.0))
    world.step()
    assert world.component_for_entity(walled_off, NavStatus).state == "moving"


def test_removing_the_goal_stops_the_agent_and_others_are_left_alone(world: World) -> None:
    install_nav(world, GridMap.from_boxes(20, 20, 1.0, [], inflate=0.4))
    e = world.create_entity(Position(2.0, 2.0), NavGoal(18.0, 18.0, speed=2.0))
    bystander = world.create_entity(Position(5.0, 5.0), DesiredVelocity(1.0, -1.0))
    world.step()
    assert world.component_for_entity(e, DesiredVelocity).vx > 0
    world.remove_component(e, NavGoal)
    world.step()
    dv = world.component_for_entity(e, DesiredVelocity)
    assert (dv.vx, dv.vy) == (0.0, 0.0)
    assert world.component_for_entity(e, NavStatus).state == "idle"
    # an entity nav never steered keeps whatever velocity its own systems asked for
    assert (world.component_for_entity(bystander, DesiredVelocity).vx, world.component_for_entity(bystander, DesiredVelocity).vy) == (1.0, -1.0)
    assert world.try_component(bystander, NavStatus) is None


def test_changing_the_goal_replans(world: World, mover: Mover) -> None:
    install_nav(world, GridMap.from_boxes(20, 20, 1.0, [(9, 5, 10, 20)], inflate=0.4))
    mover(world)
    e = world.create_entity(Position(2.0, 18.0), NavGoal(18.0, 18.0, speed=3.0))
    world.run(2)
    first = world.component_for_entity(e, NavPath).waypoints
    world.component_for_entity(e, NavGoal).x = 2.0  # mutate in place: now straight down
    world.component_for_entity(e, NavGoal).y = 2.0
    world.step()
    second = world.component_for_entity(e, NavPath).waypoints
    assert second != first and second[-1] == (2.0, 2.0)
    assert world.component_for_entity(e, NavStatus).goal_y == 2.0


def crowd_through_a_door(world: World, grid: GridMap, shared_goal: bool) -> list[int]:
    ids = []
    for i in range(100):
        x, y = 2 + (i % 10) * 1.1, 3 + (i // 10) * 1.4
        gx, gy = (25.0, 10.0) if shared_goal else (18 + (i % 10) * 1.0, 5 + (i // 10) * 1.0)
        ids.append(world.create_entity(Position(x, y), NavGoal(gx, gy, speed=3.0)))
    return ids


@pytest.mark.parametrize("shared_goal", [False, True], ids=["own-goals", "one-goal"])
def test_a_hundred_agents_pass_a_two_metre_door_without_deadlock(
    world: World, mover: Mover, doors: Callable[..., GridMap], shared_goal: bool
) -> None:
    install_nav(world, doors(2.0))
    mover(world)
    ids = crowd_through_a_door(world, doors(2.0), shared_goal)
    world.step()
    flows = sum(world.component_for_entity(e, NavPath).flow for e in ids)
    assert flows == (100 if shared_goal else 0)  # a shared goal is served by one flow field
    run_until_arrived(world, ids, 1800)  # 30 s for 100 bodies through a 1 m free lane
    done = states(world, ids).get("arrived", 0)
    assert done >= 98, states(world, ids)
    beyond = sum(world.component_for_entity(e, Position).x > 15.5 for e in ids)
    assert beyond >= 98


def test_two_runs_give_identical_hash_sequences(make_world: Callable[[], World], mover: Mover, doors: Callable[..., GridMap]) -> None:
    def run() -> list[str]:
        world = make_world()
        install_nav(world, doors(3.0))
        mover(world)
        ids = crowd_through_a_door(world, doors(3.0), shared_goal=False)[:40]
        for e in range(41, 101):
            world.delete_entity(e)
        for i in range(20):  # and a flow-field group
            world.create_entity(Position(3.0 + (i % 5), 15.0 + (i // 5)), NavGoal(26.0, 16.0, speed=2.5))
        roots: list[str] = []
        world.on_tick(lambda w, record: roots.append(record.root))
        world.run(300)
        assert sum(world.component_for_entity(e, Position).x > 15.5 for e in ids) > 10  # crowds moved
        return roots

    first, second = run(), run()
    assert len(first) == 300 and len(set(first)) == 300 and first == second


def test_the_map_is_part_of_the_state_hash(make_world: Callable[[], World]) -> None:
    a, b = make_world(), make_world()
    install_nav(a, GridMap.from_boxes(10, 10, 1.0, []))
    install_nav(b, GridMap.from_boxes(10, 10, 1.0, [(2, 2, 3, 3)]))
    a.step()
    b.step()
    assert a.state_hash().root != b.state_hash().root


def test_planning_budget_spreads_replans_over_ticks(world: World) -> None:
    install_nav(world, GridMap.from_boxes(20, 20, 1.0, []), config=NavConfig(max_plans_per_tick=2))
    ids = [world.create_entity(Position(2.0, 2.0 + i), NavGoal(18.0, 2.0 + i, speed=1.0)) for i in range(5)]
    world.step()
    assert [world.component_for_entity(e, NavStatus).state for e in ids] == ["moving"] * 2 + ["idle"] * 3
    world.run(2)
    assert states(world, ids) == {"moving": 5}


def test_install_checks_its_settings(world: World) -> None:
    grid = GridMap.from_boxes(10, 10, 1.0, [], inflate=0.3)
    cfg = install_nav(world, grid)
    assert cfg.agent_radius == 0.3 and cfg.separation_radius == pytest.approx(0.9)
    assert world.resource(GridMap) is grid and world.resource(NavConfig) is cfg
    with pytest.raises(NavError, match="once per world"):
        install_nav(world, grid)
    for bad in (NavConfig(flow_threshold=0), NavConfig(agent_radius=-1.0), NavConfig(max_plans_per_tick=0)):
        with pytest.raises(NavError):
            bad.resolved(grid)


def test_public_api_is_pinned() -> None:
    assert nav.__all__ == [
        "NAV_STATES",
        "Box",
        "BoxSight",
        "FlowField",
        "FlowFieldCache",
        "GoState",
        "GridMap",
        "NavConfig",
        "NavError",
        "NavGoal",
        "NavPath",
        "NavStatus",
        "find_cell_path",
        "find_path",
        "go_to",
        "install_nav",
        "stop",
    ]
    assert nav.NAV_STATES == ("idle", "moving", "arrived", "unreachable")
    assert issubclass(NavError, __import__("engine").TickmindError)
