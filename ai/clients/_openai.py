"""OpenAI-compatible ``/v1/chat/completions``: vLLM, llama.cpp's llama-server,
llama-cpp-python's server, LM Studio and hosted APIs.

The batch's JSON schema is sent in the form the server understands (``schema_format``):

- ``"json_schema"`` (default): ``response_format={"type": "json_schema", "json_schema":
  {"name", "schema", "strict": true}}`` -- OpenAI, vLLM, llama-server;
- ``"json_object"``: ``response_format={"type": "json_object", "schema": ...}`` --
  llama-cpp-python's server (which silently falls back to plain JSON if it cannot build a
  grammar from the schema: validate every answer anyway).

A raw llama.cpp ``grammar`` or any other server field goes through ``extra={...}``. Streaming
reads server-sent events (``data: {...}`` lines up to ``data: [DONE]``) and asks for usage in
the last chunk.
"""

from __future__ import annotations

from typing import Any, Literal, Unpack

from ._errors import LLMBadResponse, LLMError
from ._http import Chunk, HTTPBackend, HTTPOptions, chat_messages
from ._protocol import CompletionRequest

__all__ = ["OpenAIClient"]

SchemaFormat = Literal["json_schema", "json_object"]


class OpenAIClient(HTTPBackend):
    """Client for an OpenAI-compatible server. ``base_url`` includes the ``/v1`` prefix, as in
    the OpenAI SDK (``http://127.0.0.1:8080/v1``)."""

    backend = "openai"
    path = "/chat/completions"

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8080/v1",
        model: str = "default",
        *,
        schema_format: SchemaFormat = "json_schema",
        schema_name: str = "plan_batch",
        **options: Unpack[HTTPOptions],
    ) -> None:
        if schema_format not in ("json_schema", "json_object"):
            raise LLMError(f"schema_format must be 'json_schema' or 'json_object', got {schema_format!r}")
        super().__init__(base_url, model, **options)
        self.schema_format = schema_format
        self.schema_name = schema_name

    def _payload(self, request: CompletionRequest) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": chat_messages(request),
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "seed": request.seed,
            "stream": request.stream,
        }
        if request.stream:
            payload["stream_options"] = {"include_usage": True}
        if request.grammar is not None:
            payload["grammar"] = request.grammar  # llama.cpp servers; others answer 400
        elif request.schema is not None:
            if self.schema_format == "json_schema":
                payload["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": self.schema_name, "schema": request.schema, "strict": True},
                }
            else:
                payload["response_format"] = {"type": "json_object", "schema": request.schema}
        return payload

    def _decode_body(self, data: Any) -> Chunk:
        choice = data["choices"][0]
        content = choice["message"]["content"]
        if not isinstance(content, str):
            raise TypeError(f"message content is {type(content).__name__}, not text")
        usage = data.get("usage") or {}
        return Chunk(
            text=content,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            model=data.get("model"),
            finish_reason=choice.get("finish_reason"),
            done=True,
        )

    def _decode_line(self, line: str, request: CompletionRequest) -> Chunk | None:
        name, _, value = line.partition(":")
        if name != "data":  # SSE comments (": ping"), event:, id:, retry: lines
            return None
        value = value.strip()
        if value == "[DONE]":
            return Chunk(done=True)
        data = self._json(value, request)
        if isinstance(data, dict) and data.get("error") is not None:
            error = data["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise LLMBadResponse(f"error in stream: {message}", **self._where(request))
        choices = data.get("choices") or []
        delta = (choices[0].get("delta") or {}) if choices else {}
        usage = data.get("usage") or {}
        return Chunk(
            text=delta.get("content") or "",
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            model=data.get("model"),
            finish_reason=choices[0].get("finish_reason") if choices else None,
        )
