"""The embedded local model: a small instruct GGUF shipped by a PyPI package, served on
127.0.0.1 by llama.cpp's ``llama-server`` (built once by ``tickmind build-server``) or by
llama-cpp-python's server (``pip install "tickmind[local]"``).

``LocalServer`` starts one on a free port, waits until it is healthy, hands out a client in
the server's schema dialect and always stops it — on exit, on error, and (through the
kernel's die-with-parent signal) when the run is killed outright. Nothing downloads weights.
"""

from ._build import DEFAULT_LLAMA_CPP_PYTHON, build_llama_server
from ._connect import ModelConnection, check_llm, connect_model
from ._errors import ServingError
from ._files import cache_dir, find_llama_server, find_model_file, installed_llama_server
from ._process import LocalServer, ServerKind, ServerSpec, available_kinds, free_port

__all__ = [
    "DEFAULT_LLAMA_CPP_PYTHON",
    "LocalServer",
    "ModelConnection",
    "ServerKind",
    "ServerSpec",
    "ServingError",
    "available_kinds",
    "build_llama_server",
    "cache_dir",
    "check_llm",
    "connect_model",
    "find_llama_server",
    "find_model_file",
    "free_port",
    "installed_llama_server",
]
