"""The drift world plus one deliberately non-deterministic system, for verify's tests.

From ``config["flaky_tick"]`` on, entity 3's disc is nudged by a few bits of os.urandom:
exactly the kind of outside influence (wall-clock, OS entropy, thread timing) that breaks
replay. Verify must name that tick, that entity and that component.
"""

import os
from collections.abc import Mapping
from typing import Any

from engine import TickContext, World
from examples.drift import Disc, build_world as build_drift


def build_world(config: Mapping[str, Any], seed: int) -> World:
    world = build_drift(config, seed)
    flaky_tick = int(config["flaky_tick"])

    def entropy(w: World, ctx: TickContext) -> None:
        if ctx.tick == flaky_tick:
            noise = int.from_bytes(os.urandom(8), "little") / 2**64
            w.component_for_entity(3, Disc).x += 1e-9 * (1.0 + noise)

    world.add_system(entropy, stage="update")
    return world
