"""Build llama.cpp's ``llama-server`` from the sources vendored in the llama-cpp-python sdist.

Why build it at all: llama-cpp-python's own server answers one request at a time, while
llama-server batches concurrent requests (measured in bench/RESULTS.md). PyPI ships no
llama-server binary, but the llama-cpp-python sdist carries the full llama.cpp tree, so the
build needs only PyPI, a C++ compiler and cmake — no other network, no weights. It takes
about 8 minutes on 2 cores and happens once; the binary lands in :func:`installed_llama_server`.

The binary is linked statically (``BUILD_SHARED_LIBS=OFF``) so it can be copied out of the
build tree alone; curl and OpenSSL are off (it never fetches models).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ._errors import ServingError
from ._files import cache_dir, installed_llama_server

__all__ = ["DEFAULT_LLAMA_CPP_PYTHON", "build_llama_server"]

#: The llama-cpp-python release whose vendored llama.cpp is built when none is installed.
DEFAULT_LLAMA_CPP_PYTHON = "0.3.36"
_CMAKE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_CURL=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
)


def build_llama_server(
    *,
    version: str | None = None,
    jobs: int | None = None,
    dest: Path | None = None,
    say: Callable[[str], None] = print,
) -> Path:
    """Download the llama-cpp-python sdist (``version``: the installed one, else
    :data:`DEFAULT_LLAMA_CPP_PYTHON`), build llama-server and install it at ``dest``.

    Returns the binary's path. Raises :class:`ServingError` naming the failed step and the
    end of its output; the build log stays in the cache folder.
    """
    version = version or _installed_version() or DEFAULT_LLAMA_CPP_PYTHON
    dest = dest or installed_llama_server()
    for tool in ("cmake", "c++"):
        if shutil.which(tool) is None:
            raise ServingError(f"building llama-server needs `{tool}` on PATH (apt install cmake g++)")
    work_root = cache_dir() / "build"
    work_root.mkdir(parents=True, exist_ok=True)
    log = work_root / f"llama-server-{version}.log"
    with tempfile.TemporaryDirectory(dir=work_root) as scratch, open(log, "wb") as log_file:
        work = Path(scratch)
        say(f"downloading the llama-cpp-python {version} sdist from PyPI")
        _step(
            [sys.executable, "-m", "pip", "download", f"llama-cpp-python=={version}",
             "--no-deps", "--no-binary", ":all:", "-d", str(work)],
            log_file, log, "download the sdist",
        )  # fmt: skip
        sources = _unpack(work, version)
        build = sources / "build"
        say(f"configuring llama.cpp in {sources}")
        _step(["cmake", "-S", str(sources), "-B", str(build), *_CMAKE_FLAGS], log_file, log, "configure llama.cpp")
        jobs = jobs or os.cpu_count() or 1
        say(f"compiling llama-server with {jobs} jobs (about 8 minutes on 2 cores); log: {log}")
        _step(
            ["cmake", "--build", str(build), "-j", str(jobs), "--target", "llama-server"],
            log_file, log, "compile llama-server",
        )  # fmt: skip
        built = build / "bin" / "llama-server"
        if not built.is_file():
            raise ServingError(f"the build finished but {built} is missing; log: {log}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        staged = dest.with_suffix(".new")
        shutil.copy2(built, staged)
        os.replace(staged, dest)  # a half-copied binary is never found by find_llama_server
    _step([str(dest), "--version"], None, log, "run the built llama-server")
    say(f"installed {dest}")
    return dest


def _installed_version() -> str | None:
    try:
        return importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        return None


def _unpack(work: Path, version: str) -> Path:
    archives = sorted(work.glob("llama_cpp_python-*.tar.gz"))
    if not archives:
        raise ServingError(f"pip downloaded no llama-cpp-python {version} sdist into {work}")
    with tarfile.open(archives[0]) as archive:
        archive.extractall(work, filter="data")
    sources = work / f"llama_cpp_python-{version}" / "vendor" / "llama.cpp"
    if not (sources / "CMakeLists.txt").is_file():
        raise ServingError(f"the llama-cpp-python {version} sdist has no vendored llama.cpp at {sources}")
    return sources


def _step(command: list[str], log_file: BinaryIO | None, log: Path, what: str) -> None:
    output = subprocess.run(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if log_file is not None:
        log_file.write(output.stdout)
        log_file.flush()
    if output.returncode != 0:
        tail = output.stdout[-1500:].decode("utf-8", "replace").strip()
        raise ServingError(f"could not {what} (exit {output.returncode}); log {log} ends:\n{tail}")
