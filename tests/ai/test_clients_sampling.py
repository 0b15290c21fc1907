"""The sampling stand-in model answers any world's requests validly, over both wires, the
same for the same seed: checked on the arena's real requests, where every one of 100
agents' answers must pass the planner's own validation."""

from __future__ import annotations

import numpy as np
import pytest

from ai import BatchExecutor, Plan, Planner, RetryPolicy, Tier
from ai.clients import ScriptedClient, sample_answers, sample_grammar, sample_schema
from ai.wire import decode_lines
from engine import TickmindError
from examples.arena import build_arena


def run_arena(wire: str, seed: int) -> tuple[ScriptedClient, Planner, list[tuple[int, Plan]]]:
    world = build_arena({"planner": "llm", "wire": wire, "squad_size": 5}, 3)
    client = ScriptedClient(sample_answers(seed))
    planner = world.resource(Planner)
    with BatchExecutor(client, max_concurrency=4, max_pending=256, retry=RetryPolicy(max_attempts=1), timeout=10.0) as ex:
        planner.attach(ex)
        world.run(3)
    plans = list(world.get_component(Plan))
    world.close()
    return client, planner, plans


@pytest.mark.parametrize("wire", ["json", "lines"])
def test_every_sampled_answer_passes_validation(wire: str) -> None:
    client, planner, plans = run_arena(wire, seed=1)
    assert len(plans) == 100 and {plan.tier for _, plan in plans} == {Tier.LLM}
    assert sum(planner.stats.rejections.values()) == 0
    acts = {step.act for _, plan in plans for step in plan.steps}
    assert len(acts) >= 4, f"answers range over the offered actions, not one: {acts}"
    assert all((r.grammar is not None) == (wire == "lines") for r in client.requests)


def test_the_same_seed_answers_the_same_and_another_does_not() -> None:
    steps = [[p.steps for _, p in run_arena("lines", seed)[2]] for seed in (4, 4, 5)]
    assert steps[0] == steps[1]
    assert steps[0] != steps[2]


def test_grammar_features_and_their_limits() -> None:
    grammar = 'root ::= "a" [0-2]{2} ("x" | "y")? item+ "\\n"\nitem ::= [^a-z] | "-"'
    rng = np.random.default_rng(0)
    for _ in range(50):
        text = sample_grammar(grammar, rng)
        assert text[0] == "a" and set(text[1:3]) <= set("012") and text.endswith("\n"), text
    lines = decode_lines("1 move_to 3 4\n")
    assert lines == [{"agent_id": 1, "steps": [{"act": "move_to", "x": 3, "y": 4}]}]
    with pytest.raises(TickmindError, match="undefined rule 'nowhere'"):
        sample_grammar("root ::= nowhere", rng)
    with pytest.raises(TickmindError, match="never closed"):
        sample_grammar('root ::= ("a"', rng)


def test_schema_features() -> None:
    rng = np.random.default_rng(0)
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": 3, "maximum": 5},
            "pick": {"enum": [7, None]},
            "pair": {"type": "array", "prefixItems": [{"const": 1}, {"type": "number", "minimum": 0, "maximum": 1}]},
            "many": {"type": "array", "items": {"type": "boolean"}, "minItems": 1, "maxItems": 2},
        },
    }
    for _ in range(30):
        value = sample_schema(schema, rng)
        assert 3 <= value["n"] <= 5 and value["pick"] in (7, None) and value["pair"][0] == 1
        assert 0 <= value["pair"][1] <= 1 and 1 <= len(value["many"]) <= 2
