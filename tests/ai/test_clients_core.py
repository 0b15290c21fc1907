"""ai.clients: exports, request/result types, the error tree, the circuit breaker."""

from __future__ import annotations

import asyncio
import pickle

import pytest

import ai.clients as clients
from ai.clients import (
    BreakerClient,
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
    CompletionRequest,
    LLMBadResponse,
    LLMClient,
    LLMError,
    LLMRateLimited,
    LLMTimeout,
    LLMUnavailable,
    ScriptedClient,
)
from ai.clients._errors import redact_url
from engine import TickmindError


def test_clients_exports_exactly_the_public_api() -> None:
    assert clients.__all__ == [
        "STALL", "BreakerClient", "BreakerState", "CircuitBreaker", "CircuitOpen",
        "CompletionRequest", "CompletionResult", "LLMBadResponse", "LLMClient", "LLMError",
        "LLMRateLimited", "LLMTimeout", "LLMUnavailable", "OllamaClient", "OpenAIClient",
        "RecordingSleep", "Reply", "ScriptItem", "SchemaFormat", "ScriptedClient", "Stall", "TextCallback", "drop_agents",
        "duplicate_agent", "fail_then", "follow_schema", "plans_json", "redact_url", "sample_answers", "sample_grammar",
        "sample_schema", "truncated",
    ]
    assert all(hasattr(clients, name) for name in clients.__all__)


def request(rid: str = "r1", **kw: object) -> CompletionRequest:
    return CompletionRequest(request_id=rid, system="sys", user="user", max_tokens=64, **kw)  # type: ignore[arg-type]


# -- requests ------------------------------------------------------------------------------


def test_request_defaults_are_deterministic_and_frozen() -> None:
    req = request(schema={"type": "object"}, tags={"tier": "llm"})
    assert (req.temperature, req.seed, req.stream) == (0.0, 0, False)
    with pytest.raises(AttributeError):
        req.user = "other"  # type: ignore[misc]
    assert hash(req) == hash(request(schema={"type": "array"}))  # schema/tags are not hashed
    assert req == request(schema={"type": "object"}, tags={"tier": "llm"})


@pytest.mark.parametrize(
    "kw, field",
    [({"request_id": ""}, "request_id"), ({"max_tokens": 0}, "max_tokens"), ({"temperature": -1.0}, "temperature")],
)
def test_request_rejects_bad_fields_naming_them(kw: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"request_id": "r", "system": "s", "user": "u", "max_tokens": 8, **kw}
    with pytest.raises(TickmindError, match=field):
        CompletionRequest(**args)  # type: ignore[arg-type]


def test_scripted_client_satisfies_the_protocol() -> None:
    assert isinstance(ScriptedClient("x"), LLMClient)


# -- errors --------------------------------------------------------------------------------


def test_error_tree_and_retryable_flags() -> None:
    for cls in (LLMTimeout, LLMUnavailable, LLMRateLimited, LLMBadResponse, CircuitOpen):
        assert issubclass(cls, LLMError) and issubclass(cls, TickmindError)
    assert [c.retryable for c in (LLMTimeout, LLMUnavailable, LLMRateLimited)] == [True] * 3
    assert [c.retryable for c in (LLMBadResponse, CircuitOpen, LLMError)] == [False] * 3


def test_error_message_names_backend_url_cause_and_hides_secrets() -> None:
    err = LLMBadResponse(
        "model 'x' not found",
        backend="openai",
        url="https://user:sk-secret@api.example.com/v1/chat/completions?key=sk-secret",
        request_id="r7",
        status_code=404,
    )
    text = str(err)
    assert "openai" in text and "https://api.example.com/v1/chat/completions" in text
    assert "model 'x' not found" in text and "404" in text and "r7" in text
    assert "sk-secret" not in text and "user:" not in text


def test_redact_url_keeps_host_port_path() -> None:
    assert redact_url("http://a:b@127.0.0.1:8080/api/chat?token=t#f") == "http://127.0.0.1:8080/api/chat"


def test_errors_pickle_with_their_fields() -> None:
    err = LLMRateLimited("slow down", retry_after=2.5, backend="ollama", url="http://h/api/chat")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is LLMRateLimited
    assert (back.retry_after, back.backend, back.url, str(back)) == (2.5, "ollama", "http://h/api/chat", str(err))


# -- circuit breaker -----------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def fail(breaker: CircuitBreaker, exc: Exception | None = None) -> None:
    with pytest.raises(LLMError), breaker.guard():
        raise exc or LLMUnavailable("down")


def succeed(breaker: CircuitBreaker) -> None:
    with breaker.guard():
        pass


def test_breaker_opens_after_threshold_consecutive_failures() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, cooldown=10.0, clock=clock)
    fail(breaker)
    fail(breaker)
    succeed(breaker)  # a success resets the streak
    fail(breaker)
    fail(breaker)
    assert breaker.state is BreakerState.CLOSED and breaker.consecutive_failures == 2
    fail(breaker)
    assert breaker.state is BreakerState.OPEN and breaker.opened == 1
    clock.now += 4.0
    with pytest.raises(CircuitOpen) as info, breaker.guard():
        pytest.fail("an open breaker must not let the call through")
    assert info.value.retry_in == pytest.approx(6.0)


def test_breaker_half_opens_after_cooldown_admits_one_trial_then_closes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=5.0, clock=clock)
    fail(breaker)
    clock.now += 5.0
    assert breaker.state is BreakerState.HALF_OPEN
    with breaker.guard(), pytest.raises(CircuitOpen, match="trial"), breaker.guard():
        pass  # a second call while the trial is in flight is refused
    assert breaker.state is BreakerState.CLOSED and breaker.consecutive_failures == 0


def test_breaker_failed_trial_reopens_with_a_fresh_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=5.0, clock=clock)
    fail(breaker)
    clock.now += 6.0
    fail(breaker, LLMTimeout("slow"))
    assert breaker.state is BreakerState.OPEN and breaker.opened == 2
    clock.now += 4.9
    assert breaker.state is BreakerState.OPEN
    clock.now += 0.1
    assert breaker.state is BreakerState.HALF_OPEN


def test_breaker_counts_bad_responses_as_a_live_server() -> None:
    breaker = CircuitBreaker(failure_threshold=2, clock=FakeClock())
    fail(breaker)
    fail(breaker, LLMBadResponse("HTTP 400"))
    fail(breaker)
    assert breaker.state is BreakerState.CLOSED


def test_breaker_cancelled_trial_frees_the_slot() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=1.0, clock=clock)
    fail(breaker)
    clock.now += 1.0
    with pytest.raises(asyncio.CancelledError), breaker.guard():
        raise asyncio.CancelledError
    assert breaker.state is BreakerState.HALF_OPEN
    succeed(breaker)  # the next call may be the trial
    assert breaker.state is BreakerState.CLOSED


def test_breaker_client_keeps_state_across_calls() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, cooldown=30.0, clock=clock)
    inner = ScriptedClient(lambda req: LLMUnavailable("refused"))
    client = BreakerClient(inner, breaker)

    async def main() -> list[type[BaseException]]:
        seen = []
        for i in range(4):
            try:
                await client.complete(request(f"r{i}"))
            except LLMError as exc:
                seen.append(type(exc))
        await client.aclose()
        return seen

    assert asyncio.run(main()) == [LLMUnavailable, LLMUnavailable, CircuitOpen, CircuitOpen]
    assert inner.calls == 2 and inner.closed


def test_breaker_rejects_nonsense_settings() -> None:
    with pytest.raises(TickmindError, match="failure_threshold"):
        CircuitBreaker(failure_threshold=0)
