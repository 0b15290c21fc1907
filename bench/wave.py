"""A replan wave of every agent through the batch executor over real HTTP: wall time, and the
memory the wave holds, per agent, against the same world's heuristic wave in the same run.

Issue #8 asks that the AI system sustain a replan wave of 10,000 agents through the batch
executor with bounded memory. Each row builds ``build_arena({"agents": N})`` (the map grows
with N), records it like ``tickmind arena`` does, and runs tick 0, where every agent is due
at once (no agent has a plan yet):

- **heuristic** (the baseline): the planner without a model; every agent gets its heuristic
  plan in the tick;
- **model**: the planner in lockstep with a ``BatchExecutor`` (``--parallel`` requests in
  flight, a queue of ``--max-pending`` jobs, ``--k`` agents per request) against a model
  server on 127.0.0.1 in its own process: tests/chaos_server.py without faults, which
  answers each request at once with valid plans (schema-following JSON). A real model here
  plans about one agent a second (bench/RESULTS.md §13), so 10,000 agents would take hours;
  this server makes the planner, prompts, HTTP, validation and journal the whole cost, and
  those are what the memory bound is about. A wave larger than the queue goes through in
  queue-sized rounds (the planner settles its oldest job when the queue is full), so
  requests and answers held at once are bounded by the queue, not by N.

Columns: wall seconds of tick 0; agents planned by the model (the rest fell back; should be
none); requests; agents per wall second; memory the tick added at its peak, from
``tracemalloc`` (Python allocations, a second identical run, since tracing slows it) and from
the process's resident set sampled every 5 ms (the whole process, world included: the
allocator reuses what the build freed, so a difference of resident sets says little); and
the model row's traced peak as a ratio of the heuristic row's ("-" when the heuristic covered
some of its agents). What every agent keeps after the wave (its
Plan, journal entries written to disk) is inside these numbers; the point is that the per-agent
figure stays flat from 1,000 to 10,000 agents and the extra over the heuristic wave is a
constant per agent (a snapshot and its share of one request), not the whole wave's prompts.

    .venv/bin/python bench/wave.py                       # 1,000 and 10,000 agents, about 3 minutes
    .venv/bin/python bench/wave.py --agents 1000 --max-pending 16 64 256
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ai import BatchExecutor, Planner, RetryPolicy  # noqa: E402
from ai.clients import OpenAIClient  # noqa: E402
from engine import Run, start_run  # noqa: E402
from examples.arena import build_arena  # noqa: E402

_PAGE = 4096
SERVE_FLAG = "--serve-chaos"


@dataclass
class Row:
    agents: int
    setup: str
    max_pending: int
    wall_s: float
    model_plans: int
    requests: int
    traced_peak: int  # bytes the tick added at its peak (tracemalloc)
    rss_peak: int  # bytes: the whole process's resident set at its peak during the tick

    def line(self, baseline: Row | None) -> str:
        # Against the heuristic wave only when the model planned every agent: a wave the
        # heuristic partly covered holds less of the model's side than it claims to measure.
        whole = self.setup == "heuristic" or self.model_plans == self.agents
        ratio = f"{self.traced_peak / baseline.traced_peak:6.2f}x" if whole and baseline and baseline.traced_peak else "     -"
        queue = "-" if self.setup == "heuristic" else str(self.max_pending)
        return (
            f"{self.agents:>7,} {self.setup:<10} {queue:>6} {self.wall_s:8.2f} {self.model_plans:>8,} {self.requests:>7,} "
            f"{self.agents / self.wall_s:9.0f} {self.traced_peak / self.agents / 1024:10.2f} "
            f"{self.rss_peak / 2**20:9.0f} {ratio}"
        )


HEADER = (
    " agents setup       queue   wall s   model  requests  agents/s  KiB/agent  peak RSS  traced vs\n"
    "                                       plans                     (traced)       MiB  heuristic"
)


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


class _RssPeak:
    """The highest resident set seen while the block runs, sampled on a thread."""

    def __init__(self, every_s: float = 0.005) -> None:
        self.every_s = every_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss())
            self._stop.wait(self.every_s)

    def __enter__(self) -> _RssPeak:
        self.peak = _rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def _wave(run: Run, setup: str, url: str | None, args: argparse.Namespace, max_pending: int, traced: bool) -> tuple[float, int, int, int]:
    """Tick 0 of ``run``: (wall s, model plans, requests, bytes added at the peak)."""
    planner = run.world.resource(Planner)
    executor = None
    if setup == "model":
        assert url is not None
        client = OpenAIClient(url, "chaos")
        executor = BatchExecutor(
            client, max_concurrency=args.parallel, max_pending=max_pending, timeout=60.0, retry=RetryPolicy(max_attempts=2)
        ).start()
        planner.attach(executor)
    try:
        gc.collect()
        if traced:
            tracemalloc.start()
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        with _RssPeak() as rss:
            run.world.step()
        wall = time.perf_counter() - started
        if traced:
            peak = tracemalloc.get_traced_memory()[1] - before
            tracemalloc.stop()
        else:
            peak = rss.peak
    finally:
        if executor is not None:
            executor.stop()
    return wall, planner.stats.plans["llm"], planner.stats.jobs, peak


def measure(agents: int, setup: str, url: str | None, args: argparse.Namespace, max_pending: int, out: Path) -> Row:
    config = {"agents": agents, "planner": "heuristic" if setup == "heuristic" else "llm", "mode": "lockstep", "agents_per_request": args.k}
    results = []
    for traced in (False, True):
        with start_run(build_arena, config, args.seed, out / f"{agents}-{setup}-{max_pending}-{traced}") as run:
            results.append(_wave(run, setup, url, args, max_pending, traced))
    (wall, plans, requests, rss_peak), (_, _, _, traced_peak) = results
    if setup == "model" and plans != agents:
        print(f"warning: {agents - plans} of {agents} agents fell back to the heuristic", file=sys.stderr)
    return Row(agents, setup, max_pending, wall, plans, requests, traced_peak, rss_peak)


def _serve_chaos() -> None:
    """Child process: a fault-free chaos server until stdin closes."""
    from chaos import chaos  # bench/chaos.py loads tests/chaos_server.py (this folder is on sys.path)

    config = chaos.ChaosConfig(max_requests=10**7, max_seconds=24 * 3600)
    with chaos.ChaosServer(config) as server:
        print(server.openai_url, flush=True)
        sys.stdin.read()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument(
        "--max-pending", type=int, nargs="+", default=[64], help="executor queue sizes to try (default 64, as tickmind arena)"
    )
    parser.add_argument("--parallel", type=int, default=16, help="requests in flight (default 16)")
    parser.add_argument("--k", type=int, default=4, help="agents per request (default 4, the planner's default)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    server = subprocess.Popen([sys.executable, __file__, SERVE_FLAG], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        if not url.startswith("http"):
            raise SystemExit(f"the chaos server did not start (said {url!r})")
        print(f"## replan wave at tick 0, lockstep, {args.k} agents per request, {args.parallel} in flight, server {url}")
        print(HEADER)
        with tempfile.TemporaryDirectory() as tmp:
            for agents in args.agents:
                baseline = measure(agents, "heuristic", None, args, 0, Path(tmp))
                print(baseline.line(None), flush=True)
                for max_pending in args.max_pending:
                    print(measure(agents, "model", url, args, max_pending, Path(tmp)).line(baseline), flush=True)
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(10)


if __name__ == "__main__":
    if sys.argv[1:] == [SERVE_FLAG]:
        _serve_chaos()
    else:
        main()
