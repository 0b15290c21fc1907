"""Writing rendered frames: one PNG (a frame or a contact sheet), a GIF, or an MP4.

The format is the output's extension. Pillow (the ``render`` extra) writes PNG and GIF;
MP4 needs ``imageio-ffmpeg``, which is not a dependency: without it the error says so and
suggests a GIF. Problems with the output path are found before any replay starts
(:func:`check_output`), so a long replay never ends in "cannot write".
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import TickmindError

from ._render import PALETTE, contact_sheet

if TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = ["FORMATS", "RenderError", "check_output", "require_pillow", "write_frames"]

FORMATS = (".gif", ".png", ".mp4")


class RenderError(TickmindError):
    """A render that cannot be made as asked (missing package, bad output path or extension)."""


def require_pillow() -> None:
    try:
        import PIL  # noqa: F401
    except ImportError:
        raise RenderError("drawing needs Pillow: pip install 'tickmind[render]'") from None


def check_output(path: Path, flag: str = "--out", formats: tuple[str, ...] = FORMATS) -> str:
    """The output format of ``path`` (its extension), or a RenderError naming the flag and fix."""
    suffix = path.suffix.lower()
    if suffix not in formats:
        raise RenderError(f"{flag} {path}: unknown extension {path.suffix or '(none)'!r}; use one of {', '.join(formats)}")
    if path.is_dir():
        raise RenderError(f"{flag} {path} is a directory; give a file name ending in {suffix}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        why = "is not a directory" if parent.exists() else "does not exist"
        raise RenderError(f"{flag} {path}: {parent} {why}")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise RenderError(f"{flag} {path}: not writable (permission denied)")
    if suffix == ".mp4":
        _ffmpeg()
    return suffix


def write_frames(frames: Iterable[PILImage.Image], path: Path, *, frame_s: float, sheet: int = 0) -> int:
    """Write ``frames`` to ``path`` in its extension's format; return the frames written.

    PNG keeps the last frame, or with ``sheet`` > 0 lays every frame out in a grid (pass the
    frames you want on it). ``frame_s`` is each frame's display time in GIF and MP4.
    """
    suffix = path.suffix.lower()
    try:
        if suffix == ".png":
            return _png(frames, path, sheet)
        if suffix == ".gif":
            return _gif(frames, path, frame_s)
        return _mp4(frames, path, frame_s)
    except OSError as exc:
        raise RenderError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _png(frames: Iterable[PILImage.Image], path: Path, sheet: int) -> int:
    kept = list(frames) if sheet else [_last(frames)]
    if not kept:
        raise RenderError("nothing to draw: the run recorded no frames")
    (contact_sheet(kept) if sheet else kept[0]).save(path, format="PNG")
    return len(kept)


def _last(frames: Iterable[PILImage.Image]) -> PILImage.Image:
    last = None
    for last in frames:
        pass
    if last is None:
        raise RenderError("nothing to draw: the run recorded no frames")
    return last


def _gif(frames: Iterable[PILImage.Image], path: Path, frame_s: float) -> int:
    from PIL import Image

    palette = _palette()
    # One byte per pixel from the start: a long run's frames stay small in memory, and the
    # fixed palette keeps every team colour exact (no per-frame colour drift).
    kept = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    if not kept:
        raise RenderError("nothing to draw: the run recorded no frames")
    # GIF stores hundredths of a second; browsers slow anything under 20 ms down to 100 ms.
    duration = max(20, round(frame_s * 100) * 10)
    kept[0].save(path, format="GIF", save_all=True, append_images=kept[1:], duration=duration, loop=0, optimize=False)
    return len(kept)


def _palette() -> PILImage.Image:
    from PIL import Image

    flat = [channel for colour in PALETTE for channel in colour]
    image = Image.new("P", (1, 1))
    image.putpalette(flat + flat[:3] * (256 - len(PALETTE)))
    return image


def _ffmpeg() -> Any:
    try:
        import imageio_ffmpeg  # type: ignore[import-untyped]
    except ImportError:
        raise RenderError("writing .mp4 needs imageio-ffmpeg (pip install imageio-ffmpeg); or write a .gif") from None
    return imageio_ffmpeg


def _mp4(frames: Iterable[PILImage.Image], path: Path, frame_s: float) -> int:
    writer = None
    count = 0
    try:
        for frame in frames:
            if writer is None:
                w, h = frame.size
                if w % 2 or h % 2:
                    raise RenderError(f"an .mp4 needs an even width and height, got {w}x{h}; change --size")
                writer = _ffmpeg().write_frames(str(path), (w, h), fps=1.0 / frame_s, macro_block_size=2, ffmpeg_log_level="error")
                writer.send(None)  # start ffmpeg
            writer.send(frame.convert("RGB").tobytes())
            count += 1
    finally:
        if writer is not None:
            writer.close()
    if not count:
        raise RenderError("nothing to draw: the run recorded no frames")
    return count
