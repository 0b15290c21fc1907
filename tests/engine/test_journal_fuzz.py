"""A corrupted run directory is read, or refused naming its file and line: never a crash.

Why: the journal is a run's only record, and users copy, edit, truncate and re-encode run
directories; disks and crashes tear them. Hypothesis corrupts a real arena run (byte flips,
truncation anywhere, inserted garbage lines, non-UTF-8 bytes, valid JSON with wrong fields,
a header of another format or version) and checks that ``read_journal`` either reads it (a
torn last line dropped with a warning) or raises a ``JournalError`` whose message starts with
``path:line:``, and that ``tickmind verify``/``resume`` end with exit 0, 1 or one line
``tickmind: error: ...`` and exit 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine import JournalError, read_journal, start_run
from engine.cli import main
from examples.arena import build_arena

TICKS = 30
CONFIG = {"planner": "heuristic", "agents": 6}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLI_FUZZ = settings(FUZZ, max_examples=150)

#: Lines no byte flip reaches but a file can hold: nesting deeper than the JSON parser's
#: recursion limit, an integer past Python's 4300-digit conversion limit, NUL padding (what a
#: power loss can leave), JSON's non-finite numbers.
HOSTILE_LINES = (b"[" * 100_000, b'{"t":' + b"9" * 5000 + b"}", b"\x00" * 64, b"NaN", b"-Infinity", b"{}", b"[]", b"")

#: Values of the wrong type for any field: every JSON type, nested a little, and the edges of
#: each (negative, past 64 bits, non-finite, empty).
wrong_values: st.SearchStrategy[Any] = (
    st.sampled_from([None, True, False, -1, 2**70, 0.5, float("nan"), float("-inf"), "", [], [1, "a"], {}, {"a": {}}])
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real run (heuristic arena: plans with steps and meta) that every example corrupts a copy of."""
    run_dir = tmp_path_factory.mktemp("fuzz") / "run"
    with start_run(build_arena, CONFIG, 3, run_dir) as run:
        run.world.run(TICKS)
    return run_dir


# --- corruptions ------------------------------------------------------------------------------


def _lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\n")[:-1]


def _join(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


@st.composite
def flipped(draw: st.DrawFn, raw: bytes) -> bytes:
    """One to four bytes xor-ed with a non-zero mask (a bad sector, a bad edit)."""
    out = bytearray(raw)
    for _ in range(draw(st.integers(1, 4))):
        out[draw(st.integers(0, len(raw) - 1))] ^= draw(st.integers(1, 255))
    return bytes(out)


@st.composite
def truncated(draw: st.DrawFn, raw: bytes) -> bytes:
    return raw[: draw(st.integers(0, len(raw)))]


@st.composite
def with_garbage_line(draw: st.DrawFn, raw: bytes) -> bytes:
    """A line of arbitrary bytes, or a hostile one, inserted at a line boundary."""
    lines = _lines(raw)
    garbage = draw(st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"")) | st.sampled_from(HOSTILE_LINES))
    lines.insert(draw(st.integers(0, len(lines))), garbage)
    return _join(lines)


