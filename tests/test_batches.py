"""Batches through the official SDK: upload a JSONL file, create, poll to completion, download
and parse the output and error files; cancel mid-run; validation failures with their
`errors`; expiry on an advanced clock with partial results; a seeded fault rule failing some
lines; a restart with `--state` (and a `kill -9`) mid-batch; the real errors for bad input,
never a 500; the object and output lines against their contracts; one batch through the Node
SDK."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx
import openai
import pytest
from openai.pagination import SyncCursorPage
from openai.types import Batch

from mockserver import Config
from mockserver.config import RateLimit

from .support.families import agrees_with_spec, holds, sdk
from .support.process import free_port, serve
from .support.server import RunningServer

BATCH_KEYS = ["id", "object", "endpoint", "model", "errors", "input_file_id", "completion_window", "status",
              "output_file_id", "error_file_id", "created_at", "in_progress_at", "expires_at", "finalizing_at",
              "completed_at", "failed_at", "expired_at", "cancelling_at", "cancelled_at", "request_counts", "usage",
              "metadata"]
OVER = ("completed", "failed", "expired", "cancelled")
NODE_DIR = Path(__file__).resolve().parent / "node"


def chat_line(n: int, model: str = "gpt-4o-mini", **body) -> dict:
    return {"custom_id": f"request-{n}", "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": model, "messages": [{"role": "user", "content": f"Question number {n}?"}], **body}}


def jsonl(items) -> bytes:
    return b"".join((item if isinstance(item, bytes) else json.dumps(item).encode()) + b"\n" for item in items)


def upload(client: openai.OpenAI, items, name: str = "input.jsonl") -> str:
    return client.files.create(file=(name, jsonl(items)), purpose="batch").id


def start(client: openai.OpenAI, items, endpoint: str = "/v1/chat/completions", **options) -> Batch:
    return client.batches.create(input_file_id=upload(client, items), endpoint=endpoint, completion_window="24h",
                                 **options)


def wait(client: openai.OpenAI, batch_id: str, until=OVER, timeout: float = 20) -> Batch:
    deadline = time.monotonic() + timeout
    while True:
        batch = client.batches.retrieve(batch_id)
        if batch.status in until:
            return batch
        assert time.monotonic() < deadline, f"batch still {batch.status}: {batch}"
        time.sleep(0.02)


def read_lines(client: openai.OpenAI, file_id: str | None) -> list[dict]:
    if file_id is None:
        return []
    lines = [json.loads(line) for line in client.files.content(file_id).text.splitlines()]
    for line in lines:
        holds("batches.output.line", line)
    return lines


def advance(running: RunningServer, seconds: float) -> None:
    httpx.post(f"{running.origin}/__mock/clock", json={"advance": seconds}, timeout=70).raise_for_status()


def frozen(make_server, **changes) -> RunningServer:
    """A fake whose clock moves only when the test advances it: every state is exact."""
    return make_server(time_scale=0, **changes)


# --- the whole flow ---------------------------------------------------------------------


def test_a_batch_runs_to_completion_within_a_second(client, http, server):
    items = [chat_line(n) for n in range(20)]
    began = time.monotonic()
    created = start(client, items, metadata={"job": "nightly"})
    assert (created.status, created.model, created.metadata) == ("validating", None, {"job": "nightly"})
    batch = wait(client, created.id)
    assert time.monotonic() - began < 1.0, "a small batch completes within a second of wall time"
    assert batch.status == "completed" and batch.error_file_id is None and batch.errors is None
    assert batch.request_counts.model_dump() == {"total": 20, "completed": 20, "failed": 0}
    assert batch.model == "gpt-4o-mini-2024-07-18"  # the snapshot, as the lines' answers name it
    assert batch.created_at <= batch.in_progress_at <= batch.finalizing_at <= batch.completed_at < batch.expires_at
    raw = http.get(f"/v1/batches/{batch.id}").json()
    assert list(raw) == BATCH_KEYS
    holds("batches.create.response", raw, Batch)

    output = read_lines(client, batch.output_file_id)
    assert sorted(line["custom_id"] for line in output) == sorted(item["custom_id"] for item in items)
    assert [line["custom_id"] for line in output] != [item["custom_id"] for item in items]  # not input order
    for line in output:
        assert list(line) == ["id", "custom_id", "response", "error"] and line["error"] is None
        assert line["id"].startswith("batch_req_") and len(line["id"]) == 42
        response = line["response"]
        assert list(response) == ["status_code", "request_id", "body"] and response["status_code"] == 200
        assert len(response["request_id"]) == 32 and int(response["request_id"], 16) >= 0
        holds("chat.completions.create.response", response["body"])
    usage = batch.usage
    assert usage.input_tokens == sum(line["response"]["body"]["usage"]["prompt_tokens"] for line in output)
    assert usage.output_tokens == sum(line["response"]["body"]["usage"]["completion_tokens"] for line in output)
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens > 0

    file = client.files.retrieve(batch.output_file_id)
    assert (file.purpose, file.filename, file.expires_at) == ("batch_output", f"{batch.id}_output.jsonl", None)
    # Each line was a request like any other: journaled, marked as the batch's, left out of the verdict.
    lines = [e for e in server.journal() if e["batch"] == batch.id]
    assert len(lines) == 20 and {e["operation"] for e in lines} == {"chat.completions.create"}
    assert {e["request_id"][4:] for e in lines} == {line["response"]["request_id"] for line in output}
    assert all(e["client"].endswith("mockserver-batch-runner") for e in lines)  # with the creator's key
    assert server.verdict()["batch_lines"] >= 20  # counted, not judged: the fake sent them


def test_a_new_batch_is_the_recorded_object(client, http):
    file_id = upload(client, [chat_line(1)])
    answer = http.post("/v1/batches", json={"input_file_id": file_id, "endpoint": "/v1/chat/completions",
                                            "completion_window": "24h", "metadata": {"testMetadataKey": "value"}})
    assert answer.status_code == 200, answer.text
    batch = answer.json()
    assert list(batch) == BATCH_KEYS
    assert answer.text.startswith('{\n  "id": "batch_') and not answer.text.endswith("\n")  # as recorded: 886 bytes
    assert batch["id"][18:22] == "8190" and int(batch["id"][6:14], 16) == batch["created_at"]
    assert (batch["status"], batch["model"], batch["errors"], batch["output_file_id"]) == ("validating", None, None, None)
    assert batch["expires_at"] == batch["created_at"] + 24 * 3600
    assert batch["request_counts"] == {"total": 0, "completed": 0, "failed": 0}
    assert batch["usage"] == {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0,
                              "input_tokens_details": {"cached_tokens": 0},
                              "output_tokens_details": {"reasoning_tokens": 0}}
    assert all(batch[key] is None for key in BATCH_KEYS if key.endswith("_at") and key not in ("created_at", "expires_at"))
    assert "openai-organization" in answer.headers and "x-ratelimit-limit-requests" not in answer.headers
    holds("batches.create.response", batch, Batch)


def test_output_order_is_a_seeded_shuffle(make_server):
    items = [chat_line(n) for n in range(30)]

    def order(running: RunningServer) -> list[str]:
        client = sdk(running)
        batch = wait(client, start(client, items).id)
        return [line["custom_id"] for line in read_lines(client, batch.output_file_id)]

    first, again, other = order(make_server(seed=3)), order(make_server(seed=3)), order(make_server(seed=4))
    assert sorted(first) == sorted(item["custom_id"] for item in items)
    assert first != [item["custom_id"] for item in items]
    assert first == again and first != other


def test_error_lines_in_the_real_shape(client):
    items = [chat_line(0), chat_line(1, temperature=5), chat_line(2, stream=True),
             {**chat_line(3), "body": {"model": "gpt-4o-mini"}}]
    batch = wait(client, start(client, items).id)
    assert batch.status == "completed"
    assert batch.request_counts.model_dump() == {"total": 4, "completed": 1, "failed": 3}
    errors = {line["custom_id"]: line for line in read_lines(client, batch.error_file_id)}
    assert sorted(errors) == ["request-1", "request-2", "request-3"]
    refused = errors["request-1"]["response"]
    assert refused["status_code"] == 400 and errors["request-1"]["error"] is None
    assert refused["body"]["error"]["param"] == "temperature"
    assert refused["body"]["error"]["code"] == "decimal_above_max_value"
    assert errors["request-2"]["response"]["body"]["error"]["param"] == "stream"
    assert errors["request-3"]["response"]["body"]["error"]["message"] == "Missing required parameter: 'messages'."
    assert [line["custom_id"] for line in read_lines(client, batch.output_file_id)] == ["request-0"]

    unknown = wait(client, start(client, [chat_line(0, model="gpt-nothing")]).id)
    assert unknown.model == "gpt-nothing" and unknown.output_file_id is None
    (line,) = read_lines(client, unknown.error_file_id)
    assert line["response"]["status_code"] == 404 and line["response"]["body"]["error"]["code"] == "model_not_found"


def test_unserved_endpoints_are_accepted_and_their_lines_fail_clearly(client):
    items = [{"custom_id": "c1", "method": "POST", "url": "/v1/completions",
              "body": {"model": "gpt-3.5-turbo-instruct", "prompt": "Say this is a test"}}]
    batch = wait(client, start(client, items, endpoint="/v1/completions").id)
    assert batch.status == "completed" and batch.request_counts.failed == 1
    (line,) = read_lines(client, batch.error_file_id)
    assert line["response"]["status_code"] == 404
    assert line["response"]["body"]["error"]["message"] == "Invalid URL (POST /v1/completions)"


def test_embeddings_and_responses_batches(client):
    embeddings = [{"custom_id": f"e{n}", "method": "POST", "url": "/v1/embeddings",
                   "body": {"model": "text-embedding-3-small", "input": f"text {n}", "encoding_format": "float"}}
                  for n in range(3)]
    batch = wait(client, start(client, embeddings, endpoint="/v1/embeddings").id)
    output = read_lines(client, batch.output_file_id)
    assert batch.status == "completed" and len(output) == 3 and batch.model == "text-embedding-3-small"
    assert batch.usage.input_tokens == sum(line["response"]["body"]["usage"]["prompt_tokens"] for line in output)
    assert batch.usage.output_tokens == 0
    assert all(len(line["response"]["body"]["data"][0]["embedding"]) == 1536 for line in output)

    responses = [{"custom_id": f"r{n}", "method": "POST", "url": "/v1/responses",
                  "body": {"model": "o3-mini", "input": f"Riddle number {n}", "reasoning": {"effort": "low"}}}
                 for n in range(3)]
    batch = wait(client, start(client, responses, endpoint="/v1/responses").id)
    output = read_lines(client, batch.output_file_id)
    assert batch.status == "completed" and len(output) == 3 and batch.model.startswith("o3-mini")
    for line in output:
        holds("responses.create.response", line["response"]["body"])
    assert batch.usage.output_tokens_details.reasoning_tokens == sum(
        line["response"]["body"]["usage"]["output_tokens_details"]["reasoning_tokens"] for line in output)
    stored = output[0]["response"]["body"]["id"]
    assert client.responses.retrieve(stored).id == stored  # the same handler: stored as any response


# --- validation, asynchronously -----------------------------------------------------------

VALIDATION_CASES = {
    "empty": (b"", [("empty_file", None, None)]),
    "blank lines only": (b"\n\n", [("empty_file", None, None)]),
    "not JSONL": (b'[{"custom_id": "a"}]\n', [("invalid_json_line", 1, None)]),
    "a line that does not parse": (jsonl([chat_line(1), b'{"custom_id": "2", "method":', chat_line(3)]),
                                   [("invalid_json_line", 2, None)]),
    "missing custom_id": (jsonl([{k: v for k, v in chat_line(1).items() if k != "custom_id"}]),
                          [("missing_required_parameter", 1, "custom_id")]),
    "missing method": (jsonl([{k: v for k, v in chat_line(1).items() if k != "method"}]),
                       [("missing_required_parameter", 1, "method")]),
    "missing url": (jsonl([{k: v for k, v in chat_line(1).items() if k != "url"}]),
                    [("missing_required_parameter", 1, "url")]),
    "missing body": (jsonl([{k: v for k, v in chat_line(1).items() if k != "body"}]),
                     [("missing_required_parameter", 1, "body")]),
    "a body that is not an object": (jsonl([{**chat_line(1), "body": "hi"}]), [("invalid_type", 1, "body")]),
    "GET": (jsonl([{**chat_line(1), "method": "GET"}]), [("invalid_value", 1, "method")]),
    "duplicate custom_id": (jsonl([chat_line(1), chat_line(2), chat_line(1)]), [("duplicate_custom_id", 3, "custom_id")]),
    "another url": (jsonl([chat_line(1), {**chat_line(2), "url": "/v1/embeddings"}]), [("url_mismatch", 2, "url")]),
    "two models": (jsonl([chat_line(1), chat_line(2, model="gpt-4o")]), [("model_mismatch", 2, "body.model")]),
    "several problems": (jsonl([b"nope", chat_line(1), chat_line(1)]),
                         [("invalid_json_line", 1, None), ("duplicate_custom_id", 3, "custom_id")]),
}


@pytest.mark.parametrize("case", VALIDATION_CASES, ids=list(VALIDATION_CASES))
def test_validation_failures_fail_the_batch_with_their_errors(client, http, case):
    content, expected = VALIDATION_CASES[case]
    file_id = client.files.create(file=("input.jsonl", content), purpose="batch").id
    created = client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h")
    assert created.status == "validating"  # checked asynchronously, as the real API does
    batch = wait(client, created.id)
    assert batch.status == "failed" and batch.failed_at is not None and batch.in_progress_at is None
    assert [(e.code, e.line, e.param) for e in batch.errors.data] == expected
    assert all(e.message for e in batch.errors.data)
    assert batch.output_file_id is None and batch.error_file_id is None
    assert batch.request_counts.model_dump() == {"total": 0, "completed": 0, "failed": 0}
    raw = http.get(f"/v1/batches/{batch.id}").json()
    assert list(raw["errors"]) == ["object", "data"] and raw["errors"]["object"] == "list"
    assert list(raw["errors"]["data"][0]) == ["code", "line", "message", "param"]
    holds("batches.create.response", raw, Batch)


def test_validation_of_the_file_limits(make_server):
    client = sdk(make_server(batch_max_lines=3, batch_max_input_bytes=2000))
    batch = wait(client, start(client, [chat_line(n) for n in range(4)]).id)
    assert [(e.code, e.line) for e in batch.errors.data] == [("too_many_tasks", None)]
    assert "3" in batch.errors.data[0].message
    batch = wait(client, start(client, [chat_line(n, pad="x" * 1000) for n in range(3)]).id)
    assert [(e.code, e.param) for e in batch.errors.data] == [("too_large", "input_file_id")]


def test_the_real_limit_of_50000_lines(client):
    line = b'{"custom_id":"%d","method":"POST","url":"/v1/embeddings","body":{"model":"text-embedding-3-small","input":"x"}}'
    content = b"\n".join(line % n for n in range(50_001))
    file_id = client.files.create(file=("big.jsonl", content), purpose="batch").id
    batch = client.batches.create(input_file_id=file_id, endpoint="/v1/embeddings", completion_window="24h")
    batch = wait(client, batch.id)
    assert [(e.code, e.line) for e in batch.errors.data] == [("too_many_tasks", None)]
    assert "50,000" in batch.errors.data[0].message


# --- bad input at create: the real envelope, never a 500 ----------------------------------


def test_bad_input_gets_the_real_error(client, http):
    assistants = client.files.create(file=("notes.txt", b"hello"), purpose="assistants").id
    deleted = upload(client, [chat_line(1)])
    client.files.delete(deleted)
    good = upload(client, [chat_line(1)])
    base = {"input_file_id": good, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    cases = [
        ({**base, "input_file_id": "file-unknown"}, 400, "input_file_id", "file-unknown"),
        ({**base, "input_file_id": deleted}, 400, "input_file_id", deleted),
        ({**base, "input_file_id": assistants}, 400, "input_file_id", "purpose 'assistants'"),
        ({**base, "completion_window": "48h"}, 400, "completion_window", "48h"),
        ({**base, "endpoint": "/v1/nothing"}, 400, "endpoint", "/v1/nothing"),
        ({k: v for k, v in base.items() if k != "input_file_id"}, 400, "input_file_id", "Missing required parameter"),
        ({**base, "output_expires_after": {"anchor": "created_at", "seconds": 60}}, 400,
         "output_expires_after.seconds", "3600"),
        ({**base, "metadata": {f"k{n}": "v" for n in range(17)}}, 400, "metadata", "16"),
        ({**base, "foo": 1}, 400, None, "foo"),
    ]
    for body, status, param, words in cases:
        answer = http.post("/v1/batches", json=body)
        assert answer.status_code == status, (body, answer.text)
        error = answer.json()["error"]
        assert list(answer.json()) == ["error"] and error["type"] == "invalid_request_error", answer.text
        assert error["param"] == param and words in error["message"], (body, error)
        holds("error.response", answer.json())
    with pytest.raises(openai.BadRequestError):
        client.batches.create(input_file_id="file-unknown", endpoint="/v1/chat/completions", completion_window="24h")
    for method, path in (("GET", "/v1/batches/batch_nothing"), ("POST", "/v1/batches/batch_nothing/cancel")):
        answer = http.request(method, path)
        assert answer.status_code == 404 and answer.json()["error"]["param"] == "batch_id", answer.text
        assert answer.json()["error"]["message"] == "No batch found with id 'batch_nothing'."
    for limit in ("0", "101", "x"):
        answer = http.get(f"/v1/batches?limit={limit}")
        assert answer.status_code == 400 and answer.json()["error"]["param"] == "limit", answer.text
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_nothing")
    finished = wait(client, client.batches.create(**base).id)
    answer = http.post(f"/v1/batches/{finished.id}/cancel")
    assert answer.status_code == 400 and "completed" in answer.json()["error"]["message"]


def test_list_pages_newest_first(make_server):
    running = make_server()
    client = sdk(running)
    made = [start(client, [chat_line(n)]).id for n in range(5)]
    page = client.batches.list(limit=2)
    assert [b.id for b in page.data] == made[::-1][:2] and page.has_more
    raw = httpx.get(f"{running.url}/batches", params={"limit": 2, "after": made[3]}).json()
    assert list(raw) == ["object", "data", "first_id", "last_id", "has_more"]
    assert [b["id"] for b in raw["data"]] == [made[2], made[1]] and raw["first_id"] == made[2]
    holds("batches.list.response", raw, SyncCursorPage[Batch])
    assert [b.id for b in client.batches.list(limit=2)] == made[::-1]  # the SDK's auto-pagination
    assert httpx.get(f"{running.url}/batches").json()["data"][0]["id"] == made[-1]
    empty = make_server()
    raw = httpx.get(f"{empty.url}/batches").json()
    assert raw == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
    holds("batches.list.response", raw)


# --- the lifecycle on the clock --------------------------------------------------------------


def test_progress_cancel_and_partial_output_on_the_clock(make_server):
    running = frozen(make_server, batch_lines_per_second=10, batch_validating_seconds=1, batch_cancelling_seconds=600)
    client = sdk(running)
    items = [chat_line(n) for n in range(20)]
    batch = start(client, items)
    advance(running, 0.5)
    assert client.batches.retrieve(batch.id).status == "validating"  # the clock has not said so yet
    advance(running, 0.5)
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "in_progress" and batch.in_progress_at == batch.created_at + 1
    assert batch.request_counts.model_dump() == {"total": 20, "completed": 0, "failed": 0}  # as recorded
    advance(running, 0.5)
    assert client.batches.retrieve(batch.id).request_counts.completed == 5  # the n-th line: n / 10 seconds in
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at == batch.created_at + 1
    advance(running, 5)  # no line runs once cancelling
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "cancelling" and batch.request_counts.completed == 5
    assert client.batches.cancel(batch.id).status == "cancelling"  # as it is
    advance(running, 600)
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "cancelled" and batch.cancelled_at == batch.cancelling_at + 600
    assert batch.request_counts.model_dump() == {"total": 20, "completed": 5, "failed": 0}
    output = read_lines(client, batch.output_file_id)
    assert sorted(line["custom_id"] for line in output) == sorted(f"request-{n}" for n in range(5))
    assert batch.error_file_id is None and batch.completed_at is None and batch.finalizing_at is None


def test_a_validating_batch_cancels_as_recorded(make_server):
    running = frozen(make_server)
    client = sdk(running)
    batch = start(client, [chat_line(1)])
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling" and cancelling.in_progress_at is None
    assert cancelling.cancelling_at == cancelling.created_at
    advance(running, 1)
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "cancelled" and batch.output_file_id is None and batch.request_counts.total == 0


def test_expiry_on_an_advanced_clock_keeps_partial_results(make_server):
    running = frozen(make_server, batch_lines_per_second=2)
    client = sdk(running)
    items = [chat_line(n) for n in range(10)]
    batch = start(client, items)
    advance(running, 1.2)  # validating 0.1 s, then two lines (0.5 and 1 s later)
    assert client.batches.retrieve(batch.id).request_counts.completed == 2
    advance(running, 24 * 3600)
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "expired" and batch.expired_at == batch.expires_at
    assert batch.request_counts.model_dump() == {"total": 10, "completed": 2, "failed": 8}
    done = read_lines(client, batch.output_file_id)
    assert sorted(line["custom_id"] for line in done) == ["request-0", "request-1"]
    expired = read_lines(client, batch.error_file_id)
    assert sorted(line["custom_id"] for line in expired) == sorted(f"request-{n}" for n in range(2, 10))
    assert all(line["response"] is None and line["error"] == {
        "code": "batch_expired", "message": "This request could not be executed before the completion window expired."}
        for line in expired)


def test_a_batch_past_its_window_before_it_ran_expires_whole(make_server):
    running = frozen(make_server)
    client = sdk(running)
    batch = start(client, [chat_line(n) for n in range(3)])
    advance(running, 25 * 3600)
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "expired" and batch.output_file_id is None and batch.in_progress_at is None
    assert batch.request_counts.model_dump() == {"total": 3, "completed": 0, "failed": 3}
    assert len(read_lines(client, batch.error_file_id)) == 3


def test_output_expires_after_applies_to_the_files(client):
    batch = wait(client, start(client, [chat_line(1), chat_line(2, temperature=9)],
                               output_expires_after={"anchor": "created_at", "seconds": 7200}).id)
    for file_id in (batch.output_file_id, batch.error_file_id):
        file = client.files.retrieve(file_id)
        assert file.purpose == "batch_output" and file.expires_at == file.created_at + 7200


# --- the same operations as the live endpoints: faults, limits, fixtures ----------------------


def test_a_seeded_fault_rule_fails_some_lines_reproducibly(make_server):
    rule = {"match": {"endpoint": "chat.completions", "batch": True}, "fault": 500, "probability": 0.3}
    items = [chat_line(n) for n in range(40)]

    def failed(running: RunningServer) -> list[str]:
        client = sdk(running)
        live = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert live.choices[0].message.content  # `batch: true` leaves live requests alone
        batch = wait(client, start(client, items).id)
        errors = read_lines(client, batch.error_file_id)
        assert batch.request_counts.failed == len(errors) and batch.request_counts.completed == 40 - len(errors)
        assert all(line["response"]["status_code"] == 500 and line["response"]["body"]["error"]["type"] == "server_error"
                   for line in errors)
        journal = [e for e in running.journal() if e["batch"] == batch.id]
        assert sorted(e["fault"] for e in journal if e["fault"]) == ["500 server_error (rule_1)"] * len(errors)
        return sorted(line["custom_id"] for line in errors)

    first = failed(make_server(seed=11, faults=[rule]))
    assert 5 <= len(first) <= 20
    assert failed(make_server(seed=11, faults=[rule])) == first


def test_faults_that_need_a_socket_leave_a_line_unanswered(make_server):
    running = make_server()
    client = sdk(running)
    running.add_rule(match={"batch": True}, fault={"type": "reset"}, times=1)
    running.add_rule(match={"batch": True}, fault={"type": "timeout", "hold_ms": 60_000}, times=1)
    running.add_rule(match={"batch": True}, fault={"type": "latency", "delay_ms": 60_000}, times=1)
    running.add_rule(match={"batch": True}, fault={"type": "malformed_json"}, times=1)
    began = time.monotonic()
    batch = wait(client, start(client, [chat_line(n) for n in range(6)]).id)
    assert time.monotonic() - began < 5  # no line waits: no one is on the other end
    assert batch.request_counts.model_dump() == {"total": 6, "completed": 3, "failed": 3}
    errors = sorted((line["error"]["code"] for line in read_lines(client, batch.error_file_id)))
    assert errors == ["connection_error", "connection_error", "invalid_response"]


def test_rate_limits_apply_to_lines(make_server):
    running = make_server(rate_limits={"gpt-4o-mini": RateLimit(3, 10**9)}, enforce_rate_limits=True)
    client = sdk(running)
    batch = wait(client, start(client, [chat_line(n) for n in range(5)]).id)
    assert batch.request_counts.model_dump() == {"total": 5, "completed": 3, "failed": 2}
    assert {line["response"]["status_code"] for line in read_lines(client, batch.error_file_id)} == {429}


def test_fixtures_answer_lines_and_can_match_batch_lines(make_server, tmp_path):
    (tmp_path / "f.yaml").write_text(
        "fixtures:\n"
        "  - match: {message: 'number 1\\?', batch: true}\n"
        "    response: {content: From the batch fixture.}\n")
    running = make_server(fixtures=[tmp_path])
    client = sdk(running)
    batch = wait(client, start(client, [chat_line(1), chat_line(2)]).id)
    answers = {line["custom_id"]: line["response"]["body"]["choices"][0]["message"]["content"]
               for line in read_lines(client, batch.output_file_id)}
    assert answers["request-1"] == "From the batch fixture." and answers["request-2"] != answers["request-1"]
    live = client.chat.completions.create(**chat_line(1)["body"])
    assert live.choices[0].message.content != "From the batch fixture."


def test_reset_stops_a_batch_in_flight(make_server):
    running = frozen(make_server)
    client = sdk(running)
    batch = start(client, [chat_line(n) for n in range(5)])
    running.reset()
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve(batch.id)
    assert client.batches.list().data == [] and client.files.list().data == []


def test_lenient_stand_ins(make_server):
    running = make_server(lenient=True)
    client = sdk(running)
    for batch in (client.batches.retrieve("batch_id"), client.batches.cancel("batch_id")):
        assert batch.id == "batch_id" and batch.status == "completed"
        holds("batches.create.response", batch.model_dump(mode="json"), Batch)
    created = client.batches.create(input_file_id="input_file_id", endpoint="/v1/responses", completion_window="24h")
    assert created.status == "validating"
    failed = wait(client, created.id)
    assert failed.status == "failed" and failed.errors.data[0].code == "invalid_file"
    assert len(client.batches.list(limit=0).data) == 1  # clamped, as --lenient does


# --- restarts ---------------------------------------------------------------------------------


def check_once_each(client: openai.OpenAI, batch: Batch, count: int) -> None:
    lines = read_lines(client, batch.output_file_id) + read_lines(client, batch.error_file_id)
    assert Counter(line["custom_id"] for line in lines) == Counter(f"request-{n}" for n in range(count))


def test_a_batch_resumes_after_a_restart_with_state(tmp_path):
    path = tmp_path / "state.db"
    config = Config(state=path, batch_lines_per_second=400)
    items = [chat_line(n) for n in range(2000)]
    with RunningServer(config) as first:
        client = sdk(first)
        batch = start(client, items)
        while client.batches.retrieve(batch.id).request_counts.completed < 300:
            time.sleep(0.02)
        seen = client.batches.retrieve(batch.id)
    assert seen.status == "in_progress"
    with RunningServer(config.replace(batch_lines_per_second=100_000)) as second:
        client = sdk(second)
        resumed = client.batches.retrieve(batch.id)
        assert resumed.status in ("in_progress", "finalizing", "completed")
        assert resumed.request_counts.completed >= 256  # from its last checkpoint on
        assert resumed.in_progress_at == seen.in_progress_at
        done = wait(client, batch.id)
        assert done.status == "completed"
        assert done.request_counts.model_dump() == {"total": 2000, "completed": 2000, "failed": 0}
        check_once_each(client, done, 2000)
    assert not [p for p in (tmp_path / "state.db.files").iterdir() if p.name.startswith(".")]


def test_a_batch_resumes_after_a_kill(tmp_path):
    """kill -9 mid-batch: what was written past the last checkpoint is cut off and run again."""
    path = tmp_path / "state.db"
    port = free_port()
    base = f"http://127.0.0.1:{port}/v1"

    def start_at(rate: int) -> subprocess.Popen:
        (tmp_path / "mockserver.yaml").write_text(f"batch_lines_per_second: {rate}\n")
        return serve(port, "--state", str(path), "--config", str(tmp_path / "mockserver.yaml"))

    server = start_at(300)
    try:
        client = openai.OpenAI(base_url=base, api_key="sk-test", max_retries=0)
        batch = start(client, [chat_line(n) for n in range(1200)])
        while client.batches.retrieve(batch.id).request_counts.completed < 400:
            time.sleep(0.01)
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        server = start_at(100_000)
        done = wait(client, batch.id, timeout=60)
        assert done.status == "completed" and done.request_counts.completed == 1200
        check_once_each(client, done, 1200)
    finally:
        server.kill()
        server.wait()


# --- the Node SDK -----------------------------------------------------------------------------


def test_a_batch_through_the_node_sdk(server):
    if shutil.which("node") is None or not (NODE_DIR / "node_modules" / "openai").is_dir():
        pytest.skip("Node.js or the Node SDK is not installed (make test installs it)")
    result = subprocess.run(["node", str(NODE_DIR / "batch.mjs"), server.url], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == "completed" and outcome["counts"] == {"total": 3, "completed": 3, "failed": 0}
    assert sorted(outcome["custom_ids"]) == ["node-0", "node-1", "node-2"]
    assert all(text for text in outcome["answers"])


# --- the content store's part: lines streamed, output resumable -------------------------------


def test_lines_are_split_in_linear_time_and_long_ones_never_held():
    from mockserver.state.content import LongLine, split_lines

    data = b'{"a": 1}\r\n\n' + b"x" * 5000 + b"\n" + b"y" * 10 + b"\nlast"
    expected = [b'{"a": 1}', b"", b"x" * 5000, b"y" * 10, b"last"]
    for size in (1, 3, 7, 64, 4096, len(data)):
        chunks = [data[i:i + size] for i in range(0, len(data), size)]
        assert list(split_lines(chunks)) == expected, size
        bounded = list(split_lines(chunks, max_line=100))
        assert bounded[:2] == expected[:2] and bounded[3:] == expected[3:], size
        assert isinstance(bounded[2], LongLine) and bounded[2].length == 5000 and bounded[2] == b"", size
    assert list(split_lines([b"z" * 300], max_line=100))[0].length == 300  # a last line without newline, too


def test_a_resumable_content_carries_on_from_its_checkpoint(tmp_path):
    from mockserver.state import MemoryStore, SQLiteStore

    store = SQLiteStore(tmp_path / "state.db")
    writer = store.content.open_resumable("file-out")
    writer.write(b"line 1\n")
    at = writer.checkpoint()
    writer.write(b"line 2, written after the checkpoint\n")
    writer.write(b"half a li")  # the process stops before the next checkpoint
    writer.suspend()
    assert store.content.size("file-out") is None  # not a content until finished
    store.close()
    store = SQLiteStore(tmp_path / "state.db")  # a restart: the sweep leaves it to its owner
    assert store.content.resumables() == ["file-out"]
    writer = store.content.open_resumable("file-out", at)
    writer.write(b"line 2\n")
    writer.finish()
    assert store.content.read("file-out") == b"line 1\nline 2\n" and store.content.resumables() == []
    other = store.content.open_resumable("file-gone")
    other.write(b"x")
    other.suspend()
    store.content.discard_resumable("file-gone")
    assert store.content.resumables() == []
    store.close()
    memory = MemoryStore()
    with pytest.raises(ValueError):
        memory.content.open_resumable("file-out", 10)  # nothing survives a process in memory
    writer = memory.content.open_resumable("file-out")
    writer.write(b"abc")
    assert writer.checkpoint() == 3 and writer.finish() == 3 and memory.content.read("file-out") == b"abc"


# --- README's examples, run as written -------------------------------------------------------

README = Path(__file__).resolve().parents[1] / "README.md"


def run_readme_example(name: str, running: RunningServer) -> None:
    """The README's `# <name>:` block, pointed at `running` instead of 127.0.0.1:8000, its tests run."""
    found = re.search(rf"```python\n(# {re.escape(name)}:.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert found, f"README lost its {name} example"
    namespace: dict = {}
    exec(compile(found.group(1).replace("http://127.0.0.1:8000", running.origin), f"README:{name}", "exec"), namespace)
    tests = [value for key, value in namespace.items() if key.startswith("test_") and callable(value)]
    assert tests
    for test in tests:
        test()


def test_the_readme_examples_hold(make_server):
    run_readme_example("test_batch.py", make_server())
    run_readme_example("test_batch_expiry.py", make_server(time_scale=0, batch_lines_per_second=2))


# --- contracts against the official spec ---------------------------------------------------

SPEC_OPERATIONS = {
    "batches.create.request": ("/batches", "post", "request", "application/json"),
    "batches.create.response": ("/batches", "post", "200", "application/json"),
    "batches.list.response": ("/batches", "get", "200", "application/json"),
}
# Differences from the official spec, each for a reason (as tests/test_contracts.py keeps them).
RECORDED_KEYS = ("cancelled_at", "cancelling_at", "completed_at", "error_file_id", "errors", "expired_at", "expires_at",
                 "failed_at", "finalizing_at", "in_progress_at", "metadata", "model", "output_file_id", "request_counts",
                 "usage")
EVERY_KEY = "every recorded batch carries every key, null when unset (openai-dotnet BatchTests/*.json)"
ERRORS = "a failed batch's `errors` as the issue and the SDK's BatchError describe it: every field present, null when unset"
SPEC_ALLOWED: dict[str, dict[str, str]] = {
    "batches.create.response": {
        **{f"{key}: required by ours, optional in spec": EVERY_KEY for key in RECORDED_KEYS},
        "completion_window: enum ['24h'] only in ours": "the only completion window there is (the SDK's Literal)",
        **{f"{key}: required by ours, optional in spec": ERRORS for key in (
            "errors.data", "errors.object", "errors.data[].code", "errors.data[].line", "errors.data[].message",
            "errors.data[].param")},
    },
    "batches.list.response": {
        **{f"data[].{key}: required by ours, optional in spec": EVERY_KEY for key in RECORDED_KEYS},
        "first_id: required by ours, optional in spec": "every recorded list carries it (ListBatchesAsync_*.json)",
        "last_id: required by ours, optional in spec": "every recorded list carries it (ListBatchesAsync_*.json)",
    },
}


@pytest.mark.parametrize("name", sorted(SPEC_OPERATIONS))
def test_batches_contracts_agree_with_the_official_spec(name):
    agrees_with_spec(name, SPEC_OPERATIONS[name], SPEC_ALLOWED.get(name, {}))
