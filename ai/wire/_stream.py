"""Streaming answers: each agent's plan judged the moment its entry closes in the stream.

Why: a batch answer arrives over seconds, token by token. Waiting for the whole batch makes
the first agent wait for the last; judging each entry as it closes lets the planner (in
realtime mode) hand those agents their plans at the next tick boundary while the model is
still writing the rest. Measured as time-to-first-plan in bench/batching.py.

:class:`StreamingPlans` is fed the text chunks of one attempt. An entry closes at the end of
its line (plan-lines wire) or at the ``}`` that completes it (JSON wire). Each expected
agent gets at most one early verdict, judged by the same validator as the final answer
(:func:`ai.wire.validate_plan`); an entry for an agent outside the batch, or a second entry for
an agent already judged, is ignored here and left to the final parse.

Feeding is linear in the text: each chunk's characters are scanned once (JSON nesting is
tracked as they pass) and an entry is decoded only when it closes. Re-decoding an open entry
on every chunk was quadratic: a runaway model streaming one plan that never closes, a few
characters per event, kept the executor's thread busy for minutes (35 s for 400 KB).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .._plan import Tier
from ._formats import Wire, decode_line
from ._snapshot import AgentSnapshot
from ._validate import _DECODER, Verdict, _agent_id, validate_plan
from ._view import TierProfile

__all__ = ["StreamingPlans"]

_PLANS_OPENING = re.compile(r'\s*\{\s*"plans"\s*:\s*\[')
_BETWEEN = " \t\r\n,"
_STRUCTURE = re.compile(r'[{}\[\]"\\]')  # the only characters that change JSON nesting
_MAX_BUFFER = 1_000_000  # past this, early parsing stops; the final parse still judges


class StreamingPlans:
    """Incremental judge of one streamed answer. Not thread-safe: feed it from one thread."""

    def __init__(
        self,
        expected_ids: Sequence[int],
        snapshots: Sequence[AgentSnapshot] | Mapping[int, AgentSnapshot],
        *,
        tier: Tier | TierProfile = Tier.LLM,
        wire: Wire = "json",
        max_steps: int | None = None,
    ) -> None:
        self._snapshots = dict(snapshots) if isinstance(snapshots, Mapping) else {s.agent_id: s for s in snapshots}
        self._expected = frozenset(expected_ids)
        self._tier = tier
        self._wire = wire
        self._max_steps = max_steps
        self.judged: set[int] = set()  #: agents given an early verdict
        self.reset()

    def reset(self) -> None:
        """Forget the text so far (a retry starts the answer over); verdicts given stand."""
        self._buffer = ""
        self._pos = 0  # where the next unread entry (or line) starts
        self._opened = self._wire == "lines"
        self._scan = 0  # JSON: where the scan of the open entry resumes
        self._depth = 0  # JSON: nesting inside the open entry (0: between entries)
        self._in_string = False
        self._escaped_at = -1  # index of the character a backslash escapes
        self._stuck = False  # JSON: not an entry, or one that does not decode; the final parse judges

    def feed(self, chunk: str) -> list[Verdict]:
        """Add ``chunk``; return the verdicts of agents whose entries closed in it."""
        if len(self._buffer) > _MAX_BUFFER:
            return []
        self._buffer += chunk
        entries = self._lines() if self._wire == "lines" else self._json_entries()
        verdicts = []
        for entry in entries:
            agent = _agent_id(entry)
            if agent is None or agent not in self._expected or agent in self.judged:
                continue
            self.judged.add(agent)
            verdicts.append(validate_plan(entry, self._snapshots[agent], tier=self._tier, max_steps=self._max_steps))
        return verdicts

    def _lines(self) -> list[dict[str, object]]:
        end = self._buffer.rfind("\n", self._pos)
        if end < self._pos:
            return []
        lines = self._buffer[self._pos : end].splitlines()
        self._pos = end + 1
        return [entry for line in lines if (entry := decode_line(line)) is not None]

    def _json_entries(self) -> list[object]:
        if not self._opened:
            opening = _PLANS_OPENING.match(self._buffer)
            if opening is None:
                return []
            self._opened, self._pos = True, opening.end()
        entries: list[object] = []
        buffer = self._buffer
        while not self._stuck:
            if self._depth == 0:
                pos = self._pos
                while pos < len(buffer) and buffer[pos] in _BETWEEN:
                    pos += 1
                self._pos = pos
                if pos >= len(buffer):
                    return entries
                if buffer[pos] != "{":
                    self._stuck = True  # the list ended (or is not a list of objects)
                    return entries
                self._depth, self._scan = 1, pos + 1
            end = self._scan_to_close(buffer)
            if end is None:
                return entries  # the entry is still open: resume the scan at the next chunk
            try:
                entry, self._pos = _DECODER.raw_decode(buffer, self._pos)
            except (ValueError, RecursionError):
                self._stuck = True  # broken: the final parse will say
                return entries
            entries.append(entry)
        return entries

    def _scan_to_close(self, buffer: str) -> int | None:
        """Scan on from ``_scan``; the index after the open entry's closing brace, or None."""
        for match in _STRUCTURE.finditer(buffer, self._scan):
            char = match.group()
            if match.start() == self._escaped_at:
                continue
            if self._in_string:
                if char == "\\":
                    self._escaped_at = match.end()
                elif char == '"':
                    self._in_string = False
            elif char == '"':
                self._in_string = True
            elif char in "{[":
                self._depth += 1
            else:
                self._depth -= 1
                if self._depth == 0:
                    self._scan = match.end()
                    return self._scan
        self._scan = len(buffer)
        return None