@st.composite
def with_non_utf8(draw: st.DrawFn, raw: bytes) -> bytes:
    bad = draw(st.sampled_from([b"\xff", b"\x80", b"\xc3(", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xfe\xff"]))
    at = draw(st.integers(0, len(raw)))
    return raw[:at] + bad + raw[at:]


@st.composite
def with_wrong_record(draw: st.DrawFn, raw: bytes) -> bytes:
    """A record line that is valid JSON: fields dropped, added, or given values of any type."""
    lines = _lines(raw)
    index = draw(st.integers(1, len(lines) - 1))
    record: Any = json.loads(lines[index])
    for key in draw(st.lists(st.sampled_from([*record, "data.steps", "extra"]), min_size=1, max_size=3, unique=True)):
        target, _, sub = key.partition(".")
        holder = record.get(target) if sub else record
        name = sub or target
        if not isinstance(holder, dict):  # "data" itself was replaced by now
            continue
        if draw(st.booleans()):
            holder[name] = draw(wrong_values)
        else:
            holder.pop(name, None)
    if draw(st.integers(0, 9)) == 0:
        record = draw(wrong_values)  # not even an object
    lines[index] = json.dumps(record).encode()
    return _join(lines)


@st.composite
def with_plausible_edit(draw: st.DrawFn, raw: bytes) -> bytes:
    """A record that still validates but says something else: another tick, entity or
    sequence number, a step to another point. Such a journal reads; its replay must diverge
    (exit 1) or be refused, not crash the world it rebuilds."""
    lines = _lines(raw)
    index = draw(st.integers(1, len(lines) - 1))
    record = json.loads(lines[index])
    field = draw(st.sampled_from(["t", "seq", "at", "entity", "step"]))
    if field == "step":
        step = {"act": "move_to", "x": draw(st.floats()), "y": draw(st.floats())}  # NaN and inf too
        record["data"]["steps"] = [step, *record["data"]["steps"]]
    elif field == "entity":
        record["entity"] = record["data"]["entity"] = draw(st.integers(0, 40) | st.just(10**6))
    else:
        record[field] = draw(st.integers(0 if field != "at" else -1, TICKS + 5))
    lines[index] = json.dumps(record).encode()
    return _join(lines)


@st.composite
def with_foreign_header(draw: st.DrawFn, raw: bytes) -> bytes:
    """The header of another format, format version or tickmind version, or a bad field."""
    lines = _lines(raw)
    header = json.loads(lines[0])
    field = draw(st.sampled_from(["format", "format_version", "tickmind", "factory", "config", "seed", "dt", "extra"]))
    choices: dict[str, list[Any]] = {
        "format": ["tickmind-state-hashes", "TICKMIND-JOURNAL", ""],
        "format_version": [0, 2, 1.0, True, "1"],
        "tickmind": ["0.0.1", "9.9.9", None],
        "factory": ["examples.drift:build_world", "examples.drift:ARENA", "examples.drift:Disc", "nowhere:f", "x"],
        "config": [{"agents": "many"}, {"planner": "llm"}, {"agents": -1}, [], None],
        "dt": [0.5, "fast", None],
    }
    known = choices.get(field, [])
    header[field] = draw(st.sampled_from(known) | wrong_values if known else wrong_values)
    lines[0] = json.dumps(header).encode()
    return _join(lines)


Corruption = Callable[[bytes], st.SearchStrategy[bytes]]
#: What can happen to any file; the journal also gets JSON that parses but is wrong.
BYTE_CORRUPTIONS: tuple[Corruption, ...] = (flipped, truncated, with_garbage_line, with_non_utf8)
JOURNAL_CORRUPTIONS: tuple[Corruption, ...] = (
    *BYTE_CORRUPTIONS, with_wrong_record, with_plausible_edit, with_foreign_header,
)


def corrupted(raw: bytes, corruptions: tuple[Corruption, ...] = JOURNAL_CORRUPTIONS) -> st.SearchStrategy[bytes]:
    return st.one_of(*(make(raw) for make in corruptions))


# --- what must hold -----------------------------------------------------------------------------


def assert_names_its_line(message: str, path: Path) -> None:
    """``path:LINE: why`` with LINE in the file (or ``path: empty file``: no line to name)."""
    found = re.match(rf"{re.escape(str(path))}:(\d+): \S", message)
    if found is None:
        assert message.startswith(f"{path}: empty file"), message
        return
    assert 1 <= int(found[1]) <= path.read_bytes().count(b"\n") + 1, message
    assert "\n" not in message, message


def read_or_refuse(path: Path) -> None:
    try:
        journal = read_journal(path)
    except JournalError as exc:
        assert_names_its_line(str(exc), path)
        return
    for warning in journal.warnings:
        assert_names_its_line(warning, path)


def cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def assert_exits_cleanly(argv: list[str], run_dir: Path) -> int:
    code, out, err = cli(argv)
    assert "Traceback" not in out + err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("tickmind: error: "), err
        assert str(run_dir) in err, err
    else:
        assert code in (0, 1) and err == "", (code, err)
    return code


# --- the properties -----------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_read_journal_reads_or_names_the_line_of_any_corruption(pristine: Path, data: st.DataObject) -> None:
    raw = (pristine / "journal.jsonl").read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.jsonl"
        path.write_bytes(data.draw(corrupted(raw), label="journal"))
        read_or_refuse(path)


@FUZZ
@given(data=st.data())
def test_a_journal_cut_anywhere_after_its_header_keeps_every_complete_record(pristine: Path, data: st.DataObject) -> None:
    """What a crash leaves: the records whose newline reached the disk, and a warning for the rest."""
    whole = read_journal(pristine / "journal.jsonl")
    raw = (pristine / "journal.jsonl").read_bytes()
    cut = data.draw(st.integers(whole.header_end, len(raw)), label="cut")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.jsonl"
        path.write_bytes(raw[:cut])
        journal = read_journal(path)
    complete = sum(end <= cut for end in whole.ends)
    assert journal.records == whole.records[:complete]
    assert journal.truncated_tail == (cut not in (whole.header_end, *whole.ends))
    assert len(journal.warnings) == journal.truncated_tail


@pytest.mark.parametrize("line", HOSTILE_LINES, ids=["deep", "huge-int", "nul", "nan", "-inf", "{}", "[]", "empty"])
def test_a_hostile_line_is_refused_by_its_line_number(pristine: Path, tmp_path: Path, line: bytes) -> None:
    lines = _lines((pristine / "journal.jsonl").read_bytes())
    path = tmp_path / "journal.jsonl"
    for at in (0, 3):
        path.write_bytes(_join([*lines[:at], line, *lines[at:]]))
        with pytest.raises(JournalError, match=rf"^{re.escape(str(path))}:{at + 1}: "):
            read_journal(path)


@pytest.mark.parametrize(
    "line, edit, message",
    [
        (2, {"kind": "nope"}, r":2: unknown input kind 'nope'"),
        (3, {"data": {"entity": 30, "plan_id": "p", "tier": "heuristic", "steps": 5}}, r":3: input kind 'ai.assign_plan' does not validate: steps: Value error, steps must be a list"),
        (1, {"config": {"agents": "many"}}, r":1: the run's factory examples.arena._world:build_arena cannot rebuild the world from this header: "),
        (1, {"factory": "examples.drift:ARENA"}, r":1: the run's factory examples.drift:ARENA is not a declared factory, so tickmind will not call it"),
        (1, {"factory": "nowhere:build"}, r":1: cannot import the run's factory 'nowhere:build'"),
        (1, {"dt": 0.5}, r":1: factory built a world with dt=0.016666666666666666, the run used 0.5"),
    ],
    ids=["unknown-kind", "steps-not-a-list", "bad-config", "factory-not-declared", "no-factory", "dt"],
)
def test_a_journal_that_reads_but_cannot_be_replayed_names_its_line(
    pristine: Path, tmp_path: Path, line: int, edit: dict[str, Any], message: str
) -> None:
    """These once escaped as TypeError/ValueError tracebacks, or as errors naming no line."""
    run_dir = tmp_path / "run"
    shutil.copytree(pristine, run_dir)
    journal = run_dir / "journal.jsonl"
    lines = _lines(journal.read_bytes())
    lines[line - 1] = json.dumps({**json.loads(lines[line - 1]), **edit}).encode()
    journal.write_bytes(_join(lines))
    for command in ("verify", "resume"):
        code, _, err = cli([command, str(run_dir), *(["--ticks", "1"] if command == "resume" else [])])
        assert code == 2 and re.match(rf"tickmind: error: {re.escape(str(journal))}{message}", err), err
        assert err.count("\n") == 1


@CLI_FUZZ
@given(data=st.data())
def test_verify_and_resume_exit_cleanly_on_any_corrupted_run_file(pristine: Path, data: st.DataObject) -> None:
    """Exit 0 (read fine), 1 (replay diverged) or 2 with one line naming the run; a run that
    verifies also resumes."""
    name = data.draw(st.sampled_from(["journal.jsonl"] * 4 + ["hashes.tsv", "hashes.detail"]), label="file")
    corruptions = JOURNAL_CORRUPTIONS if name == "journal.jsonl" else BYTE_CORRUPTIONS
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        shutil.copytree(pristine, run_dir)
        target = run_dir / name
        target.write_bytes(data.draw(corrupted(target.read_bytes(), corruptions), label=name))
        verified = assert_exits_cleanly(["verify", str(run_dir)], run_dir)
        resumed = assert_exits_cleanly(["resume", str(run_dir), "--ticks", "1"], run_dir)
        event(f"{name}: verify exit {verified}, resume exit {resumed}")  # --hypothesis-show-statistics
        if name != "hashes.detail":  # verify reads the detail only to explain a divergence
            assert verified != 0 or resumed == 0, "a run that verifies resumes"


def test_a_run_stopped_before_its_first_tick_ended_resumes(tmp_path: Path) -> None:
    """Found by truncating hashes.detail: a hash file cut inside its magic (a process killed
    before the first flush) refused to resume. The headers are now flushed at creation, and a
    torn magic is read as no tick."""
    run_dir = tmp_path / "run"
    run = start_run(build_arena, CONFIG, 3, run_dir)
    assert (run_dir / "hashes.tsv").stat().st_size > 0 and (run_dir / "hashes.detail").stat().st_size > 0
    run.close()
    for name in ("hashes.tsv", "hashes.detail"):
        (run_dir / name).write_bytes((run_dir / name).read_bytes()[:3])
    assert cli(["resume", str(run_dir), "--ticks", "2"])[0] == 0
    assert cli(["verify", str(run_dir)])[0] == 0
