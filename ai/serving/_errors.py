"""The errors of local model serving, under the one tickmind tree.

    TickmindError          (engine)
    └── ServingError       the local model server cannot be found, built, started or stopped
        └── ServerCrashed  it died, and was not (or could no longer be) restarted

Each message says what to install, build or free, and for a server that died the way it
died, the cause and fix when known (a SIGILL), and the last lines of its log, so one message
is enough to act on.
"""

from __future__ import annotations

from engine import TickmindError

__all__ = ["ServerCrashed", "ServingError"]


class ServingError(TickmindError):
    """The local model server could not be found, built or started."""


class ServerCrashed(ServingError):
    """The model server died. ``exit_code`` is the process's return code (negative: the
    signal that killed it), or None when it could not be restarted for another reason.
    ``headline`` and ``log_tail`` are the message's two parts, for callers that add a line
    (where the run stopped) between them."""

    def __init__(self, headline: str, *, exit_code: int | None, log_tail: str = "") -> None:
        super().__init__(headline + log_tail)
        self.headline = headline  #: what died, how, and the fix: one line
        self.log_tail = log_tail  #: "; log PATH ends:" and its last lines, or ""
        self.exit_code = exit_code
