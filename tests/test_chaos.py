"""``tickmind arena`` against a model server that misbehaves (tests/chaos_server.py).

Each run is the real command (``main(["arena", ...])``, in-process) pointed at the chaos
server over a real socket, with one fault mix, backend and mode. Whatever the mix, a run
must finish every tick, keep every living agent planned, fall back when the model fails
(and only then), and replay bit for bit from its journal with no model.

Runs pass ``--llm-timeout 1``: a hung request must cost a test seconds, not minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chaos_server as chaos  # loaded by tests/conftest.py
import pytest

from ai import Plan, PlanStatus
from engine import replay_world
from engine.cli import main
from examples.arena import Health

Fault = chaos.Fault

TICKS = 150
CLIENT_TIMEOUT_S = 1.0
#: Ticks a living agent may go without a running plan: one to notice its plan ended, one
#: for the new plan to land (plan_delay), one of slack for a fallback decided at landing.
MAX_PLANLESS_TICKS = 3

TRANSPORT, CONTENT = chaos.TRANSPORT, chaos.CONTENT
#: Quick faults only (each answer arrives at once), so the mix costs no wall time.
QUICK = (Fault.RATE_LIMIT, Fault.SERVER_ERROR, Fault.RESET, Fault.TRUNCATED, *CONTENT)


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[Any]:
    config = getattr(request, "param", None) or chaos.ChaosConfig()
    with chaos.ChaosServer(config) as srv:
        yield srv


def arena(srv: Any, out: Path, *, backend: str = "openai", mode: str = "lockstep", ticks: int = TICKS, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run the arena against ``srv``; its summary, metrics and the faults the server injected.
    Every agent alone (no squads): enough requests that a seeded fault mix reaches every fault kind."""
    url = srv.openai_url if backend == "openai" else srv.ollama_url
    argv = [
        "arena", "--llm", url, "--backend", backend, "--mode", mode, "--ticks", str(ticks), "--agents", "100",
        "--parallel", "16", "--replan-every", "25", "--squad-size", "1", "--speed", "10", "--llm-timeout", str(CLIENT_TIMEOUT_S), "--out", str(out), "--force", "--quiet", *extra,
    ]  # fmt: skip
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    return {"summary": summary, "metrics": json.loads((out / "metrics.json").read_text()), "faults": srv.counts}


def assert_sound(out: Path, run: dict[str, Any], ticks: int = TICKS) -> dict[str, int]:
    """Every tick ran, every living agent stayed planned, and the journal replays bit for bit."""
    summary = run["summary"]
    assert (summary["stopped"], summary["ticks"]) == ("tick_limit", ticks), summary
    assert planless_ticks(out, ticks) <= MAX_PLANLESS_TICKS
    assert main(["verify", str(out)]) == 0
    tiers: dict[str, int] = summary["plans_per_tier"]
    assert tiers["emergency"] == 0, tiers  # the heuristic always had an answer
    return tiers


def planless_ticks(run_dir: Path, ticks: int) -> int:
    """The longest stretch any living agent spent without a running plan (after tick 2,
    the first plans' landing), replaying the journal."""
    world = replay_world(run_dir)
    without: dict[int, int] = {}
    worst = 0
    for _ in range(ticks):
        world.step()
        for entity, _health in world.get_component(Health):
            plan = world.try_component(entity, Plan)
            running = plan is not None and plan.status is PlanStatus.RUNNING
            without[entity] = 0 if running else without.get(entity, 0) + 1
            if world.tick > 2:
                worst = max(worst, without[entity])
    world.close()
    return worst


def fallback_reasons(run_dir: Path) -> set[str]:
    """Why agents fell to a lower tier, as journaled (``meta["reason"]``)."""
    lines = (run_dir / "journal.jsonl").read_text().splitlines()[1:]
    return {meta["reason"] for line in lines if "reason" in (meta := json.loads(line).get("meta", {}))}


# --- the runs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["openai", "ollama"])
def test_a_clean_server_plans_every_agent_with_the_model(tmp_path: Path, server: Any, backend: str) -> None:
    run = arena(server, tmp_path / "run", backend=backend)
    tiers = assert_sound(tmp_path / "run", run)
    assert tiers["llm"] > 100 and tiers["simple_llm"] == tiers["heuristic"] == 0, tiers
    assert set(run["faults"]) == {"clean"} and run["metrics"]["parse"]["valid_rate"] == 1.0


# Seed 2: the first 16 requests (tick 0's, sent together as the run starts, normally before
# any answer is back) already draw every transport fault. With seed 1 the later requests had
# to draw some, and how many reached the server depended on when the circuit breaker tripped
# (thread timing): under load it tripped before any slow_first_byte was drawn.
@pytest.mark.parametrize(
    "server, backend",
    [(chaos.ChaosConfig.mix(TRANSPORT, 0.6, seed=2, slow_s=0.2, stall_s=0.2), "openai")],
    indirect=["server"],
)
def test_transport_faults_fall_back_and_replay_in_lockstep(tmp_path: Path, server: Any, backend: str) -> None:
    # Which faults reach the server depends on when the circuit breaker trips (thread
    # timing): a retry drawn after it opens is never sent. Every game played is checked;
    # up to three are played until one has met every transport fault.
    for attempt in range(3):
        before = server.counts
        run = arena(server, tmp_path / f"run{attempt}", backend=backend)
        tiers = assert_sound(tmp_path / f"run{attempt}", run)
        faults = run["faults"] - before  # this game's alone
        if set(faults) >= {f.value for f in TRANSPORT}:
            break
    assert set(faults) >= {f.value for f in TRANSPORT}, faults
    errors = run["metrics"]["requests"]["errors"]
    assert {"LLMTimeout", "LLMUnavailable"} <= set(errors) or run["metrics"]["circuit"]["trips"] > 0, errors
    assert run["metrics"]["requests"]["attempts"] > run["metrics"]["requests"]["total"]  # retried
    assert tiers["heuristic"] + tiers["simple_llm"] > 0 and tiers["llm"] > 0, tiers


