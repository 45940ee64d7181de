"""A verdict on the client, from the journal: does its retry logic behave?

Requests are grouped into calls: a request that repeats the previous one from the same
client (same operation and body) after it failed is a retry of it, whether the SDK or
a wrapper such as tenacity sent it. Each finding names the requests that show it.

    retry_after_ignored     an attempt came sooner than the answer's retry-after allowed
    no_backoff              retries were not spaced out (immediate, or not growing)
    retry_storm             more attempts than the budget
    retried_non_retryable   retried what no retry can fix (insufficient_quota,
                            x-should-retry: false, a 4xx other than 408, 409, 429)
    gave_up_on_retryable    a retryable failure (429, 5xx, 408, 409, a dropped or timed-out
                            connection) was never retried
    stream_cut_not_retried  (warning) a stream the fake cut short was never asked for again:
                            the client may have used partial output
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .journal import Entry

RETRYABLE_STATUS = {408, 409, 429}
CALL_WINDOW = 180.0  # seconds: a repeat that much later is a new call, not a retry
TOLERANCE = 0.05  # seconds of slack when comparing a wait with retry-after
IMMEDIATE = 0.1  # seconds: a retry sooner than this, unasked, has no backoff


@dataclass
class Call:
    key: tuple
    attempts: list[Entry] = field(default_factory=list)


def failed(entry: Entry) -> bool:
    return entry.outcome in ("error", "connection", "timeout", "cut") or entry.status >= 400


def retryable(entry: Entry) -> bool:
    if entry.should_retry == "false" or entry.error_code == "insufficient_quota":
        return False
    if entry.should_retry == "true":
        return True
    if entry.outcome in ("connection", "timeout", "cut"):
        return True
    return entry.status in RETRYABLE_STATUS or entry.status >= 500


def group(entries: list[Entry]) -> list[Call]:
    calls: list[Call] = []
    open_calls: dict[tuple, Call] = {}
    for entry in entries:
        key = (entry.client, entry.operation, entry.method, entry.path, entry.body_hash)
        call = open_calls.get(key)
        last = call.attempts[-1] if call else None
        if last is not None and failed(last) and entry.started - last.ended <= CALL_WINDOW:
            call.attempts.append(entry)
        else:
            call = Call(key, [entry])
            calls.append(call)
            open_calls[key] = call
    return calls


def judge(entries: list[Entry], retry_budget: int = 5) -> dict[str, Any]:
    calls = group([e for e in entries if e.operation is not None])
    findings: list[dict[str, Any]] = []

    def find(kind: str, severity: str, message: str, attempts: list[Entry]) -> None:
        findings.append({"kind": kind, "severity": severity, "message": message,
                         "requests": [a.id for a in attempts]})

    for call in calls:
        attempts = call.attempts
        for previous, current in zip(attempts, attempts[1:]):
            gap = current.started - previous.ended
            if previous.retry_after is not None and gap + TOLERANCE < previous.retry_after:
                find("retry_after_ignored", "error",
                     f"request {current.id} came {gap:.3f}s after request {previous.id}, whose answer asked for "
                     f"{previous.retry_after:g}s", [previous, current])
            if not retryable(previous):
                why = (f"x-should-retry: {previous.should_retry}" if previous.should_retry == "false"
                       else previous.error_code or f"status {previous.status}")
                find("retried_non_retryable", "error",
                     f"request {current.id} retried request {previous.id}, which no retry can fix ({why})",
                     [previous, current])
        unguided = [(p, c) for p, c in zip(attempts, attempts[1:]) if p.retry_after is None]
        gaps = [c.started - p.ended for p, c in unguided]
        if any(gap < IMMEDIATE for gap in gaps):
            pair = next((p, c) for (p, c), gap in zip(unguided, gaps) if gap < IMMEDIATE)
            find("no_backoff", "error", f"request {pair[1].id} retried request {pair[0].id} after "
                 f"{pair[1].started - pair[0].ended:.3f}s, with no backoff", list(pair))
        elif len(gaps) >= 2 and gaps[-1] <= gaps[0]:
            find("no_backoff", "warning", f"the waits between retries did not grow ({', '.join(f'{g:.2f}s' for g in gaps)})",
                 [c for _, c in unguided])
        if len(attempts) > retry_budget + 1:
            find("retry_storm", "error", f"{len(attempts)} attempts at one call, over the budget of {retry_budget} retries",
                 attempts)
        last = attempts[-1]
        if len(attempts) == 1 and failed(last) and retryable(last) and last.outcome != "cut":
            find("gave_up_on_retryable", "error",
                 f"request {last.id} failed with something retryable ({last.error_code or last.outcome or last.status}) "
                 "and was never retried", [last])
        if last.outcome == "cut":
            find("stream_cut_not_retried", "warning",
                 f"request {last.id}'s stream was cut short and never asked for again: partial output may have been used",
                 [last])
    return {
        "requests": sum(len(c.attempts) for c in calls),
        "calls": len(calls),
        "ok": not any(f["severity"] == "error" for f in findings),
        "findings": findings,
    }
