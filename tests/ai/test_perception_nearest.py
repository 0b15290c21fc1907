"""The k-nearest perception path (``max_listed=k``) against the brute-force reference: random
worlds with exact distance ties, view cones, occluders, objects with radii, several teams,
entities listed as both agent and object, and viewers whose k nearest are mostly hidden."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ai.perception._nearest as nearest
import ai.perception._system as system
from ai.perception._components import Faction, Perceivable, Perception, Senses
from ai.perception._system import install_perception
from engine import Position, Velocity, World

_spec = importlib.util.spec_from_file_location("perception_reference", Path(__file__).parent / "test_perception.py")
assert _spec is not None and _spec.loader is not None
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

LOS = {"open": None, "walls": ref.walls_los, "lopsided": ref.lopsided_los}


def capped(world: World, los: ref.LOS | None, k: int) -> dict[int, tuple[tuple[int, ...], ...]]:
    """The reference's lists cut to the k nearest; visible is then the listed agents."""
    out = {}
    for e, (_, enemies, allies, objects) in ref.reference(world, los).items():
        out[e] = (tuple(sorted(enemies[:k] + allies[:k])), enemies[:k], allies[:k], objects[:k])
    return out


@pytest.fixture
def always_nearest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the k-nearest path whatever the world's size."""
    monkeypatch.setattr(system, "_NEAREST_FROM", 0)


