"""The API key reaches the model server and nothing else: not the run directory, not the
metrics (file or live /metrics), not the console.

Why: run directories are shared to reproduce runs, and metrics are scraped; a key that
leaked into either would be published with them. The run is the real ``tickmind arena``
(in-process) against tests/chaos_server.py on a real socket, the key set only in the
environment, as a user sets it.
"""

from __future__ import annotations

import threading
import urllib.request
from pathlib import Path
from typing import Any

import chaos_server  # loaded by tests/conftest.py
import pytest

import ai
from engine.cli import main

SECRET = "sk-tickmind-test-7f3a9c1e5b2d4f60a8e1"


class MetricsScraper:
    """Wraps ``RunMetrics.serve_metrics`` to note the address it bound and scrape /metrics
    every 50 ms from then on, as Prometheus would during the run."""

    def __init__(self) -> None:
        self.addresses: list[tuple[str, int]] = []
        self.pages: list[bytes] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def wrap(self, serve: Any) -> Any:
        def serve_metrics(metrics: ai.RunMetrics, *args: Any, **kwargs: Any) -> tuple[str, int]:
            address = serve(metrics, *args, **kwargs)
            self.addresses.append(address)
            thread = threading.Thread(target=self._scrape, args=(address,), daemon=True)
            thread.start()
            self._threads.append(thread)
            return address

        return serve_metrics

    def _scrape(self, address: tuple[str, int]) -> None:
        url = f"http://{address[0]}:{address[1]}/metrics"
        while not self._stop.is_set():
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    self.pages.append(response.read())
            except OSError:  # the run ended and closed the server
                return
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)


def test_the_api_key_is_sent_as_a_bearer_token_and_written_nowhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TICKMIND_API_KEY", SECRET)
    scraper = MetricsScraper()
    monkeypatch.setattr(ai.RunMetrics, "serve_metrics", scraper.wrap(ai.RunMetrics.serve_metrics))
    out = tmp_path / "run"
    with chaos_server.ChaosServer() as server:
        try:
            code = main([
                "arena", "--llm", server.openai_url, "--mode", "lockstep", "--agents", "10", "--ticks", "60",
                "--out", str(out), "--quiet", "--llm-timeout", "5", "--metrics-port", "0",
            ])  # fmt: skip
        finally:
            scraper.stop()
        seen = server.authorizations
    console = capsys.readouterr()
    assert code == 0, console.err

    assert seen == {f"Bearer {SECRET}": server.requests} and server.requests > 0, "every request, bearer only"
    assert scraper.addresses and all(host == "127.0.0.1" for host, _ in scraper.addresses), "loopback only"
    assert scraper.pages and all(b"tickmind" in page for page in scraper.pages), "the scrape saw real metrics"

    files = sorted(p for p in out.rglob("*") if p.is_file())
    names = {p.name for p in files}
    assert {"journal.jsonl", "hashes.tsv", "hashes.detail", "summary.json", "metrics.json"} <= names, names
    for where, data in [
        *((str(p), p.read_bytes()) for p in files),
        *((f"/metrics scrape {i}", page) for i, page in enumerate(scraper.pages)),
        ("stdout", console.out.encode()),
        ("stderr", console.err.encode()),
    ]:
        assert SECRET.encode() not in data, f"the API key leaked into {where}"
        assert SECRET[3:].encode() not in data, f"part of the API key leaked into {where}"


def test_run_metrics_serves_loopback_unless_told_otherwise() -> None:
    with ai.RunMetrics() as metrics:
        host, port = metrics.serve_metrics(0)
        assert host == "127.0.0.1" and port > 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            assert response.status == 200
