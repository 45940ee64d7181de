"""The request journal: every request and what the fake did with it, most recent last.

Bounded (the oldest entries fall off), readable through `GET /__mock/requests` and from
Python (`app.state.runtime.journal`), so a test can assert "the client sent 3 requests,
the third with x-stainless-retry-count 2" and the verdict can judge the client's retries.

Recording is on every request's path, reading is rare: a request leaves one small
tuple of the facts, and `Entry` objects are built from them only when read.
"""

from __future__ import annotations

import itertools
import math
import time
import zlib
from collections import deque
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from .wire import Exchange, Reply, StreamReply


@dataclass(slots=True)
class Entry:
    id: int
    started: float  # Unix time, seconds
    duration_ms: float
    method: str
    path: str
    operation: str | None
    request_id: str
    retry_count: int | None  # x-stainless-retry-count, as the client sent it
    client: str  # the API key (masked) and the user agent: who sent it
    body_hash: int | None  # tells a retry (same body) from a new call
    model: str | None
    stream: bool
    fixture: str | None
    fault: str | None  # what fired: "429 rate_limit_exceeded (rule_1)"
    fault_kind: str | None
    status: int  # 0 when the connection was dropped before any answer
    outcome: str  # in_flight, ok, error, connection, timeout, cut, disconnected (the client left)
    error_code: str | None
    retry_after: float | None  # seconds the answer asked the client to wait
    should_retry: str | None  # the answer's x-should-retry
    batch: str | None = None  # a line of this batch, run by the batch runner (no client sent it)
    # A realtime WebSocket session (realtime/socket.py): its kind and model, events in and
    # out (counts by type), the close code and who closed. None for HTTP requests.
    session: dict | None = None

    @property
    def ended(self) -> float:
        return self.started + self.duration_ms / 1000

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    """Entries in the order requests arrived. An entry is opened when its request starts
    (so a slow one is seen in flight, `outcome: "in_flight"`) and completed in place when
    it ends; clearing the journal drops the entries in flight too, so a request that
    started before a clear never reappears after it."""

    def __init__(self, size: int = 1000) -> None:
        self._records: deque[list] = deque(maxlen=size)
        self._ids = itertools.count(1)
        self._clock = time.time() - time.perf_counter()  # perf_counter → Unix time

    def open(self, ex: "Exchange", batch: str | None = None) -> list:
        """`batch`: the request is a line of that batch (envelope.py tells)."""
        header = ex.header
        # Only plain facts are kept: a journal's worth of exchanges (and the server objects
        # they hold) slowed every request of a busy server by a fifth.
        record = [
            next(self._ids), ex.started, None, ex.scope["method"], ex.scope["path"],
            ex.operation.id if ex.operation is not None else None, ex.request_id,
            header(b"x-stainless-retry-count"), header(b"authorization") or header(b"api-key"), header(b"user-agent"),
            0, None, "in_flight", None, None, None, None, None, batch, None,
        ]
        self._records.append(record)
        return record

    @staticmethod
    def close(record: list, ex: "Exchange", outcome: str, reply: "Reply | StreamReply | None", decision: Any) -> None:
        body = ex.body
        if isinstance(body, dict):
            record[15], record[16] = body.get("model"), body.get("stream")
        record[2] = time.perf_counter()
        record[10] = ex.response_status
        record[11] = ex.fixture
        record[12] = outcome
        record[13] = reply if reply is not None and reply.status >= 400 else None
        record[14] = decision
        record[17] = zlib.crc32(ex.raw_body) if ex.raw_body else None

    @staticmethod
    def note_session(record: list, facts: dict) -> None:
        """A realtime session's facts, once it has ended (`Entry.session`)."""
        record[19] = facts

    def entries(self, limit: int | None = None) -> list[Entry]:
        records = list(self._records)
        return [self._entry(*record) for record in (records[-limit:] if limit else records)]

    def _entry(self, entry_id, started, ended, method, path, operation, request_id, retry, key, agent, status,
               fixture, outcome, error, decision, model, stream, body_hash, batch, session=None) -> Entry:
        key, agent = key or b"", agent or b""
        retry_after = should_retry = code = None
        if error is not None:
            headers = dict(error.headers)
            wait = _seconds(headers.get(b"retry-after-ms"))
            retry_after = wait / 1000 if wait is not None else _seconds(headers.get(b"retry-after"))
            should = headers.get(b"x-should-retry")
            should_retry = should.decode() if should else None
            code = _error_code(getattr(error, "body", b""))
        return Entry(
            id=entry_id,
            started=self._clock + started,
            duration_ms=round(((ended if ended is not None else time.perf_counter()) - started) * 1000, 3),
            method=method,
            path=path,
            operation=operation,
            request_id=request_id.decode(),
            retry_count=_count(retry),
            client=f"{_mask(key.decode('latin-1'))} {agent.decode('latin-1')}".strip(),
            body_hash=body_hash,
            model=model if isinstance(model, str) else None,
            stream=bool(stream),
            fixture=fixture,
            fault=f"{decision.fault.describe()} ({decision.source})" if decision is not None else None,
            fault_kind=decision.fault.kind if decision is not None else None,
            status=status,
            outcome=outcome if outcome != "ok" or status < 400 else "error",
            error_code=code,
            retry_after=retry_after,
            should_retry=should_retry,
            batch=batch,
            session=session,
        )

    def clear(self) -> None:
        self._records.clear()

    def __len__(self) -> int:
        return len(self._records)


def _seconds(value: bytes | None) -> float | None:
    """A header's number of seconds (or ms), if it is one: whatever a fault or a client
    put in a header, reading the journal never fails."""
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _count(value: bytes | None) -> int | None:
    """`x-stainless-retry-count` as the client sent it, if it is a plausible count."""
    return int(value) if value is not None and 0 < len(value) <= 9 and value.isdigit() else None


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
