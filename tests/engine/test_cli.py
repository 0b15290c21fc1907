"""The command line as a user meets it: exit codes and one-line errors, never tracebacks."""

import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main

REPO = Path(__file__).parent.parent.parent


def tickmind(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=REPO)


def test_demo_then_verify_passes_and_a_tampered_hash_is_reported(tmp_path: Path) -> None:
    run = tmp_path / "demo"
    assert main(["demo", "--discs", "30", "--ticks", "120", "--out", str(run)]) == 0
    assert main(["verify", str(run)]) == 0
    hashes = run / "hashes.tsv"
    lines = hashes.read_text().splitlines(keepends=True)
    lines[1 + 77] = "77\t" + "0" * 32 + "\n"
    hashes.write_text("".join(lines))
    done = tickmind("verify", str(run))
    assert done.returncode == 1
    assert "DIVERGED at tick 77 of 120" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["verify", "{tmp}/nowhere"], "is not a directory"),
        (["verify", "{tmp}"], "is not a tickmind run (no journal.jsonl)"),
        (["demo", "--ticks", "-5"], "'-5' must not be negative"),
        (["demo", "--discs", "many"], "'many' is not a whole number"),
        (["demo", "--discs", "100000"], "more than the demo's 500"),
        (["serve", "--port", "70000"], "'70000' is not a port (0-65535)"),
        (["verify", "{tmp}/hashes_dir_run"], "hashes.tsv: Is a directory"),
        (["demo", "--out", "{tmp}/full"], "is not empty; choose another directory or pass --force"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_user_mistakes_get_one_clear_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("precious")
    if "{tmp}/hashes_dir_run" in args:  # a run whose hashes.tsv is a directory
        assert main(["demo", "--ticks", "3", "--out", str(tmp_path / "hashes_dir_run")]) == 0
        (tmp_path / "hashes_dir_run" / "hashes.tsv").unlink()
        (tmp_path / "hashes_dir_run" / "hashes.tsv").mkdir()
    done = tickmind(*[a.format(tmp=tmp_path) for a in args])
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert (tmp_path / "full" / "keep.txt").read_text() == "precious", "nothing is lost"


def test_a_corrupt_journal_is_named_with_its_line(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(["demo", "--ticks", "100", "--out", str(run)]) == 0
    journal = run / "journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    lines[2] = "garbage\n"
    journal.write_text("".join(lines))
    done = tickmind("verify", str(run))
    assert done.returncode == 2
    assert f"{journal}:3: not JSON" in done.stderr


def test_help_lists_the_commands() -> None:
    done = tickmind("--help")
    assert done.returncode == 0
    assert "verify" in done.stdout and "demo" in done.stdout


def test_replay_summarises_a_run_and_stops_where_asked(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(["demo", "--discs", "20", "--ticks", "90", "--out", str(run)]) == 0
    done = subprocess.run(
        [sys.executable, "-m", "tickmind", "replay", str(run), "--until", "61", "--every", "30", "--show", "4"],
        capture_output=True, text=True, cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[0] == f"replaying 61 of 90 ticks of {run} (examples.drift:build_world, seed 0), no model"
    assert [line.split()[1] for line in out[1:4]] == ["30", "60", "61"]
    assert all(line.endswith("hash ok") for line in out[1:4])
    assert "OK: 61 ticks replay bit for bit" in out
    assert "state after tick 60: 20 entities; Disc 20, Velocity 20" in out
    assert "inputs applied: drift.push 2" in out  # pushes land at ticks 3, 33 and 63: 63 is past 61
    assert out[out.index("entity 4:") + 1].startswith("    Disc(x=")


def test_replay_reports_a_divergence_and_refuses_ticks_it_never_recorded(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(["demo", "--discs", "20", "--ticks", "50", "--out", str(run)]) == 0
    hashes = run / "hashes.tsv"
    lines = hashes.read_text().splitlines(keepends=True)
    lines[1 + 17] = "17\t" + "f" * 32 + "\n"
    hashes.write_text("".join(lines))
    done = tickmind("replay", str(run))
    assert done.returncode == 1
    assert "DIVERGED at tick 17 of 50" in done.stdout
    done = tickmind("replay", str(run), "--until", "51")
    assert done.returncode == 2
    assert "--until 51 is past the end of" in done.stderr and "it recorded 50 ticks" in done.stderr


def test_python_m_tickmind_is_the_tickmind_command() -> None:
    done = subprocess.run([sys.executable, "-m", "tickmind", "--help"], capture_output=True, text=True, cwd="/")
    assert done.returncode == 0, done.stderr
    for command in ("verify", "replay", "resume", "demo", "arena", "evacuate"):
        assert command in done.stdout


def test_replay_until_0_and_a_journal_that_is_a_directory_are_described_as_they_are(tmp_path: Path) -> None:
    assert main(["demo", "--ticks", "3", "--out", str(tmp_path / "run")]) == 0
    done = tickmind("replay", str(tmp_path / "run"), "--until", "0")
    assert done.returncode == 0 and "state before tick 0" in done.stdout and "tick -1" not in done.stdout
    (tmp_path / "odd" / "journal.jsonl").mkdir(parents=True)
    done = tickmind("verify", str(tmp_path / "odd"))
    assert done.returncode == 2 and "is not a tickmind run (its journal.jsonl is not a file)" in done.stderr


def test_resume_says_it_leaves_the_games_own_files_as_they_were(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["demo", "--ticks", "20", "--out", str(run)]) == 0
    assert main(["resume", str(run), "--ticks", "5"]) == 0
    assert "note:" not in capsys.readouterr().out, "the demo writes only the engine's files"
    (run / "summary.json").write_text("{}")  # as the arena's own command writes one
    assert main(["resume", str(run), "--ticks", "5"]) == 0
    note = capsys.readouterr().out.splitlines()[-1]
    assert note.startswith("note: this resume leaves what the game's own command wrote") and "(summary.json)" in note, note


def test_a_refusal_inside_a_system_names_the_system_and_tick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "demo"
    assert main(["demo", "--discs", "5", "--ticks", "10", "--out", str(run)]) == 0
    edited = tmp_path / "edited.py"  # the user's code, changed since: a system that misuses columns at tick 4
    edited.write_text(
        "from engine import Position, factory\n"
        "from examples.drift import build_world\n\n"
        "def bad(world, ctx):\n"
        "    if ctx.tick == 4:\n"
        "        world.columns(Position).set('x', [1.0, 2.0])\n\n"
        "@factory\n"
        "def build(config, seed):\n"
        "    world = build_world(config, seed)\n"
        "    world.add_system(bad, stage='update', name='bad')\n"
        "    return world\n"
    )
    assert main(["verify", str(run), "--factory", f"{edited}:build"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Columns.set of Position.x:" in err, err
    assert err.rstrip().endswith("(in system 'bad' at tick 4)"), err
