import numpy as np
import pytest

from engine import Input, InputError, PastTickError, TickContext, TickmindError, World, start_run, verify
from engine._inputs import decode_input


class Note(Input):
    kind = "test.note"
    text: str

    def apply(self, world: World) -> None:
        world.resource(list).append((world.tick, self.entity, self.text))


def test_inputs_apply_at_their_tick_in_entity_then_sequence_order(world: World) -> None:
    log: list[tuple[int, int, str]] = []
    world.insert_resource(log)
    world.submit(Note(entity=5, text="late-5"), 2)
    world.submit(Note(entity=3, text="first-3"), 2)
    world.submit(Note(entity=5, text="later-5"), 2)
    world.submit(Note(entity=1, text="now"), 0)
    world.run(3)
    assert log == [(0, 1, "now"), (2, 3, "first-3"), (2, 5, "late-5"), (2, 5, "later-5")]


def test_inputs_submitted_during_a_tick_default_to_the_next_tick(world: World) -> None:
    log: list[tuple[int, int, str]] = []
    world.insert_resource(log)

    def planner(w: World, ctx: TickContext) -> None:
        if ctx.tick == 0:
            w.submit(Note(entity=9, text="plan"))

    world.add_system(planner, stage="ai")
    world.run(2)
    assert log == [(1, 9, "plan")]


def test_past_ticks_are_refused_before_and_during_a_tick(world: World) -> None:
    world.run(3)
    with pytest.raises(PastTickError, match="tick 2.*earliest tick still open is 3"):
        world.submit(Note(entity=1, text="x"), 2)
    errors: list[Exception] = []

    def late(w: World, ctx: TickContext) -> None:
        try:
            w.submit(Note(entity=1, text="x"), ctx.tick)
        except PastTickError as exc:
            errors.append(exc)

    world.add_system(late, stage="ai")
    world.step()
    assert len(errors) == 1 and "earliest tick still open is 4" in str(errors[0])
    assert world.pending_inputs() == []


def test_submit_refuses_non_inputs_and_kinds_must_be_unique(world: World) -> None:
    with pytest.raises(Exception, match="engine.Input"):
        world.submit("move!", 0)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="already used"):

        class Other(Input):
            kind = "test.note"


TWIN = """
class TwinSpawnOfTheRegistryTest(Input):
    def apply(self, world):
        pass
"""


def _load_twin(source_file: str, module: str) -> type[Input]:
    """The class TWIN defines, as if loaded from ``source_file`` as ``module``."""
    namespace: dict[str, object] = {"Input": Input, "__name__": module}
    exec(compile(TWIN, source_file, "exec"), namespace)
    return namespace["TwinSpawnOfTheRegistryTest"]  # type: ignore[return-value]


def test_one_class_loaded_twice_keeps_its_kind_but_a_namesake_from_another_file_is_refused() -> None:
    first = _load_twin("/sims/fire.py", "fire")
    again = _load_twin("/sims/fire.py", "__main__")  # the script run as __main__, then imported
    assert decode_input(first.kind, {"entity": 1}).__class__ is again
    with pytest.raises(InputError, match=r"already used by __main__\.TwinSpawnOfTheRegistryTest"):
        _load_twin("/sims/water.py", "water")  # same class name, another file: its own kind needed
    assert decode_input(first.kind, {"entity": 1}).__class__ is again, "the refused class replaced nothing"


def test_a_fractional_apply_tick_is_refused_at_submit(world: World) -> None:
    """2.5 was queued under a tick never reached: the input silently never applied."""
    with pytest.raises(InputError, match=r"apply_tick must be a whole tick, got 2\.5"):
        world.submit(Note(entity=1, text="x"), 2.5)  # type: ignore[arg-type]
    log: list[tuple[int, int, str]] = []
    world.insert_resource(log)
    world.submit(Note(entity=1, text="numpy"), np.int64(1))  # type: ignore[arg-type]
    world.run(2)
    assert log == [(1, 1, "numpy")]


class Scored(Input):
    kind = "test.inputs.scored"

    def apply(self, world: World) -> None:
        pass


def test_an_input_whose_meta_is_not_json_is_named_when_journaled(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from examples.drift import build_world

    named = r"input test\.inputs\.scored for entity 2 at tick 1 cannot be journaled.*float32"
    with pytest.raises(TickmindError, match=named), start_run(build_world, {"discs": 3}, 0, tmp_path / "run") as run:
        run.world.run(1)
        run.world.submit(Scored(entity=2), 1, meta={"score": np.float32(0.5)})
        run.world.run(1)
    assert verify(tmp_path / "run").ok, "the ticks before it are on disk and replay"
