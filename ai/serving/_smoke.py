"""One real completion against a model server: the only proof that a build runs on this CPU.

``llama-server --version`` and a healthy ``/health`` both pass on a binary that dies with
SIGILL at its first matrix multiply (measured on a CPU that reports AMX), so a build, and
``tickmind doctor``, ask for a short completion and time it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import httpx

from ._errors import ServingError
from ._process import LocalServer, ServerSpec

__all__ = ["CompletionCheck", "check_completion", "check_served"]

_PROMPT = "List three colours, one per line."


@dataclass(frozen=True)
class CompletionCheck:
    """What one completion measured: tokens in each phase and their speed (tokens/s)."""

    prompt_tokens: int
    completion_tokens: int
    prompt_per_s: float
    generation_per_s: float
    wall_s: float
    text: str

    def describe(self) -> str:
        return (
            f"{self.completion_tokens} tokens generated at {self.generation_per_s:.0f} tok/s, "
            f"prompt of {self.prompt_tokens} tokens read at {self.prompt_per_s:.0f} tok/s"
        )


def check_completion(base_url: str, *, model: str = "local", max_tokens: int = 32, timeout: float = 60.0) -> CompletionCheck:
    """Ask ``base_url`` (an OpenAI-compatible ``.../v1``) for one short completion.

    Raises :class:`ServingError` when the server does not answer with text; the caller, which
    owns the process, says whether it died and why.
    """
    body = {
        "model": model,
        "messages": [{"role": "user", "content": _PROMPT}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "seed": 0,
    }
    started = time.perf_counter()
    try:
        with httpx.Client(timeout=timeout, trust_env=False) as http:
            reply = http.post(f"{base_url}/chat/completions", json=body)
    except httpx.HTTPError as exc:
        raise ServingError(f"no answer to a test completion at {base_url}: {exc or type(exc).__name__}") from None
    wall = time.perf_counter() - started
    try:
        data = reply.json()
        text = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise ServingError(f"the test completion at {base_url} answered HTTP {reply.status_code}: {reply.text[:200]!r}") from None
    if reply.status_code != 200 or not isinstance(text, str) or not text.strip():
        raise ServingError(f"the test completion at {base_url} answered HTTP {reply.status_code} with no text")
    usage = data.get("usage") or {}
    timings = data.get("timings") or {}  # llama-server reports each phase's speed itself
    prompt = int(usage.get("prompt_tokens") or timings.get("prompt_n") or 0)
    completion = int(usage.get("completion_tokens") or timings.get("predicted_n") or 0)
    prompt_speed = float(timings.get("prompt_per_second") or 0.0)
    generation_speed = float(timings.get("predicted_per_second") or (completion / wall if wall > 0 else 0.0))
    return CompletionCheck(prompt, completion, prompt_speed, generation_speed, wall, text)


def check_served(spec: ServerSpec) -> CompletionCheck:
    """Start ``spec``'s server once (never restarted: a death is the answer) and time one
    completion on it; a server that died of the request is named as such."""
    with LocalServer(replace(spec, max_restarts=0), say=lambda _line: None) as server:
        try:
            return check_completion(server.base_url)
        except ServingError as exc:
            raise server.explain_failure(exc) from None
