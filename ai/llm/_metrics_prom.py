"""The Prometheus face of :class:`~ai.RunMetrics`: a collector and a loopback /metrics server.

Why a collector instead of prometheus_client's Counter/Histogram objects: the numbers already
live in :class:`~ai.RunMetrics` (plain Python, so the JSON summary needs no extra package).
A collector renders them at scrape time, so the summary and /metrics can never disagree and
nothing is counted twice. Each RunMetrics gets its own ``CollectorRegistry``; the global
default registry is never touched, so several runs in one process do not collide.

prometheus-client is optional (``tickmind[metrics]``): it is imported here, lazily, and
:func:`make_registry` returns None when it is missing.

Exposed metric names (all prefixed ``tickmind_``)::

    requests_total{status}          finished model requests: ok/failed/timed_out/cancelled
    request_attempts_total          attempts made (retries included)
    request_errors_total{kind}      failed and timed-out requests by error class (cancelled ones are
                                    a status, not an error)
    request_latency_seconds         histogram, ok requests, submit to finish
    ttfb_seconds                    histogram, time to the answer's first byte
    prompt_tokens_total             tokens in (ok requests)
    completion_tokens_total         tokens out (ok requests)
    batch_agents                    histogram, agents per request
    parse_valid_total               agents whose answer parsed into a valid plan
    parse_rejected_total{reason}    agents whose answer was rejected, by RejectReason
    plans_total{tier}               plans submitted to the world, by tier
    queue_depth                     unfinished jobs (live from the executor, else last tick)
    in_flight                       attempts holding a concurrency slot (same)
    circuit_state{state}            1 for the breaker's current state, 0 for the others
    circuit_trips_total             times the breaker opened
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from engine import TickmindError

if TYPE_CHECKING:
    from ._metrics import RunMetrics

__all__ = ["MetricsServer", "make_registry"]

_BREAKER_STATES = ("closed", "open", "half_open")


def make_registry(metrics: RunMetrics) -> Any:
    """A new CollectorRegistry that reports ``metrics``, or None without prometheus-client."""
    try:
        from prometheus_client import CollectorRegistry
    except ImportError:
        return None
    registry = CollectorRegistry(auto_describe=True)
    registry.register(_Collector(metrics))
    return registry


class _Collector:
    """Renders a RunMetrics' current numbers as metric families at each scrape."""

    def __init__(self, metrics: RunMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        summary = self._metrics.summary()
        requests, parse, circuit = summary["requests"], summary["parse"], summary["circuit"]

        def counter(name: str, doc: str, value: float | None = None, **labelled: dict[str, int]) -> Any:
            family = CounterMetricFamily(f"tickmind_{name}", doc, value=value, labels=list(labelled) or None)
            for label_values in labelled.values():
                for key, count in label_values.items():
                    family.add_metric([key], count)
            return family

        statuses = {s: requests[s] for s in ("ok", "failed", "timed_out", "cancelled")}
        yield counter("requests", "Finished model requests by status.", status=statuses)
        yield counter("request_attempts", "Model request attempts, retries included.", requests["attempts"])
        yield counter("request_errors", "Unsuccessful model requests by error class.", kind=requests["errors"])
        for key, name, doc in (
            ("latency_s", "request_latency_seconds", "Ok model requests, submit to finish (queueing, retries)."),
            ("ttfb_s", "ttfb_seconds", "Time to the first byte of a model answer."),
            ("batch_agents", "batch_agents", "Agents packed into one model request."),
        ):
            series = summary[key]
            buckets = list(series["buckets"].items())
            yield HistogramMetricFamily(f"tickmind_{name}", doc, buckets=buckets, sum_value=series["sum"])
        yield counter("prompt_tokens", "Prompt tokens sent (ok requests).", summary["tokens"]["prompt"])
        yield counter("completion_tokens", "Completion tokens received (ok requests).", summary["tokens"]["completion"])
        yield counter("parse_valid", "Agents whose model answer parsed into a valid plan.", parse["valid"])
        yield counter("parse_rejected", "Agents whose model answer was rejected, by reason.", reason=parse["by_reason"])
        yield counter("plans", "Plans submitted to the world, by tier.", tier=summary["plans"]["by_tier"])
        depth, in_flight = self._metrics.live_queue()
        yield GaugeMetricFamily("tickmind_queue_depth", "Unfinished model jobs.", value=depth)
        yield GaugeMetricFamily("tickmind_in_flight", "Model attempts holding a concurrency slot.", value=in_flight)
        if circuit["state"] is not None:
            state = GaugeMetricFamily("tickmind_circuit_state", "1 for the breaker's current state.", labels=["state"])
            for name in _BREAKER_STATES:
                state.add_metric([name], 1.0 if circuit["state"] == name else 0.0)
            yield state
        yield counter("circuit_trips", "Times the circuit breaker opened.", circuit["trips"])


class MetricsServer:
    """A small threaded WSGI server answering ``GET /metrics`` from one registry.

    Not prometheus_client's ``start_http_server``: that one serves every path and polls for
    shutdown every 0.5 s; this one answers 404 off /metrics and stops within ``_POLL_S``.
    """

    def __init__(self, registry: Any, *, host: str, port: int) -> None:
        from prometheus_client import make_wsgi_app

        if not isinstance(host, str) or not host:
            raise TickmindError(f"serve_metrics host must be an address like '127.0.0.1', got {host!r}")
        metrics_app = make_wsgi_app(registry)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("PATH_INFO") != "/metrics":
                start_response("404 Not Found", [("Content-Type", "text/plain")])
                return [b"only /metrics here\n"]
            return metrics_app(environ, start_response)

        server_class = _Server6 if ":" in host else _Server
        try:
            self._httpd = make_server(host, port, app, server_class, handler_class=_QuietHandler)
        except OSError as exc:
            raise TickmindError(f"serve_metrics could not bind {host}:{port}: {exc.strerror or exc}") from exc
        bound = self._httpd.socket.getsockname()
        self.address: tuple[str, int] = (str(bound[0]), int(bound[1]))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": _POLL_S}, name="tickmind-metrics", daemon=True
        )
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        self._httpd.shutdown()  # ends serve_forever within one poll interval
        self._httpd.server_close()
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TickmindError(f"the /metrics server thread did not stop within {timeout:g} s")


_POLL_S = 0.05


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow scraper never keeps the process alive


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not news: keep them off stderr."""
