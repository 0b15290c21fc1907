"""A client of the embedded server that rides out the server's restarts.

When the server process dies mid-request, the request fails with a refused or reset
connection. That failure belongs to the dead process, not to the model: counted by the
executor's retries and circuit breaker it would open the breaker while the watcher restarts
the server, and every agent would fall to the heuristic for the breaker's cooldown. So a
failed call whose server is not serving waits for the restart and is made once more against
the new process; a server gone for good turns the failure into one that says so.

This is the one place a call makes a second attempt (the :class:`~ai.clients.LLMClient`
contract leaves retries to the executor): the second attempt is against another process,
and it happens inside the executor's own per-request timeout.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..clients import CompletionRequest, CompletionResult, LLMClient, LLMUnavailable, TextCallback

if TYPE_CHECKING:
    from ._process import LocalServer

__all__ = ["ServedClient"]

#: How long one call waits for a restart; the executor's timeout still bounds the whole call.
_RESTART_WAIT_S = 120.0
#: A reset connection can come a moment before the dying process can be seen to exit.
_DEATH_NOTICE_S = 0.5


class ServedClient:
    """``inner`` (a client of ``server``) that waits out ``server``'s restarts."""

    def __init__(self, inner: LLMClient, server: LocalServer) -> None:
        self.inner = inner
        self.server = server
        self.backend = getattr(inner, "backend", "openai")
        self.url = getattr(inner, "url", "")

    async def complete(self, request: CompletionRequest, *, on_text: TextCallback | None = None) -> CompletionResult:
        try:
            return await self.inner.complete(request, on_text=on_text)
        except LLMUnavailable as exc:
            if not await asyncio.to_thread(self.server.died_within, _DEATH_NOTICE_S):
                raise  # the process is alive: this is the server's own answer (a 5xx)
            if not await asyncio.to_thread(self.server.wait_until_serving, _RESTART_WAIT_S):
                failure = self.server.failure
                if failure is not None:
                    raise LLMUnavailable(failure.headline, backend=self.backend, url=self.url) from exc
                raise
        return await self.inner.complete(request, on_text=on_text)

    async def aclose(self) -> None:
        await self.inner.aclose()
