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

from .clients import CompletionRequest, LLMClient

__all__ = ["batch_shape", "probe_parallelism"]


def batch_shape(agents: int, parallel: int, *, max_per_request: int = 25) -> tuple[int, int]:
    """``(k, m)`` for a wave of ``agents`` on a server running ``parallel`` requests at once."""
    if agents < 1 or parallel < 1 or max_per_request < 1:
        raise TickmindError("batch_shape needs agents, parallel and max_per_request >= 1")
    m = min(parallel, agents)
    k = min(math.ceil(agents / m), max_per_request)
    return k, m


async def probe_parallelism(client: LLMClient, *, candidates: int = 4, max_tokens: int = 24) -> int:
    """How many requests ``client``'s server runs at once: 1 if ``candidates`` concurrent
    requests take about ``candidates`` times as long as one, else ``candidates``.

    Costs a few seconds of model time; do it once per server, before a run.
    """
    if candidates < 2:
        raise TickmindError("probe_parallelism needs at least 2 candidates")

    def request(i: int) -> CompletionRequest:
        return CompletionRequest(
            request_id=f"probe-{i}", system="Count.", user=f"Count from {i} upward.", max_tokens=max_tokens
        )

    await client.complete(request(0))  # warm up: load, cache the prefix
    started = time.monotonic()
    await client.complete(request(1))
    alone = time.monotonic() - started
    started = time.monotonic()
    await asyncio.gather(*(client.complete(request(2 + i)) for i in range(candidates)))
    together = time.monotonic() - started
    # Serialised: together ~ candidates * alone. Batched: well under half of that.
    return candidates if together < 0.5 * candidates * alone else 1
