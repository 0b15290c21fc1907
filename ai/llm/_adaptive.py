"""Choosing the batch shape — agents per request ``k`` and requests in flight ``m`` — from how
the server behaves.

Measured here (bench/RESULTS.md): once the system prefix is cached, a wave is bound by the
tokens the model writes, so the shape only decides how well the server's compute is used.

- A server that **serialises** requests (llama-cpp-python) gains nothing from ``m > 1``: the
  extra requests queue. One request with the whole wave pays the prompt prefix once.
- A server that **batches** (llama-server with ``n`` slots, vLLM) decodes ``n`` sequences per
  step for little more than one: keep every slot busy, one agent per request, so each plan
  streams in on its own and the first arrive early.

:func:`probe_parallelism` tells the two apart by timing one request alone and then ``n`` at
once; :func:`batch_shape` turns the answer into ``(k, m)``, with ``k`` capped so no request
carries more agents than ``max_per_request`` (a long answer delays its last agents and risks
the server's context).
"""

from __future__ import annotations

import asyncio
import math
import time

from engine import TickmindError

from ..clients import CompletionRequest, CompletionResult, LLMClient, LLMError

__all__ = ["AgentPace", "batch_shape", "probe_parallelism"]


def batch_shape(agents: int, parallel: int, *, max_per_request: int = 25) -> tuple[int, int]:
    """``(k, m)`` for a wave of ``agents`` on a server running ``parallel`` requests at once."""
    if agents < 1 or parallel < 1 or max_per_request < 1:
        raise TickmindError("batch_shape needs agents, parallel and max_per_request >= 1")
    m = min(parallel, agents)
    k = min(math.ceil(agents / m), max_per_request)
    return k, m


class AgentPace:
    """Seconds a request takes per agent it carries, learned from answered requests.

    On a small local model a request's time grows with its agents (each adds its state line
    to process and its plan to write), so a latency target caps agents per request: a smaller
    request's plans are fresher when they land. An exponential average follows a server whose
    speed changes (load, a warm cache); the fixed cost of a request is folded in, which errs
    towards smaller requests.
    """

    def __init__(self, smoothing: float = 0.3) -> None:
        if not 0 < smoothing <= 1:
            raise TickmindError(f"AgentPace smoothing must be in (0, 1], got {smoothing!r}")
        self.smoothing = smoothing
        self.seconds_per_agent: float | None = None

    def observe(self, agents: int, seconds: float) -> None:
        if agents < 1 or not seconds > 0 or not math.isfinite(seconds):
            return
        sample = seconds / agents
        previous = self.seconds_per_agent
        self.seconds_per_agent = sample if previous is None else previous + self.smoothing * (sample - previous)

    def agents_within(self, target_s: float, ceiling: int) -> int:
        """Agents per request that should answer within ``target_s`` (1..``ceiling``)."""
        if self.seconds_per_agent is None:
            return ceiling
        return max(1, min(ceiling, int(target_s / self.seconds_per_agent)))


async def probe_parallelism(
    client: LLMClient, *, candidates: int = 4, max_tokens: int = 24, attempts: int = 3, retry_delay: float = 0.2
) -> int:
    """How many requests ``client``'s server runs at once: 1 if ``candidates`` concurrent
    requests take about ``candidates`` times as long as one, else ``candidates``.

    Costs a few seconds of model time; do it once per server, before a run. A retryable
    failure (5xx, 429, reset, timeout) is tried again up to ``attempts`` times: one flaky
    answer must not abort a run before it starts. If the warm-up request never succeeds the
    error is raised (the server is down or misconfigured: say so now); if a timing request
    never does, the answer is 1, the choice that is safe on any server.
    """
    if candidates < 2 or attempts < 1:
        raise TickmindError("probe_parallelism needs at least 2 candidates and 1 attempt")

    def request(i: int) -> CompletionRequest:
        return CompletionRequest(
            request_id=f"probe-{i}", system="Count.", user=f"Count from {i} upward.", max_tokens=max_tokens
        )

    async def ask(i: int) -> CompletionResult:
        for attempt in range(1, attempts + 1):
            try:
                return await client.complete(request(i))
            except LLMError as exc:
                if not exc.retryable or attempt == attempts:
                    raise
                await asyncio.sleep(min(retry_delay * attempt, 2.0))
        raise AssertionError("unreachable")

    await ask(0)  # warm up: load, cache the prefix
    try:
        started = time.monotonic()
        await ask(1)
        alone = time.monotonic() - started
        started = time.monotonic()
        await asyncio.gather(*(ask(2 + i) for i in range(candidates)))
        together = time.monotonic() - started
    except LLMError as exc:
        if not exc.retryable:
            raise
        return 1
    # Serialised: together ~ candidates * alone. Batched: well under half of that.
    return candidates if together < 0.5 * candidates * alone else 1
