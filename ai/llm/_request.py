"""One batch of snapshots -> one model request: prompt, constraint and wire, built in one place.

The planner and bench/batching.py both send exactly this, so what the benchmark measures is
what a run sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._plan import Tier
from ..clients import CompletionRequest
from ..wire import AgentSnapshot, TierProfile, Wire, WireUnsupported, batch_schema, encode_batch, lines_grammar, profile_for, view_of

__all__ = ["batch_request", "wire_for"]


def wire_for(snapshots: Sequence[AgentSnapshot], tier: Tier | TierProfile, wire: Wire) -> Wire:
    """``wire``, unless it is plan lines and an offered action cannot be written as a line."""
    if wire == "lines":
        try:
            _grammar(snapshots, tier)
        except WireUnsupported:
            return "json"
    return wire


def batch_request(
    request_id: str,
    snapshots: Sequence[AgentSnapshot],
    *,
    tier: Tier | TierProfile,
    wire: Wire,
    max_tokens_per_agent: int,
    temperature: float = 0.0,
    seed: int = 0,
    stream: bool = False,
) -> CompletionRequest:
    """The request planning ``snapshots`` (in order) at ``tier``, answered over ``wire``:
    plan lines carry a GBNF grammar, JSON the per-batch schema. Pass the same ``tier`` (a
    profile, for a game that restricts its actions) to ``parse_batch_response``."""
    prompt = encode_batch(snapshots, tier, wire)
    constraint: dict[str, Any]
    if wire == "lines":
        constraint = {"grammar": _grammar(snapshots, tier)}
    else:
        constraint = {"schema": batch_schema(snapshots, tier=tier)}
    return CompletionRequest(
        request_id=request_id,
        system=prompt.system,
        user=prompt.user,
        max_tokens=max_tokens_per_agent * len(snapshots),
        temperature=temperature,
        seed=seed,
        stream=stream,
        **constraint,
    )


def _grammar(snapshots: Sequence[AgentSnapshot], tier: Tier | TierProfile) -> str:
    return lines_grammar([view_of(s, tier) for s in snapshots], max_steps=profile_for(tier).max_steps)
