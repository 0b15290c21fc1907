"""The model side of planning: the threaded executor that runs model calls beside the tick
loop, the jobs it takes, its pacing, streamed answers, the request builder and run metrics.

Everything threaded or networked in ``ai`` lives here or in :mod:`ai.clients` and
:mod:`ai.serving`; the planning core (actions, plans, snapshots, prompt, schema, wire,
validation) imports none of it, so a replay or a heuristic run never starts a thread.
"""

from ._adaptive import AgentPace, batch_shape, probe_parallelism
from ._executor import BatchExecutor
from ._jobs import (
    BatchJob,
    ExecutorClosed,
    ExecutorError,
    JobResult,
    JobStatus,
    LatencyStats,
    QueueFull,
    RetryPolicy,
    StreamCallback,
)
from ._metrics import RunMetrics, server_report, write_summary
from ._request import batch_request, wire_for

__all__ = [
    "AgentPace",
    "BatchExecutor",
    "BatchJob",
    "ExecutorClosed",
    "ExecutorError",
    "JobResult",
    "JobStatus",
    "LatencyStats",
    "QueueFull",
    "RetryPolicy",
    "RunMetrics",
    "StreamCallback",
    "batch_request",
    "batch_shape",
    "probe_parallelism",
    "server_report",
    "write_summary",
    "wire_for",
]
