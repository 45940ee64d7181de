"""Chaos testing against real retry logic: the official Python SDK (sync and async), and a
tenacity wrapper as the OpenAI guides recommend. The journal is the witness: it shows
how many requests the client sent, with which x-stainless-retry-count, how far apart."""

from __future__ import annotations

import asyncio
import time

import httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential, wait_random_exponential

from mockserver import Config

from .support.server import RunningServer

MESSAGES = [{"role": "user", "content": "chaos, please"}]


@pytest.fixture(scope="module")
def chaos():
    with RunningServer(Config(max_hold_seconds=5)) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(chaos):
    chaos.reset()
    yield
    chaos.audit.drain()





def sdk(chaos, retries: int, **options) -> OpenAI:
    return OpenAI(base_url=chaos.url, api_key="sk-chaos", max_retries=retries, **options)


def ask(client: OpenAI, **kwargs):
    return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **kwargs)


# --- 429 then success ----------------------------------------------------------------


@pytest.mark.parametrize("retries", [2, 5])
def test_429_then_success_honours_retry_after_ms(chaos, retries):
    chaos.add_rule(fault={"status": 429, "retry_after_ms": 200}, times=2)
    started = time.monotonic()
    assert ask(sdk(chaos, retries)).choices[0].message.content
    assert time.monotonic() - started >= 0.4
    entries = chaos.journal()
    assert [e["retry_count"] for e in entries] == [0, 1, 2]
    assert [e["status"] for e in entries] == [429, 429, 200]
    assert all(b["started"] - (a["started"] + a["duration_ms"] / 1000) >= 0.19 for a, b in zip(entries, entries[1:]))
    assert chaos.verdict()["ok"] is True


def test_429_with_no_retries_raises(chaos):
    chaos.add_rule(fault={"status": 429, "retry_after_ms": 200}, times=2)
    with pytest.raises(openai.RateLimitError) as raised:
        ask(sdk(chaos, 0))
    assert raised.value.code == "rate_limit_exceeded"
    assert raised.value.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert raised.value.response.headers["retry-after-ms"] == "200"
    assert len(chaos.journal()) == 1
    finding = chaos.verdict()["findings"][0]
    assert finding["kind"] == "gave_up_on_retryable" and finding["requests"] == [chaos.journal()[0]["id"]]


def test_async_client_retries_the_same_way(chaos):
    chaos.add_rule(fault={"status": 429, "retry_after_ms": 100}, times=2)

    async def run():
        client = AsyncOpenAI(base_url=chaos.url, api_key="sk-chaos", max_retries=2)
        return await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert asyncio.run(run()).choices[0].message.content
    assert [e["retry_count"] for e in chaos.journal()] == [0, 1, 2]


def test_retry_after_over_two_minutes_stops_the_python_sdk(chaos):
    """Python SDKs refuse to wait more than MAX_RETRY_AFTER_DELAY (120 s): no retry at all."""
    chaos.add_rule(fault={"status": 429, "retry_after": 121}, times=1)
    with pytest.raises(openai.RateLimitError):
        ask(sdk(chaos, 2))
    assert len(chaos.journal()) == 1


@pytest.mark.parametrize("header", ['{"status": 429, "retry_after": 200}', "429; retry-after=200"])
def test_verdict_knows_the_python_sdk_stops_past_two_minutes(chaos, header):
    """The SDK does not retry a retry-after over 120 s, by design: the verdict says so in a
    note and does not call it `gave_up_on_retryable`."""
    with pytest.raises(openai.RateLimitError) as raised:
        ask(sdk(chaos, 2), extra_headers={"X-Mock-Fault": header})
    assert raised.value.response.headers["retry-after"] == "200"
    (entry,) = chaos.journal()
    assert entry["retry_after"] == 200 and "OpenAI/Python" in entry["client"]
    verdict = chaos.verdict()
    assert verdict["ok"] is True, verdict
    assert [(f["kind"], f["severity"]) for f in verdict["findings"]] == [("retry_after_over_sdk_limit", "info")]
    assert "120" in verdict["findings"][0]["message"]


