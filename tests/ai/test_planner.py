"""The planner: batched model requests, per-agent validation, fallback tiers, live modes —
and runs that replay exactly from the journal with no model at all.

The "model" is the scripted client answering through the same protocol and executor as a
real backend: ``follow_schema`` answers validly; the fault helpers edit its answers.
"""

import dataclasses
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ai import BatchExecutor, Plan, Planner, RetryPolicy, Tier
from ai.clients import (
    STALL,
    CompletionRequest,
    CompletionResult,
    LLMUnavailable,
    ScriptedClient,
    drop_agents,
    duplicate_agent,
    follow_schema,
    plans_json,
    truncated,
)
from engine import TickmindError, start_run, verify
from engine._hashfile import read_hashes
from examples.arena import build_arena


def tier_of(request: CompletionRequest) -> str:
    return request.request_id.rsplit("-", 1)[1]


def run_llm_arena(
    out: Path,
    script: Any,
    *,
    ticks: int = 30,
    seed: int = 3,
    config: dict | None = None,
    latency: tuple[float, float] | None = None,
    concurrency: int = 4,
    max_pending: int = 256,
) -> tuple[ScriptedClient, Planner, list[dict]]:
    client = ScriptedClient(script, latency=latency, seed=seed)
    settings = {"planner": "llm", **(config or {})}
    with start_run(build_arena, settings, seed, out) as run:
        planner = run.world.resource(Planner)
        # max_pending covers a whole wave even at one agent per request: back-pressure (tested
        # on its own below) depends on thread timing and would make runs differ.
        with BatchExecutor(
            client, max_concurrency=concurrency, max_pending=max_pending, retry=RetryPolicy(max_attempts=1), timeout=10.0
        ) as executor:
            planner.attach(executor)
            run.world.run(ticks)
    lines = (out / "journal.jsonl").read_text().splitlines()[1:]
    return client, planner, [json.loads(line) for line in lines]


def tiers(records: list[dict]) -> Counter[str]:
    """Plans per tier (ai.model_answer records, answers no plan carried, are not plans)."""
    return Counter(r["meta"]["tier"] for r in records if r["kind"] == "ai.assign_plan")


def test_batch_success_every_agent_gets_a_model_plan_in_batches(tmp_path: Path) -> None:
    client, planner, records = run_llm_arena(tmp_path / "run", follow_schema, ticks=2)
    first_wave = [r for r in records if r["t"] == 1]
    assert len(first_wave) == 100 and tiers(first_wave) == {"llm": 100}
    assert len(client.requests) == 25, "100 agents, 4 per request"
    assert all(r.schema is not None and len(r.schema["properties"]["plans"]["prefixItems"]) == 4 for r in client.requests)
    raws = [r for r in first_wave if "raw" in r["meta"]]
    assert len(raws) == 25, "the raw model text is journaled once per job"


def test_a_lockstep_wave_larger_than_the_request_queue_goes_through_the_model_in_rounds(tmp_path: Path) -> None:
    """25 jobs through a queue of 3: the planner settles its oldest job when the queue is full,
    so every agent still gets a model plan at the same tick, and the run is the run a queue
    holding the whole wave gives."""
    client, planner, records = run_llm_arena(tmp_path / "small", follow_schema, ticks=40, max_pending=3)
    first_wave = [r for r in records if r["t"] == 1]
    assert len(first_wave) == 100 and tiers(first_wave) == {"llm": 100}
    assert not [r for r in records if r["meta"].get("reason") == "queue_full"]
    run_llm_arena(tmp_path / "large", follow_schema, ticks=40)
    assert read_hashes(tmp_path / "small" / "hashes.tsv") == read_hashes(tmp_path / "large" / "hashes.tsv")
    assert verify(tmp_path / "small").ok


