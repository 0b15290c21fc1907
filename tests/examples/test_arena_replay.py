"""The arena's acceptance: full-world replay hash tests, in-process and across processes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ai import Plan, Tier
from engine import TickmindError, start_run, verify
from engine._hashfile import read_hashes
from examples.arena import ArenaOutcome, ArenaScore, build_arena

REPO = Path(__file__).parent.parent.parent


def record(out: Path, seed: int, ticks: int, config: dict | None = None) -> list[str]:
    with start_run(build_arena, config or {}, seed, out) as run:
        run.world.run(ticks)
    return read_hashes(out / "hashes.tsv")


def test_100_frame_arena_replay(tmp_path: Path) -> None:
    hashes = record(tmp_path / "run", seed=3, ticks=100)
    report = verify(tmp_path / "run")
    assert report.ok, report.format()
    assert report.ticks_checked == 100 and len(set(hashes)) == 100


def test_1000_frame_arena_replay_through_combat(tmp_path: Path) -> None:
    with start_run(build_arena, {}, 3, tmp_path / "run") as run:
        run.world.run(1000)
        score = run.world.resource(ArenaScore)
    assert score.hits > 0 and sum(score.deaths.values()) > 0, "1,000 ticks must include fighting and deaths"
    journal = [json.loads(line) for line in (tmp_path / "run" / "journal.jsonl").read_text().splitlines()[1:]]
    assert len(journal) > 100 and {r["meta"]["tier"] for r in journal} == {Tier.HEURISTIC.value}
    report = verify(tmp_path / "run")
    assert report.ok, report.format()
    assert report.ticks_checked == 1000


def test_arena_hashes_agree_across_processes(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from engine import start_run\n"
        "from examples.arena import build_arena\n"
        "with start_run(build_arena, {}, 5, sys.argv[1]) as run:\n"
        "    run.world.run(300)\n"
    )
    for name, hashseed in [("a", "1"), ("b", "2")]:
        subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / name)],
            check=True, cwd=REPO, env={"PYTHONHASHSEED": hashseed, "PATH": ""},
        )
    here = record(tmp_path / "here", seed=5, ticks=300)
    assert read_hashes(tmp_path / "a" / "hashes.tsv") == read_hashes(tmp_path / "b" / "hashes.tsv") == here


def test_a_different_seed_gives_a_different_hash_sequence() -> None:
    def hashes(seed: int) -> list[str]:
        world = build_arena({}, seed)
        out = []
        for tick in range(30):
            world.step()
            out.append(world.state_hash(tick).root)
        world.close()
        return out

    a, b = hashes(1), hashes(2)
    assert all(x != y for x, y in zip(a, b))
    assert a == hashes(1)


def test_the_heuristic_controller_alone_plays_a_game_to_the_end() -> None:
    world = build_arena({}, 1)
    outcome = world.resource(ArenaOutcome)
    while outcome.winner is None and world.tick < 6000:
        world.step()
    assert outcome.winner in {"red", "blue"}
    assert sum(outcome.alive) > 0 and min(outcome.alive) == 0
    tiers = {plan.tier for _, plan in world.get_component(Plan)}
    assert tiers == {Tier.HEURISTIC}
    world.close()


def test_bad_arena_config_is_named() -> None:
    with pytest.raises(TickmindError, match=r"unknown arena config key\(s\) \['agnets'\]"):
        build_arena({"agnets": 10}, 0)
    with pytest.raises(TickmindError, match="unknown planner 'gpt'; choose one of heuristic, llm, none"):
        build_arena({"planner": "gpt"}, 0)
