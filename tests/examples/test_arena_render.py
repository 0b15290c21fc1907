"""`tickmind render`: pictures of a recorded arena run, read back pixel by pixel."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import (
    Image,  # the `test` extra installs Pillow (the `render` extra's one package)
)

from ai import Faction
from engine import Position, replay_world, start_run
from engine.cli import main
from examples.arena import build_arena
from examples.arena._render import HEADER, TEAM_COLOURS, Viewport
from examples.arena._render_scene import glyph_table

REPO = Path(__file__).parent.parent.parent
TICKS = 240
MAP = (80.0, 50.0)  # the shipped scenario's map, which 20 agents fit
AGENT_RADIUS = 0.4  # the shipped scenario's agents
BIG = "1600x1040"  # ~20 px per metre: agents a metre apart are drawn apart


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("render") / "run"
    with start_run(build_arena, {"agents": 20}, 4, out) as run:
        run.world.run(TICKS)
    return out


def final_agents(run_dir: Path) -> list[tuple[int, float, float]]:
    """(team, x, y) of every agent after the last recorded tick, from a plain replay."""
    world = replay_world(run_dir)
    world.run(TICKS)
    agents = [(f.team, p.x, p.y) for _, (p, f) in world.get_components(Position, Faction)]
    world.close()
    return agents


def assert_team_colours_at_agents(image: Image.Image, run_dir: Path) -> None:
    """Each agent clear of others' discs, hp bars and letters shows its team's colour at its centre."""
    view = Viewport(image.size, *MAP)
    clear = 2.5 * AGENT_RADIUS * view.scale
    rgb = image.convert("RGB")
    pixels = [(team, view.to_px(x, y)) for team, x, y in final_agents(run_dir)]
    checked = set()
    for team, (px, py) in pixels:
        if any(0 < math.dist((px, py), other) < clear for _, other in pixels):
            continue
        assert rgb.getpixel((int(px), int(py))) == TEAM_COLOURS[team], (team, px, py)
        checked.add(team)
    assert checked == {0, 1}, "the run should leave isolated agents of both teams to check"


def test_png_is_the_last_frame_with_team_colours_at_the_agents(run_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "last.png"
    assert main(["render", str(run_dir), "--out", str(out), "--size", BIG]) == 0
    assert f"wrote {out}: the last frame of {TICKS} ticks" in capsys.readouterr().out
    image = Image.open(out)
    assert image.format == "PNG" and image.size == (1600, 1040)
    assert_team_colours_at_agents(image, run_dir)


def test_default_size_is_800_wide_with_the_map_shape_under_the_header(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "last.png"
    assert main(["render", str(run_dir), "--out", str(out)]) == 0
    assert Image.open(out).size == (800, 540)  # 36 header + 2 * 4 padding + 792 * 50 / 80, made even


def test_gif_has_one_frame_per_every_ticks_plus_the_last(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run.gif"
    assert main(["render", str(run_dir), "--out", str(out), "--every", "50", "--size", BIG]) == 0
    image = Image.open(out)
    assert image.format == "GIF"
    assert image.n_frames == len(range(0, TICKS, 50)) + 1  # ticks 0, 50, ..., 200, and 240
    assert image.size == (1600, 1040)
    assert image.info["duration"] == 830  # real time: 50 ticks at 60 Hz, in the GIF's hundredths of a second
    image.seek(image.n_frames - 1)
    assert_team_colours_at_agents(image, run_dir)
    image.seek(0)
    assert image.convert("RGB").getpixel((5, HEADER // 2)) != image.convert("RGB").getpixel((5, HEADER + 2))


def test_frames_follow_the_map_shape_and_y_points_up() -> None:
    view = Viewport((800, 540), *MAP)
    left, bottom = view.to_px(0.0, 0.0)
    right, top = view.to_px(*MAP)
    assert top < bottom and left < right and top >= HEADER
    assert math.isclose((right - left) / (bottom - top), MAP[0] / MAP[1])


def test_contact_sheet_lays_frames_out_in_a_grid(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sheet.png"
    assert main(["render", str(run_dir), "--out", str(out), "--sheet", "4", "--size", "200x150"]) == 0
    assert Image.open(out).size == (2 * 200, 2 * 150)  # ticks 0, 80, 160, 240: a 2x2 grid


def test_plots_show_each_team_and_the_plan_tier(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "plots.png"
    assert main(["render", str(run_dir), "--plots", str(out)]) == 0
    image = Image.open(out).convert("RGB")
    assert image.size == (800, 720)
    top, middle = image.crop((0, 0, 800, 240)), image.crop((0, 240, 800, 480))
    colours_top = {c for _, c in top.getcolors(1 << 16)}
    assert TEAM_COLOURS[0] in colours_top and TEAM_COLOURS[1] in colours_top  # one hp line per team
    assert TEAM_COLOURS[3] in {c for _, c in middle.getcolors(1 << 16)}  # the heuristic tier's line


def test_mp4_needs_imageio_ffmpeg_and_says_to_use_a_gif(run_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if not installed
    assert main(["render", str(run_dir), "--out", str(tmp_path / "run.mp4")]) == 2
    err = capsys.readouterr().err
    assert "imageio-ffmpeg" in err and ".gif" in err
    assert not (tmp_path / "run.mp4").exists()


def test_mp4_when_imageio_ffmpeg_is_installed(run_dir: Path, tmp_path: Path) -> None:
    """The test extra installs imageio-ffmpeg, so this always runs."""
    out = tmp_path / "run.mp4"
    assert main(["render", str(run_dir), "--out", str(out), "--every", "40", "--size", "320x240"]) == 0
    assert out.read_bytes()[4:8] == b"ftyp"


def test_missing_pillow_names_the_extra(run_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)
    assert main(["render", str(run_dir), "--out", str(tmp_path / "x.png")]) == 2
    assert "tickmind[render]" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{empty}", "--out", "{tmp}/a.gif"], "is not a tickmind run"),
        (["{tmp}/nowhere", "--out", "{tmp}/a.gif"], "is not a directory"),
        (["{run}", "--out", "{tmp}/a.bmp"], "unknown extension '.bmp'"),
        (["{run}", "--out", "{tmp}/a"], "unknown extension '(none)'"),
        (["{run}", "--out", "{tmp}/no/such/dir/a.gif"], "does not exist"),
        (["{run}", "--out", "{tmp}"], "unknown extension"),
        (["{run}", "--out", "{tmp}/d.gif"], "is a directory"),
        (["{run}", "--out", "{tmp}/afile/a.gif"], "afile is not a directory"),
        (["{run}", "--out", "{tmp}/same.png", "--plots", "{tmp}/same.png"], "the plots would overwrite the frames"),
        (["{run}", "--plots", "{tmp}/p.gif"], "--plots"),
        (["{run}", "--out", "{tmp}/a.gif", "--sheet", "4"], "--sheet"),
        (["{run}"], "give --out"),
    ],
)
def test_render_mistakes_get_one_line_and_exit_2(run_dir: Path, tmp_path: Path, capsys, args, message) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "d.gif").mkdir()
    (tmp_path / "afile").write_text("a file, not a directory")
    fill = {"run": str(run_dir), "tmp": str(tmp_path), "empty": str(tmp_path / "empty")}
    assert main(["render", *(a.format(**fill) for a in args)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_bad_size_and_every_are_usage_errors_without_a_traceback(run_dir: Path, tmp_path: Path) -> None:
    for args, message in [
        (["--size", "wide"], "is not WIDTHxHEIGHT"),
        (["--size", "10x10"], "64 to 8192"),
        (["--every", "0"], "must be at least 1"),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "engine", "render", str(run_dir), "--out", str(tmp_path / "a.png"), *args],
            check=False, capture_output=True, text=True, cwd=REPO,
        )
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_a_run_with_nothing_drawable_is_refused_by_name(tmp_path: Path, capsys) -> None:
    assert main(["demo", "--discs", "3", "--ticks", "5", "--out", str(tmp_path / "drift")]) == 0  # discs, no Position
    assert main(["render", str(tmp_path / "drift"), "--out", str(tmp_path / "d.png")]) == 2
    err = capsys.readouterr().err
    assert "examples.drift:build_world" in err and "nothing to draw" in err
    assert not (tmp_path / "d.png").exists()


def test_a_worlds_own_actions_get_letters_of_their_own_beside_the_core_ones() -> None:
    """A user's ``return_to_nest`` was drawn as ``R``, the legend saying ``R=retreat``."""
    table = glyph_table(["move_to", "retreat", "return_to_nest", "regroup", "forage", "rest", "rrr"])
    assert table["retreat"] == "R" and table["regroup"] == "G" and table["move_to"] == "M"
    assert table["return_to_nest"] == "E" and table["forage"] == "F" and table["rest"] == "S"
    assert table["rrr"] == "1", "no letter of its name is free: a digit"
    assert len(set(table.values())) == len(table)
