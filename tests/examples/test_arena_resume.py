"""`tickmind arena --resume`: a stopped arena run continues where it stopped, with its model.

A heuristic run resumed in two pieces hashes like one that never stopped; a model-planned
run reconnects to a model (here a real HTTP server on 127.0.0.1) and keeps planning with it;
flags that would change the recorded world are refused with one line.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from engine.cli import main

REPO = Path(__file__).parent.parent.parent
_spec = importlib.util.spec_from_file_location("chaos_server", REPO / "tests" / "chaos_server.py")
assert _spec is not None and _spec.loader is not None
chaos_server = sys.modules.setdefault("chaos_server", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(chaos_server)


def _arena(*args: str) -> int:
    return main(["arena", "--quiet", *args])


def test_a_resumed_heuristic_run_hashes_like_one_that_never_stopped(tmp_path: Path) -> None:
    whole, pieces = tmp_path / "whole", tmp_path / "pieces"
    common = ["--planner", "heuristic", "--agents", "20", "--seed", "5"]
    assert _arena(*common, "--ticks", "150", "--out", str(whole)) == 0
    assert _arena(*common, "--ticks", "90", "--out", str(pieces)) == 0
    assert _arena("--resume", "--durable", "--ticks", "60", "--out", str(pieces)) == 0
    assert (pieces / "hashes.tsv").read_text() == (whole / "hashes.tsv").read_text()
    resumed, straight = (json.loads((d / "summary.json").read_text()) for d in (pieces, whole))
    assert resumed["ticks"] == 150 and resumed["plans_per_tier"] == straight["plans_per_tier"]
    assert main(["verify", str(pieces)]) == 0


def test_a_resumed_model_run_reconnects_and_keeps_planning_with_the_model(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with chaos_server.ChaosServer() as server:
        url = ["--llm", server.openai_url, "--mode", "lockstep", "--agents", "10", "--replan-every", "20"]
        assert _arena(*url, "--ticks", "40", "--out", str(out)) == 0
        assert _arena("--resume", "--llm", server.openai_url, "--ticks", "60", "--out", str(out)) == 0
    records = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()[1:]]
    after = [r for r in records if r["kind"] == "ai.assign_plan" and r["at"] >= 40]
    assert any(r["meta"].get("tier") == "llm" for r in after), "the resumed run never asked the model"
    assert json.loads((out / "summary.json").read_text())["ticks"] == 100
    assert main(["verify", str(out)]) == 0


def test_resume_refuses_world_flags_and_runs_that_are_not_the_arena(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert _arena("--planner", "heuristic", "--agents", "10", "--ticks", "10", "--out", str(out)) == 0
    drift = tmp_path / "drift"
    assert main(["demo", "--ticks", "5", "--out", str(drift)]) == 0
    for args, message in [
        (["--seed", "3", "--out", str(out)], "drop --seed"),
        (["--agents", "4", "--planner", "heuristic", "--out", str(out)], "drop --agents, --planner"),
        (["--out", str(drift)], "not of the arena"),
        (["--out", str(tmp_path / "nothing")], "nothing"),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "engine", "arena", "--resume", *args], capture_output=True, text=True, cwd=REPO
        )
        assert done.returncode != 0 and message in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_the_generic_resume_of_a_model_run_points_at_the_arena_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with chaos_server.ChaosServer() as server:
        assert _arena("--llm", server.openai_url, "--mode", "lockstep", "--agents", "6", "--ticks", "10", "--out", str(out)) == 0
    done = subprocess.run(
        [sys.executable, "-m", "engine", "resume", str(out), "--ticks", "5"], capture_output=True, text=True, cwd=REPO
    )
    assert done.returncode == 2 and "tickmind arena --resume" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert main(["verify", str(out)]) == 0  # the refused resume recorded nothing wrong