def test_verdict_still_flags_an_unknown_client_giving_up_past_two_minutes(chaos):
    """The SDKs' limits are theirs: a client the verdict does not know keeps today's judgement."""
    response = httpx.post(f"{chaos.url}/chat/completions", json={"model": "gpt-4o-mini", "messages": MESSAGES},
                          headers={"X-Mock-Fault": "429; retry-after=200", "User-Agent": "my-client/1.0"})
    assert response.status_code == 429
    assert [f["kind"] for f in chaos.verdict()["findings"]] == ["gave_up_on_retryable"]


# --- what must and must not be retried -----------------------------------------------


def test_400_is_not_retried(chaos):
    chaos.add_rule(fault={"status": 400, "message": "Bad request, as a fault"})
    with pytest.raises(openai.BadRequestError):
        ask(sdk(chaos, 2))
    assert len(chaos.journal()) == 1


def test_insufficient_quota_is_retried_by_status(chaos):
    """Pinned: the SDK retries any 429, insufficient_quota included, unless told not to.
    No retry can fix it; stop on `e.code == "insufficient_quota"` in your own code."""
    chaos.add_rule(fault="insufficient_quota")
    with pytest.raises(openai.RateLimitError) as raised:
        ask(sdk(chaos, 2))
    assert raised.value.code == "insufficient_quota"
    assert len(chaos.journal()) == 3
    kinds = {f["kind"] for f in chaos.verdict()["findings"]}
    assert "retried_non_retryable" in kinds


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 409])
def test_server_errors_are_retried(chaos, status):
    chaos.add_rule(fault={"status": status, "retry_after_ms": 10}, times=1)
    assert ask(sdk(chaos, 2)).choices[0].message.content
    assert [e["status"] for e in chaos.journal()] == [status, 200]


def test_502_is_the_proxy_html(chaos):
    chaos.add_rule(fault=502)
    response = httpx.post(f"{chaos.url}/chat/completions", json={"model": "gpt-4o-mini", "messages": MESSAGES})
    assert response.status_code == 502 and response.headers["content-type"] == "text/html"
    assert "<title>502 Bad Gateway</title>" in response.text
    with pytest.raises(openai.InternalServerError):
        ask(sdk(chaos, 0))


def test_x_should_retry_false_stops_retries(chaos):
    chaos.add_rule(fault={"status": 503, "should_retry": False})
    with pytest.raises(openai.InternalServerError):
        ask(sdk(chaos, 3))
    assert len(chaos.journal()) == 1


def test_x_should_retry_true_retries_a_400(chaos):
    chaos.add_rule(fault={"status": 400, "should_retry": True, "retry_after_ms": 10}, times=1)
    assert ask(sdk(chaos, 2)).choices[0].message.content
    assert len(chaos.journal()) == 2


# --- timeouts and the network --------------------------------------------------------


def test_hung_request_raises_api_timeout_error(chaos):
    chaos.add_rule(fault={"type": "timeout"})
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        ask(sdk(chaos, 0, timeout=0.5))
    assert 0.45 <= time.monotonic() - started < 3
    time.sleep(0.2)  # the server noticed the client leaving and let go of the request
    (entry,) = chaos.journal()
    assert entry["outcome"] == "timeout" and entry["duration_ms"] < 2000


def test_slow_answer_within_the_timeout(chaos):
    chaos.add_rule(fault={"type": "timeout", "hold_ms": 300, "then": "answer"})
    started = time.monotonic()
    assert ask(sdk(chaos, 0, timeout=5)).choices[0].message.content
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("kind", ["reset", "empty", "headers_then_close", "limit_data", "garbage"])
def test_connection_faults_raise_api_connection_error(chaos, kind):
    chaos.add_rule(fault={"type": kind, **({"bytes": 40} if kind == "limit_data" else {})})
    with pytest.raises(openai.APIConnectionError):
        ask(sdk(chaos, 0))
    assert chaos.journal()[0]["outcome"] == "connection"


def test_connection_errors_are_retried(chaos):
    chaos.add_rule(fault={"type": "reset"}, times=2)
    assert ask(sdk(chaos, 2)).choices[0].message.content
    assert [e["outcome"] for e in chaos.journal()] == ["connection", "connection", "ok"]


