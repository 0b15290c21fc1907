"""Run the code blocks of a Markdown document, as a reader would, in one directory.

Shared by the README and docs tests (loaded by file path: tests/ is not a package). The
conventions the documents follow:

- a block whose first line is ``# file: NAME`` (python, toml, ...) is saved as ``NAME``;
- any other ``python`` block is run as a script;
- a ``sh`` block is run line by line with bash, the venv's ``bin`` first on PATH, so
  ``tickmind`` and ``python`` are the ones under test;
- an ``output`` block lists lines the previous command must print (each appears in stdout).

Every step must exit 0. Blocks run in document order and share the directory, so a later
section can use the files of an earlier one.
"""

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Block", "code_blocks", "python_block", "run_blocks"]

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


@dataclass(frozen=True)
class Block:
    lang: str
    code: str
    line: int  #: 1-based line of the opening fence, for failure messages

    @property
    def file(self) -> str | None:
        first = self.code.split("\n", 1)[0]
        return first.removeprefix("# file:").strip() if first.startswith("# file:") else None


def code_blocks(text: str, heading: str | None = None) -> list[Block]:
    """Every fenced block of ``text`` (only those under ``## heading`` when given)."""
    offset = 0
    if heading is not None:
        marker = f"## {heading}\n"
        assert marker in text, f"no '## {heading}' section"
        offset = text.index(marker)
        end = text.find("\n## ", offset + len(marker))
        text = text[: end if end != -1 else len(text)]
    return [
        Block(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1)
        for m in _FENCE.finditer(text, offset)
    ]


def python_block(path: Path, heading: str, index: int = 0) -> str:
    """The python block number ``index`` (from 0) under ``## heading`` of ``path``."""
    blocks = [b for b in code_blocks(path.read_text(), heading) if b.lang == "python"]
    assert len(blocks) > index, f"no python block {index} under '## {heading}' in {path.name}"
    return blocks[index].code


def run_blocks(path: Path, cwd: Path) -> list[Block]:
    """Run every block of ``path`` in ``cwd``; return them (a test may check their count)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    blocks = code_blocks(path.read_text())
    stdout = ""
    for block in blocks:
        where = f"{path.name}:{block.line}"
        if block.file:
            target = cwd / block.file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.code)
        elif block.lang == "python":
            (cwd / "_block.py").write_text(block.code)
            stdout = _run([sys.executable, "_block.py"], cwd, env, where)
        elif block.lang == "sh":
            stdout = "".join(_run(["bash", "-ec", line], cwd, env, where) for line in block.code.splitlines() if line)
        elif block.lang == "output":
            missing = [line for line in block.code.splitlines() if line.strip() and line.strip() not in stdout]
            assert not missing, f"{where}: expected output lines not printed: {missing}\n--- got ---\n{stdout}"
        else:
            raise AssertionError(f"{where}: a ```{block.lang} block that is neither a file nor runnable")
    return blocks


def _run(cmd: list[str], cwd: Path, env: dict[str, str], where: str) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{where}: {cmd[-1]!r} exited {done.returncode}\n{done.stdout}{done.stderr}"
    return done.stdout
