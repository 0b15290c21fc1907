"""Model clients: one async protocol, several backends, one error tree.

``LLMClient`` is the protocol; ``ScriptedClient`` answers from a script (tests; with
``sample_answers`` it answers any world's requests validly at random, seeded),
``OpenAIClient`` speaks ``/v1/chat/completions`` (vLLM, llama.cpp server, LM Studio, hosted
APIs) and ``OllamaClient`` speaks Ollama's ``/api/chat``. A client makes one attempt per call;
retries, timeouts and the circuit breaker belong to the batch executor (``ai.BatchExecutor``).
"""

from ._breaker import BreakerClient, BreakerState, CircuitBreaker
from ._errors import CircuitOpen, LLMBadResponse, LLMError, LLMRateLimited, LLMTimeout, LLMUnavailable, redact_url
from ._ollama import OllamaClient
from ._openai import OpenAIClient, SchemaFormat
from ._protocol import CompletionRequest, CompletionResult, LLMClient, TextCallback
from ._sampling import sample_answers, sample_grammar, sample_schema
from ._scripted import (
    STALL,
    RecordingSleep,
    Reply,
    ScriptedClient,
    ScriptItem,
    Stall,
    drop_agents,
    duplicate_agent,
    fail_then,
    follow_schema,
    plans_json,
    truncated,
)

__all__ = [
    "STALL",
    "BreakerClient",
    "BreakerState",
    "CircuitBreaker",
    "CircuitOpen",
    "CompletionRequest",
    "CompletionResult",
    "LLMBadResponse",
    "LLMClient",
    "LLMError",
    "LLMRateLimited",
    "LLMTimeout",
    "LLMUnavailable",
    "OllamaClient",
    "OpenAIClient",
    "RecordingSleep",
    "Reply",
    "ScriptItem",
    "SchemaFormat",
    "ScriptedClient",
    "Stall",
    "TextCallback",
    "drop_agents",
    "duplicate_agent",
    "fail_then",
    "follow_schema",
    "plans_json",
    "redact_url",
    "sample_answers",
    "sample_grammar",
    "sample_schema",
    "truncated",
]