def test_runs_are_deterministic_over_three_runs(tmp_path: Path) -> None:
    hashes = []
    for i in range(3):
        run_llm_arena(tmp_path / f"run{i}", follow_schema, ticks=40)
        hashes.append(read_hashes(tmp_path / f"run{i}" / "hashes.tsv"))
    assert hashes[0] == hashes[1] == hashes[2]


def test_no_agent_due_means_no_request(tmp_path: Path) -> None:
    # After the first wave every agent has a running plan, and the armies start out of sight
    # of each other: ticks 1 and 2 have nobody due, so nothing more is asked.
    client, planner, _ = run_llm_arena(tmp_path / "run", follow_schema, ticks=3)
    assert len(client.requests) == 25
    assert planner.jobs_in_flight == 0


def test_partial_failure_only_the_bad_agents_fall_through(tmp_path: Path) -> None:
    def script(request: CompletionRequest) -> str:
        answer = follow_schema(request)
        if tier_of(request) == "llm":
            first = json.loads(answer)["plans"][0]["agent_id"]
            return drop_agents(answer, [first])
        return answer

    _, planner, records = run_llm_arena(tmp_path / "run", script, ticks=2)
    wave = [r for r in records if r["t"] == 1]
    assert tiers(wave) == {"llm": 75, "simple_llm": 25}
    assert planner.stats.rejections["missing"] == 25


def test_duplicated_ids_reject_that_agent_alone(tmp_path: Path) -> None:
    def script(request: CompletionRequest) -> str:
        answer = follow_schema(request)
        if tier_of(request) != "llm":
            return answer
        first = json.loads(answer)["plans"][0]["agent_id"]
        return duplicate_agent(answer, first, [{"act": "wait", "ticks": 5}])

    _, planner, records = run_llm_arena(tmp_path / "run", script, ticks=2)
    assert tiers([r for r in records if r["t"] == 1]) == {"llm": 75, "simple_llm": 25}
    assert planner.stats.rejections["duplicate"] == 25


def test_invalid_json_sends_the_whole_batch_to_the_next_tier(tmp_path: Path) -> None:
    def script(request: CompletionRequest) -> str:
        if tier_of(request) == "llm":
            return "Sure! Here are the plans: {plans: [oops"
        return follow_schema(request)

    _, planner, records = run_llm_arena(tmp_path / "run", script, ticks=2)
    assert tiers([r for r in records if r["t"] == 1]) == {"simple_llm": 100}
    assert planner.stats.rejections["not_json"] == 100


def test_a_cut_off_answer_keeps_its_complete_plans(tmp_path: Path) -> None:
    def script(request: CompletionRequest) -> str:
        answer = follow_schema(request)
        return truncated(answer, 0.3) if tier_of(request) == "llm" else answer

    _, planner, records = run_llm_arena(tmp_path / "run", script, ticks=2)
    assert tiers([r for r in records if r["t"] == 1]) == {"llm": 25, "simple_llm": 75}
    assert planner.stats.rejections["missing"] == 75


def test_tier_progression_to_heuristic_and_emergency(tmp_path: Path) -> None:
    down = LLMUnavailable("scripted outage", backend="scripted", url="scripted://", request_id="x")
    _, planner, records = run_llm_arena(tmp_path / "run", lambda request: down, ticks=2)
    wave = [r for r in records if r["t"] == 1]
    assert tiers(wave) == {"heuristic": 100}
    assert all(r["meta"]["fallback_from"] == "simple_llm" for r in wave)
    assert planner.stats.job_errors["LLMUnavailable"] == 50, "25 full and 25 simplified jobs failed"


