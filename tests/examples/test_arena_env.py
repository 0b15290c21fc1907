"""The arena's parallel env: PettingZoo's API test, determinism, replay of recorded episodes,
RL agents beside heuristic ones, and the team reward."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from ai import Faction
from engine import TickmindError, verify
from examples.arena import ArenaOutcome, Health, build_arena
from examples.arena._env_reward import WIN, TeamReward
from examples.arena.env import ACTIONS, OBS_SIZE, ArenaParallelEnv

SMALL = {"agents": 10, "max_ticks": 400, "ticks_per_step": 20}


def play(env: ArenaParallelEnv, seed: int, policy_seed: int) -> list[tuple[dict, dict, str]]:
    """One episode with random actions for every live agent; (obs, rewards, state hash) per step."""
    rng = np.random.default_rng(policy_seed)
    obs, _ = env.reset(seed=seed)
    trace = []
    while env.agents:
        actions = {a: int(rng.integers(len(ACTIONS))) for a in env.agents}
        obs, rewards, _, _, _ = env.step(actions)
        trace.append((obs, rewards, env.world.state_hash().root))
    return trace


def test_passes_the_pettingzoo_parallel_api_test() -> None:
    test = pytest.importorskip("pettingzoo.test")
    env = ArenaParallelEnv(config={"agents": 6, "max_ticks": 300, "ticks_per_step": 30})
    assert isinstance(env, pytest.importorskip("pettingzoo").ParallelEnv)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the API test reports its findings as warnings
        test.parallel_api_test(env, num_cycles=100)
    env.close()


def test_spaces_hold_every_observation_and_action() -> None:
    pytest.importorskip("gymnasium")
    env = ArenaParallelEnv(config=SMALL)
    env.reset(seed=2)
    assert env.possible_agents[:2] == ["red_0", "red_1"] and len(env.possible_agents) == 10
    space = env.observation_space("red_0")
    assert space.shape == (OBS_SIZE,) and space is env.observation_space("blue_4")
    assert env.action_space("red_0").n == len(ACTIONS)
    for _ in range(10):
        obs, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})
        assert all(space.contains(o) for o in obs.values())
    assert env.state().shape == (10, OBS_SIZE)
    env.close()


def test_same_seed_and_actions_give_the_same_episode_and_other_actions_do_not() -> None:
    first = play(ArenaParallelEnv(config=SMALL), seed=4, policy_seed=7)
    again = play(ArenaParallelEnv(config=SMALL), seed=4, policy_seed=7)
    other = play(ArenaParallelEnv(config=SMALL), seed=4, policy_seed=8)
    assert len(first) == len(again) == SMALL["max_ticks"] // SMALL["ticks_per_step"]
    assert [h for *_, h in first] == [h for *_, h in again]
    for (obs_a, rew_a, _), (obs_b, rew_b, _) in zip(first, again):
        assert rew_a == rew_b and obs_a.keys() == obs_b.keys()
        assert all(np.array_equal(obs_a[k], obs_b[k]) for k in obs_a)
    assert [h for *_, h in first][-1] != [h for *_, h in other][-1]


def test_a_recorded_episode_verifies_and_journals_the_env_plans(tmp_path: Path) -> None:
    env = ArenaParallelEnv(config=SMALL, record=tmp_path / "rl")
    play(env, seed=1, policy_seed=0)
    play(env, seed=2, policy_seed=0)  # reset records the next episode in its own directory
    env.close()
    for episode in ("episode-0000", "episode-0001"):
        report = verify(tmp_path / "rl" / episode)
        assert report.ok and report.ticks_checked == SMALL["max_ticks"], report.format()
    lines = (tmp_path / "rl" / "episode-0000" / "journal.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["seed"] == 1
    env_plans = [json.loads(line) for line in lines[1:] if json.loads(line)["meta"]["tier"] == "env"]
    assert env_plans and {p["meta"]["action"] for p in env_plans} <= set(ACTIONS)


def test_agents_left_out_keep_their_heuristic_and_driven_ones_get_none(tmp_path: Path) -> None:
    env = ArenaParallelEnv(config={**SMALL, "env_teams": ["red"]}, record=tmp_path / "mixed")
    assert env.possible_agents == [f"red_{i}" for i in range(5)]
    env.reset(seed=3)
    driven = {env.entity[a] for a in env.agents}
    while env.agents:
        env.step({a: "approach" for a in env.agents})
    env.close()
    records = [json.loads(line) for line in (tmp_path / "mixed" / "episode-0000" / "journal.jsonl").read_text().splitlines()[1:]]
    tiers = {(r["entity"] in driven, r["meta"]["tier"]) for r in records}
    assert tiers == {(True, "env"), (False, "heuristic")}
    assert verify(tmp_path / "mixed" / "episode-0000").ok


def test_team_reward_counts_damage_kills_and_the_win() -> None:
    env = ArenaParallelEnv(config={"agents": 4})
    world = build_arena({"agents": 4}, 0)
    reward = TeamReward(env.scenario, world)
    agents = world.get_components(Faction, Health)
    (_, (_, red_hp)), (blue, _) = agents[0], agents[-1]
    red_hp.hp -= 50.0
    assert reward.step(world).tolist() == [-0.5, 0.5]
    world.delete_entity(blue)  # dies with all of its 100 hp
    world.flush_deletions()
    assert reward.step(world).tolist() == [1.0, -1.0]
    assert reward.step(world).tolist() == [0.0, 0.0]
    world.close()


def test_a_heuristic_only_episode_ends_with_a_win_reward() -> None:
    env = ArenaParallelEnv(config={"agents": 4, "ticks_per_step": 60})
    env.reset(seed=0)
    totals = {"red": 0.0, "blue": 0.0}
    while env.agents:
        _, rewards, terminations, truncations, infos = env.step({})  # nobody driven: all heuristic
        team_rewards = {infos[a]["team"]: value for a, value in rewards.items()}  # shared per team
        for team, value in team_rewards.items():
            totals[team] += value
    assert all(terminations.values()) and not any(truncations.values())
    winner = env.world.resource(ArenaOutcome).winner
    loser = "blue" if winner == "red" else "red"
    assert totals[winner] - totals[loser] > 2 * WIN
    env.close()


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({"agentz": 3}, "agentz"),
        ({"env_teams": ["green"]}, "env_teams"),
        ({"env_teams": "red"}, "env_teams"),
        ({"ticks_per_step": 0}, "ticks_per_step"),
    ],
)
def test_config_mistakes_are_named(config: dict, needle: str) -> None:
    with pytest.raises(TickmindError, match=needle):
        ArenaParallelEnv(config=config)


def test_action_mistakes_are_named() -> None:
    env = ArenaParallelEnv(config=SMALL)
    env.reset(seed=0)
    with pytest.raises(TickmindError, match="red_0.*0..10"):
        env.step({"red_0": 11})
    with pytest.raises(TickmindError, match="red_0"):
        env.step({"red_0": "fly"})
    with pytest.raises(TickmindError, match="not live.*green_1"):
        env.step({"green_1": 0})
    env.close()
    with pytest.raises(TickmindError, match="reset"):
        env.step({})


def test_the_readme_env_example_runs_and_its_episode_verifies(tmp_path: Path) -> None:
    repo = Path(__file__).parent.parent.parent
    spec = importlib.util.spec_from_file_location("markdown_blocks", repo / "tests" / "markdown_blocks.py")
    assert spec is not None and spec.loader is not None
    blocks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(blocks)
    (tmp_path / "rl.py").write_text(blocks.python_block(repo / "README.md", "Many runs, RL agents and big worlds"))
    done = subprocess.run([sys.executable, "rl.py"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert verify(tmp_path / "runs" / "rl" / "episode-0000").ok
