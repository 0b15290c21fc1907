"""Run metrics: what the model pipeline did during one run, for people and dashboards.

Why a separate object: metrics are read by humans (a per-run ``metrics.json``) and by
Prometheus (an optional ``/metrics`` endpoint), and both must agree. :class:`RunMetrics` keeps
every count in plain Python under one lock -- so the summary works without prometheus-client --
and, when ``prometheus_client`` is importable, exposes the *same* numbers through a collector
registered in a :class:`~prometheus_client.CollectorRegistry` that the object owns (never the
process-global default registry, so several worlds and tests coexist in one process).

Who records what (all optional; nothing here reads or writes world state)

- the batch executor (``BatchExecutor(..., metrics=m)``), on its worker thread: one
  :meth:`~RunMetrics.record_job` per finished job -- status, attempts, latency, time to first
  byte, tokens, agents in the request; it also lets ``m`` read its queue and breaker live;
- the planner (``planner.metrics = m``), on the tick thread: :meth:`~RunMetrics.record_plan`
  per plan submitted (its tier), :meth:`~RunMetrics.record_verdicts` per parsed answer, and
  :meth:`~RunMetrics.record_tick` once per tick (queue depth, attempts in flight).

Timings are wall-clock measurements (``time.monotonic``): they differ on every run, which is
why they only ever flow *into* this object.

Summary keys (``summary()``; stable, JSON-ready, every key always present)::

    version        1
    requests       {total, ok, failed, timed_out, cancelled, attempts, errors: {kind: n}}
    latency_s      ok requests, submit to finish (queueing and retries included): _Series
    ttfb_s         time to the answer's first byte, ok requests that report it: _Series
    tokens         {prompt, completion, total}  (ok requests; the server's counts or estimates)
    batch_agents   agents per request, every finished request: _Series
    parse          {valid, rejected, valid_rate (null before any verdict), by_reason: {reason: n}}
    plans          {total, by_tier: {llm, simple_llm, heuristic, emergency}}
    queue          {samples, depth_last, depth_max, depth_mean,
                    in_flight_last, in_flight_max, in_flight_mean}  (per-tick samples)
    circuit        {state: "closed"|"open"|"half_open"|null (no breaker), trips}
    server         {state, url, failed_in_a_row, last_error}: whether the model answers, from
                   the jobs' own outcomes (state "unknown" before any job, "answering" after an
                   ok one, "unreachable" while every job since failed to connect or met an open
                   circuit, "timing out" while they timed out); url and last_error are the last
                   failure's (null while answering)

where a _Series is ``{count, sum, mean, p50, p95, max, buckets: {le: cumulative count}}``
(``le`` strings as Prometheus writes them, "+Inf" last; statistics are 0.0 when count is 0;
percentiles are exact, over every observation of the run). ``by_reason`` lists every
:class:`~ai.wire.RejectReason` and ``by_tier`` every :class:`~ai.Tier`, zeros included.

Lock order: the executor may call in while holding its own lock; this object never calls
the executor (or the breaker) while holding ``_lock``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import threading
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np

from engine import TickmindError

from .._plan import Tier
from ..clients import CircuitOpen, LLMError, LLMTimeout, LLMUnavailable
from ..wire import Rejection, RejectReason, ValidPlan
from ._jobs import JobStatus

if TYPE_CHECKING:
    from ..clients import CircuitBreaker
    from ._executor import BatchExecutor
    from ._jobs import JobResult
    from ._metrics_prom import MetricsServer

__all__ = ["BATCH_BUCKETS", "LATENCY_BUCKETS", "RunMetrics", "server_report", "write_summary"]

SUMMARY_VERSION = 1
#: Upper bounds (seconds) of the latency and time-to-first-byte histograms.
LATENCY_BUCKETS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
#: Upper bounds of the agents-per-request histogram.
BATCH_BUCKETS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0)
_STATUSES = tuple(s.value for s in JobStatus)


def le_label(bound: float) -> str:
    """A bucket bound as Prometheus writes it ("0.05", "1.0", "+Inf")."""
    return "+Inf" if math.isinf(bound) else repr(float(bound))


class _Series:
    """Observations of one quantity: exact percentiles for the summary, buckets for Prometheus.

    Every value is kept (8 bytes each) so p50/p95 are exact for the run, not bucket guesses.
    Not locked: the owning :class:`RunMetrics` holds its lock around every call.
    """

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self._values = array("d")
        self.total = 0.0

    def add(self, value: float) -> None:
        self._values.append(float(value))
        self.total += float(value)

    @property
    def count(self) -> int:
        return len(self._values)

    def cumulative(self) -> list[tuple[str, int]]:
        """``(le, observations <= le)`` for every bound, then ``("+Inf", count)``."""
        values = np.frombuffer(self._values, dtype=float) if self._values else np.empty(0)
        counts = [int(np.count_nonzero(values <= bound)) for bound in self.bounds]
        return [(le_label(b), n) for b, n in zip(self.bounds, counts)] + [("+Inf", self.count)]

    def describe(self) -> dict[str, Any]:
        count = self.count
        stats = {"count": count, "sum": self.total, "mean": 0.0, "p50": 0.0, "p95": 0.0, "max": 0.0}
        if count:
            values = np.frombuffer(self._values, dtype=float)
            p50, p95 = np.percentile(values, [50, 95])
            stats.update(mean=self.total / count, p50=float(p50), p95=float(p95), max=float(values.max()))
        return {**stats, "buckets": dict(self.cumulative())}


class RunMetrics:
    """Thread-safe counters, histograms and gauges of one run's model pipeline.

    ``prometheus=False`` keeps it plain Python even where prometheus-client is installed;
    ``registry`` is None then (and whenever the package is missing). Close it (or use it as a
    context manager) to stop a server started with :meth:`serve_metrics`.
    """

    def __init__(self, *, prometheus: bool = True) -> None:
        self._lock = threading.Lock()
        self._statuses: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._attempts = 0
        self._latency = _Series(LATENCY_BUCKETS)
        self._ttfb = _Series(LATENCY_BUCKETS)
        self._batch = _Series(BATCH_BUCKETS)
        self._prompt_tokens = 0
        self._completion_tokens = 0
        self._valid = 0
        self._rejected: Counter[str] = Counter()
        self._plans: Counter[str] = Counter()
        self._samples = 0
        self._depth = [0, 0, 0]  # last, max, sum
        self._in_flight = [0, 0, 0]
        self._down_streak = 0  # jobs failed since the last ok one, for want of an answering server
        self._down_last: LLMError | None = None
        self._down_url: str | None = None
        self._answered = False
        self._executor: BatchExecutor | None = None
        self._breaker: CircuitBreaker | None = None
        self._server: MetricsServer | None = None
        self.registry: Any = None  #: a prometheus_client CollectorRegistry, or None
        if prometheus:
            from ._metrics_prom import make_registry

            self.registry = make_registry(self)

    # --- recording (any thread) ----------------------------------------------------------------

    def record_job(self, result: JobResult) -> None:
        """One finished job (the executor calls this once per job, whatever its status)."""
        completion = result.result if result.ok else None
        with self._lock:
            self._statuses[result.status.value] += 1
            self._attempts += result.attempts
            self._batch.add(len(result.agent_ids))
            if result.error is not None and result.status is not JobStatus.CANCELLED:  # counted as cancelled, not failed
                self._errors[type(result.error).__name__] += 1
            if result.ok:
                self._down_streak, self._down_last, self._down_url = 0, None, None
                self._answered = True
            elif isinstance(result.error, (LLMUnavailable, CircuitOpen, LLMTimeout)):
                self._down_streak += 1
                self._down_last = result.error
                self._down_url = result.error.url or self._down_url  # an open circuit may name none
            if completion is not None:
                self._latency.add(result.latency_s)
                if completion.ttfb_s is not None:
                    self._ttfb.add(completion.ttfb_s)
                self._prompt_tokens += completion.prompt_tokens
                self._completion_tokens += completion.completion_tokens

    def record_plan(self, tier: Tier | str) -> None:
        """A plan was submitted to the world at ``tier``."""
        with self._lock:
            self._plans[Tier(tier).value] += 1

    def record_verdicts(self, verdicts: Iterable[ValidPlan | Rejection]) -> None:
        """Per-agent parse outcomes of a model answer (valid plans and rejections by reason)."""
        verdicts = list(verdicts)
        with self._lock:
            for verdict in verdicts:
                if isinstance(verdict, ValidPlan):
                    self._valid += 1
                else:
                    self._rejected[verdict.reason_code.value] += 1

    def record_tick(self, *, queue_depth: int, in_flight: int) -> None:
        """One per-tick sample of unfinished jobs and attempts holding a slot."""
        with self._lock:
            self._samples += 1
            for gauge, value in ((self._depth, queue_depth), (self._in_flight, in_flight)):
                gauge[0] = value
                gauge[1] = max(gauge[1], value)
                gauge[2] += value

    def watch_executor(self, executor: BatchExecutor) -> None:
        """Read this executor's queue live on /metrics, and its breaker (if any) everywhere.

        ``BatchExecutor(..., metrics=m)`` calls this itself; the latest executor wins.
        """
        with self._lock:
            self._executor = executor
        if executor.breaker is not None:
            self.watch_breaker(executor.breaker)

    def watch_breaker(self, breaker: CircuitBreaker) -> None:
        """Report this breaker's state and trips (read live; it keeps its own counts)."""
        with self._lock:
            self._breaker = breaker

    # --- reading -----------------------------------------------------------------------------------

    def live_queue(self) -> tuple[int, int]:
        """(queue depth, in flight): the watched executor's right now, else the last sample."""
        with self._lock:
            executor, depth, flying = self._executor, self._depth[0], self._in_flight[0]
        if executor is not None:  # read outside our lock: see the lock order in the module doc
            return executor.pending, executor.in_flight
        return depth, flying

    def circuit(self) -> dict[str, Any]:
        """``{"state": ..., "trips": ...}`` of the watched breaker (state None without one)."""
        with self._lock:
            breaker = self._breaker
        if breaker is None:
            return {"state": None, "trips": 0}
        return {"state": breaker.state.value, "trips": breaker.opened}

    def server(self) -> dict[str, Any]:
        """``{"state", "url", "failed_in_a_row", "last_error"}``: does the model answer?"""
        with self._lock:
            failed, last, url, answered = self._down_streak, self._down_last, self._down_url, self._answered
        if last is None:
            return server_report("answering" if answered else "unknown")
        state = "timing out" if isinstance(last, LLMTimeout) else "unreachable"
        return server_report(state, url, failed, str(last))

    def summary(self) -> dict[str, Any]:
        """Everything recorded so far, with the stable keys listed in the module docstring."""
        circuit = self.circuit()
        server = self.server()
        with self._lock:
            statuses = {s: self._statuses[s] for s in _STATUSES}
            valid, rejected = self._valid, sum(self._rejected.values())
            verdicts = valid + rejected
            samples = self._samples
            return {
                "version": SUMMARY_VERSION,
                "requests": {
                    "total": sum(statuses.values()),
                    **statuses,
                    "attempts": self._attempts,
                    "errors": dict(sorted(self._errors.items())),
                },
                "latency_s": self._latency.describe(),
                "ttfb_s": self._ttfb.describe(),
                "tokens": {
                    "prompt": self._prompt_tokens,
                    "completion": self._completion_tokens,
                    "total": self._prompt_tokens + self._completion_tokens,
                },
                "batch_agents": self._batch.describe(),
                "parse": {
                    "valid": valid,
                    "rejected": rejected,
                    "valid_rate": valid / verdicts if verdicts else None,
                    "by_reason": {r.value: self._rejected[r.value] for r in RejectReason},
                },
                "plans": {
                    "total": sum(self._plans.values()),
                    "by_tier": {t.value: self._plans[t.value] for t in Tier},
                },
                "queue": {
                    "samples": samples,
                    "depth_last": self._depth[0],
                    "depth_max": self._depth[1],
                    "depth_mean": self._depth[2] / samples if samples else 0.0,
                    "in_flight_last": self._in_flight[0],
                    "in_flight_max": self._in_flight[1],
                    "in_flight_mean": self._in_flight[2] / samples if samples else 0.0,
                },
                "circuit": circuit,
                "server": server,
            }

    # --- the /metrics endpoint ------------------------------------------------------------------

    def serve_metrics(self, port: int = 0, host: str = "127.0.0.1") -> tuple[str, int]:
        """Serve Prometheus text at ``http://host:port/metrics`` from a daemon thread.

        Binds loopback unless ``host`` says otherwise (exposing run data is the caller's
        explicit choice). ``port=0`` picks a free port; the bound ``(host, port)`` is returned.
        Needs prometheus-client (``pip install 'tickmind[metrics]'``). Stopped by :meth:`close`.
        """
        if self.registry is None:
            raise TickmindError(
                "serve_metrics needs prometheus-client: pip install 'tickmind[metrics]' "
                "(or RunMetrics(prometheus=True) if it was turned off)"
            )
        if self._server is not None:
            raise TickmindError(f"this RunMetrics already serves /metrics at {self._server.address}")
        from ._metrics_prom import MetricsServer

        try:
            self._server = MetricsServer(self.registry, host=host, port=port)
        except (OSError, OverflowError) as exc:  # taken, not ours to bind, or not a port
            raise TickmindError(f"cannot serve /metrics on {host}:{port}: {exc}") from exc
        return self._server.address

    def close(self) -> None:
        """Stop the /metrics server (if any) and wait for its thread. Idempotent."""
        server, self._server = self._server, None
        if server is not None:
            server.close()

    def __enter__(self) -> RunMetrics:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def server_report(
    state: str = "unknown", url: str | None = None, failed_in_a_row: int = 0, last_error: str | None = None
) -> dict[str, Any]:
    """The ``server`` entry of a summary (see the module docstring); the default: nothing known."""
    return {"state": state, "url": url, "failed_in_a_row": failed_in_a_row, "last_error": last_error}


def write_summary(path: str | os.PathLike[str], metrics: RunMetrics, extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``{**metrics.summary(), "run": extra}`` as JSON to ``path``, atomically.

    The file is written beside ``path`` and moved over it with ``os.replace``, so a reader (or
    a crash) never sees half a file. ``extra`` is the caller's run description (scenario,
    seed, ticks, ...) and must be JSON-ready.
    """
    target = Path(path)
    document = {**metrics.summary(), "run": dict(extra or {})}
    try:
        text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise TickmindError(f"write_summary({str(target)!r}): extra is not JSON-ready: {exc}") from exc
    if not target.parent.is_dir():
        raise TickmindError(f"write_summary: folder {str(target.parent)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
