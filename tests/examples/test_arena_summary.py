"""`tickmind arena`'s progress and summary: summary.json agrees with the recorded run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from ai import AssignPlan, Faction, Tier, Wait, planners_of
from engine import JournalRecord, read_journal, replay_world, start_run
from engine.cli import main
from examples.arena import build_arena
from examples.arena._summary import build_summary, summary_rows
from examples.arena._summary_tally import PlanTally

REPO = Path(__file__).parent.parent.parent
KEYS = {
    "schema", "schema_version", "seed", "agents", "teams", "stopped", "ticks", "sim_time_s", "wall_s",
    "ms_per_tick", "winner", "decided_tick", "survivors", "kills", "deaths", "shots", "hits",
    "plans_per_tier", "plans_submitted", "valid_plan_rate", "rejections", "job_errors", "model_jobs",
    "llm_latency_ms", "tokens", "ms_per_tick_by_system", "server_restarts", "model_server", "warnings",
    "agent_ticks_by_tier", "model_share", "group_plans", "plan_cache", "per_team", "opening_wait_s",
}


def recorded_ticks(run_dir: Path) -> int:
    return sum(1 for line in (run_dir / "hashes.tsv").read_text().splitlines() if not line.startswith("#"))


@pytest.fixture(scope="module")
def decided(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-agent arena played to its end (seed 1: decided in under 900 ticks)."""
    out = tmp_path_factory.mktemp("summary") / "run"
    assert main(["arena", "--planner", "heuristic", "--agents", "4", "--seed", "1", "--out", str(out), "--quiet"]) == 0
    return out


def test_summary_json_has_every_documented_key(decided: Path) -> None:
    summary = json.loads((decided / "summary.json").read_text())
    assert set(summary) == KEYS
    assert (summary["schema"], summary["schema_version"]) == ("tickmind-arena-summary", 1)
    assert (summary["seed"], summary["agents"], summary["teams"]) == (1, 4, ["red", "blue"])
    assert set(summary["plans_per_tier"]) == {t.value for t in Tier}
    assert {team: (row["planner"], row["model_share"]) for team, row in summary["per_team"].items()} == {
        "red": ("heuristic", 0.0), "blue": ("heuristic", 0.0)
    }
    assert (summary["model_server"], summary["server_restarts"], summary["warnings"]) == (None, None, [])  # heuristic


def test_summary_agrees_with_a_replay_of_the_run(decided: Path) -> None:
    summary = json.loads((decided / "summary.json").read_text())
    ticks = recorded_ticks(decided)
    assert summary["ticks"] == ticks and summary["stopped"] == "winner"
    assert summary["decided_tick"] == ticks - 1  # the run stops after the deciding tick

    world = replay_world(decided)
    world.run(ticks)
    alive = Counter(f.team for _, f in world.get_component(Faction))
    world.close()
    assert summary["survivors"] == {"red": alive[0], "blue": alive[1]}
    assert summary["winner"] == ("red" if alive[0] else "blue") and min(alive[0], alive[1]) == 0
    assert {t: 2 - n for t, n in summary["survivors"].items()} == summary["deaths"]


def test_plans_per_tier_are_the_journals_applied_plans(decided: Path) -> None:
    summary = json.loads((decided / "summary.json").read_text())
    journal = read_journal(decided / "journal.jsonl")
    applied = Counter(r.data["tier"] for r in journal.records if r.kind == AssignPlan.kind and r.t < summary["ticks"])
    assert sum(applied.values()) > 0
    assert summary["plans_per_tier"] == {t.value: applied[t.value] for t in Tier}
    assert summary["plans_submitted"] >= sum(applied.values())
    # heuristic planning only: nothing about a model is known
    assert (summary["valid_plan_rate"], summary["llm_latency_ms"], summary["tokens"]) == (None, None, None)
    assert {"planner", "perception", "physics.step"} <= set(summary["ms_per_tick_by_system"])


def record(meta: dict, t: int, seq: int, tier: str = "llm") -> JournalRecord:
    steps = [Wait(ticks=5).model_dump(mode="json")]
    return JournalRecord(t=t, seq=seq, kind=AssignPlan.kind, entity=seq + 1, data={"plan_id": "p", "tier": tier, "steps": steps}, meta=meta)


