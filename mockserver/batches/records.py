"""What the batches family keeps in the store: the batch object, as the real API sends it,
and the runner's progress beside it.

Record (state/store.py `record_shape`), kind `batch`:

    {"batch": <the batch object, as answered>,
     "clock": [run, t],        # where the server's clock stood at creation, and which run
     "job": <the runner's progress: runner.py `Job.state`> or null once the batch is over}

The object's keys are in the recorded order (BatchTests/*.json): `id, object, endpoint,
model, errors, input_file_id, completion_window, status, output_file_id, error_file_id,
created_at, in_progress_at, expires_at, finalizing_at, completed_at, failed_at,
expired_at, cancelling_at, cancelled_at, request_counts, usage, metadata`; a new batch is
`validating`, `model: null`, zeroed counts and usage, and expires 24 hours after creation.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..state import record_shape
from ..wire import Reply

HEX = "0123456789abcdef"
WINDOW = 24 * 3600  # completion_window "24h", the only one there is
LIVE = ("validating", "in_progress", "finalizing", "cancelling")  # not over yet: the runner has it
OVER = ("completed", "failed", "expired", "cancelled")

# Endpoints a batch may name (the SDK's literal, as the real API lists them); the fake runs
# the lines of those it serves, and answers the others' lines as an unserved URL (404).
ENDPOINTS = ("/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions", "/v1/moderations",
             "/v1/images/generations", "/v1/images/edits", "/v1/videos")

BATCH = record_shape("batch", {
    "type": "object", "required": ["batch", "clock", "job"],
    "properties": {
        "batch": {
            "type": "object",
            "required": ["id", "object", "endpoint", "input_file_id", "status", "created_at", "expires_at",
                         "request_counts", "usage"],
            "properties": {
                "id": {"type": "string"}, "endpoint": {"type": "string"}, "input_file_id": {"type": "string"},
                "status": {"enum": [*LIVE, *OVER]}, "created_at": {"type": "integer"},
                "expires_at": {"type": "integer"},
                "request_counts": {"type": "object", "required": ["total", "completed", "failed"],
                                   "additionalProperties": {"type": "integer"}},
                "usage": {"type": "object"},
            },
        },
        "clock": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}], "minItems": 2},
        "job": {"type": ["object", "null"]},
    },
})


def new_batch_id(runtime, created: int) -> str:
    """`batch_` and 32 hex, as recorded: the creation time (8 hex), 4 random, the `8190`
    every recorded batch id carries there, 16 random (batch_690467101b488190972cdce590a00ae3)."""
    rest = runtime.ids.make("", 20, HEX)
    return f"batch_{created & 0xFFFFFFFF:08x}{rest[:4]}8190{rest[4:]}"


def zero_usage() -> dict:
    return {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0}}


def batch_object(batch_id: str, endpoint: str, input_file_id: str, created_at: int, metadata: Any,
                 status: str = "validating") -> dict:
    return {
        "id": batch_id, "object": "batch", "endpoint": endpoint, "model": None, "errors": None,
        "input_file_id": input_file_id, "completion_window": "24h", "status": status, "output_file_id": None,
        "error_file_id": None, "created_at": created_at, "in_progress_at": None, "expires_at": created_at + WINDOW,
        "finalizing_at": None, "completed_at": None, "failed_at": None, "expired_at": None, "cancelling_at": None,
        "cancelled_at": None, "request_counts": {"total": 0, "completed": 0, "failed": 0}, "usage": zero_usage(),
        "metadata": metadata,
    }


def add_usage(total: dict, usage: Any) -> None:
    """A line's usage added to the batch's: chat's and embeddings' (`prompt_tokens`,
    `completion_tokens`) and the Responses API's (`input_tokens`, `output_tokens`) alike."""
    if not isinstance(usage, dict):
        return
    number = lambda value: value if isinstance(value, int) and not isinstance(value, bool) else 0  # noqa: E731
    given = usage.get("input_tokens", usage.get("prompt_tokens"))
    taken = usage.get("output_tokens", usage.get("completion_tokens"))
    cached = (usage.get("input_tokens_details") or usage.get("prompt_tokens_details") or {})
    reasoning = (usage.get("output_tokens_details") or usage.get("completion_tokens_details") or {})
    total["input_tokens"] += number(given)
    total["output_tokens"] += number(taken)
    total["total_tokens"] += number(given) + number(taken)
    if isinstance(cached, dict):
        total["input_tokens_details"]["cached_tokens"] += number(cached.get("cached_tokens"))
    if isinstance(reasoning, dict):
        total["output_tokens_details"]["reasoning_tokens"] += number(reasoning.get("reasoning_tokens"))


def reply(value: dict, compact: bool = False) -> Reply:
    """Indented two spaces, no final newline, as recorded (886 bytes for a new batch); the
    cancel endpoint's compact (714 bytes for the same batch, cancelling), as recorded too."""
    return Reply(orjson.dumps(value) if compact else orjson.dumps(value, option=orjson.OPT_INDENT_2))


def stand_in(batch_id: str, created_at: int) -> dict:
    """`--lenient`: a batch the fake never created reads as a finished one of no lines."""
    batch = batch_object(batch_id, "/v1/chat/completions", "file-mockserverStandInInput", created_at, None,
                         status="completed")
    batch.update(model="gpt-4o-mini-2024-07-18", in_progress_at=created_at, finalizing_at=created_at,
                 completed_at=created_at)
    return batch
