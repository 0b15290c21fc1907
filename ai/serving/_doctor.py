"""``tickmind doctor``: what would serve the embedded model on this machine, proven by use.

It answers in seconds (it never builds): the CPU's instruction sets and the build target
they give, the model file, the llama-server binary a run would start and what it was built
for, then one real completion timed. A failure ends with its reason and the command that
fixes it, and exit status 1.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

from ._cpu import cpu_flags, target_for
from ._errors import ServingError
from ._files import find_llama_server, find_model_file
from ._process import ServerSpec
from ._smoke import check_served

__all__ = ["doctor"]


def doctor(args: argparse.Namespace) -> int:
    """The ``tickmind doctor`` handler: print the report, return the exit status."""
    target = target_for()
    flags = cpu_flags()
    amx = "reported (tickmind's builds never use it)" if any(f.startswith("amx") for f in flags) else "not reported"
    _row("cpu", f"{_cpu_name()} ({platform.machine()}); AMX {amx}")
    _row("build target", f"{target.tag}: {target.describe()}")
    try:
        model = find_model_file(args.model_file)
    except ServingError as exc:
        return _fail(str(exc))
    _row("model", f"{model} ({model.stat().st_size / 1e6:.0f} MB)")
    if args.server != "llama-cpp-python":
        binary = find_llama_server()
        if binary is None:
            return _fail(
                "no llama-server for this CPU yet. Fix: `tickmind build-server` (about 8-10 minutes "
                "on 2 cores), or start a run: `tickmind arena` builds it first"
            )
        _row("server", f"llama-server {binary.describe()}")
    else:
        _row("server", "llama-cpp-python (answers one request at a time)")
    try:
        measured = check_served(ServerSpec(kind=args.server, model=args.model_file, slots=1, build=False))
    except ServingError as exc:
        return _fail(str(exc))
    _row("completion", f"{measured.describe()}, {measured.wall_s:.1f} s in all")
    _row("verdict", "OK: the embedded model answers on this machine")
    return 0


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _row(label: str, value: str) -> None:
    print(f"  {label:<13} {value}", flush=True)


def _fail(reason: str) -> int:
    _row("verdict", f"FAILED: {reason}")
    return 1
