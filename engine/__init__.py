"""tickmind's engine: a deterministic fixed-tick ECS world over esper.

Inputs are the only way the outside changes a world; they are journaled, and every tick's
state is hashed, so any run can be replayed and verified bit for bit.
"""

from ._columns import Columns
from ._components import component, register_component
from ._encoding import canonical_bytes
from ._errors import (
    ComponentError,
    DuplicateSystemError,
    InputError,
    JournalCorruptError,
    JournalError,
    JournalVersionError,
    OrderingCycleError,
    PastTickError,
    RunDirError,
    ScheduleError,
    TickmindError,
    UnhashableComponentError,
    UnhashedComponentWarning,
    UnknownInputKindError,
    UnknownStageError,
)
from ._factories import factory, load_factory
from ._fork import fork_run
from ._hashing import HashRecord
from ._inputs import Input, PendingInput
from ._journal import ForkOrigin, JournalHeader, JournalRecord, read_journal, read_journal_header
from ._origin import same_definition
from ._pacing import Pacer
from ._playback import Playback, play_back
from ._replay import replay_world
from ._resume import resume_run
from ._run import Run, factory_path, start_run
from ._schedule import DEFAULT_STAGES, TickContext, keyed_rng
from ._spatial import DesiredVelocity, Position, Velocity
from ._text import printable
from ._verify import ComponentDiff, Divergence, VerifyReport, verify
from ._version import __version__
from ._world import World

__all__ = [
    "DEFAULT_STAGES",
    "Columns",
    "ComponentDiff",
    "ComponentError",
    "DesiredVelocity",
    "Divergence",
    "DuplicateSystemError",
    "ForkOrigin",
    "HashRecord",
    "Input",
    "InputError",
    "JournalCorruptError",
    "JournalError",
    "JournalHeader",
    "JournalRecord",
    "JournalVersionError",
    "OrderingCycleError",
    "Pacer",
    "PastTickError",
    "PendingInput",
    "Playback",
    "Position",
    "Run",
    "RunDirError",
    "ScheduleError",
    "TickContext",
    "TickmindError",
    "UnhashableComponentError",
    "UnhashedComponentWarning",
    "UnknownInputKindError",
    "UnknownStageError",
    "Velocity",
    "VerifyReport",
    "World",
    "__version__",
    "canonical_bytes",
    "component",
    "factory",
    "factory_path",
    "fork_run",
    "keyed_rng",
    "load_factory",
    "play_back",
    "printable",
    "read_journal",
    "read_journal_header",
    "register_component",
    "replay_world",
    "resume_run",
    "same_definition",
    "start_run",
    "verify",
]
