"""The end-of-run summary of ``tickmind arena``: a table for people, ``summary.json`` for tools.

``summary.json`` (schema ``tickmind-arena-summary``, version 1). Keys are always present;
a value that is not known for this run is ``null`` (never a missing key), and new keys may be
added in later versions without bumping the version — existing keys keep their meaning:

    schema, schema_version   "tickmind-arena-summary", 1
    seed, agents             the world seed; agents alive at tick 0
    teams                    team names, in team-index order
    stopped                  "winner" (one team left), "tick_limit", "interrupted" (Ctrl-C), or
                             "model_failed" (the embedded model server died for good)
    ticks, sim_time_s        ticks completed, and that in simulated seconds
    wall_s, ms_per_tick      wall-clock seconds of the run loop, and per tick (metrics only)
    winner, decided_tick     winning team name ("nobody" if all fell at once) and its tick, or null
    survivors                {team name: agents alive at the end}
    kills, deaths            {team name: count}
    shots, hits              shots fired and shots that hit
    plans_per_tier           {tier: plans applied} for every tier (llm, simple_llm, heuristic,
                             emergency); the sum equals the journal's ai.assign_plan records
                             applied within the run (t < ticks)
    plans_submitted          plans the planner submitted (>= applied: the last ones may be
                             queued for a tick the run did not reach), or null; after a
                             resume, since the resume (as are rejections, job_errors and
                             model_jobs: the planner's own counts)
    valid_plan_rate          model plans / (model plans + plans rejected by validation), or
                             null when no model planned; failed requests count in job_errors
    rejections, job_errors   {reason: agents} and {error kind: model jobs}
    model_jobs               model requests made, or null without a planner
    llm_latency_ms           {count, mean, p50, p95} over model jobs, or null when no model answered
    tokens                   {prompt, completion} summed over model jobs, or null when unknown
                             (both over the whole run, from the journal, after a resume)
    ms_per_tick_by_system    {system name: mean wall ms per tick}, in schedule order; a planner's
                             without its opening_wait_s
    opening_wait_s           realtime opening orders: wall seconds the clock waited for the
                             model's first wave, or null when it did not wait
    server_restarts          times the embedded model server was restarted after dying (0 for
                             a server by URL), or null without a model
    model_server             {description, state, url, failed_in_a_row, last_error, restarts}
                             of the model the run asked (state: "answering", "unreachable",
                             "timing out" or "unknown": see ai.RunMetrics.server), or null
    warnings                 [text]: what a reader of the numbers must know (a model-planned
                             run whose model planned nothing, an unreachable model)
    agent_ticks_by_tier      {tier: agent-ticks}: at the end of each tick, each planned agent
                             counted under the tier of the plan it follows while that plan runs
                             and is at most 10 simulated seconds old, else under "stale"
                             (ai.PlanShare); null when not observed. A resumed or forked run's
                             replayed ticks are observed too, so it covers the whole run, as
                             plans_per_tier does.
    model_share              agent-ticks under llm, simple_llm or cache plans / all agent-ticks, or null
    group_plans              model or cached plans made for a squad of several agents (each
                             member's share is also counted in plans_per_tier), or null
    plan_cache               {hits, misses, hit_rate, entries} of the exact plan cache, or null
                             when it is off
    per_team                 {team name: {planner, plans_per_tier, model_share, survivors, kills,
                             deaths}}: planner is the team's planner as configured ("llm",
                             "heuristic", "llm:URL"; null without one), model_share its agents'
                             (null when not observed), the rest as above for that team alone

With a planner per team (``team_planners``) the planner counts (plans_submitted, rejections,
job_errors, model_jobs, group_plans) are those of all planners together, and model_server,
llm_latency_ms, tokens and plan_cache those of the model the run connected first; per_team
tells the teams apart.

Everything is read defensively from what the world exposes (``ArenaOutcome``, ``ArenaScore``,
the planners (``ai.planners_of``) and their ``stats``/``executor``, ``world.timings``) so a world without
one of them still gets a summary, with nulls.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import IO, Any

import numpy as np

from ai import MODEL_TIERS, Planner, PlannerStats, PlanShare, planners_of
from engine import RunDirError, World, printable

from ._combat import ArenaScore
from ._summary_tally import TIERS, PlanTally
from ._team_planners import ArenaPlanners
from ._world import ArenaOutcome, TeamRoster

__all__ = [
    "MODEL_DOWN",
    "SCHEMA",
    "SCHEMA_VERSION",
    "SUMMARY_FILE",
    "build_summary",
    "print_summary",
    "recorded_ticks",
    "summary_rows",
    "write_summary",
]

SCHEMA = "tickmind-arena-summary"
SCHEMA_VERSION = 1
SUMMARY_FILE = "summary.json"
_MODEL_TIERS = MODEL_TIERS


def build_summary(
    world: World,
    tally: PlanTally,
    *,
    seed: int,
    agents: int,
    wall_s: float,
    stopped: str,
    ticks: int | None = None,
    first_tick: int = 0,
    model: dict[str, Any] | None = None,
    share: PlanShare | None = None,
) -> dict[str, Any]:
    """The summary of ``world`` as it stands now (see the module docstring for the keys).

    ``ticks`` is the ticks the run recorded (default ``world.tick``); after a Ctrl-C pass
    :func:`recorded_ticks`, since the interrupted tick may have run without being recorded.
    ``wall_s`` timed the ticks from ``first_tick`` on (a resumed run's replayed ticks are
    not in it), so ``ms_per_tick`` divides by those. ``model`` is the run's model connection
    report (``ModelConnection.health`` and its description), None when no model was asked;
    ``share`` the agent-ticks the run loop observed.
    """
    outcome = world.try_resource(ArenaOutcome)
    score = world.try_resource(ArenaScore)
    planners = planners_of(world)
    stats = sum((p.stats for p in planners), PlannerStats()) if planners else None
    planner = next((p for p in planners if p.config.llm_tiers), planners[0] if planners else None)
    metrics = _run_metrics(planner)
    teams = list(outcome.teams) if outcome is not None else []
    ticks = world.tick if ticks is None else ticks

    def by_team(counts: dict[int, int]) -> dict[str, int]:
        return {name: int(counts.get(i, 0)) for i, name in enumerate(teams)}

    applied = Counter(tier for t, tier in tally.timeline if t < ticks)  # the recorded ticks' plans
    model_plans = sum(applied[t] for t in _MODEL_TIERS)
    rejected = sum(stats.rejections.values()) if stats is not None else 0
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "seed": seed,
        "agents": agents,
        "teams": teams,
        "stopped": stopped,
        "ticks": ticks,
        "sim_time_s": round(ticks * world.dt, 6),
        "wall_s": round(wall_s, 3),
        "ms_per_tick": round(1000 * wall_s / (ticks - first_tick), 3) if ticks > first_tick else None,
        "winner": outcome.winner if outcome is not None else None,
        "decided_tick": outcome.decided_tick if outcome is not None else None,
        "survivors": dict(zip(teams, map(int, outcome.alive))) if outcome is not None and outcome.alive else by_team({}),
        "kills": by_team(score.kills) if score is not None else {},
        "deaths": by_team(score.deaths) if score is not None else {},
        "shots": score.shots if score is not None else None,
        "hits": score.hits if score is not None else None,
        "plans_per_tier": {tier: applied[tier] for tier in TIERS},
        "plans_submitted": sum(stats.plans.values()) if stats is not None else None,
        "valid_plan_rate": _valid_rate(stats, model_plans, rejected),
        "rejections": dict(sorted(stats.rejections.items())) if stats is not None else {},
        "job_errors": dict(sorted(stats.job_errors.items())) if stats is not None else {},
        "model_jobs": stats.jobs if stats is not None else None,
        # A resumed run's live metrics saw only its last stretch; the journal (the tally, read
        # back at the resume) holds every answer of the whole run.
        "llm_latency_ms": (None if first_tick else _metrics_latency_ms(metrics)) or _latency_ms(tally, planner),
        "tokens": (None if first_tick else _metrics_tokens(metrics)) or tally.tokens() or _stats_tokens(stats),
        "ms_per_tick_by_system": _system_ms(world, ticks),
        "opening_wait_s": round(stats.opening_wait_s, 3) if stats is not None and stats.opening_wait_s else None,
        "server_restarts": int(model["restarts"]) if model is not None else None,
        "model_server": model,
        "warnings": _warnings(model, model_plans, stats),
        "agent_ticks_by_tier": share.by_tier() if share is not None and share.ticks else None,
        "model_share": round(share.model_share, 4) if share is not None and share.model_share is not None else None,
        "group_plans": stats.group_plans if stats is not None else None,
        "plan_cache": _cache_report(planner),
        "per_team": _per_team(world, tally, teams, ticks, share),
    }


def _system_ms(world: World, ticks: int) -> dict[str, float]:
    """Each system's ms per tick, a planner's without the once-only wait for the model's
    opening wave (reported on its own: spread over the ticks it read as a per-tick cost
    several times the rest of the tick's)."""
    if not ticks:
        return {}
    opening = {spec.name: spec.fn.stats.opening_wait_s for spec in world.schedule.systems() if isinstance(spec.fn, Planner)}
    return {name: round(1000 * (s - opening.get(name, 0.0)) / ticks, 4) for name, s in world.timings.items()}


def _per_team(world: World, tally: PlanTally, teams: list[str], ticks: int, share: PlanShare | None) -> dict[str, Any]:
    """Each team's planner, plans and outcome: what a game of one planner against another
    is judged by."""
    roster = world.try_resource(TeamRoster)
    seats = world.try_resource(ArenaPlanners) or ArenaPlanners()
    outcome = world.try_resource(ArenaOutcome)
    score = world.try_resource(ArenaScore)
    team_of = roster.team_of if roster is not None else {}
    plans: dict[int, Counter[str]] = {i: Counter() for i in range(len(teams))}
    for entity, tier in tally.tiers_by_agent(ticks):
        if (team := team_of.get(entity)) is not None:
            plans[team][tier] += 1
    report = {}
    for i, name in enumerate(teams):
        spec = seats.spec_of(name)
        team_share = share.team_share(i) if share is not None and share.by_team else None
        report[name] = {
            "planner": spec.label if spec is not None else None,
            "plans_per_tier": {tier: plans[i][tier] for tier in TIERS},
            "model_share": round(team_share, 4) if team_share is not None else None,
            "survivors": int(outcome.alive[i]) if outcome is not None and outcome.alive else 0,
            "kills": int(score.kills.get(i, 0)) if score is not None else 0,
            "deaths": int(score.deaths.get(i, 0)) if score is not None else 0,
        }
    return report


def _valid_rate(stats: Any, model_plans: int, rejected: int) -> float | None:
    """Valid model answers over all judged, per planning unit (a squad's plan counts once,
    not once per member); a resumed run without live stats counts its applied plans."""
    valid = stats.valid if stats is not None and stats.valid else model_plans
    return round(valid / (valid + rejected), 4) if valid + rejected else None


def _cache_report(planner: Planner | None) -> dict[str, Any] | None:
    cache = planner.cache if planner is not None else None
    if cache is None:
        return None
    rate = cache.hit_rate
    return {"hits": cache.hits, "misses": cache.misses, "hit_rate": None if rate is None else round(rate, 4), "entries": len(cache)}


#: ``model_server.state`` values that mean the model is not answering (ai.RunMetrics.server).
MODEL_DOWN = ("unreachable", "timing out")


def _warnings(model: dict[str, Any] | None, model_plans: int, stats: object) -> list[str]:
    """A run planned by a model whose model did not plan is the heuristic's game: say so."""
    if model is None:
        return []
    warnings = []
    if model["state"] in MODEL_DOWN:
        warnings.append(f"the model was {model['state']} at {model['url']} when the run ended: {model['last_error']}")
    if model_plans == 0 and int(getattr(stats, "jobs", 0) or 0):
        warnings.append("the model planned nothing: every agent was planned by the heuristic or emergency tiers")
    elif model_plans == 0:
        warnings.append("the model planned nothing: no model request was made")
    return warnings


def _run_metrics(planner: Planner | None) -> dict[str, Any] | None:
    """The live run's model metrics (every request), when it kept them.

    Preferred to the journal's per-job numbers: a job whose plans all streamed in early has
    no plan left to carry its latency and tokens into the journal.
    """
    metrics = getattr(planner, "metrics", None)
    return metrics.summary() if metrics is not None else None


def _metrics_latency_ms(summary: dict[str, Any] | None) -> dict[str, float] | None:
    if summary is None or not summary["latency_s"]["count"]:
        return None
    latency = summary["latency_s"]
    return _ms(latency["count"], latency["mean"], latency["p50"], latency["p95"])


def _metrics_tokens(summary: dict[str, Any] | None) -> dict[str, int] | None:
    if summary is None or not summary["tokens"]["total"]:
        return None
    return {"prompt": int(summary["tokens"]["prompt"]), "completion": int(summary["tokens"]["completion"])}


def _latency_ms(tally: PlanTally, planner: Planner | None) -> dict[str, float] | None:
    """From the journal's per-job latencies when the planner records them, else the executor's
    recent-window statistics (``BatchExecutor.latency_stats``), else unknown."""
    values = np.array([s for _, s in tally.latencies_s.values()], dtype=float)
    if values.size:
        p50, p95 = np.percentile(values, [50, 95])
        return _ms(values.size, float(values.mean()), float(p50), float(p95))
    latency_stats = getattr(getattr(planner, "executor", None), "latency_stats", None)
    if callable(latency_stats):
        stats = latency_stats()
        if getattr(stats, "count", 0):
            return _ms(stats.count, stats.mean_s, stats.p50_s, stats.p95_s)
    return None


def _ms(count: int, mean_s: float, p50_s: float, p95_s: float) -> dict[str, float]:
    return {"count": count, "mean": round(1000 * mean_s, 2), "p50": round(1000 * p50_s, 2), "p95": round(1000 * p95_s, 2)}


def _stats_tokens(stats: object) -> dict[str, int] | None:
    """Token totals if the planner's stats keep them (read by name: the fields are optional)."""
    prompt, completion = getattr(stats, "prompt_tokens", None), getattr(stats, "completion_tokens", None)
    if not isinstance(prompt, int) and not isinstance(completion, int):
        return None
    return {"prompt": int(prompt or 0), "completion": int(completion or 0)}


def recorded_ticks(run_dir: Path) -> int:
    """Ticks a run recorded: the complete lines of its ``hashes.tsv`` (a torn tail is not one)."""
    path = Path(run_dir) / "hashes.tsv"
    if not path.exists():
        raise RunDirError(f"{run_dir} has a journal but no hashes.tsv; it recorded no ticks")
    text = path.read_text(encoding="utf-8")
    return sum(1 for line in text.split("\n")[:-1] if line and not line.startswith("#"))


def write_summary(run_dir: Path, summary: dict[str, Any]) -> Path:
    path = Path(run_dir) / SUMMARY_FILE
    try:
        path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise RunDirError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) lines of the table a person reads; the same data as summary.json."""
    teams = summary["teams"]
    rows = [
        ("winner", _winner_text(summary)),
        ("survivors", ", ".join(f"{t} {summary['survivors'].get(t, 0)}" for t in teams) or "-"),
        ("kills", ", ".join(f"{t} {summary['kills'].get(t, 0)}" for t in teams) or "-"),
        ("shots / hits", f"{summary['shots']} / {summary['hits']}"),
        ("plans per tier", ", ".join(f"{tier} {n}" for tier, n in summary["plans_per_tier"].items() if n) or "none"),
    ]
    if summary.get("model_share") is not None and (summary.get("model_server") is not None or summary["model_share"] > 0):
        rows.append(("model share", f"{100 * summary['model_share']:.1f}% of agent-ticks followed a model plan"))
    if summary["valid_plan_rate"] is not None:
        rows.append(("valid-plan rate", f"{100 * summary['valid_plan_rate']:.1f}%"))
    if summary["rejections"]:
        rows.append(("rejected agents", ", ".join(f"{reason} {n}" for reason, n in summary["rejections"].items())))
    if summary["job_errors"]:
        rows.append(("failed model jobs", ", ".join(f"{k} {n}" for k, n in summary["job_errors"].items())))
    if (lat := summary["llm_latency_ms"]) is not None:
        rows.append(("LLM latency", f"p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms over {lat['count']} jobs"))
    if (tokens := summary["tokens"]) is not None:
        rows.append(("tokens", f"{tokens['prompt']} prompt, {tokens['completion']} completion"))
    by_system = sorted(summary["ms_per_tick_by_system"].items(), key=lambda kv: -kv[1])
    rows.append(("ms/tick by system", ", ".join(f"{name} {ms:.2f}" for name, ms in by_system) or "-"))
    if waited := summary.get("opening_wait_s"):
        rows.append(("opening orders", f"the clock waited {waited:.1f} s for the model's first wave (not in ms/tick by system)"))
    if summary.get("server_restarts"):
        rows.append(("server restarts", str(summary["server_restarts"])))
    rows.extend(_team_rows(summary))
    rows.extend(("warning", text) for text in summary.get("warnings") or ())
    return rows


def _team_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """A row per team when its teams had different planners (else the rows above say it all)."""
    per_team = summary.get("per_team") or {}
    if len({team["planner"] for team in per_team.values()}) < 2:
        return []
    rows = []
    for name, team in per_team.items():
        plans = ", ".join(f"{tier} {n}" for tier, n in team["plans_per_tier"].items() if n) or "none"
        share = f", model share {100 * team['model_share']:.1f}%" if team["model_share"] is not None else ""
        rows.append((f"{name} ({team['planner']})", f"survivors {team['survivors']}, kills {team['kills']}, plans {plans}{share}"))
    return rows


def _winner_text(summary: dict[str, Any]) -> str:
    if summary["winner"]:
        return f"{summary['winner']} at tick {summary['decided_tick']}"
    return f"none ({summary['stopped'].replace('_', ' ')})"


def print_summary(summary: dict[str, Any], run_dir: Path, stream: IO[str] | None = None) -> None:
    """A rich table on a terminal; plain ``label  value`` lines (no ANSI codes) otherwise."""
    stream = stream or sys.stdout
    print(f"arena: {summary['ticks']} ticks ({summary['sim_time_s']:.1f} s simulated) in {summary['wall_s']:.1f} s, "
          f"{summary['ms_per_tick'] or 0:.2f} ms/tick", file=stream)
    rows = [(label, printable(value, newlines=False)) for label, value in summary_rows(summary)]  # errors quote servers
    if stream.isatty():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(show_header=False, box=None, padding=(0, 2))
        for label, value in rows:
            table.add_row(Text(label, style="bold"), Text(value))  # Text: a "[" in a name is not markup
        Console(file=stream).print(table)
    else:
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            print(f"  {label:<{width}}  {value}", file=stream)
    print(f"recorded into {run_dir} ({SUMMARY_FILE} beside the journal); verify with: tickmind verify {run_dir}", file=stream)
