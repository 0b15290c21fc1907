"""tickmind's physics: a deterministic pymunk bridge for circle agents and box walls.

    world = engine.World(seed=1)
    bridge = physics.install_physics(world)
    world.create_entity(physics.Body(radius=0.4), engine.Position(3.0, 4.0))
    world.create_entity(physics.Wall(0.0, 0.0, 10.0, 0.5))

nav writes ``engine.DesiredVelocity``; the ``physics`` stage applies it, steps pymunk and
writes ``Position``/``Velocity`` back; this tick's touching pairs are the ``Contacts`` resource.
"""

from ._bridge import PhysicsBridge
from ._components import Body, Wall
from ._contacts import Contact, Contacts
from ._errors import PhysicsError, ShapeError
from ._install import install_physics
from ._settings import PhysicsSettings

__all__ = [
    "Body",
    "Contact",
    "Contacts",
    "PhysicsBridge",
    "PhysicsError",
    "PhysicsSettings",
    "ShapeError",
    "Wall",
    "install_physics",
]
