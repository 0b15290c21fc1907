"""Inputs a factory queues (a scenario's scheduled events) replay once, not twice.

The factory is this folder's file, named by path: the tests trust it (``trust=True``)."""

import json
from pathlib import Path

import pytest

from engine import RunDirError, World, read_journal, replay_world, start_run, verify
from engine._hashfile import read_hashes
from engine._inputs import decode_input
from engine._resume import resume_run

FACTORY = f"{Path(__file__).parent / 'scheduled_world.py'}:build"
CONFIG = {"bumps_at": [3, 30]}


def tally(world: World) -> int:
    """Entity 1's count (its only component; the file is loaded per world, so is its class)."""
    return int(world.components_for_entity(1)[0].n)


def test_a_factory_scheduled_input_is_applied_once_live_and_in_replay(tmp_path: Path) -> None:
    with start_run(FACTORY, CONFIG, 0, tmp_path / "run") as run:
        run.world.run(10)
        assert tally(run.world) == 5
    assert read_journal(tmp_path / "run" / "journal.jsonl").records == [], "the factory's inputs are not journaled"
    replayed = replay_world(tmp_path / "run", trust=True)
    replayed.run(10)
    assert tally(replayed) == 5
    replayed.close()
    report = verify(tmp_path / "run", trust=True)
    assert report.ok, report.format()


def test_a_resumed_run_with_factory_inputs_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    with start_run(FACTORY, CONFIG, 0, tmp_path / "whole") as run:
        run.world.run(40)
    with start_run(FACTORY, CONFIG, 0, tmp_path / "part") as run:
        run.world.run(10)  # stopped between the two scheduled bumps
    with resume_run(tmp_path / "part", trust=True) as run:
        bump = type(run.world.pending_inputs()[0].input)  # the tick-30 one, requeued by the factory
        run.world.submit(bump(entity=1, by=1), apply_tick=35)
        assert tally(run.world) == 5
        run.world.run(30)
        assert tally(run.world) == 11, "both scheduled bumps and the live one, each once"
    journal = read_journal(tmp_path / "part" / "journal.jsonl").records
    assert [(r.t, r.seq) for r in journal] == [(35, 2)], "a live submit numbers after the factory's two"
    assert verify(tmp_path / "part", trust=True).ok
    assert read_hashes(tmp_path / "whole" / "hashes.tsv")[:35] == read_hashes(tmp_path / "part" / "hashes.tsv")[:35]



def test_a_journaled_input_that_cannot_apply_on_replay_names_its_line_and_tick(tmp_path: Path) -> None:
    with start_run(FACTORY, {"bumps_at": []}, 0, tmp_path / "run") as run:
        run.world.submit(decode_input("tests.scheduled.bump", {"entity": 1, "by": 2}), apply_tick=3)
        run.world.run(10)
    journal = tmp_path / "run" / "journal.jsonl"
    header, record = journal.read_text().splitlines()
    edited = json.loads(record)
    edited["entity"] = edited["data"]["entity"] = 99  # an entity the world never had
    journal.write_text(header + "\n" + json.dumps(edited) + "\n")
    expected = "journal.jsonl:2: the tests.scheduled.bump input for entity 99 cannot be applied at tick 3 on replay: entity 99 has no Tally"
    with pytest.raises(RunDirError, match=expected):
        verify(tmp_path / "run", trust=True)
