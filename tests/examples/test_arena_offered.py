"""The arena offers its model exactly the actions it executes.

The action registry is process-wide, so an action registered by another module (or test)
must not reach the arena's prompt, schema or grammar — a plan naming it could only fail at
execution — while an action the arena is given an executor for must be offered. Each test
registers its own action; tests/conftest.py restores the registry, and the ``executors``
fixture below restores the arena's executor table.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, ClassVar, Literal

import pytest

from ai import FULL_TIER, SIMPLE_TIER, ActionStep, BatchExecutor, Perception, Plan, Planner, RetryPolicy, Tier, register_action
from ai.clients import CompletionRequest, ScriptedClient, follow_schema, plans_json
from ai.wire import Rejection, RejectReason, build_snapshot, parse_batch_response, system_prompt, view_of
from engine import World
from examples.arena import Health, _execution, arena_snapshots, arena_tiers, build_arena, register_executor
from examples.arena._execution import StepContext, executed_actions
from examples.arena._world import SOLO_EXAMPLES

#: The arena's own executors, in registration order (examples/arena/_execution.py).
CORE = ("move_to", "approach", "retreat", "take_cover", "attack", "engage", "advance", "wait", "scan", "patrol", "regroup")


class Dig(ActionStep):
    """A user action; registered per test (never at import, which would leak it)."""

    act: Literal["dig"] = "dig"
    depth: int = 1
    summary: ClassVar[str] = "dig a hole `depth` metres deep"


@pytest.fixture
def executors(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``register_executor`` writes to a copy of the table for this test only."""
    monkeypatch.setattr(_execution, "_executors", _execution._executors.copy())
    yield


@pytest.fixture
def dig(executors: None) -> type[ActionStep]:
    return register_action(Dig)


def run_arena(script: Any, *, wire: str = "json", ticks: int = 2) -> tuple[ScriptedClient, Planner, World]:
    """An LLM-planned arena (100 agents, 4 a request) run ``ticks`` ticks on a scripted model."""
    world = build_arena({"planner": "llm", "wire": wire}, 3)
    client = ScriptedClient(script)
    planner = world.resource(Planner)
    with BatchExecutor(client, max_concurrency=4, max_pending=256, retry=RetryPolicy(max_attempts=1), timeout=10.0) as ex:
        planner.attach(ex)
        world.run(ticks)
    return client, planner, world


def tier_of(request: CompletionRequest) -> str:
    return request.request_id.rsplit("-", 1)[1]


def schema_acts(request: CompletionRequest) -> set[str]:
    assert request.schema is not None
    return set(re.findall(r'"act": \{"const": "([a-z_]+)"\}', json.dumps(request.schema)))


def answer_every_agent_with(step: dict[str, Any], tier: str) -> Any:
    """A scripted model writing ``step`` for every agent of ``tier``'s requests (schema-valid
    answers otherwise)."""

    def script(request: CompletionRequest) -> str:
        if tier_of(request) != tier:
            return follow_schema(request)
        agents = [entry["agent_id"] for entry in json.loads(follow_schema(request))["plans"]]
        return plans_json({agent: [step] for agent in agents})

    return script


def test_the_arena_offers_exactly_what_it_executes() -> None:
    full, simple = arena_tiers()
    assert executed_actions() == CORE
    assert full.action_names() == CORE
    assert set(simple.action_names()) <= set(CORE)
    assert simple.action_names() == SIMPLE_TIER.action_names()


def test_registering_an_action_does_not_change_what_the_arena_offers(dig: type[ActionStep]) -> None:
    assert "dig" in FULL_TIER.action_names(), "the library tier offers every registered action"
    full, simple = arena_tiers()
    assert full.action_names() == executed_actions() == CORE
    assert "dig" not in simple.action_names()
    arena_full = replace(FULL_TIER, actions=CORE, examples=SOLO_EXAMPLES)
    assert arena_full == build_arena({"planner": "llm"}, 3).resource(Planner).config.profile(Tier.LLM)


def test_the_arena_model_is_never_sent_an_unexecuted_action(dig: type[ActionStep]) -> None:
    def script(request: CompletionRequest) -> str:
        return follow_schema(request) if tier_of(request) == "simple_llm" else "no plans"  # both tiers asked

    client, _, world = run_arena(script)
    world.close()
    prompts = {tier_of(r): r.system for r in client.requests}
    assert prompts == {
        "llm": system_prompt(replace(FULL_TIER, actions=CORE, examples=SOLO_EXAMPLES)),
        "simple_llm": system_prompt(replace(SIMPLE_TIER, examples=SOLO_EXAMPLES)),
    }
    assert '"dig"' in system_prompt(FULL_TIER), "the library's own prompt does offer it"
    for request in client.requests:
        offered = CORE if tier_of(request) == "llm" else SIMPLE_TIER.action_names()
        acts = schema_acts(request)
        assert acts and acts <= set(offered), (tier_of(request), acts)
        assert "dig" not in request.user


