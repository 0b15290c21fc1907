"""Loading scenarios: the shipped default, and every kind of bad file a user could write."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from examples.arena import (
    DEFAULT_SCENARIO,
    MAX_CELLS,
    Box,
    Scenario,
    ScenarioError,
    load_scenario,
    parse_scenario,
)

# A small valid scenario; each bad case below changes one thing in it.
BASE = """\
[map]
width = 20.0
height = 10.0

[stats.soldier]
speed = 3.0

[[teams]]
name = "red"
colour = "#ff0000"
stats = "soldier"

[[teams]]
name = "blue"
colour = "#0000ff"
stats = { hp = 50.0, speed = 4.0 }

[[spawns]]
team = "red"
x = 1.0
y = 1.0
w = 4.0
h = 8.0
count = 10

[[spawns]]
team = "blue"
x = 15.0
y = 1.0
w = 4.0
h = 8.0
count = 10

[[walls]]
x = 9.0
y = 0.0
w = 2.0
h = 4.0

[[cover]]
x = 6.0
y = 5.0
w = 1.0
h = 1.0
"""


def edit(old: str, new: str, text: str = BASE) -> str:
    """Replace the one occurrence of ``old``; fails loudly if the base no longer has it once."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the base scenario"
    return text.replace(old, new)


def red_count(value: str) -> tuple[str, str]:
    """(old, new) that set the red zone's count, the first of the two."""
    tail = '\n\n[[spawns]]\nteam = "blue"'
    return "count = 10" + tail, f"count = {value}" + tail


