"""The /metrics endpoint: real HTTP on 127.0.0.1, Prometheus text that agrees with the
summary, one registry per RunMetrics (two runs in one process do not collide), clean stop."""

from collections.abc import Iterator

import httpx
import pytest

from ai import BatchExecutor, RetryPolicy, RunMetrics
from ai.clients import CircuitBreaker, CompletionRequest, LLMBadResponse, ScriptedClient
from ai.clients._protocol import estimate_tokens
from ai.llm import BatchJob
from ai.wire import Rejection, RejectReason, ValidPlan
from engine import TickmindError

prometheus_client = pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402  (after the importorskip)


@pytest.fixture
def metrics() -> Iterator[RunMetrics]:
    with RunMetrics() as m:
        yield m


def scrape(address: tuple[str, int]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``(sample name, sorted labels) -> value`` from a real GET of /metrics."""
    host, port = address
    response = httpx.get(f"http://{host}:{port}/metrics", timeout=5.0)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def run_three_jobs(metrics: RunMetrics) -> list[CompletionRequest]:
    """Jobs of 1, 2 and 3 agents through a real executor; the 3-agent one fails."""
    requests = [CompletionRequest(request_id=f"r{n}", system="sys " * 10, user="u" * (8 * n), max_tokens=32) for n in (1, 2, 3)]

    def script(request: CompletionRequest) -> str | BaseException:
        if request.request_id == "r3":
            return LLMBadResponse("HTTP 400: bad schema", backend="scripted", request_id="r3")
        return '{"plans": []}'

    with BatchExecutor(ScriptedClient(script), metrics=metrics, retry=RetryPolicy(max_attempts=1)) as executor:
        for n, request in enumerate(requests, start=1):
            executor.submit(BatchJob(job_id=request.request_id, request=request, agent_ids=tuple(range(n)), submit_tick=0))
        executor.wait([r.request_id for r in requests], timeout=30.0)
    metrics.record_plan("llm")
    metrics.record_plan("heuristic")
    metrics.record_verdicts([ValidPlan(1, ()), Rejection(2, RejectReason.OUT_OF_BOUNDS, "x=900")])
    return requests


def test_metrics_endpoint_serves_prometheus_text_matching_the_summary(metrics: RunMetrics) -> None:
    requests = run_three_jobs(metrics)
    address = metrics.serve_metrics()
    assert address[0] == "127.0.0.1" and address[1] > 0, "loopback and a free port by default"
    samples = scrape(address)

    assert samples[("tickmind_requests_total", (("status", "ok"),))] == 2
    assert samples[("tickmind_requests_total", (("status", "failed"),))] == 1
    assert samples[("tickmind_request_attempts_total", ())] == 3
    assert samples[("tickmind_request_errors_total", (("kind", "LLMBadResponse"),))] == 1
    ok = requests[:2]
    prompt = sum(estimate_tokens(r.system) + estimate_tokens(r.user) for r in ok)
    assert samples[("tickmind_prompt_tokens_total", ())] == prompt
    assert samples[("tickmind_completion_tokens_total", ())] == 2 * estimate_tokens('{"plans": []}')
    assert samples[("tickmind_batch_agents_count", ())] == 3
    assert samples[("tickmind_batch_agents_sum", ())] == 6
    assert samples[("tickmind_batch_agents_bucket", (("le", "2.0"),))] == 2
    assert samples[("tickmind_request_latency_seconds_count", ())] == 2
    assert samples[("tickmind_ttfb_seconds_count", ())] == 2
    assert samples[("tickmind_parse_valid_total", ())] == 1
    assert samples[("tickmind_parse_rejected_total", (("reason", "out_of_bounds"),))] == 1
    assert samples[("tickmind_parse_rejected_total", (("reason", "missing"),))] == 0
    assert samples[("tickmind_plans_total", (("tier", "llm"),))] == 1
    assert samples[("tickmind_plans_total", (("tier", "heuristic"),))] == 1
    assert samples[("tickmind_queue_depth", ())] == 0 and samples[("tickmind_in_flight", ())] == 0

    summary = metrics.summary()
    assert samples[("tickmind_request_latency_seconds_sum", ())] == pytest.approx(summary["latency_s"]["sum"])
    assert summary["requests"]["ok"] == 2 and summary["tokens"]["prompt"] == prompt


def test_circuit_state_and_trips_are_read_live_from_the_breaker(metrics: RunMetrics) -> None:
    breaker = CircuitBreaker(failure_threshold=2, cooldown=3600.0)
    metrics.watch_breaker(breaker)
    address = metrics.serve_metrics()
    closed = scrape(address)
    assert closed[("tickmind_circuit_state", (("state", "closed"),))] == 1
    assert closed[("tickmind_circuit_trips_total", ())] == 0
    breaker.record_failure()
    breaker.record_failure()
    opened = scrape(address)
    assert opened[("tickmind_circuit_state", (("state", "open"),))] == 1
    assert opened[("tickmind_circuit_state", (("state", "closed"),))] == 0
    assert opened[("tickmind_circuit_trips_total", ())] == 1
    assert metrics.summary()["circuit"] == {"state": "open", "trips": 1}


def test_two_runs_in_one_process_keep_their_own_registries() -> None:
    with RunMetrics() as first, RunMetrics() as second:
        first.record_plan("llm")
        for _ in range(3):
            second.record_plan("emergency")
        a, b = first.serve_metrics(), second.serve_metrics()
        assert a != b
        one, two = scrape(a), scrape(b)
    assert one[("tickmind_plans_total", (("tier", "llm"),))] == 1
    assert one[("tickmind_plans_total", (("tier", "emergency"),))] == 0
    assert two[("tickmind_plans_total", (("tier", "emergency"),))] == 3
    assert first.registry is not second.registry
    default = {m.name for m in prometheus_client.REGISTRY.collect()}
    assert not any(name.startswith("tickmind") for name in default), "the global registry stays clean"


def test_close_stops_the_server_and_a_second_serve_is_refused() -> None:
    metrics = RunMetrics()
    address = metrics.serve_metrics()
    with pytest.raises(TickmindError, match="already serves"):
        metrics.serve_metrics()
    metrics.close()
    metrics.close()  # idempotent
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{address[0]}:{address[1]}/metrics", timeout=2.0)


def test_a_taken_port_is_a_clear_error_and_other_paths_are_not_found() -> None:
    with RunMetrics() as first, RunMetrics() as second:
        host, port = first.serve_metrics()
        with pytest.raises(TickmindError, match=f"could not bind 127.0.0.1:{port}"):
            second.serve_metrics(port=port)
        assert httpx.get(f"http://{host}:{port}/", timeout=5.0).status_code == 404
