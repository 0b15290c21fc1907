"""What goes to the model and what comes back: an agent's view at a tier, the system prompt
and state lines, the answer's JSON schema and line grammar (the two wires), and the parser
and validator that turn an answer (whole, or entry by entry as it streams) into plans the
agent can carry out.

Deterministic and single-threaded: a snapshot is read from the world's components at a tick
boundary, and everything after it is a pure function of snapshots and registered actions. The
planner (:mod:`ai.planner`) and the model side (:mod:`ai.llm`) both build on it, and a
custom client or a benchmark can use it alone.
"""

from ._formats import WIRES, Wire, WireUnsupported, decode_lines, lines_grammar
from ._prompt import PromptBatch, agent_chars, encode_batch, map_line, system_prompt
from ._schema import action_schema, batch_schema, plan_schema
from ._snapshot import (
    DEFAULT_ROLES,
    AgentSnapshot,
    FieldRole,
    MapBounds,
    Scalar,
    SeenEntity,
    SnapshotConfig,
    build_snapshot,
    prompt_attrs,
    sanitize_text,
)
from ._stream import StreamingPlans
from ._validate import (
    MAX_RESPONSE_CHARS,
    BatchOutcome,
    Rejection,
    RejectReason,
    ValidPlan,
    parse_batch_response,
    validate_plan,
)
from ._view import FULL_TIER, SIMPLE_TIER, AgentView, TierProfile, profile_for, view_of

__all__ = [
    "DEFAULT_ROLES",
    "FULL_TIER",
    "MAX_RESPONSE_CHARS",
    "SIMPLE_TIER",
    "WIRES",
    "AgentSnapshot",
    "AgentView",
    "BatchOutcome",
    "FieldRole",
    "MapBounds",
    "PromptBatch",
    "RejectReason",
    "Rejection",
    "Scalar",
    "SeenEntity",
    "SnapshotConfig",
    "StreamingPlans",
    "TierProfile",
    "ValidPlan",
    "Wire",
    "WireUnsupported",
    "action_schema",
    "agent_chars",
    "batch_schema",
    "build_snapshot",
    "decode_lines",
    "encode_batch",
    "lines_grammar",
    "map_line",
    "parse_batch_response",
    "plan_schema",
    "prompt_attrs",
    "profile_for",
    "sanitize_text",
    "system_prompt",
    "validate_plan",
    "view_of",
]
