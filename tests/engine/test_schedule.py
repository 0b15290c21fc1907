import numpy as np
import pytest

from engine import (
    DEFAULT_STAGES,
    DuplicateSystemError,
    OrderingCycleError,
    ScheduleError,
    TickContext,
    UnknownStageError,
    World,
)


def recorder(log: list[str], name: str):
    def system(world: World, ctx: TickContext) -> None:
        log.append(name)

    system.__name__ = name
    return system


def test_stages_run_in_declared_order_whatever_the_registration_order(world: World) -> None:
    log: list[str] = []
    for stage in reversed(DEFAULT_STAGES[1:]):
        world.add_system(recorder(log, stage), stage=stage)
    world.step()
    assert log == list(DEFAULT_STAGES[1:])


def test_before_and_after_order_systems_inside_a_stage(world: World) -> None:
    log: list[str] = []
    world.add_system(recorder(log, "c"), after=["b"])
    world.add_system(recorder(log, "a"))
    world.add_system(recorder(log, "b"), after=["a"])
    world.add_system(recorder(log, "first"), before=["a"])
    world.step()
    assert log == ["first", "a", "b", "c"]


def test_unconstrained_systems_keep_registration_order(world: World) -> None:
    log: list[str] = []
    for name in ["z", "m", "a"]:
        world.add_system(recorder(log, name))
    world.run(2)
    assert log == ["z", "m", "a"] * 2


def test_a_cycle_is_reported_with_its_members(world: World) -> None:
    world.add_system(recorder([], "a"), after=["b"])
    world.add_system(recorder([], "b"), after=["a"])
    world.add_system(recorder([], "free"))
    with pytest.raises(OrderingCycleError, match="a, b"):
        world.step()


def test_unknown_stage_names_the_stages(world: World) -> None:
    with pytest.raises(UnknownStageError, match="unknown stage 'physic'.*physics"):
        world.add_system(recorder([], "x"), stage="physic")


def test_duplicate_names_and_dangling_or_cross_stage_references(world: World) -> None:
    world.add_system(recorder([], "a"), stage="nav")
    with pytest.raises(DuplicateSystemError, match="'a'"):
        world.add_system(recorder([], "a"))
    world.add_system(recorder([], "b"), after=["ghost"])
    with pytest.raises(ScheduleError, match="'ghost', which is not registered"):
        world.step()
    world.schedule.remove("b")
    world.add_system(recorder([], "c"), stage="physics", after=["a"])
    with pytest.raises(ScheduleError, match="stage 'nav'"):
        world.step()


def test_user_stages_can_be_inserted(world: World) -> None:
    log: list[str] = []
    world.schedule.add_stage("late", after="update")
    world.schedule.add_stage("pre_physics", before="physics")
    world.add_system(recorder(log, "late"), stage="late")
    world.add_system(recorder(log, "pre"), stage="pre_physics")
    world.add_system(recorder(log, "phys"), stage="physics")
    world.add_system(recorder(log, "upd"))
    world.step()
    assert log == ["pre", "phys", "upd", "late"]
    with pytest.raises(ScheduleError, match="before 'apply_inputs'"):
        world.schedule.add_stage("zero", before="apply_inputs")


def _draws(seed: int, extra_systems: int) -> list[float]:
    world = World(seed=seed)
    out: list[float] = []
    for i in range(extra_systems):
        world.add_system(lambda w, c: c.rng.random(), name=f"noise{i}")
    world.add_system(lambda w, c: out.append(float(c.rng.random())), name="sampler")
    world.run(5)
    world.close()
    return out


def test_system_rng_depends_on_seed_and_name_only() -> None:
    assert _draws(7, 0) == _draws(7, 3), "other systems must not shift this system's stream"
    assert _draws(7, 0) != _draws(8, 0)


def test_context_reports_tick_and_time(world: World) -> None:
    seen: list[tuple[int, float]] = []
    world.add_system(lambda w, c: seen.append((c.tick, c.time)), name="clock")
    world.run(3)
    assert seen == [(0, 0.0), (1, world.dt), (2, 2 * world.dt)]
    assert world.tick == 3
    assert isinstance(world.rng, np.random.Generator)


@pytest.mark.parametrize(
    "stages, problem",
    [
        (["apply_inputs", "update", "update"], r"must be distinct, but \['update'\] appear more than once"),
        (["update", "apply_inputs"], "no stage may run before 'apply_inputs'"),
    ],
    ids=["a stage twice", "a stage before apply_inputs"],
)
def test_a_worlds_own_stage_list_is_checked(stages: list[str], problem: str) -> None:
    """A stage listed twice ran its systems twice a tick; one before apply_inputs saw the
    tick's inputs unapplied (add_stage already refused both)."""
    with pytest.raises(ScheduleError, match=problem):
        World(stages=stages)
