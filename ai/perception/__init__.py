"""Perception: who each agent sees, computed once a tick by one system before planning.

Imports only the engine: the planning core reads its ``Perception`` component, and nothing
here knows of models, prompts or threads."""

from ._alert import PerceiveNow, perceive_now
from ._components import Faction, Perceivable, Perception, Senses
from ._kernel import LineOfSight
from ._system import install_perception

__all__ = [
    "Faction", "LineOfSight", "PerceiveNow", "Perceivable", "Perception", "Senses", "install_perception", "perceive_now",
]
