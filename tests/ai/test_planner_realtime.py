"""Realtime planning's bookkeeping: the opening wave, gap plans while agents wait, and
warming the server's prompt cache, checked on the arena with the scripted client."""

import json
import time
from collections import Counter
from pathlib import Path

from ai import BatchExecutor, Planner, RetryPolicy
from ai.clients import ScriptedClient, follow_schema
from ai.wire import system_prompt
from engine import start_run, verify
from examples.arena import build_arena
from tests.ai.test_planner import run_llm_arena
from tests.ai.test_planner_groups import still_guards


def plans(records: list[dict]) -> list[dict]:
    return [r for r in records if r["kind"] == "ai.assign_plan"]


def test_opening_orders_start_the_game_on_the_models_plans(tmp_path: Path) -> None:
    _, planner, records = run_llm_arena(
        tmp_path / "run", follow_schema, ticks=60, latency=(0.02, 0.02), concurrency=1,
        config={"mode": "realtime", "opening_orders": True, "agents_per_request": None, "squad_size": 5},
    )  # fmt: skip
    first: dict[int, dict] = {}
    for record in plans(records):
        first.setdefault(record["entity"], record)
    assert len(first) == 100
    assert {(r["t"], r["meta"]["tier"]) for r in first.values()} == {(1, "llm")}, "asked at the first tick, waited for, applied at the next"
    assert planner.stats.opening_wait_s >= 20 * 0.02, "20 squads, one request each, one at a time, 20 ms apiece"
    assert verify(tmp_path / "run").ok


def test_without_opening_orders_the_heuristic_covers_the_first_wave(tmp_path: Path) -> None:
    _, planner, records = run_llm_arena(
        tmp_path / "run", follow_schema, ticks=30, latency=(0.05, 0.05), concurrency=1,
        config={"mode": "realtime", "agents_per_request": None},
    )  # fmt: skip
    at_tick_1 = [r for r in plans(records) if r["t"] == 1]
    assert len(at_tick_1) == 100 and all(r["meta"]["tier"] == "heuristic" and r["meta"]["gap"] for r in at_tick_1)
    assert planner.stats.opening_wait_s == 0.0, "nothing waited for"


def test_an_agent_waiting_for_the_model_gets_one_plan_a_tick_and_is_asked_for_once(tmp_path: Path) -> None:
    """A gap plan journaled for an agent still waiting once marked it free again: it fell due
    and was covered twice in a tick, and asked for again while its request was out."""
    client = ScriptedClient(follow_schema, latency=(0.02, 0.05), seed=1)
    # Six guards who finish every plan a tick after it starts: while their model plans are
    # out, their gap plans end and are replaced every tick.
    with start_run(still_guards, {"guards": 6, "mode": "realtime", "cache_size": 0}, 0, tmp_path / "run") as run:
        with BatchExecutor(client, max_concurrency=1, retry=RetryPolicy(max_attempts=1)) as executor:
            run.world.resource(Planner).attach(executor)
            for _ in range(150):
                run.world.step()
                time.sleep(0.002)  # a few ticks per answer, as in a paced run
    records = [json.loads(line) for line in (tmp_path / "run" / "journal.jsonl").read_text().splitlines()[1:]]
    per_tick = Counter((r["entity"], r["t"]) for r in plans(records))
    assert max(per_tick.values()) == 1, [k for k, n in per_tick.items() if n > 1][:5]
    asked = [a for r in client.requests for a in (p["properties"]["agent_id"]["const"] for p in r.schema["properties"]["plans"]["prefixItems"])]
    llm = [r for r in plans(records) if r["meta"]["tier"] == "llm"]
    assert len(asked) > 12 and 0 <= len(asked) - len(llm) <= 6, "every ask answered but the last ones out"
    assert sum(1 for r in plans(records) if r["meta"].get("gap")) > 100, "agents did wait, with gap plans"
    assert verify(tmp_path / "run").ok


def test_warming_sends_one_request_per_slot_with_the_planners_own_system_prompt(tmp_path: Path) -> None:
    client = ScriptedClient(follow_schema)
    with start_run(build_arena, {"planner": "llm", "mode": "realtime", "wire": "lines", "squad_size": 5}, 0, tmp_path / "run") as run:
        planner = run.world.resource(Planner)
        with BatchExecutor(client, max_concurrency=3, retry=RetryPolicy(max_attempts=1)) as executor:
            planner.attach(executor)
            assert planner.warm(run.world) == 3
            assert executor.latency_stats().count == 0, "warming is not a job"
            run.world.run(1)
    warm, asked = client.requests[:3], client.requests[3:]
    profile = planner.config.profile(planner.config.tier_order[0])
    assert {r.system for r in warm} == {system_prompt(profile, "lines")} == {asked[0].system}
    assert all(r.max_tokens == 1 for r in warm) and run.world.tick == 1