def test_llm_failure_goes_straight_to_heuristic_without_a_simplified_tier(tmp_path: Path) -> None:
    from ai import PlannerConfig, Policies

    down = LLMUnavailable("scripted outage", backend="scripted", url="scripted://", request_id="x")
    world = build_arena({"planner": "none"}, 3)
    calls: list[int] = []

    def broken(world_: Any, entity: int) -> list[Any]:
        calls.append(entity)
        raise RuntimeError("a buggy heuristic")

    from examples.arena import arena_snapshots, emergency_plan

    planner = Planner(
        Policies(heuristic=broken, emergency=emergency_plan),
        snapshots=arena_snapshots(),
        config=PlannerConfig(llm_tiers=(Tier.LLM,)),
    )
    world.add_system(planner, stage="ai", name="planner", before=["execute_steps"])
    with BatchExecutor(ScriptedClient(lambda r: down), retry=RetryPolicy(max_attempts=1)) as executor:
        planner.attach(executor)
        world.run(2)
    assert {plan.tier for _, plan in world.get_component(Plan)} == {Tier.EMERGENCY}
    assert planner.stats.policy_errors == len(calls) == 100
    world.close()


def test_batch_and_single_agent_requests_give_the_same_run(tmp_path: Path) -> None:
    run_llm_arena(tmp_path / "k4", follow_schema, ticks=60, config={"agents_per_request": 4})
    client, _, _ = run_llm_arena(tmp_path / "k1", follow_schema, ticks=60, config={"agents_per_request": 1})
    assert read_hashes(tmp_path / "k4" / "hashes.tsv") == read_hashes(tmp_path / "k1" / "hashes.tsv")
    assert len(client.requests) >= 100


def test_a_stalled_server_holds_agents_in_the_planner_not_in_the_request_queue(tmp_path: Path) -> None:
    """Realtime back-pressure: no more jobs than request slots; the other agents wait in the
    planner (one entry each, so memory is bounded by the agent count) on heuristic gap plans."""
    client = ScriptedClient(lambda request: STALL)
    with start_run(build_arena, {"planner": "llm", "mode": "realtime", "agents_per_request": 1}, 3, tmp_path / "run") as run:
        planner = run.world.resource(Planner)
        with BatchExecutor(client, max_concurrency=2, max_pending=8, timeout=60.0) as executor:
            planner.attach(executor)
            run.world.run(30)
            assert executor.pending == 1 and planner.waiting == 99  # the wave waits for its lead
            planner.config = dataclasses.replace(planner.config, lead_patience_ticks=60)
            run.world.run(60)  # ... for lead_patience_ticks at most: a stalled lead holds nobody back
            assert executor.pending == 2 and planner.jobs_in_flight == 2
            assert planner.waiting == 98
    records = [json.loads(line) for line in (tmp_path / "run" / "journal.jsonl").read_text().splitlines()[1:]]
    covered = {r["entity"] for r in records if r["meta"].get("gap")}
    assert len(covered) == 100 and {r["meta"]["tier"] for r in records} == {"heuristic"}
    assert not [r for r in records if r["meta"].get("reason") == "queue_full"]
    assert verify(tmp_path / "run").ok


def test_a_wave_on_an_idle_server_sends_one_agent_ahead_then_the_rest(tmp_path: Path) -> None:
    _, _, records = run_llm_arena(
        tmp_path / "run", follow_schema, ticks=60, config={"mode": "realtime", "agents_per_request": None},
        latency=(0.05, 0.05), concurrency=4,
    )  # fmt: skip
    jobs = sorted({r["meta"]["job"] for r in records if r["meta"].get("tier") == "llm"})
    per_job = Counter(r["meta"]["job"] for r in records if r["meta"].get("tier") == "llm")
    lead_plan = min(r["t"] for r in records if r["meta"].get("job") == jobs[0])
    assert per_job[jobs[0]] == 1 and int(jobs[1][1:10]) >= lead_plan - 1, (jobs[:3], lead_plan)
    assert verify(tmp_path / "run").ok