def spy_nearest(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count calls of ``nearest_sightings`` that answered (did not fall back)."""
    calls: list[int] = []
    real = nearest.nearest_sightings

    def counted(*args: object, **kwargs: object) -> object:
        result = real(*args, **kwargs)  # type: ignore[arg-type]
        if result is not None:
            calls.append(1)
        return result

    monkeypatch.setattr(system, "nearest_sightings", counted)
    return calls


coordinate = st.one_of(st.integers(0, 16).map(lambda v: v * 2.5), st.floats(0.0, 40.0, allow_nan=False))
agent = st.tuples(
    coordinate,
    coordinate,
    st.integers(0, 2),  # team
    st.one_of(st.none(), st.sampled_from([0.0, 5.0, 12.5, 30.0]), st.floats(0.0, 30.0)),  # range (None: no Senses)
    st.sampled_from([360.0, 360.0, 90.0, 200.0]),  # view cone
    st.one_of(st.none(), st.tuples(st.floats(-1.0, 1.0), st.floats(-1.0, 1.0))),  # velocity
    st.booleans(),  # also Perceivable
)
thing = st.tuples(coordinate, coordinate, st.sampled_from([0.0, 0.0, 1.5, 4.0]))


@settings(max_examples=150, deadline=None)
@given(
    agents=st.lists(agent, min_size=1, max_size=45),
    things=st.lists(thing, max_size=12),
    k=st.integers(1, 6),
    los=st.sampled_from(sorted(LOS)),
)
def test_nearest_path_equals_the_capped_reference(
    agents: list[tuple], things: list[tuple[float, float, float]], k: int, los: str
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(system, "_NEAREST_FROM", 0)
        calls = spy_nearest(patch)
        world = World(seed=3)
        for x, y, team, sight, fov, velocity, also_object in agents:
            parts: list[object] = [Position(x, y), Faction(team)]
            if sight is not None:
                parts.append(Senses(sight, fov))
            if velocity is not None:
                parts.append(Velocity(*velocity))
            if also_object:
                parts.append(Perceivable("dual", 0.5))
            world.create_entity(*parts)
        for x, y, radius in things:
            world.create_entity(Position(x, y), Perceivable("cover", radius))
        install_perception(world, line_of_sight=LOS[los], max_listed=k)
        world.step()
        assert ref.perceived(world) == capped(world, LOS[los], k)
        if any(a[3] is not None for a in agents):  # someone perceives
            assert calls, "the k-nearest path was not taken"
        world.close()


@pytest.mark.parametrize("los", sorted(LOS))
@pytest.mark.parametrize("seed", range(6))
def test_random_worlds_over_several_ticks(seed: int, los: str, always_nearest: None) -> None:
    world = ref.random_world(seed, n_agents=60, n_objects=15)
    install_perception(world, line_of_sight=LOS[los], max_listed=3)
    world.add_system(ref.mover, stage="update")
    world.run(3)
    world.schedule.remove("mover")
    world.step()
    assert ref.perceived(world) == capped(world, LOS[los], 3)
    world.close()


def test_a_lattice_crowd_with_many_exact_ties(always_nearest: None) -> None:
    """Dozens of agents at the same distance: the tree's order among them is arbitrary, the
    answer must still be by ascending id, including when K lands inside a tie."""
    world = World(seed=2)
    for i in range(21):
        for j in range(21):
            world.create_entity(Position(float(i), float(j)), Faction((i + j) % 2), Senses(8.0))
    install_perception(world, max_listed=6)
    world.step()
    assert ref.perceived(world) == capped(world, None, 6)
    world.close()


def test_viewers_whose_nearest_are_all_hidden_look_further(always_nearest: None) -> None:
    """A wall hides the 40 nearest allies; the 5 listed must come from beyond them, which
    takes more than the first K candidates (requery with a larger K)."""

    def wall(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        crosses = (starts[:, 0] - 10.0) * (ends[:, 0] - 10.0) < 0.0  # the line x = 10
        return ~crosses

    world = World(seed=4)
    viewer = world.create_entity(Position(9.0, 0.0), Faction(0), Senses(100.0))
    for i in range(40):
        world.create_entity(Position(11.0 + 0.01 * i, float(i % 5)), Faction(0))
    far = [world.create_entity(Position(-5.0 - i, 0.0), Faction(0)) for i in range(8)]
    install_perception(world, line_of_sight=wall, max_listed=5)
    world.step()
    assert ref.perceived(world)[viewer][2] == tuple(far[:5])
    assert ref.perceived(world) == capped(world, wall, 5)
    world.close()


def test_more_teams_than_trees_falls_back_to_all_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system, "_NEAREST_FROM", 0)
    calls = spy_nearest(monkeypatch)
    world = World(seed=6)
    rng = np.random.default_rng(6)
    for i in range(nearest.MAX_TEAMS + 4):
        x, y = rng.uniform(0.0, 20.0, 2)
        world.create_entity(Position(float(x), float(y)), Faction(i), Senses(15.0))
    install_perception(world, max_listed=2)
    world.step()
    assert not calls
    assert ref.perceived(world) == capped(world, None, 2)
    world.close()


def test_line_of_sight_is_asked_once_per_pair_and_oriented_as_the_kernel(always_nearest: None) -> None:
    asked: list[tuple[tuple[float, ...], tuple[float, ...]]] = []

    def spy(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        asked.extend(zip(map(tuple, starts.tolist()), map(tuple, ends.tolist()), strict=True))
        return np.ones(len(starts), dtype=bool)

    world = World(seed=8)
    for i in range(12):
        world.create_entity(Position(float(i), 0.0), Faction(i % 2), Senses(50.0))
    world.create_entity(Position(3.0, 4.0), Perceivable("crate"))
    install_perception(world, line_of_sight=spy, max_listed=2)
    world.step()
    assert len(asked) == len(set(asked))
    pairs = {frozenset(p) for p in asked}
    assert len(pairs) == len(asked)  # never both directions of one pair
    assert all(a[0] < b[0] or b == (3.0, 4.0) for a, b in asked)  # from the lower id; objects last
    assert ref.perceived(world) == capped(world, spy, 2)
    world.close()


@pytest.mark.parametrize("nearest_from", [0, 1000])  # the k-nearest path, the all-pairs one
@pytest.mark.parametrize("every", [1, 2])
def test_lists_stay_exact_tick_after_tick_while_agents_move_and_die(
    every: int, nearest_from: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With max_listed, perception rewrites only the lists that changed since its last
    write: check every refreshed perception on every tick while agents move (some lists
    change, most do not), one agent dies mid-run and one agent is added."""
    monkeypatch.setattr(system, "_NEAREST_FROM", nearest_from)
    calls = spy_nearest(monkeypatch)
    world = ref.random_world(5, n_agents=60, n_objects=15)
    install_perception(world, line_of_sight=ref.walls_los, every=every, max_listed=3)
    world.add_system(ref.mover, stage="apply_inputs")  # moves before perception looks
    victim = next(e for e, _ in world.get_component(Faction))
    for tick in range(10):
        if tick == 4:
            world.delete_entity(victim)
        if tick == 6:
            world.create_entity(Position(20.0, 20.0), Faction(1), Senses(30.0))
        world.step()
        expected = capped(world, ref.walls_los, 3)
        fresh = {e for e, p in world.get_component(Perception) if p.tick == tick}
        assert fresh, "nobody was refreshed"
        got = ref.perceived(world)
        assert {e: got[e] for e in fresh} == {e: expected[e] for e in fresh}
    assert bool(calls) == (nearest_from == 0)
    world.close()
