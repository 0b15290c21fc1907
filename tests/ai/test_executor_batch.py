"""BatchExecutor: real threads, a real event loop, the scripted client; no wall-clock asserts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from ai.clients import (
    STALL,
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
    CompletionRequest,
    LLMBadResponse,
    LLMError,
    LLMRateLimited,
    LLMTimeout,
    LLMUnavailable,
    RecordingSleep,
    Reply,
    ScriptedClient,
    fail_then,
)
from ai.llm import BatchExecutor, BatchJob, ExecutorClosed, ExecutorError, JobResult, JobStatus, QueueFull, RetryPolicy

THREAD = "test-executor"


def job(job_id: str, agents: tuple[int, ...] = (1,), **kw: object) -> BatchJob:
    req = CompletionRequest(request_id=job_id, system="prefix", user=f"agents {agents}", max_tokens=64)
    return BatchJob(job_id=job_id, request=req, agent_ids=agents, submit_tick=10, **kw)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_orphan_threads() -> Iterator[None]:
    yield
    assert [t.name for t in threading.enumerate() if t.name == THREAD] == []


def executor(client: ScriptedClient, **kw: object) -> BatchExecutor:
    kw.setdefault("name", THREAD)
    return BatchExecutor(client, **kw)  # type: ignore[arg-type]


def run_all(ex: BatchExecutor, jobs: list[BatchJob], timeout: float = 10.0) -> list[JobResult]:
    for j in jobs:
        ex.submit(j)
    return ex.wait([j.job_id for j in jobs], timeout)


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.002)


def test_runs_exactly_m_requests_concurrently() -> None:
    client = ScriptedClient("ok", latency=(0.02, 0.04), seed=1)
    with executor(client, max_concurrency=3) as ex:
        results = run_all(ex, [job(f"j{i:02d}") for i in range(10)])
    assert [r.status for r in results] == [JobStatus.OK] * 10
    assert client.max_in_flight == 3
    assert client.calls == 10 and client.closed  # the executor closed the client on its loop


def test_retries_then_succeeds_with_seeded_backoff() -> None:
    def run(seed: int) -> tuple[JobResult, list[float]]:
        sleep = RecordingSleep()
        client = ScriptedClient(fail_then([LLMUnavailable("refused"), LLMTimeout("slow")], "plan"))
        retry = RetryPolicy(max_attempts=3, base_delay=0.25, multiplier=2.0, jitter=0.5)
        with executor(client, retry=retry, sleep=sleep, seed=seed) as ex:
            (result,) = run_all(ex, [job("a")])
        return result, sleep.delays

    result, delays = run(seed=5)
    assert result.status is JobStatus.OK and result.attempts == 3 and result.result is not None
    assert result.result.text == "plan"
    assert 0.125 <= delays[0] <= 0.25 and 0.25 <= delays[1] <= 0.5  # exponential, jittered down
    assert run(seed=5)[1] == delays  # same seed, same jitter
    assert run(seed=6)[1] != delays


def test_gives_up_after_max_attempts_with_the_last_error() -> None:
    client = ScriptedClient(lambda req: LLMUnavailable("HTTP 503"))
    with executor(client, retry=RetryPolicy(max_attempts=4), sleep=RecordingSleep()) as ex:
        (result,) = run_all(ex, [job("a")])
        (override,) = run_all(ex, [job("b", max_attempts=2)])
    assert result.status is JobStatus.FAILED and result.attempts == 4
    assert isinstance(result.error, LLMUnavailable) and "503" in str(result.error)
    assert override.attempts == 2 and client.calls == 6


def test_non_retryable_errors_fail_at_once() -> None:
    sleep = RecordingSleep()
    client = ScriptedClient(LLMBadResponse("unknown field 'format'", status_code=400))
    with executor(client, sleep=sleep) as ex:
        (result,) = run_all(ex, [job("a")])
    assert result.status is JobStatus.FAILED and result.attempts == 1
    assert isinstance(result.error, LLMBadResponse) and sleep.delays == []


def test_foreign_client_errors_become_llm_errors_and_are_not_retried() -> None:
    client = ScriptedClient(KeyError("choices"))
    with executor(client, sleep=RecordingSleep()) as ex:
        (result,) = run_all(ex, [job("a")])
    assert type(result.error) is LLMError and isinstance(result.error.__cause__, KeyError)
    assert "KeyError" in str(result.error) and result.attempts == 1


def test_a_metrics_failure_does_not_lose_the_job() -> None:
    """record_job raised after the job had left the unfinished books and before it reached
    the done ones: wait() then hung for its whole timeout and raised KeyError."""
    from ai.llm import RunMetrics

    class Broken(RunMetrics):
        def record_job(self, result: JobResult) -> None:
            raise TypeError("unsupported operand type(s) for +=: 'int' and 'str'")

    with executor(ScriptedClient("ok"), metrics=Broken(prometheus=False)) as ex:
        (result,) = run_all(ex, [job("a")])
    assert result.status is JobStatus.OK and result.result is not None


def test_retry_after_is_honoured_and_too_long_fails_at_once() -> None:
    sleep = RecordingSleep()
    client = ScriptedClient(fail_then([LLMRateLimited("429", retry_after=7.0)], "ok"))
    retry = RetryPolicy(base_delay=0.1, max_retry_after=30.0)
    with executor(client, retry=retry, sleep=sleep) as ex:
        (result,) = run_all(ex, [job("a")])
    assert result.ok and result.attempts == 2 and sleep.delays == [7.0]

    sleep = RecordingSleep()
    client = ScriptedClient(LLMRateLimited("429", retry_after=120.0))
    with executor(client, retry=retry, sleep=sleep) as ex:
        (result,) = run_all(ex, [job("a")])
    assert result.status is JobStatus.FAILED and result.attempts == 1 and sleep.delays == []
    assert isinstance(result.error, LLMRateLimited) and result.error.retry_after == 120.0


def test_timeouts_surface_as_llm_timeout_after_retries() -> None:
    client = ScriptedClient(STALL)
    retry = RetryPolicy(max_attempts=2)
    with executor(client, timeout=0.05, retry=retry, sleep=RecordingSleep()) as ex:
        (result,) = run_all(ex, [job("a")])
    assert result.status is JobStatus.FAILED and result.attempts == 2
    assert isinstance(result.error, LLMTimeout) and "0.05" in str(result.error)
    assert client.in_flight == 0


def test_breaker_opens_short_circuits_half_opens_and_closes() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=2, cooldown=10.0, clock=lambda: now[0])
    healthy = [False]
    client = ScriptedClient(lambda req: "ok" if healthy[0] else LLMUnavailable("refused"))
    with executor(client, breaker=breaker, retry=RetryPolicy(max_attempts=1)) as ex:
        first = run_all(ex, [job("a"), job("b")])
        assert breaker.state is BreakerState.OPEN
        (short,) = run_all(ex, [job("c")])
        assert isinstance(short.error, CircuitOpen) and client.calls == 2  # never reached the client
        now[0] += 10.0
        healthy[0] = True
        assert breaker.state is BreakerState.HALF_OPEN
        (trial,) = run_all(ex, [job("d")])
    assert [r.status for r in first] == [JobStatus.FAILED] * 2
    assert trial.ok and breaker.state is BreakerState.CLOSED and client.calls == 3


def test_breaker_counts_executor_timeouts_as_failures() -> None:
    breaker = CircuitBreaker(failure_threshold=1, cooldown=60.0)
    with executor(ScriptedClient(STALL), breaker=breaker, timeout=0.02, retry=RetryPolicy(max_attempts=1)) as ex:
        (result,) = run_all(ex, [job("a")])
    assert isinstance(result.error, LLMTimeout) and breaker.state is BreakerState.OPEN


def test_poll_order_is_by_job_id_whatever_the_completion_order() -> None:
    client = ScriptedClient("ok", latency=(0.0, 0.05), seed=3)
    ids = [f"job-{i:02d}" for i in range(12)]
    with executor(client, max_concurrency=12) as ex:
        for i in ids:
            ex.submit(job(i))
        wait_until(lambda: ex.pending == 0)
        results = ex.poll()
        assert ex.poll() == []  # collected once
    assert [r.job_id for r in results] == ids
    assert client.completed != ids and sorted(client.completed) == ids  # they did finish shuffled


def test_wait_returns_finished_jobs_and_times_out_the_rest() -> None:
    script = {"fast": Reply("A"), "stuck": STALL, "other": Reply("C", delay=0.01)}
    client = ScriptedClient(lambda req: script[req.request_id])
    with executor(client) as ex:
        ex.submit(job("stuck"))
        ex.submit(job("fast"))
        ex.submit(job("other"))
        results = ex.wait(["stuck", "fast"], timeout=0.2)
        wait_until(lambda: client.in_flight == 0)  # the stuck call was cancelled
        wait_until(lambda: ex.pending == 0)
        later = ex.poll()
    assert [(r.job_id, r.status) for r in results] == [("fast", JobStatus.OK), ("stuck", JobStatus.TIMED_OUT)]
    assert isinstance(results[1].error, LLMTimeout) and "lockstep" in str(results[1].error)
    assert [r.job_id for r in later] == ["other"]  # the abandoned job never shows up again


def test_wait_rejects_unknown_job_ids() -> None:
    with executor(ScriptedClient("ok")) as ex, pytest.raises(ExecutorError, match="never submitted"):
        ex.wait(["nope"], timeout=0.1)


def test_stop_cancels_in_flight_jobs_and_leaves_no_thread() -> None:
    client = ScriptedClient(STALL)
    ex = executor(client, max_concurrency=2).start()
    for i in range(5):  # two in flight, three waiting for a slot
        ex.submit(job(f"j{i}"))
    wait_until(lambda: client.in_flight == 2)
    ex.stop()
    assert not any(t.name == THREAD for t in threading.enumerate())
    results = ex.poll()
    assert [(r.job_id, r.status) for r in results] == [(f"j{i}", JobStatus.CANCELLED) for i in range(5)]
    assert client.closed and client.in_flight == 0
    with pytest.raises(ExecutorClosed):
        ex.submit(job("late"))
    ex.stop()  # idempotent


def test_queue_full_back_pressure_then_room_again() -> None:
    client = ScriptedClient(lambda req: STALL if req.request_id.startswith("s") else "ok")
    with executor(client, max_pending=2) as ex:
        ex.submit(job("s1"))
        ex.submit(job("s2"))
        with pytest.raises(QueueFull) as info:
            ex.submit(job("x"))
        assert (info.value.pending, info.value.max_pending) == (2, 2) and ex.pending == 2
        ex.wait(["s1"], timeout=0.01)  # gives up on s1: one slot frees
        (result,) = run_all(ex, [job("x")])
    assert result.ok


def test_submit_misuse_is_reported() -> None:
    ex = executor(ScriptedClient("ok"))
    with pytest.raises(ExecutorError, match="start"):
        ex.submit(job("a"))
    with ex:
        ex.submit(job("a"))
        with pytest.raises(ExecutorError, match="already submitted"):
            ex.submit(job("a"))
    with pytest.raises(ExecutorError, match="more than once"):
        job("dup", agents=(1, 2, 1))


def test_results_carry_agents_tick_and_latency_stats() -> None:
    client = ScriptedClient("ok", latency=(0.001, 0.01), seed=2)
    with executor(client) as ex:
        results = run_all(ex, [job(f"j{i}", agents=(i, i + 10), attempt=2) for i in range(6)])
        stats = ex.latency_stats()
    assert [r.agent_ids for r in results] == [(i, i + 10) for i in range(6)]
    assert {(r.job.submit_tick, r.job.attempt) for r in results} == {(10, 2)}
    assert all(r.latency_s >= r.result.total_s for r in results if r.result is not None)
    assert stats.count == 6 and 0 < stats.p50_s <= stats.p95_s and stats.mean_s > 0


def test_streamed_chunks_reach_the_job_callback_with_the_attempt_number() -> None:
    seen: list[tuple[str, int, str]] = []
    text = '{"plans":[{"agent_id":1,"steps":[]}]}'
    client = ScriptedClient(fail_then([LLMUnavailable("reset")], text), chunk_size=8)
    req = CompletionRequest(request_id="s", system="p", user="u", max_tokens=64, stream=True)
    with executor(client, sleep=RecordingSleep()) as ex:
        ex.submit(BatchJob(job_id="s", request=req, agent_ids=(1,), submit_tick=0, on_text=lambda *a: seen.append(a)))
        (result,) = ex.wait(["s"], timeout=10)
    assert result.ok and result.attempts == 2
    assert {(job_id, attempt) for job_id, attempt, _ in seen} == {("s", 2)}
    assert "".join(chunk for _, _, chunk in seen) == text and len(seen) > 1
