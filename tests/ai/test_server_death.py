"""A model server that dies is named, restarted or stopped — never hidden (issue #14).

Real processes throughout: ``tickmind arena`` in a subprocess on the real embedded model
(killed with SIGKILL mid-run: restarted once, the run finishes and verifies), on a stand-in
llama-server that dies of SIGILL at its first completion (the run stops with the cause and
the fix, and resumes once a working server is there), and on model servers by URL that stop
answering (named unreachable, with their URL). ``tickmind doctor`` on both.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import chaos_server as chaos  # loaded by tests/conftest.py
import pytest

from engine.cli import main

ROOT = Path(__file__).resolve().parents[2]
STANDIN = Path(__file__).with_name("standin_llama_server.py")



def tickmind(*args: str, env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tickmind", *args], cwd=ROOT, env=env or dict(os.environ),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen,
    )  # fmt: skip


def sigill_server(tmp_path: Path) -> dict[str, str]:
    """An environment whose llama-server is the stand-in that dies of SIGILL."""
    binary = tmp_path / "bin" / "llama-server"
    binary.parent.mkdir(parents=True, exist_ok=True)
    binary.write_text(f"#!{sys.executable}\n" + STANDIN.read_text(), encoding="utf-8")
    binary.chmod(0o755)
    return {**os.environ, "TICKMIND_LLAMA_SERVER": str(binary)}


def journal(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "journal.jsonl"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return [json.loads(line) for line in lines if line.endswith("}")]


def model_plans(run_dir: Path) -> list[dict[str, Any]]:
    return [r for r in journal(run_dir) if r["kind"] == "ai.assign_plan" and r["meta"].get("tier") in ("llm", "simple_llm")]


def child_llama_server(parent: int) -> int | None:
    """The pid of the llama-server process ``parent`` started (its direct child), if any."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and name.startswith("llama-server"):
            return int(entry.name)
    return None


def wait_for(condition: Any, what: str, limit_s: float = 300.0) -> Any:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"gave up waiting for {what}")


def test_a_killed_embedded_server_is_restarted_once_and_the_run_verifies(tmp_path: Path) -> None:
    out = tmp_path / "run"
    # Realtime at a quarter speed: the run lasts its 40 s of wall time whatever the model
    # does, so the restart (a few seconds) is over long before the run is.
    run = tickmind("arena", "--agents", "4", "--ticks", "600", "--speed", "0.25", "--out", str(out), "--quiet")
    try:
        wait_for(lambda: model_plans(out), "the model's first plans")
        server = wait_for(lambda: child_llama_server(run.pid), "the arena's llama-server")
        killed_at = len(journal(out))
        os.kill(server, signal.SIGKILL)
        assert run.poll() is None, "the run ended before the kill: nothing was tested"
        stdout, stderr = run.communicate(timeout=600)
    finally:
        run.kill()
    assert run.returncode == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["server_restarts"] == 1, summary
    assert summary["model_server"]["restarts"] == 1 and summary["stopped"] in ("winner", "tick_limit")
    assert "server restarts" in stdout and "Traceback" not in stderr
    after = [r for r in journal(out)[killed_at:] if r["kind"] == "ai.assign_plan" and r["meta"].get("tier") == "llm"]
    assert after, "the restarted server planned no agent"
    assert "restarting it on port" in (out / "model-server.log").read_text(errors="replace")
    assert main(["verify", str(out)]) == 0


def test_a_server_dying_of_sigill_stops_the_run_with_the_cause_and_fix_and_it_resumes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = ("arena", "--agents", "4", "--ticks", "200", "--mode", "lockstep", "--out", str(out), "--quiet")
    run = tickmind(*argv, env=sigill_server(tmp_path))
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode != 0
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("tickmind: error:")]
    assert len(errors) == 1, stderr
    line = errors[0]
    assert "llama-server was killed by SIGILL (illegal instruction) again after 1 restart" in line, line
    assert "TICKMIND_LLAMA_SERVER" in line and "`tickmind build-server`" in line, line
    assert "tickmind arena --resume --out" in line, line
    assert "standin: ggml_compute_forward_mul_mat: tilezero" in stderr  # the log's last lines follow
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped"] == "model_failed" and summary["ticks"] < 200, summary
    # The run is resumable as soon as a server that works is there (the real one).
    resumed = tickmind("arena", "--resume", "--out", str(out), "--ticks", "10", "--quiet")
    stdout, stderr = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, stderr
    assert main(["verify", str(out)]) == 0


def test_doctor_reports_the_build_and_a_timed_real_completion() -> None:
    done = subprocess.run([sys.executable, "-m", "tickmind", "doctor"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "built by tickmind; built for" in done.stdout and "AMX" in done.stdout
    assert "tok/s" in done.stdout and "OK: the embedded model answers" in done.stdout


def test_doctor_names_an_illegal_instruction_and_its_fix(tmp_path: Path) -> None:
    env = sigill_server(tmp_path)
    command = [sys.executable, "-m", "tickmind", "doctor"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1, done.stdout
    verdict = next(line for line in done.stdout.splitlines() if "verdict" in line)
    assert "FAILED" in verdict and "SIGILL" in verdict and "tickmind build-server" in verdict, done.stdout
    assert "$TICKMIND_LLAMA_SERVER" in done.stdout


def url_arena(url: str, out: Path, *extra: str) -> dict[str, Any]:
    argv = ["arena", "--llm", url, "--mode", "lockstep", "--ticks", "240", "--agents", "10", "--parallel", "4",
            "--replan-every", "30", "--llm-timeout", "2", "--out", str(out), "--force", "--quiet", *extra]  # fmt: skip
    assert main(argv) == 0
    return json.loads((out / "summary.json").read_text())


def test_a_model_by_url_that_stops_answering_is_named_unreachable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with chaos.ChaosServer(chaos.ChaosConfig(max_requests=2)) as server:  # then it refuses connections
        summary = url_arena(server.openai_url, tmp_path / "run")
    model = summary["model_server"]
    assert model["state"] == "unreachable" and model["url"].startswith(server.openai_url.rsplit("/", 1)[0]), model
    assert model["failed_in_a_row"] >= 1 and summary["plans_per_tier"]["llm"] > 0, summary
    assert any("unreachable at http://127.0.0.1:" in w for w in summary["warnings"]), summary
    assert "unreachable at http://127.0.0.1:" in capsys.readouterr().out  # the printed summary says it too
    assert main(["verify", str(tmp_path / "run")]) == 0


def test_a_model_run_whose_model_planned_nothing_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with chaos.ChaosServer(chaos.ChaosConfig.only(chaos.Fault.SERVER_ERROR)) as server:
        summary = url_arena(server.openai_url, tmp_path / "run")
    assert summary["plans_per_tier"]["llm"] + summary["plans_per_tier"]["simple_llm"] == 0, summary
    assert "the model planned nothing" in " ".join(summary["warnings"]), summary
    assert "warning" in capsys.readouterr().out


@pytest.mark.parametrize("missing", ["cmake", "compiler"])
def test_a_build_without_its_tools_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    from ai.serving import ServingError, _build, build_llama_server

    real_which = shutil.which
    hidden = {"cmake": ("cmake",), "compiler": ("c++", "g++", "clang++")}[missing]
    monkeypatch.setattr(_build.shutil, "which", lambda name: None if name in hidden else real_which(name))
    monkeypatch.setattr(_build.sys, "executable", str(tmp_path / "python"))  # no cmake beside it either
    monkeypatch.setenv("TICKMIND_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ServingError, match="apt install"):
        build_llama_server(say=lambda _line: None)
