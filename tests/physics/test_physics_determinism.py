"""Same seed and inputs -> bit-identical physics, in one process and across processes."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from engine import Position
from physics import Body, Contacts, PhysicsBridge, Wall

HERE = Path(__file__).parent
TICKS = 200

# --import-mode=importlib puts no test folder on sys.path: load the helper by its path
_spec = importlib.util.spec_from_file_location("physics_scenario", HERE / "physics_scenario.py")
assert _spec is not None and _spec.loader is not None
scenario = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scenario)
build, hashes = scenario.build, scenario.hashes
CULL_TICK, SPAWN_TICK = scenario.CULL_TICK, scenario.SPAWN_TICK


def run_script(seed: int, ticks: int, hash_seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}  # other dict/set orders, other addresses
    done = subprocess.run(
        [sys.executable, str(HERE / "physics_scenario.py"), str(seed), str(ticks)],
        capture_output=True, text=True, check=True, env=env,
    )
    return done.stdout.split()


def test_the_scenario_really_collides_moves_and_churns() -> None:
    world = build(3)
    bridge = world.resource(PhysicsBridge)
    before = len(world.get_component(Body)), len(world.get_component(Wall))
    touching = 0
    for _ in range(TICKS):
        world.step()
        touching += len(world.resource(Contacts))
        if world.tick == CULL_TICK + 1:
            after_cull = len(bridge.entities()), len(world.get_component(Wall))
    assert touching > 20 * TICKS, "the crowd must collide every tick"
    assert after_cull == (before[0] - len(range(0, before[0], 7)), before[1] - 1)
    assert len(bridge.entities()) == after_cull[0] + 10 and world.tick > SPAWN_TICK
    world.close()


def test_two_worlds_in_one_process_give_identical_hashes() -> None:
    first, second = hashes(3, TICKS), hashes(3, TICKS)
    assert len(set(first)) == TICKS, "every tick's state differs from the last"
    assert first == second
    assert hashes(4, 20) != first[:20], "the seed matters"


def test_removal_mid_run_then_continuing_stays_deterministic() -> None:
    worlds = [build(9), build(9)]
    for tick in range(TICKS):
        roots = []
        for world in worlds:
            world.step()
            roots.append(world.state_hash().root)
        assert roots[0] == roots[1], f"diverged at tick {tick}"
    positions = [[(p.x, p.y) for _, p in w.get_component(Position)] for w in worlds]
    assert positions[0] == positions[1]
    for world in worlds:
        world.close()


def test_two_processes_give_the_hashes_of_this_one() -> None:
    here = hashes(5, TICKS)
    assert run_script(5, TICKS, "1") == here
    assert run_script(5, TICKS, "4242") == here
