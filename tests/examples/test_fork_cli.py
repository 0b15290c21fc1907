"""``tickmind fork``: an arena run forked with another planner, and any other world's run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import chaos_server as chaos  # loaded by tests/conftest.py
import pytest

import examples.arena  # noqa: F401  (its actions registered before conftest snapshots the registry)
from engine import read_journal, verify
from engine._hashfile import read_hashes
from engine.cli import main


def _hashes(run: Path) -> list[str]:
    return read_hashes(run / "hashes.tsv")


def test_an_arena_run_forked_with_a_model_team_plays_on_and_verifies_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parent, fork = tmp_path / "parent", tmp_path / "fork"
    assert main(["arena", "--planner", "heuristic", "--agents", "10", "--ticks", "300", "--out", str(parent), "--quiet"]) == 0
    with chaos.ChaosServer() as server:
        argv = ["fork", str(parent), "--at", "120", "--out", str(fork), "--planner", f"red=llm:{server.openai_url},blue=heuristic",
                "--mode", "lockstep", "--ticks", "200", "--quiet"]  # fmt: skip
        assert main(argv) == 0
        assert server.requests > 0
    printed = capsys.readouterr().out
    assert f"forked {parent} at tick 120 (replayed and checked 120 ticks) into {fork}" in printed
    assert _hashes(fork)[:120] == _hashes(parent)[:120] and len(_hashes(fork)) == 320
    summary = json.loads((fork / "summary.json").read_text())
    red = summary["per_team"]["red"]
    assert red["planner"] == f"llm:{server.openai_url}" and red["plans_per_tier"]["llm"] > 0, red
    assert summary["per_team"]["blue"]["planner"] == "heuristic"
    header = read_journal(fork).header
    assert header.config["team_planners"]["blue"] == "heuristic" and header.config["agents"] == 10
    assert [(o.tick, o.root) for o in header.forked_from or []] == [(120, _hashes(parent)[119])]
    shutil.rmtree(parent)
    assert verify(fork).ok


def test_a_fork_keeps_the_parents_planning_settings_it_was_not_given(tmp_path: Path) -> None:
    parent, fork = tmp_path / "parent", tmp_path / "fork"
    argv = ["arena", "--planner", "heuristic", "--replan-every", "60", "--agents", "10", "--ticks", "100", "--out", str(parent), "--quiet"]
    assert main(argv) == 0
    assert main(["fork", str(parent), "--at", "50", "--out", str(fork), "--ticks", "30", "--quiet"]) == 0
    assert read_journal(fork).header.config == read_journal(parent).header.config
    assert _hashes(fork) == _hashes(parent)[:80], "nothing changed, so nothing differs"


def test_another_worlds_run_forks_with_its_own_systems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parent, fork = tmp_path / "parent", tmp_path / "fork"
    assert main(["demo", "--discs", "20", "--ticks", "90", "--out", str(parent)]) == 0
    assert main(["fork", str(parent), "--at", "40", "--out", str(fork), "--ticks", "50"]) == 0
    assert _hashes(fork) == _hashes(parent)
    assert f"recorded ticks 40-89 into {fork}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--ticks", "5", "--planner", "heuristic"], "--planner: arena flags, and {parent} is a run of examples.drift:build_world"),
        ([], "--ticks: say how many ticks to play after the fork"),
        (["--ticks", "5", "--at", "99"], "cannot fork {parent} at tick 99: it recorded ticks 0-29, so --at may be 1 to 30"),
    ],
)  # fmt: skip
def test_fork_mistakes_are_one_line_errors_and_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], said: str) -> None:
    parent, fork = tmp_path / "parent", tmp_path / "fork"
    assert main(["demo", "--discs", "5", "--ticks", "30", "--out", str(parent)]) == 0
    capsys.readouterr()
    args = ["fork", str(parent), "--at", "10", "--out", str(fork), *extra]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert said.format(parent=parent) in err and err.count("\n") == 1, err
    assert not fork.exists()


def test_a_forks_summary_counts_plans_and_model_share_over_the_same_ticks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parent, fork = tmp_path / "parent", tmp_path / "fork"
    with chaos.ChaosServer() as server:
        argv = ["arena", "--planner", "llm", "--llm", server.openai_url, "--mode", "lockstep", "--agents", "10",
                "--ticks", "150", "--out", str(parent), "--quiet"]  # fmt: skip
        assert main(argv) == 0
    parent_summary = json.loads((parent / "summary.json").read_text())
    assert main(["fork", str(parent), "--at", "100", "--out", str(fork), "--planner", "heuristic", "--ticks", "50", "--quiet"]) == 0
    summary = json.loads((fork / "summary.json").read_text())
    observed = sum(summary["agent_ticks_by_tier"].values())
    assert observed >= sum(parent_summary["agent_ticks_by_tier"].values()) * 0.9, "the prefix's ticks are observed too"
    assert summary["agent_ticks_by_tier"]["llm"] > 0 and summary["plans_per_tier"]["llm"] > 0, summary
    assert summary["model_share"] > 0.5, "the model's plans drove the prefix (and run on after the fork)"
    assert "model share" in capsys.readouterr().out.split("forked")[-1], "the fork's table reports the share of its model-planned prefix"