def test_model_metrics_are_read_once_per_job_from_the_journal_meta() -> None:
    records = [
        record({"tier": "llm", "job": "a", "raw": "{}", "latency_s": 0.1, "prompt_tokens": 100, "completion_tokens": 40}, 1, 0),
        record({"tier": "llm", "job": "a", "latency_s": 0.1, "prompt_tokens": 100, "completion_tokens": 40}, 1, 1),
        record({"tier": "llm", "job": "b", "latency_ms": 300}, 2, 2),
        record({"tier": "llm", "job": "c", "latency_s": True}, 2, 3),  # not a number: ignored
        record({"tier": "heuristic"}, 3, 4, tier="heuristic"),
        record({"tier": "llm", "job": "d", "latency_s": 9.0}, 50, 5),  # queued past the run's end
    ]
    tally = PlanTally.from_journal(records, ticks=10)
    assert tally.per_tier == {"llm": 4, "heuristic": 1}
    assert tally.latencies_s == {"a": (1, 0.1), "b": (2, 0.3)}
    assert tally.tokens() == {"prompt": 100, "completion": 40}


def test_summary_reports_latency_percentiles_and_tokens_when_known(tmp_path: Path) -> None:
    tally = PlanTally()
    for i, seconds in enumerate([0.1, 0.2, 0.3, 0.4]):
        tally.add(1, "llm", {"job": f"j{i}", "latency_s": seconds, "prompt_tokens": 10, "completion_tokens": 5})
    world = build_arena({"agents": 4, "planner": "none"}, 0)
    world.run(3)
    summary = build_summary(world, tally, seed=0, agents=4, wall_s=0.5, stopped="tick_limit")
    world.close()
    assert summary["llm_latency_ms"] == {"count": 4, "mean": 250.0, "p50": 250.0, "p95": 385.0}
    assert summary["tokens"] == {"prompt": 40, "completion": 20}
    assert summary["plans_per_tier"]["llm"] == 4 and summary["plans_submitted"] is None  # no planner
    assert summary["ticks"] == 3 and summary["survivors"] == {"red": 2, "blue": 2}
    rows = dict(summary_rows(summary))
    assert rows["LLM latency"] == "p50 250 ms, p95 385 ms over 4 jobs"
    assert rows["tokens"] == "40 prompt, 20 completion"


def test_a_resumed_runs_ms_per_tick_counts_only_the_ticks_it_timed() -> None:
    """wall_s times this session's ticks; dividing by every tick (the replayed ones too)
    made a resumed run look 10x faster, and a finished game 0.00 ms/tick."""
    world = build_arena({"agents": 4, "planner": "none"}, 0)
    world.run(40)
    resumed = build_summary(world, PlanTally(), seed=0, agents=4, wall_s=0.5, stopped="tick_limit", first_tick=30)
    nothing_run = build_summary(world, PlanTally(), seed=0, agents=4, wall_s=0.01, stopped="winner", first_tick=40)
    world.close()
    assert resumed["ms_per_tick"] == 50.0 and resumed["ticks"] == 40
    assert nothing_run["ms_per_tick"] is None


def test_the_opening_wait_is_reported_once_and_left_out_of_the_planners_ms_per_tick() -> None:
    """A realtime run's clock waits seconds for the model's first wave inside the planner's
    first call; spread over the ticks it read as "planner 7 ms/tick" beside a 3 ms tick."""
    world = build_arena({"agents": 4}, 0)
    world.run(10)
    (planner,) = planners_of(world)
    planner.stats.opening_wait_s = 2.0
    world.timings["planner"] += 2.0
    summary = build_summary(world, PlanTally(), seed=0, agents=4, wall_s=2.5, stopped="tick_limit")
    world.close()
    assert summary["opening_wait_s"] == 2.0
    assert 0.0 <= summary["ms_per_tick_by_system"]["planner"] < 100.0, "the 2 s are not spread over 10 ticks"
    assert dict(summary_rows(summary))["opening orders"] == (
        "the clock waited 2.0 s for the model's first wave (not in ms/tick by system)"
    )


def test_the_printed_table_names_rejected_agents_as_summary_json_does() -> None:
    world = build_arena({"agents": 4, "planner": "none"}, 0)
    world.run(2)
    summary = build_summary(world, PlanTally(), seed=0, agents=4, wall_s=0.1, stopped="tick_limit")
    world.close()
    summary["rejections"] = {"missing": 54, "unknown_target": 3}
    assert dict(summary_rows(summary))["rejected agents"] == "missing 54, unknown_target 3"