def test_waiting_agents_go_out_together_when_a_slot_frees(tmp_path: Path) -> None:
    """A serialising server (one slot) gets the agents that fell due meanwhile in one request."""
    _, planner, records = run_llm_arena(
        tmp_path / "run", follow_schema, ticks=90, config={"mode": "realtime", "agents_per_request": None},
        latency=(0.05, 0.05), concurrency=1,
    )
    sizes = Counter(r["meta"]["job"] for r in records if r["meta"].get("tier") == "llm")
    # After the lead agent, the wave fills the one slot with 25 agents (the cap); the rest wait
    # and go out together as the slot frees, never as a queue of one-agent requests. (How many
    # fell due by then depends on how fast the ticks ran, so only the first is exact.)
    largest = sorted(sizes.values(), reverse=True)[:3]
    assert largest[0] == 25 and min(largest) >= 10, sizes
    assert verify(tmp_path / "run").ok


def test_100_agents_100_ticks_replay_with_no_client(tmp_path: Path) -> None:
    client, planner, records = run_llm_arena(tmp_path / "run", follow_schema, ticks=100)
    assert tiers(records)["llm"] >= 100
    report = verify(tmp_path / "run")  # rebuilds the world; the planner never asks anyone
    assert report.ok, report.format()
    assert report.ticks_checked == 100


def test_realtime_mode_with_random_latencies_replays_from_its_journal(tmp_path: Path) -> None:
    """Latencies up to 0.3 s span several ticks however fast this machine runs them (with
    0.03 s, a loaded machine's slow ticks delivered every answer after the same two)."""
    _, planner, records = run_llm_arena(
        tmp_path / "run", follow_schema, ticks=120, config={"mode": "realtime"}, latency=(0.0, 0.3)
    )
    llm = [r for r in records if r["meta"].get("tier") == "llm"]
    submit_ticks = [int(r["meta"]["job"][1:10]) for r in llm]
    delays = {r["t"] - s for r, s in zip(llm, submit_ticks)}
    assert len(delays) > 1, "plans arrived after varying numbers of ticks"
    assert planner.stats.gap_plans == 100, "every idle agent was covered while the model thought"
    report = verify(tmp_path / "run")
    assert report.ok, report.format()


def test_a_live_llm_planner_without_an_executor_says_how_to_fix_it() -> None:
    world = build_arena({"planner": "llm"}, 0)
    with pytest.raises(TickmindError, match=r"planner.attach\(BatchExecutor"):
        world.step()
    world.close()


class SecondsPerAgentClient:
    """Answers validly at once, but reports each request as taking ``per_agent`` s an agent."""

    backend = "paced"

    def __init__(self, per_agent: float) -> None:
        self.per_agent = per_agent
        self.sizes: list[int] = []

    async def complete(self, request: CompletionRequest, *, on_text: Any = None) -> CompletionResult:
        agents = len(request.user.splitlines()) - 1  # a header line, then one line an agent
        self.sizes.append(agents)
        text = follow_schema(request)
        if on_text is not None:
            on_text(text)
        return CompletionResult(text=text, prompt_tokens=1, completion_tokens=1, model="m", total_s=self.per_agent * agents)

    async def aclose(self) -> None:
        pass


def test_realtime_requests_shrink_to_the_latency_target(tmp_path: Path) -> None:
    """At 1 s an agent and the default 5 s target, requests after the first answers carry 5."""
    client = SecondsPerAgentClient(per_agent=1.0)
    config = {"planner": "llm", "mode": "realtime", "agents_per_request": None}
    with start_run(build_arena, config, 3, tmp_path / "run") as run:
        planner = run.world.resource(Planner)
        with BatchExecutor(client, max_concurrency=1, max_pending=256, timeout=10.0) as executor:
            planner.attach(executor)
            for _ in range(400):
                run.world.step()
                if len(client.sizes) >= 7:
                    break
    assert client.sizes[0] == 1, client.sizes  # the lead, which teaches the pace: 1 s an agent
    assert client.sizes[1:6] == [5, 5, 5, 5, 5], client.sizes
    assert verify(tmp_path / "run").ok


