"""The README's example must run as written: users copy it first."""

import importlib.util
import subprocess
import sys
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"
_spec = importlib.util.spec_from_file_location("markdown_blocks", Path(__file__).parent / "markdown_blocks.py")
assert _spec is not None and _spec.loader is not None
markdown_blocks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(markdown_blocks)


def readme_block(heading: str) -> str:
    return markdown_blocks.python_block(README, heading)


def test_write_your_own_system_example_runs_and_verifies(tmp_path: Path) -> None:
    code = readme_block("Write your own system")
    (tmp_path / "my_sim.py").write_text(code)
    done = subprocess.run([sys.executable, "my_sim.py"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "OK: 100 ticks of runs/stoves replay bit for bit" in done.stdout
    journal = (tmp_path / "runs" / "stoves" / "journal.jsonl").read_text().splitlines()
    assert '"kind":"my_sim.ignite"' in journal[1] and '"t":10' in journal[1]
    # The shell form verifies the same run in a fresh process.
    again = subprocess.run(
        [sys.executable, "-m", "engine", "verify", "runs/stoves"], cwd=tmp_path, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr


def test_ci_runs_the_test_command_the_readme_gives() -> None:
    """.ci/run finds its command in the README: a reworded heading must not leave CI with none."""
    script = (README.parent / ".ci" / "run").read_text()
    finder = next(line for line in script.splitlines() if line.startswith("test_command=$("))
    found = subprocess.run(
        ["bash", "-c", finder.removeprefix("test_command=$(").removesuffix(")")],
        cwd=README.parent, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    text = README.read_text()
    section = text[text.index("Run the tests") :]
    assert found and found.endswith("pytest") and found in section.split("```")[1], found
