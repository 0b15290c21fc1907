"""Run metrics: the counts match what the executor and planner did, the summary is a stable,
JSON-ready document, and it is written atomically.

Runs go through the real pipeline: the arena's planner, a real BatchExecutor on its thread,
and the scripted client answering through the client protocol.
"""

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ai import BatchExecutor, Planner, RetryPolicy, RunMetrics, write_summary
from ai.clients import (
    STALL,
    CircuitBreaker,
    CircuitOpen,
    CompletionRequest,
    CompletionResult,
    LLMBadResponse,
    LLMTimeout,
    LLMUnavailable,
    RecordingSleep,
    ScriptedClient,
    drop_agents,
    follow_schema,
)
from ai.clients._protocol import estimate_tokens
from ai.llm import BatchJob, JobResult, JobStatus
from engine import TickmindError, start_run
from examples.arena import build_arena

SUMMARY_KEYS = {
    "version", "requests", "latency_s", "ttfb_s", "tokens", "batch_agents",
    "parse", "plans", "queue", "circuit", "server",
}  # fmt: skip
SERIES_KEYS = {"count", "sum", "mean", "p50", "p95", "max", "buckets"}


def tier_of(request: CompletionRequest) -> str:
    return request.request_id.rsplit("-", 1)[1]


def agents_in(request: CompletionRequest) -> int:
    assert request.schema is not None
    return len(request.schema["properties"]["plans"]["prefixItems"])


def run_with_metrics(
    out: Path, script: Any, *, ticks: int = 2, config: dict | None = None, **executor: Any
) -> tuple[RunMetrics, ScriptedClient, Planner, list[dict]]:
    metrics = RunMetrics()
    client = ScriptedClient(script, seed=3, latency=executor.pop("latency", None))
    options = {"max_concurrency": 4, "max_pending": 256, "retry": RetryPolicy(max_attempts=1), "timeout": 10.0, **executor}
    with start_run(build_arena, {"planner": "llm", **(config or {})}, 3, out) as run:
        planner = run.world.resource(Planner)
        planner.metrics = metrics
        with BatchExecutor(client, metrics=metrics, **options) as ex:
            planner.attach(ex)
            run.world.run(ticks)
    records = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()[1:]]
    return metrics, client, planner, records


def drop_first_at_full_tier(request: CompletionRequest) -> str:
    answer = follow_schema(request)
    if tier_of(request) == "llm":
        return drop_agents(answer, [json.loads(answer)["plans"][0]["agent_id"]])
    return answer


def test_counts_match_a_run_with_a_partial_failure(tmp_path: Path) -> None:
    metrics, client, planner, records = run_with_metrics(tmp_path / "run", drop_first_at_full_tier)
    summary = metrics.summary()

    requests = summary["requests"]
    assert requests == {"total": 50, "ok": 50, "failed": 0, "timed_out": 0, "cancelled": 0, "attempts": 50, "errors": {}}
    assert requests["total"] == client.calls

    journal_tiers = Counter(r["meta"].get("tier") for r in records)
    assert summary["plans"]["by_tier"] == {"llm": 75, "simple_llm": 25, "heuristic": 0, "emergency": 0, "cache": 0}
    assert summary["plans"]["by_tier"] == {t: journal_tiers[t] for t in summary["plans"]["by_tier"]}
    assert summary["plans"]["total"] == len(records) == sum(planner.stats.plans.values())

    parse = summary["parse"]
    assert (parse["valid"], parse["rejected"], parse["valid_rate"]) == (100, 25, 0.8)
    assert parse["by_reason"]["missing"] == 25 == planner.stats.rejections["missing"]
    assert sum(parse["by_reason"].values()) == 25

    prompt = sum(estimate_tokens(r.system) + estimate_tokens(r.user) for r in client.requests)
    assert summary["tokens"]["prompt"] == prompt
    assert summary["tokens"]["total"] == prompt + summary["tokens"]["completion"]
    assert summary["tokens"]["completion"] > 0

    sizes = Counter(agents_in(r) for r in client.requests)
    assert sizes == {4: 25, 1: 25}, "25 full-tier requests of 4 agents, each dropped agent asked alone"
    batch = summary["batch_agents"]
    assert (batch["count"], batch["sum"], batch["max"]) == (50, 125.0, 4.0)
    assert batch["buckets"]["1.0"] == 25 and batch["buckets"]["2.0"] == 25 and batch["buckets"]["4.0"] == 50

    latency = summary["latency_s"]
    assert latency["count"] == 50 == summary["ttfb_s"]["count"]
    assert 0.0 < latency["p50"] <= latency["p95"] <= latency["max"]
    assert latency["buckets"]["+Inf"] == 50
    assert summary["queue"]["samples"] == 2, "one sample per tick"
    assert summary["circuit"] == {"state": None, "trips": 0}


