"""Fuzzing the answer parser: nothing a model (or a broken server) sends makes it raise, every
agent gets exactly one verdict, and whatever it accepts obeys the agent's snapshot."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import find, given, settings
from hypothesis import strategies as st

from ai import ActionStep, Tier, action_names
from ai.wire import AgentSnapshot, BatchOutcome, MapBounds, Rejection, RejectReason, SeenEntity, ValidPlan, parse_batch_response, view_of

BOUNDS = MapBounds(0, 0, 40, 30)
SNAPS = [
    AgentSnapshot(
        4, 0, 0, 1.0, 1.0, BOUNDS,
        enemies=(SeenEntity(8, 5, 5), SeenEntity(9, 6, 6)),
        objects=(SeenEntity(20, 3, 3, "cover"), SeenEntity(21, 3, 4, "medkit")),
    ),
    AgentSnapshot(7, 1, 0, 39.0, 29.0, BOUNDS, allies=(SeenEntity(12, 38, 28),), allowed=("move_to", "wait", "regroup")),
]
IDS = [4, 7]
FIELDS = ["act", "x", "y", "target", "cover", "ticks", "points", "agent_id", "steps"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=4), inner, max_size=4),
    max_leaves=30,
)
numbers = st.integers(-5, 50) | st.floats(-5, 50) | st.sampled_from([float("nan"), float("inf"), 10**40, True])
coords = st.integers(-2, 42) | st.floats(-1, 41)
ids = st.sampled_from([8, 9, 12, 20, 21, 99, 4, None])
# Mostly well-formed steps with values near the edges (so plans do get accepted), some junk.
plausible = st.one_of(
    st.fixed_dictionaries({"act": st.just("move_to"), "x": coords, "y": coords}),
    st.fixed_dictionaries({"act": st.sampled_from(["attack", "approach", "retreat"]), "target": ids}),
    st.fixed_dictionaries({"act": st.just("take_cover"), "cover": ids}),
    st.fixed_dictionaries({"act": st.just("wait"), "ticks": st.integers(-1, 700)}),
    st.fixed_dictionaries({"act": st.just("patrol"), "points": st.lists(st.tuples(coords, coords), max_size=9)}),
    st.fixed_dictionaries({"act": st.sampled_from(["scan", "regroup"])}),
)
junk = st.fixed_dictionaries(
    {"act": st.sampled_from([*action_names(), "fly", 3])},
    optional={
        "x": numbers, "y": numbers, "target": numbers | st.none(), "cover": numbers | st.none(),
        "ticks": numbers, "points": st.lists(st.lists(numbers, max_size=3), max_size=3), "junk": json_values,
    },
)
steps = plausible | junk
entries = st.fixed_dictionaries(
    {"agent_id": st.sampled_from([4, 7, 99, "A4", "7", None, 4.0]), "steps": st.lists(steps, max_size=4) | json_values}
)
answers = st.lists(entries, max_size=5).map(lambda plans: {"plans": plans}) | st.lists(entries, max_size=5)


def check(outcome: BatchOutcome) -> None:
    """The invariants of any outcome: one verdict per agent, in order, counted."""
    assert [r.agent_id for r in outcome.results] == IDS
    rejected = [r for r in outcome.results if isinstance(r, Rejection)]
    assert sum(outcome.counts.values()) == len(rejected) + outcome.counts[RejectReason.FOREIGN_ID]
    assert all(len(r.detail) <= 160 for r in rejected)


def obeys_snapshot(plan: ValidPlan, tier: Tier) -> bool:
    """What validation promises: offered actions, listed ids, points on the map."""
    view = view_of(next(s for s in SNAPS if s.agent_id == plan.agent_id), tier)
    listed = {e.id for e in (*view.enemies, *view.allies, *view.objects)} | {None}
    for step in plan.steps:
        assert isinstance(step, ActionStep) and step.act in view.permitted
        for name in ("target", "cover"):
            assert getattr(step, name, None) in listed
        points = [(getattr(step, "x", 0), getattr(step, "y", 0)), *getattr(step, "points", ())]
        assert all(BOUNDS.contains(x, y) for x, y in points)
    return 1 <= len(plan.steps) <= view.profile.max_steps


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text(text: str) -> None:
    check(parse_batch_response(text, IDS, SNAPS))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes(data: bytes) -> None:
    check(parse_batch_response(data, IDS, SNAPS))


@settings(max_examples=200, deadline=None)
@given(json_values, st.sampled_from(["", "```json\n", "ok: "]))
def test_any_json(value: Any, prefix: str) -> None:
    check(parse_batch_response(prefix + json.dumps(value), IDS, SNAPS))


@settings(max_examples=400, deadline=None)
@given(answers, st.sampled_from([Tier.LLM, Tier.SIMPLE_LLM]))
def test_plan_shaped_answers_are_accepted_only_when_they_obey_the_snapshot(answer: Any, tier: Tier) -> None:
    outcome = parse_batch_response(json.dumps(answer), IDS, SNAPS, tier=tier)
    check(outcome)
    assert all(obeys_snapshot(plan, tier) for plan in outcome.plans)


@settings(max_examples=200, deadline=None)
@given(answers, st.data())
def test_damaged_answers(answer: Any, data: st.DataObject) -> None:
    text = json.dumps(answer)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    damaged = text[:start] + data.draw(st.text(max_size=5)) + text[end:]
    outcome = parse_batch_response(damaged, IDS, SNAPS)
    check(outcome)
    assert all(obeys_snapshot(plan, Tier.LLM) for plan in outcome.plans)


def test_the_fuzzer_reaches_valid_multi_step_plans() -> None:
    """Guards the property above against passing vacuously (a generator that never makes a
    valid plan would check nothing)."""

    def multi_step(answer: Any) -> bool:
        return any(len(p.steps) > 1 for p in parse_batch_response(json.dumps(answer), IDS, SNAPS).plans)

    find(answers, multi_step, settings=settings(max_examples=1000, database=None))
