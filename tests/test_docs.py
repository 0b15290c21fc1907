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


def test_every_module_path_the_architecture_names_exists() -> None:
    import re

    root = DOCS.parent
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    paths = set(re.findall(r"`?((?:engine|ai|nav|physics|examples|tests|bench|docs)/[\w./*-]*)`?", text))
    assert len(paths) >= 20, paths
    missing = [p for p in sorted(paths) if not (list(root.glob(p)) if "*" in p else (root / p).exists())]
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_code_cites_the_architecture_not_a_missing_design_doc() -> None:
    root = DOCS.parent
    citing = [str(p) for d in ("engine", "ai", "nav", "physics", "examples") for p in (root / d).rglob("*.py") if "DESIGN.md" in p.read_text(encoding="utf-8")]
    assert not citing, citing
