"""The model's share of what the agents do (summary ``agent_ticks_by_tier``, ``model_share``):
agent-ticks under the tier of the plan each agent follows, fresh plans only.

Counted live by the arena's run loop and checked here against a recount of a replay of the
same run, tick by tick: the numbers are the journal's, not the wall clock's.
"""

from __future__ import annotations

import json
from pathlib import Path

import chaos_server as chaos  # loaded by tests/conftest.py
import pytest

from ai import Perception, Plan, PlanShare, Scan, Tier, Wait
from engine import World, replay_world
from engine.cli import main


def test_the_live_share_equals_a_recount_of_the_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    with chaos.ChaosServer() as server:  # answers every request validly
        argv = ["arena", "--llm", server.openai_url, "--mode", "lockstep", "--agents", "10", "--ticks", "900",
                "--parallel", "4", "--out", str(out), "--quiet"]  # fmt: skip
        assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    by_tier = summary["agent_ticks_by_tier"]
    assert set(by_tier) == {"llm", "simple_llm", "heuristic", "emergency", "cache", "stale"}
    world = replay_world(out)
    recount = PlanShare()
    for _ in range(summary["ticks"]):
        world.step()
        recount.observe(world)
    world.close()
    assert recount.by_tier() == by_tier
    assert summary["model_share"] == round(recount.model_share, 4) and summary["model_share"] > 0.5, summary
    assert sum(by_tier.values()) > 9 * summary["ticks"] * 0.5  # every living agent, every tick
    assert "model share" in capsys.readouterr().out


def test_only_running_plans_younger_than_the_limit_count_for_their_tier() -> None:
    world = World(seed=0, dt=0.5)
    fresh, old, done, planless = (world.create_entity(Perception(tick=0)) for _ in range(4))
    world.create_entity(Plan("x", (Wait(ticks=5),), Tier.LLM, assigned_tick=0))  # no Perception: not an agent
    world.add_component(fresh, Plan("a", (Scan(),), Tier.LLM, assigned_tick=16))
    world.add_component(old, Plan("b", (Scan(),), Tier.HEURISTIC, assigned_tick=0))
    world.add_component(done, Plan("c", (Scan(),), Tier.SIMPLE_LLM, assigned_tick=18))
    world.component_for_entity(done, Plan).advance(18)  # its only step is done
    share = PlanShare(max_age_s=8.0)  # 16 ticks at dt 0.5
    world.tick = 33  # observing tick 32: assigned at 16 is 16 ticks old (in), at 0 is 32 (out)
    share.observe(world)
    # stale: the old plan, the finished one, and the agent with none
    assert share.by_tier() == {"llm": 1, "simple_llm": 0, "heuristic": 0, "emergency": 0, "cache": 0, "stale": 3}
    assert world.try_component(planless, Plan) is None
    assert share.model_share == 0.25
    assert PlanShare().model_share is None
