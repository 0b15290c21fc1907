"""The framework's executor table on a world of its own: built-in actions carried out on nav
and physics, a plan replaced mid-walk going where the new plan says, and a step nobody
executes failing at once rather than standing forever."""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from ai import ActionStep, AssignPlan, MoveTo, Patrol, Plan, PlanStatus, Tier, Wait, register_action
from ai.execution import BUILTIN_EXECUTORS, Executors, StepContext
from engine import Position, World
from nav import GridMap, NavGoal, go_to, install_nav
from physics import Body, install_physics


class Sing(ActionStep):
    act: Literal["sing"] = "sing"
    summary: ClassVar[str] = "sing a song"


def walker_world(executors: Executors = BUILTIN_EXECUTORS) -> tuple[World, int]:
    world = World(seed=1, dt=1 / 60)
    walker = world.create_entity(Position(2.0, 2.0), Body(radius=0.3, max_speed=3.0))
    install_nav(world, GridMap.from_boxes(20.0, 20.0, 0.5, [(9.0, 0.0, 10.0, 14.0)], inflate=0.3))
    install_physics(world)
    world.add_system(executors.system(), stage="ai", name="execute_steps")
    return world, walker


def assign(world: World, entity: int, *steps: ActionStep, name: str) -> None:
    world.submit(AssignPlan(entity=entity, plan_id=name, tier=Tier.HEURISTIC, steps=steps), apply_tick=world.tick + 1)


def test_move_to_walks_round_a_wall_and_finishes_the_step_there() -> None:
    world, walker = walker_world()
    assign(world, walker, MoveTo(x=16.0, y=3.0), Wait(ticks=10), name="go")
    world.run(900)
    plan = world.component_for_entity(walker, Plan)
    pos = world.component_for_entity(walker, Position)
    assert plan.status is PlanStatus.DONE, (plan, pos)
    assert math.hypot(pos.x - 16.0, pos.y - 3.0) <= 0.6
    assert not world.has_component(walker, NavGoal), "a finished plan stops the walker"


def test_a_plan_replaced_mid_walk_goes_where_the_new_plan_says() -> None:
    world, walker = walker_world()
    assign(world, walker, MoveTo(x=2.0, y=18.0), name="first")
    world.run(60)
    assign(world, walker, MoveTo(x=5.0, y=3.0), name="second")
    world.run(600)
    plan = world.component_for_entity(walker, Plan)
    pos = world.component_for_entity(walker, Position)
    assert plan.plan_id == "second" and plan.status is PlanStatus.DONE
    assert math.hypot(pos.x - 5.0, pos.y - 3.0) <= 0.6, "it finished at the new goal, not the old one"


def test_patrol_visits_each_point_in_order() -> None:
    world, walker = walker_world()
    assign(world, walker, Patrol(points=((4.0, 2.0), (4.0, 6.0))), name="round")
    world.step()
    reached: list[int] = []
    for _ in range(600):
        world.step()
        plan = world.component_for_entity(walker, Plan)
        if plan.status is PlanStatus.DONE:
            break
        if not reached or reached[-1] != plan.progress:
            reached.append(plan.progress)
    assert plan.status is PlanStatus.DONE and reached == [0, 1]


def test_a_step_without_an_executor_fails_the_plan_with_its_name() -> None:
    register_action(Sing)
    world, walker = walker_world()
    assign(world, walker, Sing(), name="song")
    world.run(3)
    plan = world.component_for_entity(walker, Plan)
    assert plan.status is PlanStatus.FAILED and plan.reason == "no executor for action 'sing'"


def test_a_game_adds_its_own_executor_to_a_copy_and_offers_what_it_executes() -> None:
    register_action(Sing)
    sung: list[int] = []

    def sing(sc: StepContext, step: Sing) -> None:
        sung.append(sc.tick)
        sc.plan.advance(sc.tick)

    table = BUILTIN_EXECUTORS.copy()
    table.register(Sing, sing)
    assert table.actions() == ("move_to", "wait", "scan", "patrol", "regroup", "sing")
    assert "sing" not in BUILTIN_EXECUTORS.actions(), "the framework's table is untouched"
    world, walker = walker_world(table)
    assign(world, walker, Sing(), name="song")
    world.run(3)
    assert sung == [1] and world.component_for_entity(walker, Plan).status is PlanStatus.DONE


def test_the_system_keeps_the_table_it_was_built_with() -> None:
    register_action(Sing)
    table = BUILTIN_EXECUTORS.copy()
    world, walker = walker_world(table)
    table.register(Sing, lambda sc, step: sc.plan.advance(sc.tick))
    assign(world, walker, Sing(), name="song")
    world.run(3)
    assert world.component_for_entity(walker, Plan).status is PlanStatus.FAILED


def test_go_to_reports_moving_until_nav_has_answered_for_the_new_goal() -> None:
    world, walker = walker_world(Executors())
    assert go_to(world, walker, 3.0, 2.0, speed=3.0) == "moving"
    world.run(120)
    assert go_to(world, walker, 3.0, 2.0, speed=3.0) == "arrived"
    assert go_to(world, walker, 3.4, 2.0, speed=3.0) == "arrived", "within tolerance: the same goal"
    assert go_to(world, walker, 12.0, 18.0, speed=3.0) == "moving", "a new goal is not 'arrived' at the old one"
    assert world.component_for_entity(walker, NavGoal).x == 12.0