def test_failed_jobs_count_attempts_and_error_kinds_and_agents_fall_to_heuristic(tmp_path: Path) -> None:
    down = LLMUnavailable("scripted outage", backend="scripted", url="scripted://", request_id="x")
    metrics, client, planner, _ = run_with_metrics(
        tmp_path / "run", lambda request: down, retry=RetryPolicy(max_attempts=2), sleep=RecordingSleep()
    )
    summary = metrics.summary()
    assert summary["requests"]["failed"] == 50 == summary["requests"]["total"]
    assert summary["requests"]["attempts"] == 100 == client.calls, "every job retried once"
    assert summary["requests"]["errors"] == {"LLMUnavailable": 50} == dict(planner.stats.job_errors)
    assert summary["plans"]["by_tier"]["heuristic"] == 100
    assert summary["parse"] == {**summary["parse"], "valid": 0, "rejected": 0, "valid_rate": None}
    assert summary["latency_s"]["count"] == 0 and summary["latency_s"]["p95"] == 0.0
    assert summary["tokens"] == {"prompt": 0, "completion": 0, "total": 0}


def test_an_opened_breaker_shows_its_state_and_trips(tmp_path: Path) -> None:
    down = LLMUnavailable("scripted outage", backend="scripted", url="scripted://", request_id="x")
    breaker = CircuitBreaker(failure_threshold=3, cooldown=3600.0)
    metrics, _, _, _ = run_with_metrics(tmp_path / "run", lambda request: down, breaker=breaker)
    summary = metrics.summary()
    assert summary["circuit"] == {"state": "open", "trips": 1}
    errors = summary["requests"]["errors"]
    assert set(errors) == {"LLMUnavailable", "CircuitOpen"} and sum(errors.values()) == 50
    assert errors["LLMUnavailable"] >= 3


def test_streamed_plans_count_as_valid_verdicts_in_realtime_mode(tmp_path: Path) -> None:
    metrics, _, planner, records = run_with_metrics(
        tmp_path / "run", follow_schema, ticks=30, config={"mode": "realtime"}, latency=(0.0, 0.02)
    )
    summary = metrics.summary()
    streamed = sum(1 for r in records if r["meta"].get("streamed"))
    assert streamed > 0, "the stream handed plans over before their batch ended"
    by_tier = summary["plans"]["by_tier"]
    assert summary["parse"]["valid"] == by_tier["llm"] + by_tier["simple_llm"] >= 100
    assert by_tier == {t: planner.stats.plans[t] for t in by_tier}
    assert by_tier["heuristic"] == planner.stats.gap_plans == 100
    assert summary["queue"]["samples"] == 30


def test_queue_depth_is_sampled_each_tick(tmp_path: Path) -> None:
    metrics, _, _, _ = run_with_metrics(
        tmp_path / "run",
        STALL,
        config={"mode": "realtime", "agents_per_request": 1, "lead_request": False},
        max_concurrency=2,
        max_pending=8,
        timeout=60.0,
    )
    queue = metrics.summary()["queue"]
    # Realtime back-pressure: never more jobs than slots (the other agents wait in the planner).
    assert (queue["samples"], queue["depth_last"], queue["depth_max"], queue["depth_mean"]) == (2, 2, 2, 2.0)
    assert queue["in_flight_max"] <= 2
    assert metrics.summary()["requests"]["cancelled"] == 2, "stopping the executor cancelled the stalled jobs"


def test_timed_out_and_cancelled_jobs_are_counted_by_status() -> None:
    metrics = RunMetrics()
    request = CompletionRequest(request_id="r", system="s", user="u", max_tokens=8)
    executor = BatchExecutor(ScriptedClient(STALL), metrics=metrics).start()
    try:
        executor.submit(BatchJob(job_id="a", request=request, agent_ids=(1, 2), submit_tick=0))
        [late] = executor.wait(["a"], timeout=0.01)
        assert late.status is JobStatus.TIMED_OUT
        executor.submit(BatchJob(job_id="b", request=request, agent_ids=(3,), submit_tick=0))
    finally:
        executor.stop()
    summary = metrics.summary()
    assert {k: summary["requests"][k] for k in ("total", "ok", "timed_out", "cancelled")} == {
        "total": 2, "ok": 0, "timed_out": 1, "cancelled": 1,
    }  # fmt: skip
    assert summary["requests"]["errors"] == {"LLMTimeout": 1}, "a job cancelled at shutdown is not an error"
    assert summary["batch_agents"]["sum"] == 3.0


