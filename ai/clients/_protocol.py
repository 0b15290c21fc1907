"""The one protocol every model backend speaks: a request in, a completion (or an error) out.

A :class:`CompletionRequest` is plain frozen data, so the same request can be journaled, sent
to Ollama, an OpenAI-compatible server or a scripted client, and compared in tests. A
:class:`CompletionResult` carries the model text plus token counts and timing; timing is for
metrics only and must never reach world state (it differs on every run).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from engine import TickmindError

__all__ = ["CompletionRequest", "CompletionResult", "LLMClient", "TextCallback"]

#: Receives streamed text chunks as they arrive (on the thread running the client's loop).
TextCallback = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class CompletionRequest:
    """One prompt for one model call.

    ``schema`` is the JSON schema the answer must follow (sent in each backend's native form),
    or None for free text. ``grammar`` is a GBNF grammar instead (llama.cpp servers only; it
    wins over ``schema`` where both are set; other backends refuse it). ``temperature`` defaults to 0 and ``seed`` is always sent: a model
    call should be as repeatable as the server allows. ``tags`` is opaque to clients (the
    planner may put tier, tick or agent ids there for logs and metrics). ``schema`` and
    ``tags`` stay plain dicts (JSON-ready); nobody may mutate them after construction.
    """

    request_id: str
    system: str
    user: str
    max_tokens: int
    schema: dict[str, Any] | None = field(default=None, hash=False)
    grammar: str | None = None
    temperature: float = 0.0
    seed: int = 0
    stream: bool = False
    tags: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not self.request_id:
            raise TickmindError("CompletionRequest.request_id must be a non-empty string")
        if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int) or self.max_tokens <= 0:
            raise TickmindError(f"CompletionRequest.max_tokens must be a positive int, got {self.max_tokens!r}")
        if not self.temperature >= 0.0:
            raise TickmindError(f"CompletionRequest.temperature must be >= 0, got {self.temperature!r}")


@dataclass(frozen=True, kw_only=True)
class CompletionResult:
    """What a model answered.

    ``ttfb_s`` (time to first byte of the answer, None when unknown) and ``total_s`` are
    measured with ``time.monotonic``: metrics only. Token counts are the server's when it
    reports them, else the client's estimate (documented per client).
    """

    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    total_s: float
    ttfb_s: float | None = None
    finish_reason: str = ""  #: "stop", "length" (cut at max_tokens), ... as the server says


def estimate_tokens(text: str) -> int:
    """About four characters per token: a stable stand-in when a server reports no counts."""
    return (len(text) + 3) // 4


@runtime_checkable
class LLMClient(Protocol):
    """An async model backend. Implementations raise only :class:`~ai.clients.LLMError`s.

    A client makes exactly one attempt per call: retries, timeouts across attempts and the
    circuit breaker belong to the caller (the batch executor), which sees every failure.
    """

    async def complete(
        self, request: CompletionRequest, *, on_text: TextCallback | None = None
    ) -> CompletionResult:
        """Run one completion. With ``on_text``, text chunks are passed on as they arrive."""
        ...

    async def aclose(self) -> None:
        """Release connections. Call it on the event loop that used the client."""
        ...