def test_latency_before_headers_with_jitter(chaos):
    chaos.add_rule(fault={"type": "latency", "delay_ms": 250, "jitter_ms": 50})
    started = time.monotonic()
    ask(sdk(chaos, 0))
    assert 0.2 <= time.monotonic() - started < 2


def test_slicer_dribbles_past_a_read_timeout(chaos):
    chaos.add_rule(fault={"type": "slicer", "slice_bytes": 8, "slice_delay_ms": 100})
    client = OpenAI(base_url=chaos.url, api_key="k", max_retries=0,
                    timeout=httpx.Timeout(5.0, read=0.05))
    with pytest.raises(openai.APITimeoutError):
        ask(client)


def test_malformed_json_reaches_the_caller(chaos):
    chaos.add_rule(fault={"type": "malformed_json"})
    with pytest.raises(ValueError):  # json.JSONDecodeError, raised by the SDK's parser
        ask(sdk(chaos, 0))


# --- streams -----------------------------------------------------------------------


def stream_text(client: OpenAI) -> tuple[str, str | None]:
    text, finish = "", None
    for chunk in ask(client, stream=True):
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
    return text, finish


def test_cut_stream_ends_silently_in_the_python_sdk(chaos):
    """Pinned: a chat stream that stops without [DONE] ends the iteration with no error and
    no retry. What the caller sees is a shorter text and no finish_reason: check for it."""
    full, finish = stream_text(sdk(chaos, 2))
    assert finish == "stop"
    chaos.add_rule(fault={"type": "stream_cut", "after_chunks": 3})
    cut, finish = stream_text(sdk(chaos, 2))
    assert finish is None and full.startswith(cut) and len(cut) < len(full)
    entries = chaos.journal()
    assert len(entries) == 2 and entries[1]["outcome"] == "cut"
    warning = [f for f in chaos.verdict()["findings"] if f["kind"] == "stream_cut_not_retried"]
    assert warning and warning[0]["severity"] == "warning" and warning[0]["requests"] == [entries[1]["id"]]


def test_stream_dropped_mid_body_raises_connection_error(chaos):
    chaos.add_rule(fault={"type": "stream_cut", "after_chunks": 3, "close": True})
    with pytest.raises(openai.APIConnectionError):
        stream_text(sdk(chaos, 2))
    assert len(chaos.journal()) == 1  # a mid-stream drop is not retried


def test_error_event_mid_stream_raises(chaos):
    chaos.add_rule(fault={"type": "stream_error", "after_chunks": 2, "message": "The server had an error while processing your request."})
    with pytest.raises(openai.APIError) as raised:
        stream_text(sdk(chaos, 2))
    assert "server had an error" in raised.value.message
    assert len(chaos.journal()) == 1


def test_stall_mid_stream_times_out(chaos):
    chaos.add_rule(fault={"type": "stall", "after_chunks": 2, "hold_ms": 3000})
    with pytest.raises(openai.APITimeoutError):
        stream_text(sdk(chaos, 0, timeout=0.5))


def test_stream_latency_paces_chunks(chaos):
    chaos.add_rule(fault={"type": "latency", "first_chunk_ms": 200, "chunk_delay_ms": 20})
    started = time.monotonic()
    stream_text(sdk(chaos, 0))
    assert time.monotonic() - started >= 0.3


# --- a tenacity wrapper, as the OpenAI cookbook recommends ---------------------------


def test_tenacity_backoff_wrapper(chaos):
    chaos.add_rule(fault={"status": 429, "retry_after_ms": 10}, times=2)
    client = sdk(chaos, 0)
    waits: list[float] = []

    @retry(
        retry=retry_if_exception_type((openai.RateLimitError, openai.APITimeoutError, openai.APIConnectionError)),
        wait=wait_random_exponential(multiplier=0.1, max=1),
        stop=stop_after_attempt(4),
        before_sleep=lambda state: waits.append(state.next_action.sleep),
    )
    def call():
        return ask(client)

    started = time.monotonic()
    assert call().choices[0].message.content
    elapsed = time.monotonic() - started
    entries = chaos.journal()
    assert len(entries) == 3 and len(waits) == 2
    assert elapsed >= sum(waits)
    assert all(e["retry_count"] == 0 for e in entries)  # the SDK itself did not retry
    assert chaos.verdict()["calls"] == 1  # ... and the journal still sees one call, retried