@pytest.mark.parametrize("server", [chaos.ChaosConfig.mix(CONTENT, 0.6, seed=2)], indirect=True)
def test_bad_answers_are_judged_per_agent_and_replay_in_lockstep_ollama(tmp_path: Path, server: Any) -> None:
    run = arena(server, tmp_path / "run", backend="ollama")
    tiers = assert_sound(tmp_path / "run", run)
    assert set(run["faults"]) >= {f.value for f in CONTENT}, run["faults"]
    by_reason = run["metrics"]["parse"]["by_reason"]
    seen = {reason for reason, n in by_reason.items() if n}
    assert {"not_json", "missing", "duplicate", "out_of_bounds", "too_many_steps", "bad_fields"} <= seen, by_reason
    assert "LLMBadResponse" in run["metrics"]["requests"]["errors"]  # the 10 MB answer, refused
    assert {"not_json", "missing"} <= fallback_reasons(tmp_path / "run")
    assert tiers["simple_llm"] > 0 and tiers["llm"] > 0, tiers


@pytest.mark.parametrize("backend", ["openai", "ollama"])
@pytest.mark.parametrize("server", [chaos.ChaosConfig.mix((*TRANSPORT, *CONTENT), 0.5, seed=3, slow_s=0.2, stall_s=0.2)], indirect=True)
def test_every_fault_in_realtime_streams_falls_back_and_replays(tmp_path: Path, server: Any, backend: str) -> None:
    run = arena(server, tmp_path / "run", backend=backend, mode="realtime")
    tiers = assert_sound(tmp_path / "run", run)
    assert server.faults_injected() > 0
    assert tiers["heuristic"] > 0 and tiers["llm"] > 0, tiers  # gap cover and fallbacks; the model still helps


@pytest.mark.parametrize("server", [chaos.ChaosConfig.mix(QUICK, 0.5, seed=4)], indirect=True)
def test_plan_lines_over_a_grammar_survive_bad_answers(tmp_path: Path, server: Any) -> None:
    run = arena(server, tmp_path / "run", extra=("--wire", "lines"))
    tiers = assert_sound(tmp_path / "run", run)
    assert run["summary"]["plans_per_tier"]["llm"] > 0 and tiers["simple_llm"] + tiers["heuristic"] > 0, tiers
    assert run["metrics"]["parse"]["by_reason"]["duplicate"] > 0


def test_a_server_that_dies_mid_run_leaves_the_heuristic_in_charge(tmp_path: Path) -> None:
    with chaos.ChaosServer(chaos.ChaosConfig(max_requests=20)) as srv:
        run = arena(srv, tmp_path / "run")
    tiers = assert_sound(tmp_path / "run", run)
    assert run["faults"]["clean"] == 20 and tiers["llm"] > 0 and tiers["heuristic"] > 0, tiers


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["openai", "ollama"])
@pytest.mark.parametrize("mode", ["lockstep", "realtime"])
def test_a_long_run_under_every_fault(tmp_path: Path, backend: str, mode: str) -> None:
    config = chaos.ChaosConfig.mix((*TRANSPORT, *CONTENT), 0.3, seed=5)
    with chaos.ChaosServer(config) as srv:
        run = arena(srv, tmp_path / "run", backend=backend, mode=mode, ticks=600)
    tiers = assert_sound(tmp_path / "run", run, ticks=600)
    assert set(run["faults"]) >= {f.value for f in (*TRANSPORT, *CONTENT)} and tiers["llm"] > 0


def _peak_rss_mb(srv: Any, out: Path, ticks: int) -> tuple[float, dict[str, Any]]:
    """Run the arena in its own process against ``srv``; its peak resident memory (MB) and summary."""
    argv = [
        sys.executable, "-m", "tickmind", "arena", "--llm", srv.openai_url, "--mode", "lockstep", "--agents", "100",
        "--ticks", str(ticks), "--parallel", "4", "--replan-every", "25", "--llm-timeout", "5",
        "--out", str(out), "--quiet",
    ]  # fmt: skip
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, child.stderr.read().decode() if child.stderr else ""
    return usage.ru_maxrss / 1024, json.loads((out / "summary.json").read_text())


def test_memory_stays_bounded_under_a_stream_of_10_mb_answers(tmp_path: Path) -> None:
    """Every answer a runaway 10 MB: each is cut off at the client's cap and dropped, so the
    run's peak memory stays that of a clean run plus a few capped bodies, however many come."""
    with chaos.ChaosServer() as clean_srv:
        clean_mb, _ = _peak_rss_mb(clean_srv, tmp_path / "clean", 200)
    with chaos.ChaosServer(chaos.ChaosConfig.only(Fault.HUGE)) as huge_srv:
        huge_mb, summary = _peak_rss_mb(huge_srv, tmp_path / "huge", 200)
        answered = huge_srv.counts[Fault.HUGE.value]
    assert answered >= 100, huge_srv.counts  # enough runaway answers (1 GB+) that a leak would show
    assert summary["plans_per_tier"]["llm"] == 0 and summary["plans_per_tier"]["heuristic"] > 0, summary
    # 4 requests in flight x the 8 MiB cap (plus the text decoded from it) is the most held at once.
    assert huge_mb - clean_mb < 64, (clean_mb, huge_mb, answered)  # measured: +3 MB for 160 answers
    assert main(["verify", str(tmp_path / "huge")]) == 0
