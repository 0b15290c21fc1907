"""Errors of model calls, under the one tickmind tree.

    TickmindError                 (engine)
    └── LLMError                  a model call failed; ``retryable`` says if trying again may help
        ├── LLMTimeout            no complete answer in time            (retryable)
        ├── LLMUnavailable        connect refused / reset, HTTP 5xx     (retryable)
        ├── LLMRateLimited        HTTP 429; carries ``retry_after``     (retryable)
        ├── LLMBadResponse        HTTP 4xx (with the server's text), a body that is not JSON
        │                         or not the expected shape             (not retryable)
        └── CircuitOpen           the breaker refused the call; carries ``retry_in``

Every message names the backend, the URL and the cause, so one log line says what to fix. A
message never holds an API key: clients pass URLs through :func:`redact_url` and never put
headers into errors. Foreign errors (httpx, json) are re-raised as these with
``raise ... from exc``; the original stays reachable as ``__cause__``.

``retryable`` is also what the circuit breaker counts as a failure of the backend: a 4xx or a
malformed body means the server is up and answering, so it does not trip the breaker.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit

from engine import TickmindError

__all__ = [
    "CircuitOpen",
    "LLMBadResponse",
    "LLMError",
    "LLMRateLimited",
    "LLMTimeout",
    "LLMUnavailable",
    "redact_url",
]


def redact_url(url: str) -> str:
    """``url`` without user info, query or fragment: where keys hide when they are in a URL."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class LLMError(TickmindError):
    """A model call failed. ``backend``/``url``/``request_id`` say which, ``cause`` says why."""

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        cause: str,
        *,
        backend: str = "",
        url: str = "",
        request_id: str = "",
        status_code: int | None = None,
    ) -> None:
        self.cause = cause
        self.backend = backend
        self.url = redact_url(url)
        self.request_id = request_id
        self.status_code = status_code
        super().__init__(self._message())

    def _message(self) -> str:
        where = " ".join(part for part in (self.backend, self.url) if part)
        if self.request_id:
            where = f"{where} (request {self.request_id})" if where else f"request {self.request_id}"
        status = f"HTTP {self.status_code}: " if self.status_code is not None else ""
        return f"{where}: {status}{self.cause}" if where else f"{status}{self.cause}"

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only fields would be lost by Exception's default pickling (args only).
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[LLMError], state: dict[str, object]) -> LLMError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error._message())
    return error


class LLMTimeout(LLMError):
    """No complete answer within the time allowed (a per-request or lockstep deadline)."""

    retryable = True


class LLMUnavailable(LLMError):
    """The backend could not be reached (refused, reset) or answered 5xx."""

    retryable = True


class LLMRateLimited(LLMError):
    """HTTP 429. ``retry_after`` is the server's Retry-After in seconds, if it sent one."""

    retryable = True

    def __init__(self, cause: str, *, retry_after: float | None = None, **where: object) -> None:
        self.retry_after = retry_after
        super().__init__(cause, **where)  # type: ignore[arg-type]

    def _message(self) -> str:
        hint = f" (retry after {self.retry_after:g} s)" if self.retry_after is not None else ""
        return super()._message() + hint


class LLMBadResponse(LLMError):
    """The server answered, but not usably: HTTP 4xx, a body that is not JSON, a wrong shape.

    Trying again with the same request would get the same answer, so it is not retried.
    """


class CircuitOpen(LLMError):
    """The circuit breaker is open: the backend failed too often; ``retry_in`` seconds left."""

    def __init__(self, cause: str, *, retry_in: float = 0.0, **where: object) -> None:
        self.retry_in = retry_in
        super().__init__(cause, **where)  # type: ignore[arg-type]
