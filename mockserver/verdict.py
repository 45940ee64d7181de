"""A verdict on the client, from the journal: does its retry logic behave?

Requests are grouped into calls: a request that repeats the previous one from the same
client (same operation and body) after it failed is a retry of it, whether the SDK or
a wrapper such as tenacity sent it. Each finding names the requests that show it.
Entries still `in_flight` (a request the journal has seen start but not end) are left
out until they end; a batch's lines are left out altogether (the fake sent them, not the
client: they are only counted).

    retry_after_ignored     an attempt came sooner than the answer's retry-after allowed
    no_backoff              retries were not spaced out (immediate, or not growing)
    retry_storm             more attempts than the budget
    retried_non_retryable   retried what no retry can fix (insufficient_quota,
                            x-should-retry: false, a 4xx other than 408, 409, 429)
    gave_up_on_retryable    a retryable failure (429, 5xx, 408, 409, a dropped or timed-out
                            connection) was never retried (a client that hung up before its
                            answer, `disconnected`, chose to: its retry is still grouped)
    stream_cut_not_retried  (warning) a stream the fake cut short was never asked for again:
                            the client may have used partial output
    realtime_not_reconnected  a realtime session ended by a recoverable close (1006, 1011-1014)
                            or a refused upgrade (429, 5xx) was never opened again
    realtime_reconnect_no_backoff  a realtime session was reopened at once after such an end,
                            or the waits between reopenings did not grow
    retry_after_over_sdk_limit  (info) an official SDK did, by design, not honour a
                            retry-after longer than it accepts (see `SDKS`)

What the verdict knows of the official SDKs, told apart by the user agent in the
journal's `client` (`OpenAI/Python 3.57.0`, `AsyncOpenAI/Python ...`, `OpenAI/JS 7.57.0`,
`AzureOpenAI/JS ...`); for any other client the judgement above stands as written:

- Python (openai 3.57) honours a retry-after of at most 120 s (`MAX_RETRY_AFTER_DELAY`)
  and does not retry at all past it: such a failure left unretried is an info note, not
  `gave_up_on_retryable`. A retry past it cannot have come from the SDK, so an early one
  is still `retry_after_ignored`.
- Node (openai 7.57) honours a retry-after of at most 60 s and past it retries on its own
  backoff: such a retry sent by the SDK (`x-stainless-retry-count` above 0) is an info
  note and is judged as unguided for `no_backoff`, not as `retry_after_ignored`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from .journal import Entry

RETRYABLE_STATUS = {408, 409, 429}
CALL_WINDOW = 180.0  # seconds: a repeat that much later is a new call, not a retry
TOLERANCE = 0.05  # seconds of slack when comparing a wait with retry-after
IMMEDIATE = 0.1  # seconds: a retry sooner than this, unasked, has no backoff


@dataclass(frozen=True)
class Sdk:
    """What an official SDK does with a `retry-after` (or `retry-after-ms`) by design."""

    name: str
    honours_up_to: float  # seconds: the longest wait it honours
    past_it: str  # "gives_up": no retry at all; "backoff": its own backoff instead


SDKS = {
    # openai-python 3.57, openai/_base_client.py: `_should_retry` returns False, before it
    # even reads x-should-retry, when the wait `_parse_retry_after_header` reads (retry-after-ms
    # first, then retry-after) exceeds MAX_RETRY_AFTER_DELAY (openai/_constants.py: 2 * 60);
    # `_calculate_retry_timeout` honours 0 < wait <= MAX_RETRY_AFTER_DELAY.
    "Python": Sdk("the Python SDK", 120.0, "gives_up"),
    # openai-node 7.57, client.js `retryRequest`: a wait (retry-after-ms first, then
    # retry-after) that is not finite, negative or over 60 * 1000 ms is replaced by
    # `calculateDefaultRetryTimeoutMillis` (0.5 s doubling to 8 s, with jitter).
    "JS": Sdk("the Node SDK", 60.0, "backoff"),
}
_AGENT = re.compile(r"\b\w*OpenAI/(Python|JS) ")  # the SDKs' `${ClientClass}/${language} ${version}`


def sdk_of(entry: Entry) -> Sdk | None:
    """The official SDK that sent the request, from the user agent in `client`."""
    found = _AGENT.search(entry.client)
    return SDKS[found.group(1)] if found else None


def over_limit(sdk: Sdk | None, entry: Entry) -> bool:
    """The answer asked for a wait longer than `sdk` honours."""
    wait = entry.retry_after
    return sdk is not None and wait is not None and math.isfinite(wait) and wait > sdk.honours_up_to


@dataclass
class Call:
    key: tuple
    attempts: list[Entry] = field(default_factory=list)


def failed(entry: Entry) -> bool:
    """The client did not get its answer. A client that left before any answer came (its
    own timeout) did not; one that left a stream it had started reading chose to."""
    if entry.outcome == "disconnected":
        return entry.status == 0
    return entry.outcome in ("error", "connection", "timeout", "cut") or entry.status >= 400


def retryable(entry: Entry) -> bool:
    if entry.should_retry == "false" or entry.error_code == "insufficient_quota":
        return False
    if entry.should_retry == "true":
        return True
    if entry.outcome in ("connection", "timeout", "cut", "disconnected"):
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


def by_retrier(pairs: list[tuple[Entry, Entry]]) -> list[list[tuple[Entry, Entry]]]:
    """Retries grouped by who sent them, since each backs off on its own: an SDK's own
    retries (`x-stainless-retry-count` above 0) in runs, one per call it was given, and the
    retries of a wrapper around it (tenacity calling the SDK again: the count back at 0).
    A client that sends no count is one retrier."""
    if not any(c.retry_count for _, c in pairs):
        return [pairs]
    outer = [(p, c) for p, c in pairs if not c.retry_count]
    runs: list[list[tuple[Entry, Entry]]] = []
    for p, c in pairs:
        if c.retry_count:
            if not runs or c.retry_count == 1:
                runs.append([])
            runs[-1].append((p, c))
    return [outer, *runs]


def judge(entries: list[Entry], retry_budget: int = 5) -> dict[str, Any]:
    """The findings on the client's requests. A batch's lines are the fake's own requests
    (the batch runner sends them, and the Batch API retries none), so they are not judged:
    they are counted as `batch_lines` (present when there are any)."""
    batch_lines = sum(1 for e in entries if e.batch is not None)
    sessions = [e for e in entries if e.operation == REALTIME and e.outcome != "in_flight"]
    calls = group([e for e in entries if e.operation is not None and e.outcome != "in_flight" and e.batch is None
                   and e.operation != REALTIME])
    findings: list[dict[str, Any]] = []

    def find(kind: str, severity: str, message: str, attempts: list[Entry]) -> None:
        findings.append({"kind": kind, "severity": severity, "message": message,
                         "requests": [a.id for a in attempts]})

    for call in calls:
        attempts = call.attempts
        sdk = sdk_of(attempts[0])
        own_backoff: set[int] = set()  # retries the SDK spaced by its own backoff, by design
        for previous, current in zip(attempts, attempts[1:]):
            gap = current.started - previous.ended
            if (sdk is not None and sdk.past_it == "backoff" and over_limit(sdk, previous)
                    and (current.retry_count or 0) > 0):
                own_backoff.add(current.id)
                find("retry_after_over_sdk_limit", "info",
                     f"request {current.id} came {gap:.3f}s after request {previous.id}, whose answer asked for "
                     f"{previous.retry_after:g}s: {sdk.name} honours at most {sdk.honours_up_to:g}s and uses its "
                     "own backoff past it, by design", [previous, current])
            elif previous.retry_after is not None and gap + TOLERANCE < previous.retry_after:
                find("retry_after_ignored", "error",
                     f"request {current.id} came {gap:.3f}s after request {previous.id}, whose answer asked for "
                     f"{previous.retry_after:g}s", [previous, current])
            if not retryable(previous):
                why = (f"x-should-retry: {previous.should_retry}" if previous.should_retry == "false"
                       else previous.error_code or f"status {previous.status}")
                find("retried_non_retryable", "error",
                     f"request {current.id} retried request {previous.id}, which no retry can fix ({why})",
                     [previous, current])
        unguided = [(p, c) for p, c in zip(attempts, attempts[1:]) if p.retry_after is None or c.id in own_backoff]
        gaps = [c.started - p.ended for p, c in unguided]
        if any(gap < IMMEDIATE for gap in gaps):
            pair = next((p, c) for (p, c), gap in zip(unguided, gaps) if gap < IMMEDIATE)
            find("no_backoff", "error", f"request {pair[1].id} retried request {pair[0].id} after "
                 f"{pair[1].started - pair[0].ended:.3f}s, with no backoff", list(pair))
        else:
            for retrier in by_retrier(unguided):
                waits = [c.started - p.ended for p, c in retrier]
                if len(waits) >= 2 and waits[-1] <= waits[0]:
                    find("no_backoff", "warning",
                         f"the waits between retries did not grow ({', '.join(f'{g:.2f}s' for g in waits)})",
                         [c for _, c in retrier])
                    break
        if len(attempts) > retry_budget + 1:
            find("retry_storm", "error", f"{len(attempts)} attempts at one call, over the budget of {retry_budget} retries",
                 attempts)
        last = attempts[-1]
        # A cut stream has its own warning; a client that hung up chose not to wait.
        if len(attempts) == 1 and failed(last) and retryable(last) and last.outcome not in ("cut", "disconnected"):
            if sdk is not None and sdk.past_it == "gives_up" and over_limit(sdk, last):
                find("retry_after_over_sdk_limit", "info",
                     f"request {last.id}'s answer asked for {last.retry_after:g}s; {sdk.name} does not retry past "
                     f"{sdk.honours_up_to:g}s, by design, and raised the error to the caller", [last])
            else:
                find("gave_up_on_retryable", "error",
                     f"request {last.id} failed with something retryable ({last.error_code or last.outcome or last.status}) "
                     "and was never retried", [last])
        if last.outcome == "cut":
            find("stream_cut_not_retried", "warning",
                 f"request {last.id}'s stream was cut short and never asked for again: partial output may have been used",
                 [last])
    findings += realtime_findings(sessions)
    verdict = {
        "requests": sum(len(c.attempts) for c in calls),
        "calls": len(calls),
        "ok": not any(f["severity"] == "error" for f in findings),
        "findings": findings,
    }
    if batch_lines:
        verdict["batch_lines"] = batch_lines
    if sessions:
        verdict["realtime_sessions"] = len(sessions)
    return verdict


REALTIME = "realtime.connect"
RECOVERABLE_CLOSE = {1006, 1011, 1012, 1013, 1014}  # RFC 6455 / IANA: abnormal, server error, restart, try again


def lost(entry: Entry) -> bool:
    """A session the server ended in a way a client should recover from by reconnecting."""
    facts = entry.session or {}
    if entry.status in RETRYABLE_STATUS or entry.status >= 500:
        return True  # the upgrade was refused with 429 or 5xx
    return facts.get("closed_by") == "server" and facts.get("close_code") in RECOVERABLE_CLOSE


def realtime_findings(sessions: list[Entry]) -> list[dict[str, Any]]:
    """Realtime sessions judged per client: reconnected after a recoverable end, with back-off."""
    findings: list[dict[str, Any]] = []
    by_client: dict[str, list[Entry]] = {}
    for entry in sessions:
        by_client.setdefault(entry.client, []).append(entry)
    for entries in by_client.values():
        gaps: list[tuple[Entry, Entry, float]] = []
        for index, entry in enumerate(entries):
            if not lost(entry):
                continue
            after = entries[index + 1] if index + 1 < len(entries) else None
            code = (entry.session or {}).get("close_code")
            why = f"status {entry.status}" if entry.status >= 400 else f"close code {code}"
            if after is None:
                findings.append({"kind": "realtime_not_reconnected", "severity": "error",
                                 "message": f"realtime session {entry.id} ended with {why}, which a client should "
                                            "recover from, and was never reopened", "requests": [entry.id]})
                continue
            gaps.append((entry, after, after.started - entry.ended))
        immediate = next(((a, b, g) for a, b, g in gaps if g < IMMEDIATE), None)
        if immediate is not None:
            a, b, g = immediate
            findings.append({"kind": "realtime_reconnect_no_backoff", "severity": "error",
                             "message": f"realtime session {b.id} was opened {g:.3f}s after session {a.id} was lost, "
                                        "with no backoff", "requests": [a.id, b.id]})
        elif len(gaps) >= 2 and gaps[-1][2] <= gaps[0][2]:
            findings.append({"kind": "realtime_reconnect_no_backoff", "severity": "warning",
                             "message": "the waits before reconnecting did not grow ("
                                        + ", ".join(f"{g:.2f}s" for _, _, g in gaps) + ")",
                             "requests": [b.id for _, b, _ in gaps]})
    return findings
