"""A world whose factory schedules inputs, as a scenario's timed events would: they are part
of the world its config and seed build, so every rebuild (replay, verify, resume) queues them
again and the journal must not hold them a second time."""

from collections.abc import Mapping
from typing import Any

from engine import Input, World, component, factory


@component
class Tally:
    n: int


class Bump(Input):
    kind = "tests.scheduled.bump"
    by: int

    def apply(self, world: World) -> None:
        world.component_for_entity(self.entity, Tally).n += self.by


@factory
def build(config: Mapping[str, Any], seed: int) -> World:
    world = World(seed=seed)
    world.create_entity(Tally(0))
    for tick in config["bumps_at"]:
        world.submit(Bump(entity=1, by=5), apply_tick=tick)
    return world
