"""The embedded local model: a small instruct GGUF shipped by a PyPI package, served on
127.0.0.1 by llama.cpp's ``llama-server``, which tickmind builds for this CPU from the
llama.cpp sources in the llama-cpp-python sdist (once, on first use, or with
``tickmind build-server``).

``LocalServer`` starts one on a free port, waits until it is healthy, restarts it once if it
dies, hands out a client in the server's schema dialect and always stops it — on exit, on
error, and (through the kernel's die-with-parent signal) when the run is killed outright.
Nothing downloads weights. ``tickmind doctor`` says what would run here and proves it with
one completion.
"""

from ._build import build_llama_server, ensure_llama_server
from ._cli import add_server_flags, server_spec
from ._connect import ModelConnection, check_llm, connect_model
from ._cpu import INSTRUCTION_LEVELS, BuildTarget, cpu_flags, target_for
from ._errors import ServerCrashed, ServingError
from ._files import (
    DEFAULT_LLAMA_CPP_PYTHON,
    ServerBinary,
    built_llama_servers,
    cache_dir,
    find_llama_server,
    find_model_file,
    installed_llama_server,
)
from ._process import LocalServer, ServerKind, ServerSpec, available_kinds, free_port
from ._resume_cli import record_planned
from ._smoke import CompletionCheck, check_completion

__all__ = [
    "DEFAULT_LLAMA_CPP_PYTHON",
    "INSTRUCTION_LEVELS",
    "BuildTarget",
    "CompletionCheck",
    "LocalServer",
    "ModelConnection",
    "ServerBinary",
    "ServerCrashed",
    "ServerKind",
    "ServerSpec",
    "ServingError",
    "add_server_flags",
    "available_kinds",
    "build_llama_server",
    "built_llama_servers",
    "cache_dir",
    "check_completion",
    "check_llm",
    "connect_model",
    "cpu_flags",
    "ensure_llama_server",
    "find_llama_server",
    "find_model_file",
    "free_port",
    "installed_llama_server",
    "record_planned",
    "server_spec",
    "target_for",
]
