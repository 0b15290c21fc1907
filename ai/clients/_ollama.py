"""Ollama's native ``/api/chat``.

The batch's JSON schema goes in ``format`` (Ollama constrains decoding to it); temperature,
seed and ``num_predict`` (max tokens) go in ``options``. Streaming reads newline-delimited JSON
objects; the last one has ``"done": true`` and the token counts (``prompt_eval_count``,
``eval_count``). Extra options (``keep_alive``, ``num_ctx`` inside ``options``...) go through
``extra=`` (top level) or ``options=`` (merged into ``options``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

from ._errors import LLMBadResponse
from ._http import Chunk, HTTPBackend, HTTPOptions, chat_messages
from ._protocol import CompletionRequest

__all__ = ["OllamaClient"]


class OllamaClient(HTTPBackend):
    """Client for an Ollama server (``base_url`` without a path: ``http://127.0.0.1:11434``)."""

    backend = "ollama"
    path = "/api/chat"

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:11434",
        model: str = "smollm2:135m",
        *,
        options: Mapping[str, Any] | None = None,
        **http: Unpack[HTTPOptions],
    ) -> None:
        super().__init__(base_url, model, **http)
        self.options = dict(options or {})

    def _payload(self, request: CompletionRequest) -> dict[str, Any]:
        if request.grammar is not None:
            raise LLMBadResponse(
                "Ollama takes JSON schemas, not GBNF grammars: plan with wire='json'", **self._where(request)
            )
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": chat_messages(request),
            "stream": request.stream,
            "options": {
                "temperature": request.temperature,
                "seed": request.seed,
                "num_predict": request.max_tokens,
                **self.options,
            },
        }
        if request.schema is not None:
            payload["format"] = request.schema
        return payload

    def _decode_body(self, data: Any) -> Chunk:
        content = data["message"]["content"]
        if not isinstance(content, str):
            raise TypeError(f"message content is {type(content).__name__}, not text")
        return Chunk(
            text=content,
            prompt_tokens=data.get("prompt_eval_count"),
            completion_tokens=data.get("eval_count"),
            model=data.get("model"),
            finish_reason=data.get("done_reason"),
            done=bool(data.get("done", True)),
        )

    def _decode_line(self, line: str, request: CompletionRequest) -> Chunk | None:
        data = self._json(line, request)
        if isinstance(data, dict) and data.get("error") is not None:
            raise LLMBadResponse(f"error in stream: {data['error']}", **self._where(request))
        if isinstance(data, dict) and "message" not in data and data.get("done"):
            return Chunk(done=True)
        return self._decode_body(data)
