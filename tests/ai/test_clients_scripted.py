"""ScriptedClient: deterministic scripted answers, reproducible latency, instrumentation."""

from __future__ import annotations

import asyncio
import json

import pytest

from ai.clients import (
    STALL,
    CompletionRequest,
    LLMBadResponse,
    LLMUnavailable,
    RecordingSleep,
    Reply,
    ScriptedClient,
    drop_agents,
    duplicate_agent,
    fail_then,
    plans_json,
    truncated,
)


def request(rid: str, user: str = "state") -> CompletionRequest:
    return CompletionRequest(request_id=rid, system="prefix", user=user, max_tokens=64)


def delays_for(seed: int, ids: list[str]) -> dict[str, float]:
    sleep = RecordingSleep()
    client = ScriptedClient("ok", latency=(0.01, 0.5), seed=seed, sleep=sleep)

    async def main() -> None:
        for rid in ids:
            await client.complete(request(rid))

    asyncio.run(main())
    return dict(zip(ids, sleep.delays, strict=True))


def test_latency_is_reproducible_per_request_whatever_the_call_order() -> None:
    ids = [f"job-{i}" for i in range(8)]
    first = delays_for(7, ids)
    assert first == delays_for(7, list(reversed(ids)))
    assert all(0.01 <= d <= 0.5 for d in first.values())
    assert len(set(first.values())) == len(ids)  # actually random, not one constant
    assert first != delays_for(8, ids)


def test_function_script_answers_by_request_and_records_requests() -> None:
    client = ScriptedClient(lambda req: f"echo:{req.user}")

    async def main() -> list[str]:
        return [(await client.complete(request(f"r{i}", user=f"u{i}"))).text for i in range(3)]

    assert asyncio.run(main()) == ["echo:u0", "echo:u1", "echo:u2"]
    assert [r.request_id for r in client.requests] == ["r0", "r1", "r2"]
    assert client.completed == ["r0", "r1", "r2"] and client.calls == 3


def test_sequence_script_is_used_in_call_order_then_runs_out() -> None:
    client = ScriptedClient(["a", Reply("b", delay=0.0), LLMUnavailable("down")])

    async def main() -> list[object]:
        out: list[object] = []
        for i in range(4):
            try:
                out.append((await client.complete(request(f"r{i}"))).text)
            except Exception as exc:
                out.append(type(exc))
        return out

    assert asyncio.run(main()) == ["a", "b", LLMUnavailable, LLMBadResponse]
    assert client.completed == ["r0", "r1"]


def test_streaming_hands_over_chunks_that_join_to_the_text() -> None:
    text = plans_json({3: [{"act": "wait", "ticks": 2}], 1: [{"act": "scan"}]})
    chunks: list[str] = []
    client = ScriptedClient(text, chunk_size=5)
    result = asyncio.run(client.complete(request("r"), on_text=chunks.append))
    assert "".join(chunks) == result.text == text
    assert len(chunks) == -(-len(text) // 5)
    assert result.completion_tokens > 0 and result.prompt_tokens > 0 and result.total_s >= 0


def test_stall_hangs_until_cancelled_and_in_flight_returns_to_zero() -> None:
    client = ScriptedClient(STALL)

    async def main() -> None:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await client.complete(request("r"))

    asyncio.run(main())
    assert client.in_flight == 0 and client.max_in_flight == 1 and client.completed == []


def test_fail_then_fails_each_request_id_separately() -> None:
    script = fail_then([LLMUnavailable("1"), LLMUnavailable("2")], "ok")
    assert [type(script(request("a"))) for _ in range(2)] == [LLMUnavailable, LLMUnavailable]
    assert isinstance(script(request("b")), LLMUnavailable)  # b has its own count
    assert script(request("a")) == "ok"


def test_wrong_answer_helpers() -> None:
    good = plans_json({2: [{"act": "scan"}], 1: [{"act": "wait", "ticks": 1}]})
    assert [p["agent_id"] for p in json.loads(good)["plans"]] == [1, 2]
    assert [p["agent_id"] for p in json.loads(drop_agents(good, [1]))["plans"]] == [2]
    assert [p["agent_id"] for p in json.loads(duplicate_agent(good, 2))["plans"]] == [1, 2, 2]
    with pytest.raises(json.JSONDecodeError):
        json.loads(truncated(good))
    with pytest.raises(json.JSONDecodeError):
        json.loads(truncated(good, keep=1.0))  # still cut by one character
