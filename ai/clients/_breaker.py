"""Circuit breaker: stop calling a backend that keeps failing, try again after a cooldown.

    CLOSED --(failure_threshold consecutive failures)--> OPEN
    OPEN   --(cooldown elapsed; the next call is let through as a trial)--> HALF_OPEN
    HALF_OPEN --(trial succeeds)--> CLOSED      HALF_OPEN --(trial fails)--> OPEN (cooldown anew)

A failure is a *retryable* :class:`~ai.clients.LLMError` (timeout, unreachable, 5xx, 429): the
backend is unhealthy. A 4xx or malformed body proves the server is up, so it counts as a
success for the breaker. While open, calls fail at once with :class:`~ai.clients.CircuitOpen`
and the planner drops to its next tier instead of waiting for timeouts.

State lives in this one object, which must outlive the calls it guards (one per backend, made
once, passed in). The reference implementation rebuilt its breaker on every call, so it never
opened. The clock is injectable so tests move time by hand.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum

from engine import TickmindError

from ._errors import CircuitOpen, LLMError
from ._protocol import CompletionRequest, CompletionResult, LLMClient, TextCallback

__all__ = ["BreakerClient", "BreakerState", "CircuitBreaker"]


class BreakerState(str, Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Shared, thread-safe breaker state for one backend.

    Use :meth:`guard` around each single attempt (the batch executor does, given
    ``breaker=``). ``opened`` counts how often it opened, for metrics.
    """

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        name: str = "llm",
    ) -> None:
        if failure_threshold < 1:
            raise TickmindError(f"CircuitBreaker failure_threshold must be >= 1, got {failure_threshold}")
        if cooldown < 0:
            raise TickmindError(f"CircuitBreaker cooldown must be >= 0 seconds, got {cooldown}")
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False
        self.opened = 0

    @property
    def state(self) -> BreakerState:
        """The state a call made now would see (OPEN turns HALF_OPEN once the cooldown ends)."""
        with self._lock:
            if self._state is BreakerState.OPEN and self._cooled_down():
                return BreakerState.HALF_OPEN
            return self._state

    @property
    def consecutive_failures(self) -> int:
        with self._lock:
            return self._failures

    def _cooled_down(self) -> bool:
        return self._clock() - self._opened_at >= self.cooldown

    def _admit(self) -> bool:
        """Let a call through or raise CircuitOpen; True when the call is the half-open trial."""
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return False
            if self._state is BreakerState.OPEN:
                if not self._cooled_down():
                    retry_in = self.cooldown - (self._clock() - self._opened_at)
                    raise CircuitOpen(
                        f"circuit open after {self._failures} consecutive failures; "
                        f"next trial in {retry_in:.3g} s",
                        backend=self.name,
                        retry_in=retry_in,
                    )
                self._state = BreakerState.HALF_OPEN
            if self._trial_in_flight:
                raise CircuitOpen("circuit half-open: a trial call is in flight", backend=self.name)
            self._trial_in_flight = True
            return True

    def record_success(self) -> None:
        """The backend answered. Closes a half-open breaker; ignored while open."""
        with self._lock:
            if self._state is not BreakerState.OPEN:
                self._state = BreakerState.CLOSED
                self._failures = 0

    def record_failure(self) -> None:
        """The backend failed. Opens after ``failure_threshold`` in a row, or at once when
        half-open; ignored while open (the cooldown does not restart)."""
        with self._lock:
            if self._state is BreakerState.OPEN:
                return
            self._failures += 1
            if self._state is BreakerState.HALF_OPEN or self._failures >= self.failure_threshold:
                self._state = BreakerState.OPEN
                self._opened_at = self._clock()
                self.opened += 1

    def reset(self) -> None:
        with self._lock:
            self._state = BreakerState.CLOSED
            self._failures = 0
            self._trial_in_flight = False

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Guard one attempt: raise CircuitOpen if refused, else record how it ended.

        A call that ends with no verdict (cancelled, or a non-LLMError bug) records nothing
        but frees the half-open trial slot, so the next call can be the trial.
        """
        trial = self._admit()
        try:
            yield
        except LLMError as exc:
            self._end(trial, failed=exc.retryable)
            raise
        except BaseException:
            self._end(trial, failed=None)
            raise
        else:
            self._end(trial, failed=False)

    def _end(self, trial: bool, *, failed: bool | None) -> None:
        if trial:
            with self._lock:
                self._trial_in_flight = False
        if failed is True:
            self.record_failure()
        elif failed is False:
            self.record_success()

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.name!r}, state={self.state.value}, failures={self.consecutive_failures})"


class BreakerClient:
    """Any client behind a breaker, for callers that are not the batch executor.

    With the executor, pass ``breaker=`` to it instead: it guards each attempt *including* its
    timeout, so timeouts count as failures (here a timeout imposed from outside arrives as a
    cancellation, which records nothing).
    """

    def __init__(self, inner: LLMClient, breaker: CircuitBreaker) -> None:
        self.inner = inner
        self.breaker = breaker

    async def complete(
        self, request: CompletionRequest, *, on_text: TextCallback | None = None
    ) -> CompletionResult:
        with self.breaker.guard():
            return await self.inner.complete(request, on_text=on_text)

    async def aclose(self) -> None:
        await self.inner.aclose()
