"""Pacing ticks to the wall clock (engine/_pacing.py), on a fake clock: the tests check the
schedule the pacer keeps, never how long anything took."""

from __future__ import annotations

import pytest

import engine._world
from engine import Pacer, TickContext, TickmindError, World


class FakeClock:
    """A clock that moves only when slept on, or when a tick ``work``s."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_pacer_holds_each_tick_to_its_place_on_a_fixed_schedule() -> None:
    clock = FakeClock()
    pacer = Pacer(0.5, first_tick=4, clock=clock, sleep=clock.sleep)
    clock.now += 0.125  # tick 4's work
    pacer.wait(5)
    assert clock.slept == [0.375], "tick 5 runs half a second after tick 4 would have"
    clock.now += 0.75  # a slow tick 5: tick 6's place (101.0) passed, tick 7's (101.5) not yet
    pacer.wait(6)
    assert clock.slept == [0.375], "a late tick is not waited for"
    pacer.wait(7)
    assert clock.slept == [0.375, pytest.approx(0.25)], "the schedule is kept, not restarted after a late tick"


def test_world_run_with_speed_paces_every_tick_after_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(engine._world, "Pacer", lambda spt, first: Pacer(spt, first, clock=clock, sleep=clock.sleep))
    world = World(dt=0.25)
    seen: list[tuple[int, float]] = []

    def work(w: World, ctx: TickContext) -> None:
        seen.append((ctx.tick, clock.now))
        clock.now += 0.5 if ctx.tick == 0 else 0.05  # the first tick waits for a model's opening wave

    world.add_system(work, stage="update", name="work")
    world.run(4, speed=2.0)  # a tick every 0.125 s
    starts = [now for _, now in seen]
    assert [tick for tick, _ in seen] == [0, 1, 2, 3]
    assert [round(b - a, 9) for a, b in zip(starts[1:], starts[2:], strict=False)] == [0.125, 0.125]
    assert starts[1] - starts[0] == pytest.approx(0.5), "the clock starts once the first tick is done"
    assert len(clock.slept) == 2 and world.tick == 4, "ticks 2 and 3 waited; nothing waits after the last"


def test_world_run_without_speed_never_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine._world, "Pacer", lambda *a: pytest.fail("an unpaced run made a pacer"))
    world = World()
    world.run(3)
    assert world.tick == 3


@pytest.mark.parametrize("speed", [0, -1.0, float("nan"), float("inf"), True, "1"])
def test_a_speed_that_is_no_speed_is_refused_before_any_tick(speed: object) -> None:
    world = World()
    with pytest.raises(TickmindError, match=f"speed is simulated seconds per wall second.*got {speed!r}"):
        world.run(2, speed=speed)  # type: ignore[arg-type]
    assert world.tick == 0
    with pytest.raises(TickmindError, match="Pacer takes a finite number of wall seconds per tick"):
        Pacer(0.0)


def test_paced_calls_in_a_row_keep_one_clock_and_an_unpaced_tick_ends_it(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    made: list[int] = []

    def pacer(spt: float, first: int) -> Pacer:
        made.append(first)
        return Pacer(spt, first, clock=clock, sleep=clock.sleep)

    monkeypatch.setattr(engine._world, "Pacer", pacer)
    world = World(dt=0.1)
    starts: list[float] = []
    world.add_system(lambda w, ctx: starts.append(clock.now), stage="update", name="note")
    for _ in range(4):
        world.run(1, speed=1.0)  # a loop of one-tick calls is paced like one call
    gaps = [round(b - a, 9) for a, b in zip(starts, starts[1:], strict=False)]
    assert made == [1] and gaps == [0.0, 0.1, 0.1], "tick 1 runs once tick 0 is done, then one every dt"
    assert len(clock.slept) == 2, "no sleep after a call's last tick: the next tick waits for its own place"
    world.step()  # unpaced: the clock's schedule no longer says where the world is
    world.run(2, speed=1.0)
    world.run(2, speed=2.0)  # another speed, another clock
    assert made == [1, 6, 8]


def test_a_world_far_behind_its_clock_is_forgiven_the_lag_beyond_max_lag() -> None:
    clock = FakeClock()
    pacer = Pacer(0.1, clock=clock, sleep=clock.sleep, max_lag=0.25)
    clock.now += 5.0  # held up for 5 s: 50 ticks late
    pacer.wait(1)
    assert clock.slept == [], "late: tick 1 runs at once"
    for tick in (2, 3):
        pacer.wait(tick)  # catching up the 0.25 s it may: no sleep
    assert clock.slept == []
    pacer.wait(4)
    assert clock.slept == [pytest.approx(0.05)], "back on the (moved) schedule after 0.25 s of catching up"
