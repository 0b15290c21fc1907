"""``install_physics``: wire a PhysicsBridge into a world in one call.

Why one call: the bridge is only correct with all four registrations (system, delete hook,
hash source, resources); forgetting the hash source, say, would let physics state diverge
unseen by ``tickmind verify``.
"""

from __future__ import annotations

from engine import World

from ._bridge import PhysicsBridge
from ._errors import PhysicsError
from ._settings import PhysicsSettings

__all__ = ["install_physics"]


def install_physics(world: World, *, settings: PhysicsSettings | None = None) -> PhysicsBridge:
    """Give ``world`` physics and return the bridge.

    Registers the system ``physics.step`` in stage ``physics`` (order your own physics-stage
    systems with ``before=["physics.step"]``/``after=[...]``), a delete hook that frees
    bodies, the hash sources ``physics`` (every body's exact state, in entity order) and
    ``physics.contacts`` (this tick's contacts: other systems read them), and the
    resources ``PhysicsBridge`` and ``Contacts`` (replaced by each tick's contacts).
    """
    if world.try_resource(PhysicsBridge) is not None:
        raise PhysicsError(
            "physics is already installed in this world; get the bridge with "
            "world.resource(physics.PhysicsBridge) instead of installing it twice"
        )
    bridge = PhysicsBridge(world.dt, settings)
    world.insert_resource(bridge)
    world.insert_resource(bridge.contacts)
    world.add_system(bridge.step, stage="physics", name="physics.step")
    world.on_delete(bridge.on_delete)
    world.add_hash_source("physics", bridge.state_bytes)
    world.add_hash_source("physics.contacts", bridge.contact_bytes)
    return bridge
