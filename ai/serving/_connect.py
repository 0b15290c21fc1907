"""``--llm local|URL``: from a flag to a started executor, the wire and the batch shape.

One place decides, for a run, what talks to the model:

- ``"local"``: the embedded server (:class:`LocalServer`), plan lines with a grammar (both
  llama.cpp servers take GBNF), as many requests in flight as the server batches;
- a URL: an OpenAI-compatible server (``backend="openai"``; vLLM, llama-server, LM Studio,
  hosted APIs) or Ollama (``backend="ollama"``), JSON wire unless told ``wire="lines"`` (a
  llama.cpp server), in flight what ``parallel`` says (default: probe the server once).

The API key of a hosted server comes only from the environment (``api_key_env``), never
from a flag: flags end up in shell history and in the run's journal header.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from ..clients import CircuitBreaker, LLMClient, OllamaClient, OpenAIClient, redact_url
from ..llm import BatchExecutor, RetryPolicy, RunMetrics, probe_parallelism, server_report
from ..wire import Wire
from ._errors import ServingError
from ._process import LocalServer, ServerSpec

__all__ = ["ModelConnection", "check_llm", "connect_model"]

Backend = Literal["openai", "ollama"]


@dataclass
class ModelConnection:
    """What a run needs to ask a model: a started executor, the wire to ask over, and how
    many requests the server runs at once (for :func:`ai.llm.batch_shape`).

    A run loop calls :meth:`check` between ticks: it raises
    :class:`~ai.serving.ServerCrashed` once the embedded server is gone for good, so a dead
    model stops the run instead of leaving the heuristic to play it unannounced.
    :meth:`health` says, for people, whether the model answers.
    """

    executor: BatchExecutor
    wire: Wire
    parallel: int
    description: str
    server: LocalServer | None = None
    metrics: RunMetrics | None = None
    url: str = ""

    def check(self) -> None:
        if self.server is not None:
            self.server.check()

    @property
    def restarts(self) -> int:
        """Times the embedded server was started again after dying (0 for a URL)."""
        return self.server.restarts if self.server is not None else 0

    def health(self) -> dict[str, object]:
        """``{"state", "url", "failed_in_a_row", "last_error", "restarts"}``; ``state`` is
        the metrics' (:meth:`ai.RunMetrics.server`), or "unknown" without metrics."""
        report: dict[str, object] = self.metrics.server() if self.metrics is not None else server_report()
        if report["state"] != "answering" and report["url"] is None:
            report = {**report, "url": self.url}
        return {**report, "restarts": self.restarts}


@contextmanager
def connect_model(
    llm: str = "local",
    *,
    backend: Backend = "openai",
    model: str | None = None,
    wire: Wire | None = None,
    parallel: int | None = None,
    server: ServerSpec | None = None,
    log_path: str | os.PathLike[str] | None = None,
    timeout: float = 120.0,
    api_key_env: str = "TICKMIND_API_KEY",
    metrics: RunMetrics | None = None,
    say: Callable[[str], None] = print,
) -> Iterator[ModelConnection]:
    """Start what ``llm`` names and yield its connection; stop everything on exit.

    ``say`` hears what takes long before the first request: building llama-server for this
    CPU on first use."""
    local: LocalServer | None = None
    try:
        if llm == "local":
            local = LocalServer(server, log_path=log_path, say=say).start()
            make_client: Callable[[], LLMClient] = local.client
            chosen_wire: Wire = wire or "lines"
            in_flight = parallel or local.concurrency
            description = f"embedded {local.kind} at {local.base_url} ({Path(str(local.spec.model)).name})"
            url = local.base_url
        else:
            check_llm(llm)
            make_client = _remote(llm, backend, model, api_key_env)
            chosen_wire = wire or "json"
            in_flight = parallel or _probe(make_client)
            description = f"{backend} server at {llm}"
            url = redact_url(llm)
        breaker = CircuitBreaker()
        if local is not None:
            local.on_restart(breaker.reset)  # the failures it counted were the dead process's
        executor = BatchExecutor(
            make_client(),
            max_concurrency=in_flight,
            max_pending=max(64, 4 * in_flight),
            timeout=timeout,
            retry=RetryPolicy(),
            breaker=breaker,
            metrics=metrics,
        ).start()
        try:
            yield ModelConnection(executor, chosen_wire, in_flight, description, local, metrics, url)
        finally:
            executor.stop()
    finally:
        if local is not None:
            local.stop()


def check_llm(llm: str) -> None:
    """Refuse a ``--llm`` value that is neither ``local`` nor an http(s) URL, before any work."""
    if llm == "local":
        return
    if not llm.startswith(("http://", "https://")):
        raise ServingError(f"--llm takes 'local' or an http(s) URL, got {llm!r}")
    try:
        host = httpx.URL(llm).host
    except (httpx.InvalidURL, ValueError) as exc:
        raise ServingError(f"--llm {llm!r} is not a valid URL: {exc}") from None
    if not host:
        raise ServingError(f"--llm {llm!r} names no host")


def _remote(url: str, backend: Backend, model: str | None, api_key_env: str) -> Callable[[], LLMClient]:
    key = os.environ.get(api_key_env) or None
    if backend == "ollama":
        return lambda: OllamaClient(url, model or "smollm2:135m")
    if backend == "openai":
        return lambda: OpenAIClient(url, model or "default", api_key=key)
    raise ServingError(f"--backend must be 'openai' or 'ollama', got {backend!r}")


def _probe(make_client: Callable[[], LLMClient]) -> int:
    async def probe() -> int:
        client = make_client()
        try:
            return await probe_parallelism(client)
        finally:
            await client.aclose()

    return asyncio.run(probe())
