"""What every HTTP backend shares: one httpx.AsyncClient, one attempt, errors mapped to ours.

A backend subclass says how to build its payload and how to read a body or a stream line;
this module does the rest the same way for all of them:

- a POST through ``httpx.AsyncClient.stream`` (streaming or not), on an injectable
  ``transport`` so tests can use an in-process transport without patching;
- a stream that ends without its end marker or a finish reason -> LLMUnavailable (cut);
- HTTP status -> error: 429 -> LLMRateLimited (Retry-After parsed), 408 -> LLMTimeout,
  5xx -> LLMUnavailable, other 4xx -> LLMBadResponse carrying the server's error text;
- httpx errors -> ours (timeouts -> LLMTimeout, connect/read/protocol -> LLMUnavailable), and
  JSON or shape errors -> LLMBadResponse, all with ``raise ... from exc``;
- timing with ``time.monotonic`` (metrics only), token counts from the server or estimated;
- a bounded read: an answer longer than ``max_response_bytes`` (a runaway model, a wrong
  endpoint serving a file) fails as LLMBadResponse once that many bytes have arrived, before
  the rest is read -- memory per call stays bounded whatever the server sends.

The API key goes into the client's default headers and nowhere else: not into errors, not
into ``repr``.
"""

from __future__ import annotations

import codecs
import contextlib
import email.utils
import json
import time
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, TypedDict, cast

import httpx

from ._errors import LLMBadResponse, LLMError, LLMRateLimited, LLMTimeout, LLMUnavailable, redact_url
from ._protocol import CompletionRequest, CompletionResult, TextCallback, estimate_tokens

__all__ = ["DEFAULT_MAX_RESPONSE_BYTES", "DEFAULT_TIMEOUT", "Chunk", "HTTPBackend", "HTTPOptions", "chat_messages"]

#: Generous: the executor enforces the per-request deadline; this only bounds a dead socket.
DEFAULT_TIMEOUT = httpx.Timeout(300.0, connect=10.0)
#: Far above any sane answer (the validator reads at most 1,000,000 characters of text, and a
#: streamed token costs ~100 bytes of SSE framing), far below what would hurt memory.
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024

_EXCERPT = 500


