"""The request journal: every request and what the fake did with it, most recent last.

Bounded (the oldest entries fall off), readable through `GET /__mock/requests` and from
Python (`app.state.runtime.journal`), so a test can assert "the client sent 3 requests,
the third with x-stainless-retry-count 2" and the verdict can judge the client's retries.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from .wire import Exchange


@dataclass(slots=True)
class Entry:
    id: int
    started: float  # Unix time, seconds
    method: str
    path: str
    operation: str | None
    request_id: str
    retry_count: int | None  # x-stainless-retry-count, as the client sent it
    client: str  # the API key, masked, and the user agent: who sent it
    body_hash: str | None
    model: str | None = None
    stream: bool = False
    fixture: str | None = None
    fault: str | None = None  # what fired: "429 rate_limit_exceeded (rule_1)"
    fault_kind: str | None = None
    status: int = 0  # 0 when the connection was dropped before any answer
    outcome: str = "ok"  # ok, error, connection, timeout, cut
    error_code: str | None = None
    retry_after: float | None = None  # seconds the answer asked the client to wait
    should_retry: str | None = None  # the answer's x-should-retry
    duration_ms: float = 0.0

    @property
    def ended(self) -> float:
        return self.started + self.duration_ms / 1000

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    def __init__(self, size: int = 1000) -> None:
        self._entries: deque[Entry] = deque(maxlen=size)
        self._ids = itertools.count(1)

    def open(self, ex: "Exchange") -> Entry:
        retry = ex.header(b"x-stainless-retry-count")
        key = ex.header(b"authorization") or ex.header(b"api-key") or b""
        agent = ex.header(b"user-agent") or b""
        entry = Entry(
            id=next(self._ids),
            started=time.time(),
            method=ex.method,
            path=ex.path,
            operation=ex.operation.id if ex.operation is not None else None,
            request_id=ex.request_id.decode(),
            retry_count=int(retry) if retry is not None and retry.isdigit() else None,
            client=f"{_mask(key.decode('latin-1'))} {agent.decode('latin-1')}".strip(),
            body_hash=None,
        )
        self._entries.append(entry)
        return entry

    def close(self, entry: Entry, ex: "Exchange", outcome: str, reply: Any, decision: Any) -> None:
        entry.duration_ms = round((time.perf_counter() - ex.started) * 1000, 3)
        entry.status = ex.response_status
        entry.outcome = outcome if outcome != "ok" or entry.status < 400 else "error"
        entry.fixture = ex.fixture
        entry.operation = ex.operation.id if ex.operation is not None else None
        if decision is not None:
            entry.fault = f"{decision.fault.describe()} ({decision.source})"
            entry.fault_kind = decision.fault.kind
        if reply is not None and reply.status >= 400:
            headers = dict(reply.headers)
            wait = headers.get(b"retry-after-ms")
            entry.retry_after = float(wait) / 1000 if wait else _seconds(headers.get(b"retry-after"))
            should = headers.get(b"x-should-retry")
            entry.should_retry = should.decode() if should else None
            entry.error_code = _error_code(getattr(reply, "body", b""))
        if ex.raw_body:
            entry.body_hash = hashlib.blake2b(ex.raw_body, digest_size=8).hexdigest()
        if isinstance(ex.body, dict):
            entry.model = ex.body.get("model") if isinstance(ex.body.get("model"), str) else None
            entry.stream = bool(ex.body.get("stream"))

    def entries(self, limit: int | None = None) -> list[Entry]:
        items = list(self._entries)
        return items[-limit:] if limit else items

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _seconds(value: bytes | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _error_code(body: bytes) -> str | None:
    """The envelope's `code` (or `type`), to tell insufficient_quota from a retryable 429."""
    try:
        error = orjson.loads(body)["error"]
        return error.get("code") or error.get("type")
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return None


def _mask(key: str) -> str:
    key = key.removeprefix("Bearer ").strip()
    return f"{key[:6]}…{key[-4:]}" if len(key) > 12 else ("…" if key else "")