def write(tmp_path: Path, text: str, name: str = "arena.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_base_scenario_is_valid(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, BASE))
    assert s.team_counts == (10, 10)
    assert s.team_stats(0).speed == 3.0 and s.team_stats(0).hp == 100.0  # named block + defaults
    assert s.team_stats(1).hp == 50.0  # inline table


def test_default_scenario_is_a_fair_100_agent_arena() -> None:
    s = load_scenario(DEFAULT_SCENARIO)
    assert s.agent_count == 100
    assert [t.name for t in s.teams] == ["red", "blue"]
    assert s.team_counts == (50, 50)
    assert 70 <= s.map.width <= 90 and 40 <= s.map.height <= 60
    assert len(s.walls) >= 6 and 10 <= len(s.cover) <= 20
    assert s.source.endswith("default.toml")

    def mirrored(box: Box) -> tuple[float, ...]:
        return (round(s.map.width - box.x - box.w, 9), box.y, box.w, box.h)

    for boxes in (s.walls, s.cover, s.spawns):
        as_given = sorted((b.x, b.y, b.w, b.h) for b in boxes)
        assert sorted(mirrored(b) for b in boxes) == as_given
    assert s.objective is not None and s.objective.x == s.map.width / 2


def test_toml_and_json_load_the_same_scenario(tmp_path: Path) -> None:
    s = load_scenario(DEFAULT_SCENARIO)
    again = load_scenario(write(tmp_path, json.dumps(s.model_dump()), "arena.JSON"))
    assert again == s


def test_model_validate_reports_paths_for_in_code_use() -> None:
    data = tomllib.loads(edit(*red_count("0")))
    with pytest.raises(ValidationError) as info:
        Scenario.model_validate(data)
    assert [e["loc"] for e in info.value.errors()] == [("spawns", 0, "count")]
    with pytest.raises(ScenarioError, match=r"^<scenario>: spawns\[0\]\.count: must be greater than or equal to 1"):
        parse_scenario(data)


def test_parse_scenario_words_type_errors_for_users() -> None:
    data = tomllib.loads(BASE) | {"walls": 3}
    with pytest.raises(ScenarioError, match=r"^<scenario>: walls: must be a list"):
        parse_scenario(data)
    with pytest.raises(ScenarioError, match=r"^json-api: map.width: required, but missing"):
        parse_scenario(tomllib.loads(BASE) | {"map": {"height": 3.0}}, "json-api")
    with pytest.raises(ScenarioError, match=r"^<scenario>: spawns: needs at least 1 entry, got 0$"):
        parse_scenario(tomllib.loads(BASE) | {"spawns": []})  # not pydantic's "Tuple should have..."
    spawns = tomllib.loads(BASE)["spawns"]
    bad = [{**zone, "count": -4} for zone in spawns]
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(tomllib.loads(BASE) | {"spawns": bad})
    assert [p.path for p in caught.value.problems] == [f"spawns[{i}].count" for i in range(len(bad))], "bad entries are not also 'no entries'"


def test_cross_field_rules_are_reported_under_their_own_paths() -> None:
    data = tomllib.loads(edit('team = "blue"', 'team = "blu"'))
    with pytest.raises(ValidationError) as info:
        Scenario.model_validate(data)
    assert {e["loc"] for e in info.value.errors()} == {("spawns", 1, "team"), ("teams", 1)}


def test_cover_inside_a_spawn_zone_takes_exactly_its_slots(tmp_path: Path) -> None:
    # the red zone is 4 x 8 m of 1 m slots (radius 0.4 m); a 2 x 2 m crate takes 4 of 32
    crate = BASE + "\n[[cover]]\nx = 2.0\ny = 2.0\nw = 2.0\nh = 2.0\n"
    load_scenario(write(tmp_path, edit(*red_count("28"), crate)))
    with pytest.raises(ScenarioError, match=r"spawns\[0\]\.count: .*room for 28 agents"):
        load_scenario(write(tmp_path, edit(*red_count("29"), crate)))


# (id, old text, new text, field path, reason fragment)
BAD_TOML = [
    ("unknown-field", 'colour = "#ff0000"', 'color = "#ff0000"', "teams[0].color", "unknown field (did you mean 'colour'?)"),
    ("unknown-top-level-field", "[map]", "seed = 3\n\n[map]", "seed", "unknown field"),
    ("unknown-stat-field", "speed = 3.0", "sped = 3.0", "stats.soldier.sped", "did you mean 'speed'?"),
    ("spawn-zone-over-wall", "x = 1.0", "x = 6.0", "spawns[0]", "overlaps walls[0]"),
    ("spawn-zone-outside-map", "x = 15.0", "x = 17.0", "spawns[1]", "outside the 20 x 10 m map"),
    ("spawn-zones-overlap", "x = 15.0", "x = 3.0", "spawns[1]", "overlaps spawns[0]"),
    ("cover-over-wall", "x = 6.0\ny = 5.0", "x = 8.5\ny = 3.5", "cover[0]", "overlaps walls[0]"),
    ("wall-outside-map", "w = 2.0\nh = 4.0", "w = 2.0\nh = 14.0", "walls[0]", "outside the 20 x 10 m map"),
    ("unknown-team", 'team = "blue"', 'team = "blu"', "spawns[1].team", "unknown team 'blu'"),
    ("unknown-stat-block", 'stats = "soldier"', 'stats = "soldiers"', "teams[0].stats", "no stat block named 'soldiers'"),
    ("duplicate-team", 'name = "blue"', 'name = "red"', "teams[1].name", "already the name of teams[0]"),
    ("negative-speed", "speed = 3.0", "speed = -1.0", "stats.soldier.speed", "must be greater than 0 (got -1.0)"),
    ("zero-speed-inline", "speed = 4.0", "speed = 0.0", "teams[1].stats.speed", "must be greater than 0"),
    ("zero-hp", "hp = 50.0", "hp = 0", "teams[1].stats.hp", "must be greater than 0"),
    ("zero-radius", "speed = 3.0", "radius = 0.0", "stats.soldier.radius", "must be greater than 0"),
    ("negative-radius", "speed = 4.0", "radius = -0.5", "teams[1].stats.radius", "must be greater than 0"),
    ("map-too-large", "width = 20.0\nheight = 10.0", "width = 100000.0\nheight = 90000.0", "map", f"limit of {MAX_CELLS:,}"),
    ("zone-too-small", *red_count("60"), "spawns[0].count", "room for 32 agents"),
    ("zero-count", *red_count("0"), "spawns[0].count", "greater than or equal to 1"),
    ("string-count", *red_count('"10"'), "spawns[0].count", "valid integer"),
    ("bool-count", *red_count("true"), "spawns[0].count", "valid integer"),
    ("infinite-size", "w = 4.0\nh = 8.0\ncount = 10\n\n[[spawns]]\nteam = \"blue\"",
     "w = inf\nh = 8.0\ncount = 10\n\n[[spawns]]\nteam = \"blue\"", "spawns[0].w", "finite number"),
    ("bad-colour", 'colour = "#0000ff"', 'colour = "blue"', "teams[1].colour", "'#rrggbb'"),
    ("bad-team-name", 'name = "red"', 'name = "red team"', "teams[0].name", "must start with a letter"),
    ("stats-not-a-table", 'stats = "soldier"', "stats = 5", "teams[0].stats", "name of a [stats] block"),
    ("objective-not-a-table", "[map]", "objective = 3\n\n[map]", "objective", "must be a table"),
    ("team-without-spawn", 'team = "blue"', 'team = "red"', "teams[1]", "no spawn zone"),
    ("objective-in-wall", "[map]", "[objective]\nx = 10.0\ny = 2.0\n\n[map]", "objective", "inside walls[0]"),
    ("negative-dt", "[map]", "[sim]\ndt = -0.1\n\n[map]", "sim.dt", "greater than or equal to 0.0001"),
]


@pytest.mark.parametrize(("old", "new", "path", "reason"), [c[1:] for c in BAD_TOML], ids=[c[0] for c in BAD_TOML])
def test_bad_toml_is_a_scenario_error_naming_file_field_and_reason(
    tmp_path: Path, old: str, new: str, path: str, reason: str
) -> None:
    file = write(tmp_path, edit(old, new))
    with pytest.raises(ScenarioError) as info:
        load_scenario(file)
    message = str(info.value)
    assert message.startswith(f"{file}: ")
    assert f"{path}: " in message
    assert any(p.path == path and reason in p.reason for p in info.value.problems), message


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    file = write(tmp_path, edit('colour = "#ff0000"', 'colour = "#ff0000'))
    with pytest.raises(ScenarioError) as info:
        load_scenario(file)
    assert str(info.value) == f"{file}: invalid TOML: Illegal character '\\n' (at line 10, column 18)"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("arena.json", b'{"map": {"width": 20.0\n "height": 10.0}}', "invalid JSON: Expecting ',' delimiter (line 2, column 2)"),
        ("arena.json", b'{"map": {}, "map": {}}', "invalid JSON: key 'map' appears twice"),
        ("arena.json", b"[1, 2]", "must be a table"),
        ("arena.json", b"[" * 100_000, "invalid JSON"),
        ("arena.toml", b"name = \"\xff\"", "not UTF-8 text (byte 0xff at offset 8)"),
        ("arena.toml", b"x = " + b"9" * 5000, "invalid TOML"),
        ("arena.yaml", b"map: {}", "cannot read extension '.yaml'; name the file .toml or .json"),
        ("arena", b"", "cannot read a file without an extension"),
    ],
)
def test_unreadable_content_is_a_scenario_error(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    file = tmp_path / name
    file.write_bytes(content)
    with pytest.raises(ScenarioError) as info:
        load_scenario(file)
    assert str(info.value).startswith(f"{file}: ")
    assert reason in str(info.value)


def test_missing_file_and_directory_are_scenario_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="nothere.toml: cannot read the file: No such file"):
        load_scenario(tmp_path / "nothere.toml")
    (tmp_path / "dir.toml").mkdir()
    with pytest.raises(ScenarioError, match="dir.toml: cannot read the file"):
        load_scenario(str(tmp_path / "dir.toml"))


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = edit("speed = 3.0", "speed = -3.0", edit('colour = "#0000ff"', 'colour = "navy"'))
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    assert {p.path for p in info.value.problems} == {"stats.soldier.speed", "teams[1].colour"}
    assert "2 problems: " in str(info.value)
