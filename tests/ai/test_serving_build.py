"""What tickmind builds llama-server for, and which build a CPU runs (issue #14).

The flags come from the CPU's own report, AMX never; each build's folder records what it
was built for, so a cache carried to a CPU that lacks those instructions, or left by an
older tickmind whose builds were native, is never started there.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from ai.serving import BuildTarget, ServerBinary, built_llama_servers, cpu_flags, find_llama_server, target_for
from ai.serving._exit import describe_exit, fix_for_illegal_instruction, is_illegal_instruction

SAPPHIRE_RAPIDS = frozenset(
    "sse4_2 avx avx2 fma f16c bmi2 avx512f avx512cd avx512vl avx512dq avx512bw avx512_vnni "
    "avx512vbmi avx512_bf16 amx_tile amx_int8 amx_bf16 avx_vnni".split()
)
HASWELL = frozenset("sse4_2 avx avx2 fma f16c bmi2".split())


def test_a_cpu_that_reports_amx_gets_avx512_and_never_amx() -> None:
    flags = target_for(SAPPHIRE_RAPIDS, "x86_64").cmake_flags()
    assert "-DGGML_NATIVE=OFF" in flags and "-DGGML_AVX512=ON" in flags and "-DGGML_AVX512_VNNI=ON" in flags
    assert {"-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF"} <= set(flags)
    assert not any("AMX" in f and f.endswith("=ON") for f in flags)


def test_avx512_extensions_need_avx512_itself() -> None:
    partial = HASWELL | {"avx512_vnni"}  # VNNI without the AVX-512 foundation
    target = target_for(partial, "x86_64")
    assert target.features == ("SSE42", "AVX", "AVX2", "FMA", "F16C", "BMI2")
    assert target.tag == "x86_64-avx2" and "-DGGML_AVX512=OFF" in target.cmake_flags()


def test_instruction_levels_cap_the_build() -> None:
    assert target_for(SAPPHIRE_RAPIDS, "x86_64", level="avx2") == target_for(HASWELL, "x86_64")
    assert target_for(SAPPHIRE_RAPIDS, "x86_64", level="sse42").features == ("SSE42",)


def test_a_build_runs_only_where_the_cpu_has_its_instructions() -> None:
    avx512 = target_for(SAPPHIRE_RAPIDS, "x86_64")
    assert avx512.runs_on(SAPPHIRE_RAPIDS) and not avx512.runs_on(HASWELL)
    assert target_for(HASWELL, "x86_64").runs_on(SAPPHIRE_RAPIDS)


def test_cpuinfo_flags_are_read_from_the_flags_line() -> None:
    text = "processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse4_2 avx2 amx_tile\n\nprocessor\t: 1\n"
    assert cpu_flags(text) == frozenset({"fpu", "sse4_2", "avx2", "amx_tile"})
    assert cpu_flags("no flags here") == frozenset()


def test_off_x86_the_build_stays_native() -> None:
    target = target_for(frozenset(), "aarch64")
    assert target.native and target.cmake_flags() == ("-DGGML_NATIVE=ON",) and target.tag == "aarch64-native"


def install_fake_build(cache: Path, folder: str, target: BuildTarget | None, version: str = "0.3.36") -> Path:
    binary = cache / "llama.cpp" / folder / "bin" / "llama-server"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    if target is not None:
        info = {"llama_cpp_python": version, "target": target.to_json()}
        (binary.parents[1] / "build.json").write_text(json.dumps(info))
    return binary


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TICKMIND_CACHE", str(tmp_path))
    monkeypatch.delenv("TICKMIND_LLAMA_SERVER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    return tmp_path


def test_a_build_for_instructions_this_cpu_lacks_is_skipped(cache: Path) -> None:
    mine = target_for()
    foreign = BuildTarget("x86_64", ["SSE42", "AVX", "AVX2", "AVX512", "AVX512_BF16"])
    if foreign.runs_on(cpu_flags()):
        foreign = BuildTarget("aarch64", ())  # this CPU runs every x86 set: use another machine
    install_fake_build(cache, "0.3.36-foreign", foreign)
    assert find_llama_server() is None
    binary = install_fake_build(cache, f"0.3.36-{mine.tag}", mine)
    found = find_llama_server()
    assert found == ServerBinary(binary, "built", mine, "0.3.36")


def test_a_cached_build_without_a_record_is_never_run(cache: Path) -> None:
    install_fake_build(cache, "bin-of-an-older-tickmind", None)  # an old native build
    (cache / "llama.cpp" / "bin").mkdir(parents=True)
    (cache / "llama.cpp" / "bin" / "llama-server").write_text("#!/bin/sh\n")  # the old layout
    assert find_llama_server() is None and built_llama_servers() == []


def test_the_tested_version_and_the_most_instructions_come_first(cache: Path) -> None:
    wide = target_for()
    narrow = target_for(level="sse42")
    install_fake_build(cache, "0.3.30-wide", wide, version="0.3.30")
    install_fake_build(cache, "0.3.36-narrow", narrow)
    best = install_fake_build(cache, "0.3.36-wide", wide)
    assert [b.path for b in built_llama_servers()][0] == best


def test_exits_are_described_by_their_signal() -> None:
    assert describe_exit(-signal.SIGILL) == "was killed by SIGILL (illegal instruction)"
    assert describe_exit(-signal.SIGKILL) == "was killed by SIGKILL"
    assert describe_exit(132) == "exited with code 132 (SIGILL (illegal instruction))"
    assert describe_exit(1) == "exited with code 1"
    assert is_illegal_instruction(-4) and is_illegal_instruction(132) and not is_illegal_instruction(1)


def test_the_sigill_fix_fits_where_the_binary_came_from(tmp_path: Path) -> None:
    env = fix_for_illegal_instruction(ServerBinary(tmp_path / "llama-server", "env"), "llama-server")
    assert "unset TICKMIND_LLAMA_SERVER and run `tickmind build-server`" in env
    on_path = fix_for_illegal_instruction(ServerBinary(tmp_path / "llama-server", "path"), "llama-server")
    assert "PATH" in on_path and "`tickmind build-server`" in on_path
    ours = ServerBinary(tmp_path / "x", "built", target_for(SAPPHIRE_RAPIDS, "x86_64"))
    built = fix_for_illegal_instruction(ours, "llama-server")
    assert "--force --instructions avx2" in built
    assert "--server llama-server" in fix_for_illegal_instruction(None, "llama-cpp-python")


def test_the_environment_binary_must_be_executable(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ai.serving import ServingError

    plain = cache / "not-executable"
    plain.write_text("")
    os.chmod(plain, 0o644)
    monkeypatch.setenv("TICKMIND_LLAMA_SERVER", str(plain))
    with pytest.raises(ServingError, match="is not an executable file"):
        find_llama_server()
