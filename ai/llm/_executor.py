"""The batch executor: model calls run beside the tick loop, never inside it.

Threading model
    The executor owns one worker thread running its own asyncio event loop. The tick thread
    (the planner) talks to it through three calls only -- :meth:`~BatchExecutor.submit`,
    :meth:`~BatchExecutor.poll`, :meth:`~BatchExecutor.wait` -- and every handoff crosses
    threads through ``loop.call_soon_threadsafe`` (tick -> loop) or a lock-protected table
    plus a condition variable (loop -> tick). Nothing here touches the World: results are plain
    data that the planner validates and turns into journaled inputs at a tick boundary.

Ordering
    Jobs finish in network order. :meth:`poll` returns whatever has finished, sorted by
    ``job_id``; the planner decides at which tick each result applies (and journals that), so
    the world never sees completion order. :meth:`wait` (lockstep) blocks until the named jobs
    finish or a deadline passes, and returns one result per named job, sorted by ``job_id``.

Retry policy
    Each job makes up to ``max_attempts`` attempts. An attempt holds one of ``max_concurrency``
    slots (an ``asyncio.Semaphore``) and runs under the per-request ``timeout`` (exceeding it
    raises :class:`~ai.clients.LLMTimeout`). Retryable errors (timeout, unavailable, 429) back
    off exponentially with jitter drawn from a generator keyed by (seed, job_id), so jitter does
    not depend on which job happened to fail first; a 429's Retry-After is honoured (a longer
    wait than ``RetryPolicy.max_retry_after`` fails the job at once). Non-retryable errors (4xx,
    malformed answers, an open circuit) fail at once. The slot is released while backing off.

Back-pressure
    At most ``max_pending`` jobs may be unfinished; :meth:`submit` raises :class:`QueueFull`
    beyond that (an exception rather than a False return, so a planner that forgets to check
    cannot silently lose agents), and the planner falls back to its next tier.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

import numpy as np

from engine import keyed_rng

from ..clients import CircuitBreaker, CompletionRequest, CompletionResult, LLMClient, LLMError, LLMTimeout
from ._jobs import BatchJob, ExecutorClosed, ExecutorError, JobResult, JobStatus, LatencyStats, LatencyWindow, QueueFull, RetryPolicy

if TYPE_CHECKING:
    from ._metrics import RunMetrics

log = logging.getLogger("tickmind.ai.executor")

__all__ = ["BatchExecutor"]


Sleep = Callable[[float], Awaitable[None]]


@dataclass
class _Entry:
    """An unfinished job as both threads see it (guarded by the executor's lock)."""

    job: BatchJob
    submitted_at: float
    attempts: int = 0


class BatchExecutor:
    """Runs :class:`BatchJob` model calls concurrently on a worker thread's event loop.

    ``client`` is owned from :meth:`start` on: it is used and closed (``close_client``) on the
    executor's loop, because an httpx connection pool belongs to the loop that used it.
    ``breaker`` guards every attempt, timeout included; keep one breaker per backend for the
    whole run. ``sleep`` (the backoff wait) and ``clock`` (latency measurement) are injectable.
    ``metrics`` (optional) records every finished job and reads the queue and breaker live.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        client: LLMClient,
        *,
        max_concurrency: int = 4,
        max_pending: int = 64,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        seed: int = 0,
        latency_window: int = 256,
        sleep: Sleep | None = None,
        clock: Callable[[], float] = time.monotonic,
        close_client: bool = True,
        name: str = "tickmind-executor",
        metrics: RunMetrics | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ExecutorError(f"max_concurrency must be >= 1, got {max_concurrency}")
        if max_pending < 1:
            raise ExecutorError(f"max_pending must be >= 1, got {max_pending}")
        if not timeout > 0:
            raise ExecutorError(f"timeout must be > 0 seconds, got {timeout}")
        self._client = client
        self._backend = str(getattr(client, "backend", type(client).__name__))
        self._url = str(getattr(client, "url", ""))  # an HTTP client's endpoint, for messages
        self.max_concurrency = max_concurrency
        self.max_pending = max_pending
        self.timeout = timeout
        self.retry = retry if retry is not None else RetryPolicy()
        self.breaker = breaker
        self._seed = seed
        self._sleep: Sleep = sleep if sleep is not None else asyncio.sleep
        self._clock = clock
        self._close_client = close_client
        self._name = name
        self._latencies = LatencyWindow(deque(maxlen=latency_window))
        self.metrics = metrics
        if metrics is not None:
            metrics.watch_executor(self)

        self._cond = threading.Condition(threading.Lock())
        self._unfinished: dict[str, _Entry] = {}  # guarded by _cond
        self._done: dict[str, JobResult] = {}  # guarded by _cond
        self._started = False
        self._closed = False

        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}  # loop thread only
        self._in_flight = 0  # loop thread writes; others only read

    # -- lifecycle (tick thread) -------------------------------------------------------------

    def start(self) -> BatchExecutor:
        """Start the worker thread and its loop; returns when the loop is ready."""
        with self._cond:
            if self._closed:
                raise ExecutorClosed("this executor was stopped; make a new one")
            if self._started:
                raise ExecutorError("executor already started")
            self._started = True
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run_loop, args=(ready,), name=self._name, daemon=True)
        self._thread.start()
        ready.wait()
        return self

    def _run_loop(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._semaphore = asyncio.Semaphore(self.max_concurrency)
        ready.set()
        try:
            loop.run_forever()
        finally:
            # Anything stop() could not end in time is cancelled here, so the loop closes clean.
            leftovers = asyncio.all_tasks(loop)
            for task in leftovers:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            # A stream reader collected meanwhile has its aclose() scheduled as a new task:
            # let those finish too, or the loop would close on them ("Task was destroyed").
            for _ in range(3):
                closing = asyncio.all_tasks(loop)
                if not closing:
                    break
                loop.run_until_complete(asyncio.gather(*closing, return_exceptions=True))
            loop.close()

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel unfinished jobs (they come back from :meth:`poll` as CANCELLED), close the
        client, end the loop and join the thread. Idempotent."""
        with self._cond:
            was_running = self._started and not self._closed
            self._closed = True
        if not was_running:
            return
        loop, thread = self._loop, self._thread
        assert loop is not None and thread is not None
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            future.result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._cancel_unstarted()
        if thread.is_alive():
            raise ExecutorError(f"executor thread {self._name!r} did not stop within {timeout:g} s")

    def _cancel_unstarted(self) -> None:
        """Report jobs whose task was cancelled before it ever ran (so it could not report)."""
        with self._cond:
            for job_id, entry in sorted(self._unfinished.items()):
                self._done[job_id] = self._result(entry, JobStatus.CANCELLED, error=self._stopped_error(entry.job))
            self._unfinished.clear()
            self._cond.notify_all()

    async def _shutdown(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._close_client:
            with contextlib.suppress(Exception):  # closing must not keep the thread alive
                await self._client.aclose()

    def __enter__(self) -> BatchExecutor:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- the planner's API (tick thread) -----------------------------------------------------

    def submit(self, job: BatchJob) -> None:
        """Queue a job. Raises :class:`QueueFull` when ``max_pending`` jobs are unfinished,
        :class:`ExecutorError` for a job id that is still unfinished or uncollected."""
        with self._cond:
            if self._closed:
                raise ExecutorClosed(f"submit({job.job_id!r}) after stop(); make a new executor")
            if not self._started or self._loop is None:
                raise ExecutorError("submit() before start(): call start() or use `with BatchExecutor(...)`")
            if job.job_id in self._unfinished or job.job_id in self._done:
                raise ExecutorError(f"job id {job.job_id!r} is already submitted; job ids must be unique")
            if len(self._unfinished) >= self.max_pending:
                raise QueueFull(
                    f"{len(self._unfinished)} jobs unfinished (max_pending={self.max_pending}); "
                    f"job {job.job_id!r} not queued: use a fallback tier for its agents",
                    pending=len(self._unfinished),
                    max_pending=self.max_pending,
                )
            self._unfinished[job.job_id] = _Entry(job, self._clock())
            # Inside the lock: stop() marks the executor closed under it, so the loop is alive.
            self._loop.call_soon_threadsafe(self._spawn, job)

    def poll(self) -> list[JobResult]:
        """Every job finished since the last poll/wait, sorted by ``job_id``. Never blocks."""
        with self._cond:
            results = sorted(self._done.values(), key=_job_key)
            self._done.clear()
        return results

    def wait(self, job_ids: Iterable[str], timeout: float) -> list[JobResult]:
        """Block until these jobs finish or ``timeout`` seconds pass (lockstep mode).

        Returns one result per job, sorted by ``job_id``: the finished ones as they are, the rest
        TIMED_OUT with an :class:`~ai.clients.LLMTimeout`, their calls cancelled. Other jobs'
        results stay for :meth:`poll`.
        """
        ids = list(dict.fromkeys(job_ids))
        deadline = time.monotonic() + timeout
        abandoned: list[str] = []
        with self._cond:
            unknown = [i for i in ids if i not in self._unfinished and i not in self._done]
            if unknown:
                raise ExecutorError(f"wait() for jobs never submitted or already collected: {unknown}")
            while any(i not in self._done for i in ids):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            results = []
            for job_id in ids:
                if job_id in self._done:
                    results.append(self._done.pop(job_id))
                    continue
                entry = self._unfinished.pop(job_id)
                abandoned.append(job_id)
                error = self._error(LLMTimeout, f"lockstep wait gave up after {timeout:g} s", entry.job.request)
                results.append(self._result(entry, JobStatus.TIMED_OUT, error=error))
        if abandoned and self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop may be stopping
                self._loop.call_soon_threadsafe(self._cancel, abandoned)
        return sorted(results, key=_job_key)

    def warm(self, requests: Sequence[CompletionRequest], timeout: float) -> int:
        """Send ``requests`` at once and wait for them (at most ``timeout`` seconds in all);
        their answers are dropped. Returns how many were answered.

        Why: a server's first request on each slot prefills the whole system prefix, about
        half a second to three seconds of CPU here; sent before the clock starts, that cost
        is the game's loading time instead of its first plans' delay. Nothing is recorded
        (latency, metrics, breaker): these are not jobs, and a failure is left for the real
        requests to report."""
        loop = self._loop
        if not self.running or loop is None:
            raise ExecutorError("warm() needs a started executor")

        async def one(request: CompletionRequest) -> bool:
            try:
                async with asyncio.timeout(timeout):
                    await self._client.complete(request)
                return True
            except Exception:  # noqa: BLE001 -- see the docstring: the real requests report
                return False

        async def every() -> list[bool]:
            return list(await asyncio.gather(*(one(r) for r in requests)))

        future = asyncio.run_coroutine_threadsafe(every(), loop)
        try:
            return sum(future.result(timeout + 1.0))
        except TimeoutError:
            future.cancel()
            return 0

    @property
    def pending(self) -> int:
        """Jobs submitted and not finished (queued for a slot, running or backing off)."""
        with self._cond:
            return len(self._unfinished)

    @property
    def in_flight(self) -> int:
        """Attempts holding a concurrency slot right now."""
        return self._in_flight

    @property
    def running(self) -> bool:
        return self._started and not self._closed

    def latency_stats(self) -> LatencyStats:
        """Count, mean, p50 and p95 of the last ``latency_window`` successful attempts."""
        return self._latencies.stats()

    # -- the loop thread ---------------------------------------------------------------------

    def _spawn(self, job: BatchJob) -> None:
        task = asyncio.get_running_loop().create_task(self._run_job(job), name=f"job:{job.job_id}")
        self._tasks[job.job_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(job.job_id, None))

    def _cancel(self, job_ids: list[str]) -> None:
        for job_id in job_ids:
            task = self._tasks.get(job_id)
            if task is not None:
                task.cancel()

    async def _run_job(self, job: BatchJob) -> None:
        max_attempts = job.max_attempts if job.max_attempts is not None else self.retry.max_attempts
        rng: np.random.Generator | None = None
        attempts = 0
        try:
            while True:
                attempts += 1
                self._count_attempt(job.job_id, attempts)
                try:
                    result = await self._attempt(job, attempts)
                except LLMError as exc:
                    delay = None
                    if exc.retryable and attempts < max_attempts:
                        rng = rng if rng is not None else keyed_rng(self._seed, job.job_id)
                        delay = self.retry.delay_after(exc, attempts, rng)
                    if delay is None:
                        self._finish(job.job_id, JobStatus.FAILED, error=exc)
                        return
                    await self._sleep(delay)
                else:
                    self._finish(job.job_id, JobStatus.OK, result=result)
                    return
        except asyncio.CancelledError:
            self._finish(job.job_id, JobStatus.CANCELLED, error=self._stopped_error(job))
            raise

    def _stopped_error(self, job: BatchJob) -> LLMError:
        return self._error(LLMError, "cancelled: the executor stopped first", job.request)

    def _error(self, kind: type[LLMError], cause: str, request: CompletionRequest) -> LLMError:
        return kind(cause, backend=self._backend, url=self._url, request_id=request.request_id)

    async def _attempt(self, job: BatchJob, attempt: int) -> CompletionResult:
        assert self._semaphore is not None
        async with self._semaphore:
            self._in_flight += 1
            try:
                started = self._clock()
                guard = self.breaker.guard() if self.breaker is not None else contextlib.nullcontext()
                with guard:
                    result = await self._call(job, attempt)
                self._latencies.add(self._clock() - started)
                return result
            finally:
                self._in_flight -= 1

    async def _call(self, job: BatchJob, attempt: int) -> CompletionResult:
        """One client call under the per-request timeout; every failure becomes an LLMError."""
        request, stream = job.request, job.on_text
        on_text = None if stream is None else (lambda chunk: stream(job.job_id, attempt, chunk))
        try:
            async with asyncio.timeout(self.timeout):
                return await self._client.complete(request, on_text=on_text)
        except LLMError:
            raise
        except TimeoutError as exc:
            raise self._error(LLMTimeout, f"no answer within {self.timeout:g} s", request) from exc
        except Exception as exc:  # a client bug must fail its job, not the executor
            raise self._error(LLMError, f"client raised {type(exc).__name__}: {exc}", request) from exc

    def _count_attempt(self, job_id: str, attempts: int) -> None:
        with self._cond:
            entry = self._unfinished.get(job_id)
            if entry is not None:
                entry.attempts = attempts

    def _finish(
        self, job_id: str, status: JobStatus, *, result: CompletionResult | None = None, error: LLMError | None = None
    ) -> None:
        with self._cond:
            entry = self._unfinished.pop(job_id, None)
            if entry is None:  # wait() gave up on it, or stop() reported it, already
                return
            self._done[job_id] = self._result(entry, status, result=result, error=error)
            self._cond.notify_all()

    def _result(
        self, entry: _Entry, status: JobStatus, *, result: CompletionResult | None = None, error: LLMError | None = None
    ) -> JobResult:
        """Every job's one result (finished, timed out or cancelled) is made here: metrics too."""
        done = JobResult(
            job=entry.job,
            status=status,
            result=result,
            error=error,
            attempts=entry.attempts,
            latency_s=self._clock() - entry.submitted_at,
        )
        if self.metrics is not None:
            try:
                self.metrics.record_job(done)
            except Exception as exc:  # a counting failure must not lose the job: its waiters would hang
                log.warning("metrics could not record job %s: %s: %s", entry.job.job_id, type(exc).__name__, exc)
        return done

    def __repr__(self) -> str:
        state = "running" if self.running else ("stopped" if self._closed else "new")
        return f"BatchExecutor({self._backend}, {state}, pending={self.pending}, m={self.max_concurrency})"


def _job_key(result: JobResult) -> str:
    return result.job_id
