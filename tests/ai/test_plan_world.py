"""``plan_world``: one call plans a world of one's own, planning exactly the entities it is
told to, offering exactly what the world executes, and asking over the connection's wire."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import pytest

from ai import (
    ActionStep,
    BatchExecutor,
    EntityRef,
    Faction,
    MapBounds,
    Plan,
    Planner,
    Policies,
    Senses,
    Tier,
    Wait,
    install_perception,
    plan_world,
    register_action,
)
from ai.clients import ScriptedClient, sample_answers
from ai.execution import BUILTIN_EXECUTORS, Executors, StepContext
from ai.llm import RetryPolicy
from ai.planner import world_tiers
from ai.wire import Wire
from engine import Position, TickmindError, World, component, factory, start_run, verify
from nav import GridMap, install_nav
from physics import Body, install_physics

BOUNDS = MapBounds(0, 0, 30, 30)


@component
class Villager:
    greeted: int = 0


class Greet(ActionStep):
    act: Literal["greet"] = "greet"
    who: EntityRef
    summary: ClassVar[str] = "wave at `who`"


def greet(sc: StepContext, step: Greet) -> None:
    sc.world.component_for_entity(sc.entity, Villager).greeted += 1
    sc.plan.advance(sc.tick)


def table() -> Executors:
    executors = BUILTIN_EXECUTORS.copy()
    executors.register(Greet, greet)
    return executors


POLICIES = Policies(heuristic=lambda world, entity: (Wait(ticks=40),), emergency=lambda world, entity: (Wait(ticks=40),))


@factory
def build_village(config: dict, seed: int) -> World:
    world = World(seed=seed, dt=1 / 30)
    for i in range(config.get("villagers", 3)):
        world.create_entity(Position(5.0 + 3 * i, 5.0), Body(radius=0.3, max_speed=1.5), Faction(0), Senses(20.0), Villager())
    world.create_entity(Position(20.0, 20.0), Faction(1), Senses(20.0))  # a stranger with senses: not planned
    install_perception(world)
    install_nav(world, GridMap.from_boxes(30.0, 30.0, 0.5, [], inflate=0.3))
    install_physics(world)
    plan_world(world, planned=Villager, executors=table(), policies=POLICIES, bounds=BOUNDS, wire=config.get("wire", "json"), mode=config.get("mode", "lockstep"))
    return world


@pytest.fixture(autouse=True)
def actions() -> None:
    register_action(Greet)


def test_only_the_named_entities_are_planned_and_the_run_verifies(tmp_path: Path) -> None:
    with start_run(build_village, {"villagers": 3}, seed=1, out=tmp_path / "run") as run:
        planner = run.world.resource(Planner)
        with BatchExecutor(ScriptedClient(sample_answers(seed=2)), retry=RetryPolicy(max_attempts=1)) as executor:
            planner.attach(executor)
            run.world.run(200)
        planned = sorted(entity for entity, _ in run.world.get_component(Plan))
        greeted = sum(v.greeted for _, v in run.world.get_component(Villager))
    assert planned == [1, 2, 3], "the stranger has Senses but is no Villager"
    assert planner.stats.plans[Tier.LLM.value] > 0 and sum(planner.stats.rejections.values()) == 0
    assert greeted > 0, "the model's greet reached the world's own executor"
    assert verify(tmp_path / "run").ok


def test_a_predicate_picks_the_planned_agents() -> None:
    def stranger(world: World, entity: int) -> bool:
        return world.component_for_entity(entity, Faction).team == 1

    world = World(seed=0)
    for team in (0, 0, 1):
        world.create_entity(Position(1.0, 1.0), Faction(team), Senses(5.0))
    install_perception(world)
    planner = plan_world(world, planned=stranger, executors=table(), policies=POLICIES, bounds=BOUNDS, use_model=False)
    world.run(2)
    assert planner.stats.plans == {"heuristic": 1} and world.has_component(3, Plan) and not world.has_component(1, Plan)


def test_both_model_tiers_offer_exactly_what_the_world_executes() -> None:
    full, simple = world_tiers(table())
    assert full.action_names() == simple.action_names() == ("move_to", "wait", "scan", "patrol", "regroup", "greet")
    world = build_village({}, 1)
    assert world.resource(Planner).config.tier_order == (Tier.LLM, Tier.SIMPLE_LLM)
    assert world.resource(Planner).config.min_plan_ticks == 30, "lockstep: a plan ending at once is not re-asked each tick"


def test_mistakes_are_named_when_the_world_is_built() -> None:
    world = World(seed=0)
    with pytest.raises(TickmindError, match=r"unknown planner setting\(s\) \['replan_evry'\]"):
        plan_world(world, planned=Villager, executors=table(), policies=POLICIES, bounds=BOUNDS, replan_evry=10)
    with pytest.raises(TickmindError, match="executors must be an ai.execution.Executors table, got dict"):
        plan_world(world, planned=Villager, executors={}, policies=POLICIES, bounds=BOUNDS)  # type: ignore[arg-type]
    with pytest.raises(TickmindError, match="executes no registered action"):
        plan_world(world, planned=Villager, executors=Executors(), policies=POLICIES, bounds=BOUNDS)


@dataclass
class Connection:
    executor: BatchExecutor
    wire: Wire


def test_attaching_a_connection_asks_over_its_wire() -> None:
    world = build_village({"wire": "json"}, 1)
    planner = world.resource(Planner)
    client = ScriptedClient(sample_answers(seed=0))
    with BatchExecutor(client) as executor:
        planner.attach(Connection(executor, "lines"))
        world.run(2)
    world.close()
    assert planner.config.wire == "lines"
    assert client.requests and all(r.grammar is not None and r.schema is None for r in client.requests)
    assert json.dumps(planner.stats.rejections) == "{}"


def test_resume_planned_refuses_a_world_without_a_planner_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import main
    from tests.engine.scheduled_world import build as build_scheduled  # a plain world, no planner

    with start_run(build_scheduled, {"bumps_at": []}, seed=0, out=tmp_path / "run") as run:
        run.world.run(5)
    assert main(["resume-planned", str(tmp_path / "run"), "--ticks", "5"]) == 2
    err = capsys.readouterr().err
    assert err.strip().endswith("world has no Planner resource: resume it with tickmind resume") and err.count("\n") == 1


def test_a_model_planned_world_of_your_own_forks_with_its_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import chaos_server as chaos  # loaded by tests/conftest.py

    from engine import read_journal
    from engine.cli import main

    with start_run(build_village, {"villagers": 3}, seed=1, out=tmp_path / "run") as run:
        with BatchExecutor(ScriptedClient(sample_answers(seed=2)), retry=RetryPolicy(max_attempts=1)) as executor:
            run.world.resource(Planner).attach(executor)
            run.world.run(120)
    with chaos.ChaosServer() as server:
        argv = ["fork", str(tmp_path / "run"), "--at", "60", "--out", str(tmp_path / "fork"), "--ticks", "400", "--llm", server.openai_url]
        assert main(argv) == 0, capsys.readouterr().err
        assert server.requests > 0
    printed = capsys.readouterr().out
    assert f"forked {tmp_path / 'run'} at tick 60" in printed and "plans per tier: {'llm': " in printed, printed
    assert "; model share " in printed and "paced" not in printed, "a lockstep world is not paced"
    assert read_journal(tmp_path / "fork").header.forked_from is not None
    assert verify(tmp_path / "fork").ok


def test_a_realtime_world_resumes_paced_to_the_clock_with_its_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import chaos_server as chaos  # loaded by tests/conftest.py

    import engine._world
    from engine import Pacer
    from engine.cli import main

    with start_run(build_village, {"villagers": 3, "mode": "realtime"}, seed=1, out=tmp_path / "run") as run:
        with BatchExecutor(ScriptedClient(sample_answers(seed=2)), retry=RetryPolicy(max_attempts=1)) as executor:
            run.world.resource(Planner).attach(executor)
            run.world.run(30)
    paced: list[float] = []

    def pacer(seconds_per_tick: float, first_tick: int) -> Pacer:
        paced.append(seconds_per_tick)
        return Pacer(seconds_per_tick, first_tick)

    monkeypatch.setattr(engine._world, "Pacer", pacer)
    with chaos.ChaosServer() as server:
        argv = ["resume-planned", str(tmp_path / "run"), "--ticks", "60", "--llm", server.openai_url, "--speed", "30"]
        assert main(argv) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert paced == [pytest.approx((1 / 30) / 30)], "one pacer, a tick every dt / speed"
    assert "paced at 30x the clock" in printed and "; model share " in printed, printed
    assert verify(tmp_path / "run").ticks_checked == 90