def test_summary_is_json_ready_with_the_documented_keys() -> None:
    empty = RunMetrics().summary()
    assert set(empty) == SUMMARY_KEYS
    for key in ("latency_s", "ttfb_s", "batch_agents"):
        assert set(empty[key]) == SERIES_KEYS
        assert list(empty[key]["buckets"])[-1] == "+Inf"
    assert set(empty["requests"]) == {"total", "ok", "failed", "timed_out", "cancelled", "attempts", "errors"}
    assert set(empty["tokens"]) == {"prompt", "completion", "total"}
    assert set(empty["parse"]) == {"valid", "rejected", "valid_rate", "by_reason"}
    assert "not_json" in empty["parse"]["by_reason"] and "target_not_visible" in empty["parse"]["by_reason"]
    assert set(empty["plans"]["by_tier"]) == {"llm", "simple_llm", "heuristic", "emergency", "cache"}
    assert set(empty["queue"]) == {
        "samples", "depth_last", "depth_max", "depth_mean", "in_flight_last", "in_flight_max", "in_flight_mean",
    }  # fmt: skip
    assert empty["circuit"] == {"state": None, "trips": 0}
    assert json.loads(json.dumps(empty, allow_nan=False)) == empty


def test_write_summary_is_atomic_and_refuses_extras_that_are_not_json(tmp_path: Path) -> None:
    metrics = RunMetrics()
    metrics.record_plan("heuristic")
    path = write_summary(tmp_path / "metrics.json", metrics, {"scenario": "arena", "seed": 3})
    written = json.loads(path.read_text())
    assert written["run"] == {"scenario": "arena", "seed": 3}
    assert written["plans"]["by_tier"]["heuristic"] == 1
    assert {k: v for k, v in written.items() if k != "run"} == metrics.summary()

    with pytest.raises(TickmindError, match=r"metrics\.json.*not JSON-ready"):
        write_summary(path, metrics, {"started": object()})
    assert json.loads(path.read_text()) == written, "a failed write leaves the old file whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"], "no temporary file left behind"
    with pytest.raises(TickmindError, match="does not exist"):
        write_summary(tmp_path / "missing" / "metrics.json", metrics, {})


def test_without_prometheus_client_the_summary_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # makes the import fail
    metrics = RunMetrics()
    assert metrics.registry is None
    metrics.record_plan("llm")
    assert metrics.summary()["plans"]["by_tier"]["llm"] == 1
    with pytest.raises(TickmindError, match=r"tickmind\[metrics\]"):
        metrics.serve_metrics()



def test_the_server_state_follows_the_jobs_outcomes() -> None:
    metrics = RunMetrics(prometheus=False)
    request = CompletionRequest(request_id="r", system="s", user="u", max_tokens=8)
    job = BatchJob(job_id="a", request=request, agent_ids=(1,), submit_tick=0)
    done = CompletionResult(text="x", prompt_tokens=1, completion_tokens=1, model="m", total_s=0.1)
    refused = LLMUnavailable("connection refused", backend="openai", url="http://127.0.0.1:9/v1/chat/completions")
    assert metrics.server()["state"] == "unknown"
    metrics.record_job(JobResult(job=job, status=JobStatus.OK, result=done, attempts=1))
    assert metrics.server() == {"state": "answering", "url": None, "failed_in_a_row": 0, "last_error": None}
    metrics.record_job(JobResult(job=job, status=JobStatus.FAILED, error=refused, attempts=3))
    metrics.record_job(JobResult(job=job, status=JobStatus.FAILED, error=CircuitOpen("circuit open", backend="llm"), attempts=1))
    down = metrics.server()
    assert down["state"] == "unreachable" and down["failed_in_a_row"] == 2
    assert down["url"] == "http://127.0.0.1:9/v1/chat/completions", "an open circuit keeps the last URL known"
    assert "circuit open" in down["last_error"]
    metrics.record_job(JobResult(job=job, status=JobStatus.FAILED, error=LLMTimeout("no answer", backend="openai"), attempts=1))
    assert metrics.server()["state"] == "timing out"
    metrics.record_job(JobResult(job=job, status=JobStatus.FAILED, error=LLMBadResponse("HTTP 400", backend="openai"), attempts=1))
    assert metrics.server()["state"] == "timing out", "a 4xx proves nothing about reachability"
    metrics.record_job(JobResult(job=job, status=JobStatus.OK, result=done, attempts=1))
    assert metrics.server()["state"] == "answering"
