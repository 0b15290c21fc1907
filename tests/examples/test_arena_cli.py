"""`tickmind arena` as a user runs it: records a run that verifies; mistakes get one line."""

import subprocess
import sys
from pathlib import Path

from engine.cli import main

REPO = Path(__file__).parent.parent.parent


def test_arena_records_a_run_that_verifies(tmp_path: Path, capsys) -> None:
    out = tmp_path / "arena"
    assert main(["arena", "--planner", "heuristic", "--agents", "20", "--ticks", "150", "--seed", "4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "arena: 150 ticks" in printed and f"tickmind verify {out}" in printed
    assert "survivors" in printed and (out / "summary.json").is_file()
    assert main(["verify", str(out)]) == 0
    assert "OK: 150 ticks" in capsys.readouterr().out


def test_arena_flag_mistakes_exit_2_without_a_traceback(tmp_path: Path) -> None:
    bad_scenario = tmp_path / "bad.toml"
    bad_scenario.write_text("[map]\nwidth = -5\n")
    for args, message in [
        (["--agents", "0"], "must be at least 1"),
        (["--planner", "gpt"], "argument --planner: unknown planner 'gpt'"),
            (["--planner", "red=llm,blue=gpt"], "argument --planner: team 'blue': unknown planner 'gpt'"),
        (["--llm", "127.0.0.1:8080", "--out", str(tmp_path / "y")], "--llm takes 'local' or an http(s) URL"),
        (["--mode", "fast"], "invalid choice: 'fast'"),
        (["--speed", "0"], "must be a positive finite number"),
        (["--metrics-port", "70000", "--out", str(tmp_path / "p")], "'70000' is not a port (0-65535)"),
        (["--llm", "http://[::1", "--out", str(tmp_path / "u")], "is not a valid URL"),
        (["--model", "", "--out", str(tmp_path / "m")], "argument --model: is empty"),
        (["--scenario", str(bad_scenario), "--out", str(tmp_path / "x")], "bad.toml"),
    ]:
        done = subprocess.run([sys.executable, "-m", "engine", "arena", *args], capture_output=True, text=True, cwd=REPO)
        assert done.returncode == 2, done.stderr
        assert message in done.stderr and "Traceback" not in done.stderr


def test_arena_and_render_help_document_their_flags() -> None:
    for command, flags in [("arena", ["--quiet", "--out", "--force", "--planner", "--llm", "--backend", "--model", "--mode", "--wire"]), ("render", ["--out", "--plots", "--every", "--size", "--sheet"])]:
        done = subprocess.run([sys.executable, "-m", "engine", command, "--help"], capture_output=True, text=True, cwd=REPO)
        assert done.returncode == 0 and all(flag in done.stdout for flag in flags), done.stdout


def test_an_unreachable_model_url_fails_before_any_run_file_is_touched(tmp_path: Path, capsys) -> None:
    """The model was reached only after the run had started: --force had already replaced
    the previous run, and without it a 0-tick run was left that the retry refused."""
    run = tmp_path / "run"
    assert main(["arena", "--planner", "heuristic", "--agents", "10", "--ticks", "30", "--out", str(run), "--quiet"]) == 0
    before = {name: (run / name).read_bytes() for name in ("journal.jsonl", "hashes.tsv", "summary.json")}
    closed_port = "http://127.0.0.1:1/v1"
    assert main(["arena", "--llm", closed_port, "--out", str(run), "--force", "--quiet"]) != 0
    assert main(["arena", "--llm", closed_port, "--out", str(tmp_path / "new"), "--quiet"]) != 0
    assert "ConnectError" in capsys.readouterr().err
    assert {name: (run / name).read_bytes() for name in before} == before
    assert not (tmp_path / "new").exists()


def test_resuming_a_finished_game_adds_nothing_and_keeps_its_summary(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["arena", "--planner", "heuristic", "--agents", "6", "--out", str(run), "--quiet"]) == 0
    summary = (run / "summary.json").read_bytes()
    capsys.readouterr()
    assert main(["arena", "--resume", "--out", str(run), "--quiet"]) == 0
    assert "already ended at tick" in capsys.readouterr().out
    assert (run / "summary.json").read_bytes() == summary


def test_a_scenario_file_is_recorded_into_the_run_which_then_needs_it_no_more(tmp_path: Path, capsys) -> None:
    """The path was recorded as typed: the run verified only from the directory it was made
    in, and not at all once the file was edited or gone."""
    from engine import start_run
    from engine._hashfile import read_hashes
    from examples.arena import build_arena
    from examples.arena.scenarios import DEFAULT_SCENARIO

    scenario = tmp_path / "mine.toml"
    scenario.write_bytes(DEFAULT_SCENARIO.read_bytes())
    flags = ["--planner", "heuristic", "--agents", "12", "--ticks", "40", "--quiet"]
    assert main(["arena", *flags, "--scenario", str(scenario), "--out", str(tmp_path / "run")]) == 0
    with start_run(build_arena, {"planner": "heuristic", "agents": 12, "scenario": str(scenario)}, 0, tmp_path / "by_path") as run:
        run.world.run(40)
    scenario.unlink()
    done = subprocess.run([sys.executable, "-m", "engine", "verify", str(tmp_path / "run")], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0 and "OK: 40 ticks" in done.stdout, done.stdout + done.stderr
    assert read_hashes(tmp_path / "run" / "hashes.tsv") == read_hashes(tmp_path / "by_path" / "hashes.tsv")
