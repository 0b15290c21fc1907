"""``python -m ai.serving._guard -- CMD...``: run CMD so that it dies with its parent.

A model server started by a run must not outlive it, even when the run is killed with
SIGKILL and no cleanup code runs. On Linux, ``prctl(PR_SET_PDEATHSIG, SIGTERM)`` asks the
kernel to signal the child when its parent dies, and the setting survives ``execve``. It is
set here, in a tiny process that then replaces itself with the server, rather than in a
``preexec_fn`` (which is unsafe once the parent has threads, and the batch executor has one).

Where prctl is missing (not Linux) this just execs CMD; the parent's normal shutdown still
stops it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    libc = ctypes.CDLL(libc_name, use_errno=True)
    prctl = getattr(libc, "prctl", None)
    if prctl is None:
        return
    prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("usage: python -m ai.serving._guard PARENT_PID -- CMD [ARGS...]\n")
        raise SystemExit(2)
    _die_with_parent(int(argv[0]))
    os.execvp(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