def test_the_arena_grammar_never_offers_an_unexecuted_action(dig: type[ActionStep]) -> None:
    client, _, world = run_arena(lambda request: "", wire="lines")
    world.close()
    grammars = [r.grammar for r in client.requests]
    assert grammars and all(g is not None and '("move_to" ' in g for g in grammars)
    assert not [g for g in grammars if g is not None and '"dig"' in g]


def test_an_executor_for_a_user_action_gets_it_offered_and_run(dig: type[ActionStep]) -> None:
    dug: list[int] = []

    def execute_dig(sc: StepContext, step: Dig) -> None:
        dug.append(sc.entity)
        sc.plan.advance(sc.tick)

    register_executor(Dig, execute_dig)  # type: ignore[arg-type]
    full, simple = arena_tiers()
    assert full.action_names() == (*CORE, "dig")
    assert simple.action_names() == SIMPLE_TIER.action_names(), "the short tier keeps its short list"

    client, planner, world = run_arena(answer_every_agent_with({"act": "dig", "depth": 2}, "llm"))
    plans = [plan for _, plan in world.get_component(Plan)]
    world.close()
    assert all('{"act":"dig","depth":DEPTH}' in r.system for r in client.requests if tier_of(r) == "llm")
    assert all("dig" in schema_acts(r) for r in client.requests if tier_of(r) == "llm")
    assert len(plans) == 100 and {plan.tier for plan in plans} == {Tier.LLM}
    assert sum(planner.stats.rejections.values()) == 0
    assert len(set(dug)) == 100, "every agent's dig step reached the user's executor"


def test_a_registered_but_unexecuted_action_is_rejected_by_name(dig: type[ActionStep]) -> None:
    world = build_arena({"planner": "none"}, 3)
    world.step()
    agent = next(entity for entity, _ in world.get_component(Health))
    snapshot = build_snapshot(world, agent, config=arena_snapshots())
    world.close()
    answer = plans_json({agent: [{"act": "dig", "depth": 1}]})
    full, simple = arena_tiers()
    for profile in (full, simple):
        verdict = parse_batch_response(answer, [agent], [snapshot], tier=profile).result_for(agent)
        assert isinstance(verdict, Rejection)
        assert verdict.reason_code is RejectReason.ACTION_NOT_ALLOWED
        assert verdict.detail == f"step 1: action 'dig' is not offered by tier {profile.tier.value}"
    assert not isinstance(parse_batch_response(answer, [agent], [snapshot]).result_for(agent), Rejection)


def test_a_model_writing_an_unexecuted_action_falls_back_like_any_invalid_plan(dig: type[ActionStep]) -> None:
    _, planner, world = run_arena(answer_every_agent_with({"act": "dig", "depth": 1}, "llm"))
    tiers = {plan.tier for _, plan in world.get_component(Plan)}
    stalled = [e for e, plan in world.get_component(Plan) if plan.reason.startswith("no executor")]
    world.close()
    assert planner.stats.rejections == {"action_not_allowed": 100}
    assert tiers == {Tier.SIMPLE_LLM}
    assert stalled == []


def test_a_unit_in_sight_of_the_enemy_is_offered_no_calm_orders() -> None:
    """A calm step in sight of an enemy is replanned at once, so the model is not offered one
    there: its ``scan`` would only hand the unit to the heuristic while it is asked again."""
    world = build_arena({"planner": "heuristic"}, 3)
    config = arena_snapshots()
    in_contact: list[int] = []
    while not in_contact:
        world.step()
        in_contact = [e for e, seen in world.get_component(Perception) if seen.enemies]
    calm = [e for e, seen in world.get_component(Perception) if not seen.enemies]
    full, _ = arena_tiers()
    fighting = build_snapshot(world, in_contact[0], config=config)
    quiet = build_snapshot(world, calm[0], config=config)
    world.close()
    assert set(view_of(fighting, full).permitted) == set(CORE) - {"move_to", "advance", "scan", "wait"}
    assert view_of(quiet, full).permitted == CORE
    answer = plans_json({in_contact[0]: [{"act": "scan"}]})
    verdict = parse_batch_response(answer, [in_contact[0]], [fighting], tier=full).result_for(in_contact[0])
    assert isinstance(verdict, Rejection) and verdict.reason_code is RejectReason.ACTION_NOT_ALLOWED
