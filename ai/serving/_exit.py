"""Why a model server process ended, in words a user can act on.

A SIGILL is the one death with a known cause and fix: the binary uses an instruction this
CPU will not run (an AMX build on a VM, a binary built on a newer CPU). Its message names
what the build assumed, what this CPU lacks and the command that builds a binary for it.
"""

from __future__ import annotations

import signal

from ._cpu import target_for
from ._files import LLAMA_SERVER_ENV, ServerBinary

__all__ = ["describe_exit", "fix_for_illegal_instruction", "is_illegal_instruction"]


def _signal_of(returncode: int) -> int | None:
    if returncode < 0:
        return -returncode
    if returncode > 128 and returncode - 128 in signal.valid_signals():  # through a shell
        return returncode - 128
    return None


def describe_exit(returncode: int) -> str:
    """``"was killed by SIGILL (illegal instruction)"``, ``"exited with code 1"``."""
    number = _signal_of(returncode)
    if number is None:
        return f"exited with code {returncode}"
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    detail = (signal.strsignal(number) or "").lower()
    shown = f"{name} ({detail})" if detail and detail not in ("killed", name.lower()) else name
    return f"was killed by {shown}" if returncode < 0 else f"exited with code {returncode} ({shown})"


def is_illegal_instruction(returncode: int | None) -> bool:
    return returncode is not None and _signal_of(returncode) == signal.SIGILL


def fix_for_illegal_instruction(binary: ServerBinary | None, kind: str) -> str:
    """The cause of a SIGILL and the exact command that fixes it, for this binary's origin."""
    if kind == "llama-cpp-python":
        return (
            "llama-cpp-python was compiled for instructions this CPU does not run (pip builds it with "
            "-march=native, and AMX crashes it). Fix: use tickmind's own build, which avoids AMX: "
            "--server llama-server (tickmind builds it on first use), or reinstall with "
            'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" '
            'pip install --force-reinstall --no-cache-dir "llama-cpp-python[server]"'
        )
    if binary is None or binary.target is None:
        origin = f"${LLAMA_SERVER_ENV}" if binary is not None and binary.source == "env" else "PATH"
        unset = f"unset {LLAMA_SERVER_ENV} and run " if origin.startswith("$") else "run "
        return (
            f"the llama-server from {origin} ({binary.path if binary else '?'}) was built for instructions "
            f"this CPU does not run (a -march=native build from another CPU, or one using AMX). Fix: {unset}"
            "`tickmind build-server`, which builds one for this CPU and is preferred over PATH"
        )
    missing = [f for f in binary.target.features if f not in target_for().features]
    lacks = f"; this CPU lacks {', '.join(missing)}" if missing else ""
    lower = "avx2" if "AVX512" in binary.target.features else "sse42"
    return (
        f"it was built for {binary.target.describe()}{lacks}, and this CPU refuses one of those "
        f"instructions. Fix: `tickmind build-server --force --instructions {lower}` builds it with fewer "
        "instruction sets"
    )
