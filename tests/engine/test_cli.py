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
        (["demo", "--out", "{tmp}/full"], "is not empty; choose another directory or pass --force"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_user_mistakes_get_one_clear_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("precious")
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
