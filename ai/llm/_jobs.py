"""What crosses between the planner and the executor: a job, its result, the retry policy,
latency figures, and the executor's own errors. Plain frozen data, so a planner, a metrics
sink or a test can build and read them without starting a thread."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from engine import TickmindError

from ..clients import CompletionRequest, CompletionResult, LLMError, LLMRateLimited

__all__ = [
    "BatchJob",
    "ExecutorClosed",
    "ExecutorError",
    "JobResult",
    "JobStatus",
    "LatencyStats",
    "QueueFull",
    "RetryPolicy",
    "StreamCallback",
]

#: ``(job_id, attempt, chunk)``: streamed text of a job's answer, on the executor's thread.
StreamCallback = Callable[[str, int, str], None]


class ExecutorError(TickmindError):
    """The executor was used wrongly (not started, duplicate job id, unknown job id)."""


class ExecutorClosed(ExecutorError):
    """submit() after stop(): make a new executor for a new run."""


class QueueFull(ExecutorError):
    """Too many unfinished jobs: fall back (heuristic tier) for these agents instead."""

    def __init__(self, message: str, *, pending: int, max_pending: int) -> None:
        super().__init__(message)
        self.pending = pending
        self.max_pending = max_pending


class JobStatus(str, Enum):
    OK = "ok"  #: ``result`` holds the completion
    FAILED = "failed"  #: ``error`` says why (after retries, or at once if not retryable)
    TIMED_OUT = "timed_out"  #: a lockstep wait() gave up on it; the call was cancelled
    CANCELLED = "cancelled"  #: the executor stopped before the job finished


@dataclass(frozen=True, kw_only=True)
class BatchJob:
    """One model request for a batch of agents, submitted at ``submit_tick``.

    ``agent_ids`` must be unique (one plan per agent: duplicates once silently overwrote each
    other). ``attempt`` is the planner's own counter for these agents (1 = first time asked,
    2 = asked again, e.g. at a simpler tier); the executor only echoes it. ``max_attempts``
    overrides the executor's retry policy for this job.

    ``on_text(job_id, attempt, chunk)`` receives the answer's text as it streams in (set
    ``request.stream``), so an incremental parser can hand plans over before the batch ends.
    It runs on the executor's thread: keep it fast and thread-safe (put into a queue). A new
    ``attempt`` number means a retry started over: drop what the earlier attempt streamed.
    """

    job_id: str
    request: CompletionRequest
    agent_ids: tuple[int, ...]
    submit_tick: int
    attempt: int = 1
    max_attempts: int | None = None
    on_text: StreamCallback | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.job_id:
            raise ExecutorError("BatchJob.job_id must be a non-empty string")
        ids = tuple(self.agent_ids)
        object.__setattr__(self, "agent_ids", ids)
        if len(set(ids)) != len(ids):
            dupes = sorted({a for a in ids if ids.count(a) > 1})
            raise ExecutorError(f"BatchJob {self.job_id!r} lists agents {dupes} more than once")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ExecutorError(f"BatchJob {self.job_id!r} max_attempts must be >= 1, got {self.max_attempts}")


@dataclass(frozen=True, kw_only=True)
class JobResult:
    """A finished job. ``latency_s`` (submit to finish, monotonic) is metrics only."""

    job: BatchJob
    status: JobStatus
    result: CompletionResult | None = None
    error: LLMError | None = None
    attempts: int = 0
    latency_s: float = 0.0

    @property
    def job_id(self) -> str:
        return self.job.job_id

    @property
    def agent_ids(self) -> tuple[int, ...]:
        return self.job.agent_ids

    @property
    def ok(self) -> bool:
        return self.status is JobStatus.OK


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter.

    Before attempt n+1 the executor waits ``min(max_delay, base_delay * multiplier**(n-1))``
    scaled by ``1 - jitter * u`` with u uniform in [0, 1) -- or a 429's Retry-After if longer.
    """

    max_attempts: int = 3
    base_delay: float = 0.25
    multiplier: float = 2.0
    max_delay: float = 8.0
    jitter: float = 0.5
    max_retry_after: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ExecutorError(f"RetryPolicy.max_attempts must be >= 1, got {self.max_attempts}")
        if not 0.0 <= self.jitter <= 1.0:
            raise ExecutorError(f"RetryPolicy.jitter must be in [0, 1], got {self.jitter}")
        if self.base_delay < 0 or self.max_delay < 0 or self.multiplier < 1:
            raise ExecutorError("RetryPolicy needs base_delay >= 0, max_delay >= 0 and multiplier >= 1")

    def backoff(self, attempts_done: int, rng: np.random.Generator) -> float:
        raw = min(self.max_delay, self.base_delay * self.multiplier ** (attempts_done - 1))
        return raw * (1.0 - self.jitter * float(rng.random()))

    def delay_after(self, exc: LLMError, attempts_done: int, rng: np.random.Generator) -> float | None:
        """Seconds to wait before the next attempt after ``exc``, or None to give up now (a
        429 asking for longer than ``max_retry_after``)."""
        delay = self.backoff(attempts_done, rng)
        if isinstance(exc, LLMRateLimited) and exc.retry_after is not None:
            if exc.retry_after > self.max_retry_after:
                return None
            delay = max(delay, exc.retry_after)
        return delay


@dataclass(frozen=True)
class LatencyStats:
    """Latency of recent successful attempts, in seconds (all 0.0 when ``count`` is 0).

    Exposed for adaptive batching (choosing k agents per prompt and m in flight) and metrics.
    """

    count: int
    mean_s: float
    p50_s: float
    p95_s: float


@dataclass
class LatencyWindow:
    """The latencies of the last attempts, shared by the executor's thread (adds) and the
    tick thread (reads stats)."""

    window: deque[float]
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float) -> None:
        with self.lock:
            self.window.append(seconds)

    def stats(self) -> LatencyStats:
        with self.lock:
            values = np.fromiter(self.window, dtype=float)
        if values.size == 0:
            return LatencyStats(0, 0.0, 0.0, 0.0)
        p50, p95 = np.percentile(values, [50, 95])
        return LatencyStats(int(values.size), float(values.mean()), float(p50), float(p95))
