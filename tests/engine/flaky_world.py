"""The drift world plus one deliberately non-deterministic system, for verify's tests.

From ``config["flaky_tick"]`` on, entity 3's disc is nudged by a few bits of os.urandom:
exactly the kind of outside influence (wall-clock, OS entropy, thread timing) that breaks
replay. Verify must name that tick, that entity and that component.
"""

import os
from collections.abc import Mapping
from typing import Any

from engine import TickContext, World, factory
from examples.drift import Disc, Push
from examples.drift import build_world as build_drift


@factory
def build_world(config: Mapping[str, Any], seed: int) -> World:
    world = build_drift(config, seed)
    flaky_tick = int(config["flaky_tick"])

    def entropy(w: World, ctx: TickContext) -> None:
        if ctx.tick == flaky_tick:
            noise = int.from_bytes(os.urandom(8), "little") / 2**64
            w.component_for_entity(3, Disc).x += 1e-9 * (1.0 + noise)

    world.add_system(entropy, stage="update")
    return world


@factory
def build_noisy_commander(config: Mapping[str, Any], seed: int) -> World:
    """Deterministic systems, but the pushes it submits are chosen with OS entropy: a replay
    (which takes the pushes from the journal) matches, a second live run does not."""
    world = build_drift(config, seed)

    def noisy(w: World, ctx: TickContext) -> None:
        if ctx.tick == 20:
            target = 1 + int.from_bytes(os.urandom(2), "little") % 10
            w.submit(Push(entity=target, dvx=1.0, dvy=0.0), ctx.tick + 2)

    world.add_system(noisy, stage="ai")
    return world


@factory
def build_hash_seeded(config: Mapping[str, Any], seed: int) -> World:
    """Uses ``hash(str)``, which Python salts per process: every replay inside this process
    agrees, a fresh process does not."""
    world = build_drift(config, seed)

    def salted(w: World, ctx: TickContext) -> None:
        if ctx.tick == 10:
            w.component_for_entity(2, Disc).y += (hash("tickmind") % 1_000_003) * 1e-12

    world.add_system(salted, stage="update")
    return world


@factory
def build_shape_sensitive(config: Mapping[str, Any], seed: int) -> World:
    """Reads its config by Python type: a tuple start is honoured, anything else ignored. The
    journal gives a tuple back as a list, so the recording must see the list too."""
    world = World(seed=seed)
    start = config["start"]
    world.create_entity(Disc(*start, 0.5) if isinstance(start, tuple) else Disc(0.0, 0.0, 0.5))
    return world
