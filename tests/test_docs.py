"""Every code block of the guide runs as written, in order, in a fresh directory."""

import importlib.util
from pathlib import Path

DOCS = Path(__file__).parent.parent / "docs"
_spec = importlib.util.spec_from_file_location("markdown_blocks", Path(__file__).parent / "markdown_blocks.py")
assert _spec is not None and _spec.loader is not None
markdown_blocks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(markdown_blocks)


def test_the_guide_runs_as_written(tmp_path: Path) -> None:
    blocks = markdown_blocks.run_blocks(DOCS / "guide.md", tmp_path)
    langs = [b.lang for b in blocks]
    assert langs.count("python") >= 6 and langs.count("sh") >= 4 and langs.count("output") >= 5
    assert (tmp_path / "runs" / "gardener" / "journal.jsonl").exists()


def test_a_failing_block_is_reported_with_its_line(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("intro\n\n```python\nprint('fine')\n```\n\n```output\nfine\n```\n\n```sh\nfalse\n```\n")
    try:
        markdown_blocks.run_blocks(page, tmp_path)
    except AssertionError as exc:
        assert str(exc).startswith("page.md:11: 'false' exited 1")
    else:
        raise AssertionError("a failing command must fail the docs test")
