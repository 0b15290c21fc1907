"""Build llama.cpp's ``llama-server`` for this CPU from the sources in the llama-cpp-python sdist.

Why tickmind builds its own server rather than taking pip's build of llama-cpp-python:

- **It runs everywhere.** pip builds llama-cpp-python with ``-march=native``, which crashes
  with SIGILL on CPUs that report AMX (:mod:`ai.serving._cpu`), and pip's wheel cache is keyed
  on the sdist alone, so a crashing wheel is reused whatever ``CMAKE_ARGS`` a later install
  sets. Here the flags are ours (every instruction set the CPU reports, AMX never) and the
  cache folder is named after them.
- **It batches.** llama-server runs concurrent requests together (continuous batching);
  llama-cpp-python's server answers one at a time (bench/RESULTS.md).
- **PyPI only.** The sdist carries the whole llama.cpp tree, so the build needs pip, cmake
  and a C++ compiler (the ``local`` extra installs cmake and ninja from PyPI) and no other
  network; it never fetches weights. It takes about 8-10 minutes on 2 cores, once per CPU kind.

The binary is linked statically (``BUILD_SHARED_LIBS=OFF``) so it can be copied out of the
build tree alone; curl and OpenSSL are off. A build is installed only after it answered a real
completion (:mod:`ai.serving._smoke`): ``--version`` succeeds even on a binary that dies at
its first matrix multiply.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from ._cpu import BuildTarget, target_for
from ._errors import ServingError
from ._files import BUILD_INFO, DEFAULT_LLAMA_CPP_PYTHON, ServerBinary, build_folder, cache_dir, find_llama_server
from ._process import ServerSpec
from ._smoke import check_served

__all__ = ["DEFAULT_LLAMA_CPP_PYTHON", "build_llama_server", "ensure_llama_server"]

_CMAKE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_CURL=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
)
_NINJA_PROGRESS = re.compile(rb"^\[(\d+)/(\d+)\]")
_PROGRESS_EVERY_S = 30.0

Say = Callable[[str], None]


def ensure_llama_server(*, say: Say = print) -> ServerBinary:
    """The llama-server to run here, built first if there is none (see the module docstring).

    Two processes asking at once build once: the second waits on a lock, then finds the build.
    """
    found = find_llama_server()
    if found is not None:
        return found
    with _build_lock():
        found = find_llama_server()
        if found is not None:
            return found
        say(
            "no llama-server built for this CPU yet: building llama.cpp's server from the "
            f"llama-cpp-python {DEFAULT_LLAMA_CPP_PYTHON} sdist on PyPI (once; about 8-10 minutes on 2 cores)"
        )
        return build_llama_server(say=say)


def build_llama_server(
    *,
    version: str | None = None,
    jobs: int | None = None,
    target: BuildTarget | None = None,
    sdist: Path | None = None,
    check: bool = True,
    say: Say = print,
) -> ServerBinary:
    """Build llama-server ``version`` (default: the tested release) for ``target`` (default:
    this CPU's), from ``sdist`` or one pip downloads, and install it in its cache folder.

    With ``check`` the binary must answer a real completion before it is installed. Raises
    :class:`ServingError` naming the failed step and the end of its output; the build log
    stays in the cache folder.
    """
    version = version or DEFAULT_LLAMA_CPP_PYTHON
    target = target or target_for()
    cmake, compiler, ninja = _required_tool("cmake"), _compiler(), _tool("ninja")
    folder = build_folder(target, version)
    work_root = cache_dir() / "build"
    work_root.mkdir(parents=True, exist_ok=True)
    log = work_root / f"llama-server-{version}-{target.tag}.log"
    say(f"building llama-server {version} for {target.describe()} (never AMX); log: {log}")
    with tempfile.TemporaryDirectory(dir=work_root) as scratch, open(log, "wb") as log_file:
        work = Path(scratch)
        if sdist is None:
            say(f"downloading the llama-cpp-python {version} sdist from PyPI")
            _step(
                [sys.executable, "-m", "pip", "download", f"llama-cpp-python=={version}",
                 "--no-deps", "--no-binary", ":all:", "-d", str(work)],
                log_file, log, "download the sdist (pip must be installed in this Python)",
            )  # fmt: skip
            sdist = _only_sdist(work, version)
        sources = _unpack(sdist, work)
        build = sources / "build"
        generator = ["-G", "Ninja", f"-DCMAKE_MAKE_PROGRAM={ninja}"] if ninja else []
        flags = [*_CMAKE_FLAGS, *target.cmake_flags(), f"-DCMAKE_CXX_COMPILER={compiler}"]
        _step([cmake, "-S", str(sources), "-B", str(build), *generator, *flags], log_file, log, "configure llama.cpp")
        jobs = jobs or os.cpu_count() or 1
        say(f"compiling llama-server with {jobs} jobs")
        _step(
            [cmake, "--build", str(build), "-j", str(jobs), "--target", "llama-server"],
            log_file, log, "compile llama-server", progress=say,
        )  # fmt: skip
        built = build / "bin" / "llama-server"
        if not built.is_file():
            raise ServingError(f"the build finished but {built} is missing; log: {log}")
        staged = folder.with_name(folder.name + ".partial")
        shutil.rmtree(staged, ignore_errors=True)
        (staged / "bin").mkdir(parents=True)
        shutil.copy2(built, staged / "bin" / "llama-server")
        info = {"llama_cpp_python": version, "target": target.to_json(), "cmake_flags": flags}
        (staged / BUILD_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    binary = ServerBinary(staged / "bin" / "llama-server", "built", target, version)
    if check:
        _check(binary, say)
    shutil.rmtree(folder, ignore_errors=True)  # --force: the old build goes only once the new one works
    os.replace(staged, folder)  # a half-built folder is never found: it has another name until now
    installed = ServerBinary(folder / "bin" / "llama-server", "built", target, version)
    say(f"installed {installed.path}")
    return installed


def _check(binary: ServerBinary, say: Say) -> None:
    measured = check_served(ServerSpec(kind="llama-server", binary=binary, slots=1, build=False))
    say(f"checked with a real completion: {measured.describe()}")


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    root = cache_dir() / "llama.cpp"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".build.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _tool(name: str) -> str | None:
    """``name`` from this Python's own bin folder (the PyPI cmake and ninja), else PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def _required_tool(name: str) -> str:
    found = _tool(name)
    if found is None:
        raise ServingError(f'building llama-server needs `{name}`: pip install "tickmind[local]" (or apt install {name})')
    return found


def _compiler() -> str:
    for name in ("c++", "g++", "clang++"):
        found = shutil.which(name)
        if found:
            return found
    raise ServingError("building llama-server needs a C++ compiler on PATH (apt install g++)")


def _only_sdist(work: Path, version: str) -> Path:
    archives = sorted(work.glob("llama_cpp_python-*.tar.gz"))
    if not archives:
        raise ServingError(f"pip downloaded no llama-cpp-python {version} sdist into {work}")
    return archives[0]


def _unpack(sdist: Path, work: Path) -> Path:
    if not sdist.is_file():
        raise ServingError(f"sdist {sdist} does not exist")
    try:
        with tarfile.open(sdist) as archive:
            archive.extractall(work / "src", filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise ServingError(f"cannot unpack {sdist}: {exc}") from None
    trees = sorted((work / "src").glob("*/vendor/llama.cpp"))
    if not trees or not (trees[0] / "CMakeLists.txt").is_file():
        raise ServingError(f"{sdist} has no vendored llama.cpp (vendor/llama.cpp/CMakeLists.txt)")
    return trees[0]


def _step(command: list[str], log_file: BinaryIO, log: Path, what: str, progress: Say | None = None) -> None:
    """Run one build step into the log; ``progress`` hears the compile's percentage now and then."""
    log_file.write(f"$ {' '.join(command)}\n".encode())
    log_file.flush()
    tail: list[bytes] = []
    next_report = time.monotonic() + _PROGRESS_EVERY_S
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise ServingError(f"could not {what}: {exc}") from None
    assert process.stdout is not None
    for line in process.stdout:
        log_file.write(line)
        tail = (tail + [line])[-30:]
        match = _NINJA_PROGRESS.match(line)
        if progress is not None and match and time.monotonic() >= next_report:
            next_report = time.monotonic() + _PROGRESS_EVERY_S
            done, total = int(match.group(1)), int(match.group(2))
            progress(f"  compiled {done}/{total} ({100 * done // total}%)")
    code = process.wait()
    log_file.flush()
    if code != 0:
        text = b"".join(tail).decode("utf-8", "replace").strip()[-1500:]
        raise ServingError(f"could not {what} (exit {code}); log {log} ends:\n{text}")
