"""A planner per team: ``--planner red=llm,blue=heuristic``, the config's ``team_planners``,
each team's own model server, the summary's ``per_team`` report, and the env beside them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import chaos_server as chaos  # loaded by tests/conftest.py
import pytest

from ai import BatchExecutor, Faction, planners_of
from ai.clients import OpenAIClient
from engine import TickmindError, read_journal, verify
from engine.cli import main
from examples.arena import build_arena
from examples.arena._team_planners import ArenaPlanners, parse_planner_flag
from examples.arena.env import ArenaParallelEnv


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


def test_each_team_is_planned_by_its_own_model_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    with chaos.ChaosServer() as red_server, chaos.ChaosServer() as blue_server:
        planner = f"red=llm:{red_server.openai_url},blue=llm:{blue_server.openai_url}"
        argv = ["arena", "--planner", planner, "--mode", "lockstep", "--agents", "10", "--ticks", "600",
                "--parallel", "2", "--out", str(out), "--quiet"]  # fmt: skip
        assert main(argv) == 0
        assert red_server.requests > 0 and blue_server.requests > 0
    summary = _summary(out)
    per_team = summary["per_team"]
    assert per_team["red"]["planner"] == f"llm:{red_server.openai_url}"
    assert per_team["blue"]["planner"] == f"llm:{blue_server.openai_url}"
    for team in ("red", "blue"):
        assert per_team[team]["plans_per_tier"]["llm"] > 0 and per_team[team]["model_share"] > 0.5, per_team
    assert read_journal(out).header.config["team_planners"] == {"red": per_team["red"]["planner"], "blue": per_team["blue"]["planner"]}
    assert verify(out).ok
    printed = capsys.readouterr().out
    assert f"red (llm:{red_server.openai_url})" in printed


def test_a_model_team_against_a_heuristic_team_reports_each_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    with chaos.ChaosServer() as server:
        argv = ["arena", "--planner", f"red=llm:{server.openai_url},blue=heuristic", "--mode", "lockstep",
                "--agents", "10", "--ticks", "900", "--out", str(out), "--quiet"]  # fmt: skip
        assert main(argv) == 0
    summary = _summary(out)
    red, blue = summary["per_team"]["red"], summary["per_team"]["blue"]
    assert blue["planner"] == "heuristic" and blue["model_share"] == 0.0
    assert not any(blue["plans_per_tier"][tier] for tier in ("llm", "simple_llm", "cache")), blue
    assert red["plans_per_tier"]["llm"] > 0 and red["model_share"] > 0.5, red
    for tier, total in summary["plans_per_tier"].items():  # every plan belongs to one team
        assert red["plans_per_tier"][tier] + blue["plans_per_tier"][tier] == total
    assert {team: summary["per_team"][team]["kills"] for team in ("red", "blue")} == summary["kills"]
    assert {team: summary["per_team"][team]["survivors"] for team in ("red", "blue")} == summary["survivors"]
    assert verify(out).ok
    assert "blue (heuristic)" in capsys.readouterr().out


def test_teams_with_one_planner_share_it_and_the_world_is_the_plain_one() -> None:
    per_team = build_arena({"team_planners": {"red": "heuristic", "blue": "heuristic"}, "agents": 6}, 3)
    plain = build_arena({"planner": "heuristic", "agents": 6}, 3)
    assert [p.planned for p in planners_of(per_team)] == [None]  # one planner, every agent
    for _ in range(120):
        per_team.step()
        plain.step()
    assert per_team.state_hash().root == plain.state_hash().root
    per_team.close()
    plain.close()


def test_two_planners_plan_only_their_own_teams_agents() -> None:
    world = build_arena({"team_planners": {"red": "llm", "blue": "heuristic"}, "agents": 6}, 1)
    seats = world.resource(ArenaPlanners).seats
    assert [(seat.spec.label, seat.teams) for seat in seats] == [("llm", ("red",)), ("heuristic", ("blue",))]
    assert [s.planner for s in seats] == list(planners_of(world))
    for entity, faction in world.get_component(Faction):
        assert [seat.planner.planned(world, entity) for seat in seats] == [faction.team == 0, faction.team == 1]
    world.close()


@pytest.mark.parametrize(
    ("config", "said"),
    [
        ({"team_planners": {"red": "llm"}}, "leaves out ['blue']"),
        ({"team_planners": {"red": "llm", "blue": "heuristic", "green": "llm"}}, "names no team ['green']"),
        ({"team_planners": {"red": "llm", "blue": "heuristic"}, "planner": "llm"}, "both 'planner' and 'team_planners'"),
        ({"team_planners": {"red": "llm", "blue": "clever"}}, "team_planners['blue']: unknown planner 'clever'"),
        ({"team_planners": {"red": "heuristic:http://x", "blue": "llm"}}, "only llm takes a server"),
        ({"team_planners": ["red", "blue"]}, "must map team names to planners"),
    ],
)
def test_a_bad_team_planners_config_says_what_is_wrong(config: dict, said: str) -> None:
    with pytest.raises(TickmindError, match=re.escape(said)):
        build_arena(config, 0)


def test_the_planner_flag_parses_per_team_specs() -> None:
    assert parse_planner_flag("heuristic") == "heuristic"
    assert parse_planner_flag("llm:local") == "llm"
    assert parse_planner_flag("red=llm, blue=llm:http://127.0.0.1:9/v1") == {"red": "llm", "blue": "llm:http://127.0.0.1:9/v1"}
    for bad, said in [("red=llm,red=heuristic", "names team 'red' twice"), ("red", "unknown planner"),
                      ("=llm", "is not TEAM=PLANNER"), ("red=llm:ftp://x", "must be an http(s) URL")]:  # fmt: skip
        with pytest.raises(TickmindError, match=re.escape(said)):
            parse_planner_flag(bad)


def test_planner_flag_mistakes_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["arena", "--planner", "red=sometimes", "--out", str(tmp_path / "a")])
    assert exit_.value.code == 2 and "unknown planner 'sometimes'" in capsys.readouterr().err
    assert main(["arena", "--planner", "llm:http://127.0.0.1:9", "--out", str(tmp_path / "b")]) != 0
    assert "--llm http://127.0.0.1:9" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_the_env_holds_agents_from_every_teams_planner() -> None:
    config = {"agents": 6, "max_ticks": 200, "ticks_per_step": 20, "team_planners": {"red": "heuristic", "blue": "llm"}}
    env = ArenaParallelEnv(config=config)
    with chaos.ChaosServer() as server, BatchExecutor(OpenAIClient(server.openai_url), max_concurrency=2) as executor:
        env.reset(seed=4)
        env.world.resource(ArenaPlanners).seats[1].planner.attach(executor)
        red = next(a for a in env.agents if a.startswith("red"))
        blue = next(a for a in env.agents if a.startswith("blue"))
        env.step({red: 1, blue: 1})
        assert len(planners_of(env.world)) == 2
        for planner in planners_of(env.world):
            assert planner.held == {env.entity[red], env.entity[blue]}
        while env.agents:
            env.step({})
        assert server.requests > 0  # the blue planner asked its model for the agents it plans
    env.close()