def test_plots_draw_model_latency_from_the_journal(tmp_path: Path) -> None:
    from PIL import Image

    from examples.arena._plots import TIER_COLOURS

    with start_run(build_arena, {"agents": 4, "planner": "none"}, 0, tmp_path / "run") as run:
        for i, entity in enumerate([5, 6, 7]):  # plans "from a model", as a planner journals them
            meta = {"tier": "llm", "job": f"j{i}", "latency_s": 0.2 * (i + 1)}
            run.world.submit(AssignPlan(entity=entity, plan_id=f"p{i}", tier=Tier.LLM, steps=(Wait(ticks=5),)), 2 + i, meta=meta)
        run.world.run(10)
    assert main(["render", str(tmp_path / "run"), "--plots", str(tmp_path / "plots.png")]) == 0
    latency_panel = Image.open(tmp_path / "plots.png").convert("RGB").crop((0, 480, 800, 720))
    assert TIER_COLOURS["llm"] in {c for _, c in latency_panel.getcolors(1 << 16)}


def test_piped_output_is_plain_text_with_progress_lines(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "engine", "arena", "--planner", "heuristic", "--agents", "4", "--ticks", "610", "--out", str(tmp_path / "run")],
        check=False, capture_output=True, text=True, cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\r" not in done.stdout
    assert "  tick    600/610  10.0 s  red 2 blue 2  plans heur " in done.stdout
    assert "arena: 610 ticks" in done.stdout and "  plans per tier     heuristic " in done.stdout


def test_quiet_prints_the_summary_without_progress(tmp_path: Path, capsys) -> None:
    assert main(["arena", "--planner", "heuristic", "--agents", "4", "--ticks", "601", "--out", str(tmp_path / "run"), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "tick    600" not in printed and "arena: 601 ticks" in printed and "survivors" in printed


def test_a_terminal_gets_a_live_progress_bar(tmp_path: Path) -> None:
    leader, follower = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "arena", "--planner", "heuristic", "--agents", "4", "--ticks", "120", "--out", str(tmp_path / "run")],
        stdout=follower, stderr=subprocess.PIPE, cwd=REPO, env={**os.environ, "COLUMNS": "160", "TERM": "xterm"},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait() == 0, proc.stderr.read() if proc.stderr else ""
    shown = b"".join(chunks).decode()
    assert "\x1b[" in shown and "120/120" in shown and "plans heur" in shown and "ms/tick" in shown


def test_ctrl_c_still_writes_the_summary_of_what_was_recorded(tmp_path: Path) -> None:
    # A game that cannot end (the teams are walled apart, the objective walled in): on a
    # busy machine a real battle could be won before the interrupt lands.
    out, sealed = tmp_path / "run", Path(__file__).parent / "data" / "sealed.toml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "arena", "--planner", "heuristic", "--scenario", str(sealed), "--ticks", "100000", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        # A suite started in the background (``pytest &``, nohup) ignores SIGINT, and children
        # inherit that: Ctrl-C must reach the arena as it would from a terminal.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdout is not None and "tick    600/" in proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped"] == "interrupted" and summary["ticks"] == recorded_ticks(out) >= 600


def test_a_resumed_runs_latency_and_tokens_cover_the_whole_run() -> None:
    """The live metrics of a resumed run saw only its last stretch (1 job of 9); the tally,
    read from the journal at the resume, has every answer."""
    tally = PlanTally()
    for i in range(9):
        tally.add(i, "llm", {"job": f"j{i}", "latency_s": 0.5, "prompt_tokens": 10, "completion_tokens": 4})
    from ai import Planner, RunMetrics
    from ai.clients import CompletionRequest, CompletionResult
    from ai.llm import BatchJob, JobResult, JobStatus

    world = build_arena({"agents": 4, "planner": "llm"}, 0)
    since_resume = RunMetrics(prometheus=False)  # what the live planner saw: one job
    request = CompletionRequest(request_id="j9", system="s", user="u", max_tokens=8)
    answer = CompletionResult(text="{}", prompt_tokens=10, completion_tokens=4, model="m", total_s=0.5)
    job = BatchJob(job_id="j9", request=request, agent_ids=(1,), submit_tick=10)
    since_resume.record_job(JobResult(job=job, status=JobStatus.OK, result=answer, attempts=1, latency_s=0.5))
    world.resource(Planner).metrics = since_resume
    summary = build_summary(world, tally, seed=0, agents=4, wall_s=0.1, stopped="tick_limit", ticks=12, first_tick=10)
    fresh = build_summary(world, tally, seed=0, agents=4, wall_s=0.1, stopped="tick_limit", ticks=12)
    world.close()
    assert summary["llm_latency_ms"]["count"] == 9 and summary["tokens"] == {"prompt": 90, "completion": 36}
    assert fresh["llm_latency_ms"]["count"] == 1, "a run that was not resumed reads its live metrics"