@dataclass
class Chunk:
    """A piece of an answer: a whole body, or one line of a stream."""

    text: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    model: str | None = None
    finish_reason: str | None = None
    done: bool = False

    def __post_init__(self) -> None:
        """A server's bookkeeping is untrusted like its text: a count that is not a whole
        number >= 0 (``"lots"``, ``-1``, ``true``) is dropped and estimated instead, a model
        or finish reason that is not text is dropped; the answer itself still counts."""
        for name in ("prompt_tokens", "completion_tokens"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                setattr(self, name, None)
        for name in ("model", "finish_reason"):
            if not isinstance(getattr(self, name), str | None):
                setattr(self, name, None)


@dataclass
class _Answer:
    parts: list[str] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    model: str | None = None
    finish_reason: str | None = None
    ttfb: float | None = None

    def result(self, request: CompletionRequest, model: str, total_s: float) -> CompletionResult:
        """The completion; token counts the server did not report are estimated."""
        text = "".join(self.parts)
        prompt = self.prompt_tokens
        if prompt is None:
            prompt = estimate_tokens(request.system) + estimate_tokens(request.user)
        return CompletionResult(
            text=text,
            prompt_tokens=prompt,
            completion_tokens=self.completion_tokens if self.completion_tokens is not None else estimate_tokens(text),
            model=self.model or model,
            total_s=total_s,
            ttfb_s=self.ttfb,
            finish_reason=self.finish_reason or "",
        )

    def add(self, chunk: Chunk) -> None:
        if chunk.text:
            self.parts.append(chunk.text)
        for name in ("prompt_tokens", "completion_tokens", "model", "finish_reason"):
            value = getattr(chunk, name)
            if value is not None:
                setattr(self, name, value)


class HTTPOptions(TypedDict, total=False):
    """Keyword options every HTTP backend takes (see :class:`HTTPBackend`)."""

    api_key: str | None
    transport: httpx.AsyncBaseTransport | None
    timeout: float | httpx.Timeout
    headers: Mapping[str, str] | None
    extra: Mapping[str, Any] | None
    max_response_bytes: int


class HTTPBackend:
    """Base of the HTTP clients. Subclasses set ``backend`` and ``path`` and implement
    :meth:`_payload`, :meth:`_decode_body` and :meth:`_decode_line`.

    ``api_key`` is sent as ``Authorization: Bearer``; ``transport`` replaces the network (an
    ``httpx.MockTransport`` in unit tests); ``timeout`` bounds a dead socket (the executor
    imposes the per-request deadline); ``headers`` are added to every request; ``extra`` is
    merged into every payload (e.g. llama.cpp's raw ``grammar``). ``max_response_bytes``
    bounds one answer's (decoded) body, streamed or not: past it the call fails with
    :class:`~ai.clients.LLMBadResponse` without reading the rest.
    """

    backend: ClassVar[str]
    path: ClassVar[str]

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int) or max_response_bytes < 1:
            raise LLMError(f"max_response_bytes must be a positive int, got {max_response_bytes!r}")
        self.max_response_bytes = max_response_bytes
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.url = redact_url(self.base_url + self.path)  #: for messages and logs
        self.extra = dict(extra or {})  #: merged into every payload (e.g. a raw ``grammar``)
        default_headers = dict(headers or {})
        if api_key:
            default_headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.AsyncClient(
            base_url=self.base_url, transport=transport, timeout=timeout, headers=default_headers
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r}, model={self.model!r})"

    # -- what a backend defines ----------------------------------------------------------------

    def _payload(self, request: CompletionRequest) -> dict[str, Any]:
        raise NotImplementedError

    def _decode_body(self, data: Any) -> Chunk:
        """A whole (non-streamed) JSON body. May raise KeyError/IndexError/TypeError on a wrong
        shape: those become LLMBadResponse."""
        raise NotImplementedError

    def _decode_line(self, line: str, request: CompletionRequest) -> Chunk | None:
        """One non-empty line of a streamed body; None to skip it."""
        raise NotImplementedError

    # -- shared ----------------------------------------------------------------------------

    def _where(self, request: CompletionRequest, status_code: int | None = None) -> dict[str, Any]:
        return {"backend": self.backend, "url": self.url, "request_id": request.request_id, "status_code": status_code}

    def _json(self, raw: bytes | str, request: CompletionRequest) -> Any:
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise LLMBadResponse(f"body is not JSON: {_excerpt(raw)!r}", **self._where(request)) from exc

    def _shape(self, decode: Any, data: Any, request: CompletionRequest) -> Chunk:
        try:
            return decode(data)
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise LLMBadResponse(
                f"unexpected response shape ({type(exc).__name__}: {exc}): {_excerpt(json.dumps(data))!r}",
                **self._where(request),
            ) from exc

    def _status_error(self, response: httpx.Response, body: bytes, request: CompletionRequest) -> LLMError:
        status = response.status_code
        message = _server_message(body) or response.reason_phrase or "no error text"
        where = self._where(request, status)
        if status == 429:
            return LLMRateLimited(message, retry_after=_retry_after(response.headers.get("retry-after")), **where)
        if status == 408:
            return LLMTimeout(message, **where)
        if status >= 500:
            return LLMUnavailable(message, **where)
        return LLMBadResponse(message, **where)

    async def complete(
        self, request: CompletionRequest, *, on_text: TextCallback | None = None
    ) -> CompletionResult:
        """One attempt. Streams when ``request.stream``; ``on_text`` then gets each chunk as it
        arrives (without streaming it gets the whole text once, at the end)."""
        payload = {**self._payload(request), **self.extra}
        start = time.monotonic()
        answer = _Answer()
        try:
            async with self._http.stream("POST", self.path, json=payload) as response:
                if response.status_code >= 400:
                    raise self._status_error(response, await _head(response), request)
                if request.stream:
                    await self._read_stream(response, request, answer, start, on_text)
                else:
                    answer.ttfb = time.monotonic() - start
                    data = self._json(await self._read_body(response, request), request)
                    answer.add(self._shape(self._decode_body, data, request))
                    if on_text is not None and answer.parts:
                        on_text("".join(answer.parts))
        except LLMError:
            raise
        except httpx.TimeoutException as exc:
            raise LLMTimeout(f"{type(exc).__name__}: {exc}", **self._where(request)) from exc
        except httpx.UnsupportedProtocol as exc:
            raise LLMError(f"bad base_url: {exc}", **self._where(request)) from exc
        except httpx.TransportError as exc:
            raise LLMUnavailable(f"{type(exc).__name__}: {exc or 'connection failed'}", **self._where(request)) from exc
        return answer.result(request, self.model, time.monotonic() - start)

    async def _read_stream(
        self,
        response: httpx.Response,
        request: CompletionRequest,
        answer: _Answer,
        start: float,
        on_text: TextCallback | None,
    ) -> None:
        # aclosing: leaving at the end marker closes the line reader (and the byte reader
        # inside it) now, in this loop, not in a finalizer after the loop has gone.
        async with contextlib.aclosing(self._lines(response, request)) as lines:
            async for line in lines:
                if not line.strip():
                    continue
                chunk = self._shape(lambda text: self._decode_line(text, request), line, request)
                if chunk is None:
                    continue
                if chunk.text:
                    if answer.ttfb is None:
                        answer.ttfb = time.monotonic() - start
                    if on_text is not None:
                        on_text(chunk.text)
                answer.add(chunk)
                if chunk.done:
                    return
        if answer.finish_reason is None:
            # Neither the end marker ([DONE], "done": true) nor a finish reason: the connection
            # was cut mid-answer. Retryable, so the agents not yet streamed are asked again.
            raise LLMUnavailable("the stream ended before its end marker: connection cut mid-answer", **self._where(request))

    def _too_long(self, size: int, request: CompletionRequest) -> LLMBadResponse:
        return LLMBadResponse(
            f"answer longer than max_response_bytes={self.max_response_bytes:,} (at least {size:,} bytes): "
            "a runaway model or not a chat endpoint; raise max_response_bytes if answers really are this long",
            **self._where(request, 200),
        )

    async def _bounded(self, response: httpx.Response, request: CompletionRequest) -> AsyncGenerator[bytes, None]:
        """The body's bytes as they arrive, refused once they exceed ``max_response_bytes``."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            raise self._too_long(int(declared), request)
        size = 0
        async with contextlib.aclosing(_byte_stream(response)) as body:
            async for data in body:
                size += len(data)
                if size > self.max_response_bytes:
                    raise self._too_long(size, request)
                yield data

    async def _read_body(self, response: httpx.Response, request: CompletionRequest) -> bytes:
        return b"".join([data async for data in self._bounded(response, request)])

    async def _lines(self, response: httpx.Response, request: CompletionRequest) -> AsyncGenerator[str, None]:
        """The body's lines as they arrive, bounded like the whole body.

        Not ``httpx.Response.aiter_lines``: it buffers a line until its newline comes, so a
        body without newlines would be held whole. Bytes that are not UTF-8 become U+FFFD,
        as httpx decodes them (the validator then judges the text).
        """
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        partial: list[str] = []  # the current line's pieces, joined once its newline arrives
        async with contextlib.aclosing(self._bounded(response, request)) as chunks:
            async for data in chunks:
                *ended, rest = decoder.decode(data).split("\n")
                for line in ended:
                    partial.append(line)
                    yield "".join(partial).rstrip("\r")
                    partial = []
                partial.append(rest)
        tail = "".join(partial) + decoder.decode(b"", final=True)
        if tail:
            yield tail.rstrip("\r")

    async def aclose(self) -> None:
        await self._http.aclose()


def chat_messages(request: CompletionRequest) -> list[dict[str, str]]:
    """The system prefix first (servers cache it across requests), then the per-batch state."""
    return [{"role": "system", "content": request.system}, {"role": "user", "content": request.user}]


def _byte_stream(response: httpx.Response) -> AsyncGenerator[bytes, None]:
    """The body's bytes as what they are at run time, an async generator: closable now."""
    return cast(AsyncGenerator[bytes, None], response.aiter_bytes())


async def _head(response: httpx.Response, limit: int = 64 * 1024) -> bytes:
    """The start of an error body: enough for its message, never the whole of a huge one."""
    parts: list[bytes] = []
    size = 0
    async with contextlib.aclosing(_byte_stream(response)) as body:
        async for data in body:
            parts.append(data)
            size += len(data)
            if size >= limit:
                break
    return b"".join(parts)[:limit]


def _excerpt(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."


def _server_message(body: bytes) -> str:
    """The error text a server sent: ``{"error": {"message"}}``, ``{"error": "..."}``,
    ``{"detail": ...}`` or the raw body."""
    try:
        data = json.loads(body)
    except ValueError:
        return _excerpt(body).strip()
    if isinstance(data, dict):
        error = data.get("error", data.get("detail"))
        if isinstance(error, dict) and "message" in error:
            return _excerpt(str(error["message"]))
        if error is not None:
            return _excerpt(error if isinstance(error, str) else json.dumps(error))
    return _excerpt(body)


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date (then relative to now)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
