"""A run someone sent you is data: verify, replay and resume run only code that declares
itself a factory, a file only when you trust it, and read a journal within limits (#20)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine import RunDirError, TickmindError, World, __version__, _journal, factory, printable, start_run, verify
from examples.arena import build_arena  # imported with the module: its actions stay registered across tests

ROOT = Path(__file__).resolve().parents[2]
BEFORE = Path(__file__).parent / "data" / "recorded-at-245f1e2"
PAYLOAD = '''
from pathlib import Path
Path(__file__).with_name("pwned").write_text("the payload ran")
from engine import factory
@factory
def build(config, seed):
    print("payload says hello")
    raise SystemExit(3)
'''


def tickmind(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tickmind", *args], cwd=cwd, env=env, capture_output=True, text=True)


def with_factory(run: Path, name: str) -> Path:
    lines = (run / "journal.jsonl").read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    header["factory"] = name
    (run / "journal.jsonl").write_text(json.dumps(header) + "\n" + "".join(lines[1:]))
    return run


@pytest.fixture
def arena_run(tmp_path: Path) -> Path:
    """A small heuristic arena run of this release, as someone might send one."""
    run = tmp_path / "shared-run"
    with start_run(build_arena, {"planner": "heuristic", "agents": 6}, seed=2, out=run) as recording:
        recording.world.run(40)
    return run


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("tickmind: error:")]
    assert len(errors) == 1 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    return errors[0]


def test_a_payload_a_journal_names_does_not_run_until_trusted(tmp_path: Path, arena_run: Path) -> None:
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "payload.py").write_text(PAYLOAD)
    with_factory(arena_run, f"{evil / 'payload.py'}:build")
    for command in ("verify", "replay"):
        line = one_error_line(tickmind(command, str(arena_run)))
        assert f"{evil / 'payload.py'}:build" in line and "--trust" in line, line
    line = one_error_line(tickmind("resume", str(arena_run), "--ticks", "5"))
    assert "--trust" in line
    assert not (evil / "pwned").exists(), "the payload ran without --trust"
    trusted = tickmind("verify", str(arena_run), "--trust")
    assert (evil / "pwned").read_text() == "the payload ran"
    assert f"trusting the run's factory {evil / 'payload.py'}:build" in trusted.stderr
    assert "payload says hello" in trusted.stdout


@pytest.mark.parametrize("name", ["os:getcwd", "subprocess:run", "builtins:eval", "shutil:rmtree"])
def test_any_importable_callable_is_refused_without_being_called(arena_run: Path, name: str) -> None:
    line = one_error_line(tickmind("verify", str(with_factory(arena_run, name))))
    assert f"the run's factory {name} is not a declared factory" in line and "@engine.factory" in line
    with pytest.raises(RunDirError, match="not a declared factory"):
        verify(arena_run)


def test_a_file_that_came_inside_the_run_never_runs_even_from_there(arena_run: Path) -> None:
    (arena_run / "helper.py").write_text(PAYLOAD)
    for name in (f"{arena_run / 'helper.py'}:build", "helper:build"):
        with_factory(arena_run, name)
        line = one_error_line(tickmind("verify", ".", cwd=arena_run))
        assert "--trust" in line, line
    assert not (arena_run / "pwned").exists()


def test_code_that_came_in_one_folder_with_the_run_needs_trust(tmp_path: Path, arena_run: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    run = shutil.move(str(arena_run), bundle / "run")
    (bundle / "sim.py").write_text(PAYLOAD)
    with_factory(Path(run), "bundle.sim:build")
    line = one_error_line(tickmind("verify", "bundle/run", cwd=tmp_path))
    assert "came in one folder with the run" in line and "--trust" in line, line
    assert not (bundle / "pwned").exists(), "the sender's code ran without --trust"
    (bundle / "run").rename(tmp_path / ".data")
    (bundle / "run").symlink_to(tmp_path / ".data")  # a link must not take the run out of the bundle
    assert "came in one folder with the run" in one_error_line(tickmind("verify", "bundle/run", cwd=tmp_path))
    assert not (bundle / "pwned").exists(), "the sender's code ran without --trust"
    trusted = tickmind("verify", "bundle/run", "--trust", cwd=tmp_path)
    assert (bundle / "pwned").read_text() == "the payload ran" and "payload says hello" in trusted.stdout
    with_factory(Path(run), ".sim:build")
    assert "is not of the form module:function" in one_error_line(tickmind("verify", "bundle/run", cwd=tmp_path))


def test_an_installed_module_is_read_before_it_is_imported(tmp_path: Path, arena_run: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "noisy.py").write_text(
        "from pathlib import Path\nPath(__file__).with_name('imported').write_text('top level ran')\nprint('noisy says hello')\n"
        "def build(config, seed):\n    return None\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(site)])}

    def verify_from(cwd: Path, *flags: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "tickmind", "verify", str(arena_run), *flags]
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)

    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    for name in ("noisy:build", "this:x", "distutils:x"):  # distutils: setuptools' finder would import its own
        with_factory(arena_run, name)
        for cwd in (elsewhere, tmp_path):  # tmp_path holds site/: installed there is not "yours"
            done = verify_from(cwd)
            line = one_error_line(done)
            assert f"the run's factory {name} is not a declared factory" in line and "read without running it" in line, line
            assert done.stdout == "", "an installed module's top level ran before it was refused"
    assert not (site / "imported").exists()
    # A declared factory re-exported by its package is found the same way, and runs.
    with_factory(arena_run, "examples.arena:build_arena")
    assert "replay bit for bit" in verify_from(elsewhere).stdout


def test_your_own_file_in_the_current_directory_runs_and_factory_names_one(tmp_path: Path) -> None:
    (tmp_path / "my_sim.py").write_text(
        "from engine import World, factory\n"
        "@factory\n"
        "def build(config, seed):\n"
        "    return World(seed=seed)\n"
        "def undeclared(config, seed):\n"
        "    return World(seed=seed)\n"
    )
    record = "from engine import start_run\nwith start_run('my_sim.py:build', {}, 1, 'runs/mine') as run:\n    run.world.run(5)\n"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    assert subprocess.run([sys.executable, "-c", record], cwd=tmp_path, env=env).returncode == 0
    run = tmp_path / "runs" / "mine"
    assert tickmind("verify", str(run), cwd=tmp_path).returncode == 0  # my_sim.py sits in the current directory
    elsewhere = tickmind("verify", str(run))  # from the repository: the file is not yours there
    assert "--trust" in one_error_line(elsewhere)
    assert tickmind("verify", str(run), "--factory", f"{tmp_path / 'my_sim.py'}:build").returncode == 0
    line = one_error_line(tickmind("verify", str(run), "--factory", f"{tmp_path / 'my_sim.py'}:undeclared"))
    assert "not a declared factory" in line, "trusting a file does not make any function in it a factory"
    assert line.startswith(f"tickmind: error: --factory {tmp_path / 'my_sim.py'}:undeclared: "), "the flag is at fault, not the journal"


def test_recording_an_undeclared_factory_is_refused_with_the_fix(tmp_path: Path) -> None:
    def build(config: object, seed: int) -> World:
        return World(seed=seed)

    globals()["undeclared_build"] = build
    build.__qualname__ = "undeclared_build"
    with pytest.raises(TickmindError, match=r"is not declared.*decorate it with @engine.factory"):
        start_run(build, {}, 0, tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("kind", ["arena", "drift", "evacuation"])
def test_runs_of_the_previous_release_are_refused_in_one_line_and_verify_when_asked(tmp_path: Path, kind: str) -> None:
    """Recorded by 0.1.0 before factories were declared: this release moves agents out of
    wall bands differently, so it names the release that replays them exactly; these small
    runs never touched a band, and still verify when told to try."""
    run = tmp_path / kind
    shutil.copytree(BEFORE / kind, run)
    line = one_error_line(tickmind("verify", str(run)))
    assert f"written by tickmind '0.1.0', this is {__version__}" in line and "tickmind 0.1.0 replays it" in line
    done = tickmind("verify", str(run), "--allow-version-mismatch")
    assert done.returncode == 0 and "replay bit for bit" in done.stdout, done.stdout + done.stderr


def test_a_version_with_control_characters_is_refused_in_one_line(arena_run: Path) -> None:
    lines = (arena_run / "journal.jsonl").read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    header["tickmind"] = "\n0.1.0"
    (arena_run / "journal.jsonl").write_text(json.dumps(header) + "\n" + "".join(lines[1:]))
    line = one_error_line(tickmind("verify", str(arena_run)))
    assert "written by tickmind '\\n0.1.0'" in line and "(tickmind '\\n0.1.0' replays it" in line, line


def test_an_over_long_line_is_refused_with_its_number(arena_run: Path) -> None:
    lines = (arena_run / "journal.jsonl").read_text().splitlines(keepends=True)
    record = json.loads(lines[2])
    record["meta"]["raw"] = "x" * (_journal.MAX_LINE_BYTES + 10)
    lines[2] = json.dumps(record) + "\n"
    (arena_run / "journal.jsonl").write_text("".join(lines))
    line = one_error_line(tickmind("verify", str(arena_run)))
    assert "journal.jsonl:3: a line of" in line and "over the 16,777,216 a journal line may hold" in line


def test_deeply_nested_json_is_refused_with_its_line(arena_run: Path) -> None:
    lines = (arena_run / "journal.jsonl").read_text().splitlines(keepends=True)
    record = json.loads(lines[1])
    record["meta"]["deep"] = json.loads("[" * 200 + "]" * 200)
    record["meta"]["brackets in text"] = "[" * 500  # inside a string: no nesting
    lines[1] = json.dumps(record) + "\n"
    (arena_run / "journal.jsonl").write_text("".join(lines))
    line = one_error_line(tickmind("verify", str(arena_run)))
    assert "journal.jsonl:2: JSON nested deeper than 64 levels" in line


def test_a_journal_over_the_size_limit_is_refused_unread(arena_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_journal, "MAX_JOURNAL_BYTES", 1000)
    with pytest.raises(TickmindError, match=r"journal.jsonl: 1,483 bytes, over the 1,000 a journal may hold; not read"):
        verify(arena_run)


def test_control_characters_from_a_journal_are_escaped_on_the_terminal(arena_run: Path) -> None:
    with_factory(arena_run, "\x1b]0;owned\x07evil\x1b[2J:build")
    done = tickmind("verify", str(arena_run))
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr
    assert "\\x1b]0;owned\\x07evil\\x1b[2J:build" in done.stderr
    assert printable("a\u202eb\rc\nd") == "a\\u202eb\\rc\nd"
    assert printable("line\nnext", newlines=False) == "line\\nnext"


@factory
def declared(config: object, seed: int) -> World:
    return World(seed=seed)


def test_a_factory_entry_point_of_an_installed_package_counts_as_declared(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import _factories, load_factory

    plain = __name__ + ":plain_factory"
    globals()["plain_factory"] = lambda config, seed: World(seed=seed)
    with pytest.raises(RunDirError, match="not a declared factory"):
        load_factory(plain)
    monkeypatch.setattr(_factories, "_entry_point_names", lambda: {plain})
    assert load_factory(plain) is globals()["plain_factory"]
    assert load_factory(__name__ + ":declared") is declared
