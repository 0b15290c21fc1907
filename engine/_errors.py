"""One exception tree for tickmind; user mistakes carry a message naming the fix.

    TickmindError
    ├── ComponentError
    │   └── UnhashableComponentError   a field type the state hash cannot encode
    ├── ScheduleError
    │   ├── UnknownStageError          a system registered into a stage that does not exist
    │   ├── DuplicateSystemError       two systems with one name
    │   └── OrderingCycleError         before/after constraints that form a cycle
    ├── InputError
    │   ├── PastTickError              an input submitted for a tick already applied
    │   └── UnknownInputKindError      a journal names an input kind nobody registered
    ├── JournalError
    │   ├── JournalVersionError        a journal written by another format/tickmind version
    │   └── JournalCorruptError        a record that cannot be read (file and line named)
    └── RunDirError                    a path that is not a usable run directory

    UnhashedComponentWarning           a component type the state hash leaves out (a
                                       UserWarning, once per type and world)

The CLI prints any TickmindError as one line and exits non-zero without a traceback.
"""

from __future__ import annotations

from pydantic import ValidationError

__all__ = [
    "ComponentError",
    "DuplicateSystemError",
    "InputError",
    "JournalCorruptError",
    "JournalError",
    "JournalVersionError",
    "OrderingCycleError",
    "PastTickError",
    "RunDirError",
    "ScheduleError",
    "TickmindError",
    "UnhashableComponentError",
    "UnhashedComponentWarning",
    "UnknownInputKindError",
    "UnknownStageError",
    "first_problem",
]


class TickmindError(Exception):
    """Root of every error tickmind raises on purpose."""


class ComponentError(TickmindError):
    pass


class UnhashableComponentError(ComponentError):
    pass


class ScheduleError(TickmindError):
    pass


class UnknownStageError(ScheduleError):
    pass


class DuplicateSystemError(ScheduleError):
    pass


class OrderingCycleError(ScheduleError):
    pass


class InputError(TickmindError):
    pass


class PastTickError(InputError):
    pass


class UnknownInputKindError(InputError):
    pass


class JournalError(TickmindError):
    pass


class JournalVersionError(JournalError):
    pass


class JournalCorruptError(JournalError):
    pass


class RunDirError(TickmindError):
    pass


class UnhashedComponentWarning(UserWarning):
    pass


def first_problem(exc: ValidationError) -> str:
    """``field.path: why`` of pydantic's first error: one line, as the CLI prints errors."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "record"
    return " ".join(f"{where}: {err['msg']}".split())
