"""Choosing the batch shape: the probe survives a flaky server and still reports a dead one."""

from __future__ import annotations

import asyncio

import pytest

from ai.clients import LLMBadResponse, LLMUnavailable, ScriptedClient, fail_then
from ai.llm import AgentPace, batch_shape, probe_parallelism


def probe(client: ScriptedClient) -> int:
    return asyncio.run(probe_parallelism(client, retry_delay=0.0))


def test_batch_shape_packs_a_wave_over_the_servers_slots() -> None:
    assert batch_shape(100, 4) == (25, 4)
    assert batch_shape(3, 8) == (1, 3)
    assert batch_shape(100, 1, max_per_request=25) == (25, 1)


def test_a_transient_failure_during_the_probe_is_retried_not_fatal() -> None:
    """Chaos finding: one 500 during the probe aborted ``tickmind arena`` before tick 0."""
    client = ScriptedClient(fail_then([LLMUnavailable("HTTP 500"), LLMUnavailable("reset")], "1 2 3"))
    assert probe(client) in (1, 4)
    assert client.calls == 3 * 6  # every probe request failed twice, then answered


def test_a_timing_request_that_keeps_failing_gives_the_safe_answer_one() -> None:
    def script(request: object) -> object:
        return "1 2 3" if request.request_id in ("probe-0", "probe-1") else LLMUnavailable("HTTP 503")  # type: ignore[attr-defined]

    assert probe(ScriptedClient(script)) == 1  # type: ignore[arg-type]


@pytest.mark.parametrize("error", [LLMUnavailable("connection refused"), LLMBadResponse("HTTP 404: model not found")])
def test_a_server_that_never_answers_or_refuses_the_request_is_reported_at_once(error: Exception) -> None:
    client = ScriptedClient(error)
    with pytest.raises(type(error)):
        probe(client)
    assert client.calls == (3 if error.retryable else 1)  # type: ignore[attr-defined]


def test_agent_pace_caps_agents_per_request_by_the_seconds_each_has_taken() -> None:
    pace = AgentPace(smoothing=0.5)
    assert pace.agents_within(5.0, 25) == 25  # nothing observed yet: the shape decides
    pace.observe(10, 5.0)  # 0.5 s an agent
    assert pace.agents_within(5.0, 25) == 10 and pace.agents_within(5.0, 4) == 4
    pace.observe(1, 2.5)  # a slower answer moves the estimate halfway: 1.5 s an agent
    assert pace.seconds_per_agent == 1.5 and pace.agents_within(5.0, 25) == 3
    pace.observe(0, 1.0)
    pace.observe(3, float("nan"))  # nonsense is ignored, not learned
    assert pace.seconds_per_agent == 1.5 and AgentPace().agents_within(0.01, 25) == 25
    assert AgentPace(smoothing=1.0).agents_within(0.01, 25) == 25
    pace.observe(1, 60.0)
    assert pace.agents_within(5.0, 25) == 1  # never below one agent