def regroup_everyone(request: CompletionRequest) -> str:
    """A model that answers every agent with a lone regroup: at spawn an ally stands within
    reach, so each such plan ends on the tick it starts."""
    entries = (request.schema or {})["properties"]["plans"]["prefixItems"]
    return plans_json({e["properties"]["agent_id"]["const"]: [{"act": "regroup"}] for e in entries})


def test_plans_that_end_at_once_are_followed_by_the_heuristic_not_the_model(tmp_path: Path) -> None:
    """Lockstep asked the model for the same agents every other tick (the world waited on it
    each time); in the arena's lockstep LLM planner a plan that ends within 30 ticks of its
    assignment is followed by a heuristic one, so no agent stands idle either. Realtime keeps
    0: the world never waits there, and gap plans keep agents busy."""
    quick, _, quick_records = run_llm_arena(tmp_path / "quick", regroup_everyone, ticks=40, config={"min_plan_ticks": 0})
    calm, _, calm_records = run_llm_arena(tmp_path / "calm", regroup_everyone, ticks=40)
    per_agent = Counter(r["entity"] for r in calm_records if r["meta"].get("tier") == "llm")
    assert set(per_agent.values()) == {1}, "tick 0's wave only: each regroup ended at once"
    early = [r for r in calm_records if r["meta"].get("reason") == "plan_ended_early"]
    assert len(early) == 100 and {r["meta"]["tier"] for r in early} == {"heuristic"}
    assert len(quick.requests) > 5 * len(calm.requests)
    assert verify(tmp_path / "calm").ok
    realtime = build_arena({"planner": "llm", "mode": "realtime"}, 0)
    assert realtime.resource(Planner).config.min_plan_ticks == 0
    realtime.close()


def test_a_lockstep_tick_waits_as_long_as_the_request_timeout_allows(tmp_path: Path) -> None:
    """The lockstep wait (120 s by default) cut requests given longer (--llm-timeout 200):
    they timed out in the planner while the executor still waited for the answer."""
    client = ScriptedClient(follow_schema, latency=(0.3, 0.3), seed=1)
    with start_run(build_arena, {"planner": "llm", "agents": 8}, 1, tmp_path / "run") as run:
        planner = run.world.resource(Planner)
        planner.config = dataclasses.replace(planner.config, lockstep_timeout=0.05)
        with BatchExecutor(client, max_concurrency=2, retry=RetryPolicy(max_attempts=1), timeout=5.0) as executor:
            planner.attach(executor)
            run.world.run(2)
    records = [json.loads(line) for line in (tmp_path / "run" / "journal.jsonl").read_text().splitlines()[1:]]
    assert tiers(records) == {"llm": 8}


def test_every_model_answer_is_journaled_once_even_when_its_plans_all_streamed(tmp_path: Path) -> None:
    """Realtime plans go out as their entries close in the stream; an answer whose plans all
    did so was journaled nowhere (no raw text, latency or tokens for the summary or plots)."""
    from engine import read_journal
    from examples.arena._summary_tally import PlanTally

    _, planner, records = run_llm_arena(
        tmp_path / "run", follow_schema, ticks=90, config={"mode": "realtime", "agents_per_request": 1}, latency=(0.0, 0.02)
    )
    streamed = [r for r in records if r["meta"].get("streamed")]
    assert streamed and all("raw" not in r["meta"] for r in streamed)
    answers = Counter(r["meta"]["job"] for r in records if "raw" in r["meta"])
    assert set(answers.values()) == {1} and len(answers) == planner.stats.jobs - sum(planner.stats.job_errors.values())
    assert {r["meta"]["job"] for r in streamed} <= set(answers), "each streamed plan's answer is in the journal"
    tally = PlanTally.from_journal(read_journal(tmp_path / "run" / "journal.jsonl").records)
    assert len(tally.latencies_s) == len(answers)
    assert verify(tmp_path / "run").ok