def test_tenacity_around_an_sdk_without_retries_meets_attempts(chaos):
    """`attempts=N` counts the requests of one call, not the SDK's retry count (which is 0 on
    every attempt here, as each is a new SDK call): two failures, then success."""
    client = sdk(chaos, 0)

    @retry(retry=retry_if_exception_type(openai.InternalServerError),
           wait=wait_exponential(multiplier=0.1, min=0.15), stop=stop_after_attempt(4))
    def call():
        return ask(client, extra_headers={"X-Mock-Fault": "503; attempts=2"})

    assert call().choices[0].message.content
    entries = chaos.journal()
    assert [e["status"] for e in entries] == [503, 503, 200]
    assert [e["retry_count"] for e in entries] == [0, 0, 0]
    verdict = chaos.verdict()
    assert verdict["ok"] is True and verdict["calls"] == 1, verdict


def test_sdk_retries_meet_attempts_as_before(chaos):
    """The SDK's own retries against the same header: as before, and the same call made
    again fails twice again (letting one through starts the count again)."""
    client = sdk(chaos, 2)
    for _ in range(2):
        assert ask(client, extra_headers={"X-Mock-Fault": "503; attempts=2"}).choices[0].message.content
    entries = chaos.journal()
    assert [e["status"] for e in entries] == [503, 503, 200] * 2
    assert [e["retry_count"] for e in entries] == [0, 1, 2] * 2
    assert chaos.verdict()["ok"] is True


def test_attempts_count_a_hand_written_loop_per_call(chaos):
    """No SDK headers at all: the count is per call (client, operation, body, fault asked for)."""
    def post(text: str, fault: str = "503; attempts=2") -> int:
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
        return httpx.post(f"{chaos.url}/chat/completions", json=body, headers={"X-Mock-Fault": fault}).status_code

    assert [post("a"), post("b"), post("a"), post("a"), post("b"), post("b")] == [503, 503, 503, 200, 503, 200]
    assert [post("a", "503; attempts=1"), post("a", "503; attempts=1")] == [503, 200]  # another fault, another count
    assert post("a") == 503  # the first call's count started again when it was let through
    chaos.reset()  # ... and a reset forgets every count
    assert [post("b"), post("b"), post("b")] == [503, 503, 200]


def test_attempts_on_a_rule_fault(chaos):
    """A rule's fault takes `attempts` too: each call fails that many times, then passes."""
    rule = chaos.add_rule(fault={"status": 503, "attempts": 1})

    @retry(retry=retry_if_exception_type(openai.InternalServerError),
           wait=wait_exponential(multiplier=0.1, min=0.15), stop=stop_after_attempt(3))
    def call(text: str):
        return sdk(chaos, 0).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])

    assert call("one").choices and call("two").choices
    assert [e["status"] for e in chaos.journal()] == [503, 200, 503, 200]
    described = next(r for r in httpx.get(f"{chaos.origin}/__mock/faults").json()["rules"] if r["id"] == rule["id"])
    assert (described["matched"], described["fired"]) == (4, 2)
    assert chaos.verdict()["ok"] is True


# --- the Responses API -------------------------------------------------------------------


def test_responses_error_event_is_yielded_by_the_python_sdk(chaos):
    """Python hands the `error` event to the caller as an event (Node raises it); the
    stream helper then raises for the missing `response.completed`."""
    client = OpenAI(base_url=chaos.url, api_key="sk-test", max_retries=2)
    headers = {"X-Mock-Fault": "stream_error; after_chunks=4"}
    events = list(client.responses.create(model="gpt-4o-mini", input="chaos", stream=True, extra_headers=headers))
    assert [e.type for e in events][-1] == "error" and events[-1].sequence_number == 4
    assert events[-1].code == "server_error" and "server had an error" in events[-1].message
    with pytest.raises(RuntimeError, match="response.completed"):
        with client.responses.stream(model="gpt-4o-mini", input="chaos", extra_headers=headers) as stream:
            for _ in stream:
                pass
            stream.get_final_response()
    assert len(chaos.journal()) == 2  # neither was retried


def test_responses_429_is_retried_like_chat(chaos):
    client = OpenAI(base_url=chaos.url, api_key="sk-test", max_retries=2)
    response = client.responses.create(model="gpt-4o-mini", input="chaos",
                                       extra_headers={"X-Mock-Fault": "429; retry-after-ms=20; attempts=2"})
    assert response.status == "completed"
    assert [entry["status"] for entry in chaos.journal()] == [429, 429, 200]


# --- what the verdict knows of the SDKs ----------------------------------------------------


def journal_entry(**given):
    """A journal entry as the verdict reads it, with plain defaults for what a test leaves out."""
    from dataclasses import fields

    from mockserver.journal import Entry

    defaults = {"id": 1, "started": 1000.0, "duration_ms": 1.0, "method": "POST", "path": "/v1/chat/completions",
                "operation": "chat.completions.create", "request_id": "req_1", "client": "sk-tes…7890 OpenAI/JS 7.57.0",
                "body_hash": 1, "stream": False, "status": 200, "outcome": "ok"}
    return Entry(**{f.name: given.get(f.name, defaults.get(f.name)) for f in fields(Entry)})


def node_call(client: str, retry_counts=(0, 1)) -> list:
    first = journal_entry(id=1, client=client, status=429, outcome="error", error_code="rate_limit_exceeded",
                          retry_after=61.0, retry_count=retry_counts[0])
    second = journal_entry(id=2, client=client, started=first.ended + 0.45, retry_count=retry_counts[1])
    return [first, second]


def test_verdict_knows_the_node_sdk_backs_off_past_a_minute():
    """The Node SDK replaces a retry-after over 60 s with its own backoff (client.js,
    retryRequest): not `retry_after_ignored` when the SDK sent the retry."""
    from mockserver.verdict import judge

    verdict = judge(node_call("sk-tes…7890 OpenAI/JS 7.57.0"))
    assert verdict["ok"] is True and [f["kind"] for f in verdict["findings"]] == ["retry_after_over_sdk_limit"]
    assert judge(node_call("… AzureOpenAI/JS 7.57.0"))["ok"] is True
    # A retry the SDK did not send (its retry count is 0: a wrapper's), or an unknown client: as before.
    assert [f["kind"] for f in judge(node_call("… OpenAI/JS 7.57.0", (0, 0)))["findings"]] == ["retry_after_ignored"]
    assert [f["kind"] for f in judge(node_call("… curl/8.0"))["findings"]] == ["retry_after_ignored"]
    # A Python client never retries past 120 s, and 61 s it honours: a quick retry is not its own.
    assert [f["kind"] for f in judge(node_call("… OpenAI/Python 3.57.0"))["findings"]] == ["retry_after_ignored"]


def test_verdict_ignores_requests_in_flight():
    from mockserver.verdict import judge

    failed = journal_entry(id=1, status=503, outcome="error", client="… OpenAI/Python 3.57.0")
    retrying = journal_entry(id=2, started=failed.ended + 0.01, status=0, outcome="in_flight", client=failed.client)
    assert judge([failed, retrying]) == judge([failed])
    assert judge([retrying]) == {"requests": 0, "calls": 0, "ok": True, "findings": []}


def test_tenacity_around_a_retrying_sdk_backs_off_per_retrier(chaos):
    """tenacity around an SDK that retries twice itself: each retrier backs off on its own
    (the SDK's backoff starts again inside each tenacity attempt), which is no warning."""
    client = sdk(chaos, 2)

    @retry(retry=retry_if_exception_type(openai.InternalServerError),
           wait=wait_exponential(multiplier=0.2, min=0.2), stop=stop_after_attempt(2))
    def call():
        return ask(client, extra_headers={"X-Mock-Fault": "500; attempts=5"})

    assert call().choices[0].message.content
    entries = chaos.journal()
    assert [e["retry_count"] for e in entries] == [0, 1, 2, 0, 1, 2]
    verdict = chaos.verdict()
    assert verdict["calls"] == 1 and verdict["ok"], verdict
    assert [f for f in verdict["findings"] if f["kind"] == "no_backoff"] == [], verdict
