"""The official Python SDK's own API-resource tests, run against `mockserver serve --lenient`.

The SDK's sdist ships `tests/api_resources/`, generated from the OpenAPI spec, which its
maintainers run against a spec mock (Steady, before it Prism) named by `TEST_API_BASE_URL`.
Those tests send placeholder values on purpose (ids such as `completion_id`, `limit=0`, a
create without `model`, mutually exclusive parameters together, placeholder function
schemas); README promises that `--lenient` takes them. This runs them, for the families the
fake serves, and every one must pass, but for the few listed in `SDK_REJECTS_REAL_SHAPES`:
there the SDK's own types reject a shape the real API sends (README says which), and those
are strict expected failures (a listed test that passes fails the run, so the list stays
exact). The families not served yet are listed in `NOT_SERVED`; each joins `SERVED` when it
is built. Every entry of the SDK's `tests/api_resources/` is in one of the two, so a family
the SDK adds fails this test until it is placed.

The sdist's tests are fetched by `make test` (the Makefile's `.installed-sdk-tests` step,
for the installed `openai`, the one pinned in pyproject.toml) into
`.venv/openai-sdk-tests/<version>/`; without them this skips, and fails under
MOCKSERVER_REQUIRE_SHARED=1 (CI). MOCKSERVER_SDK_TESTS may name another extracted sdist.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import httpx

from .support.process import free_port
from .support.shared import ROOT, require_path

VERSION = importlib.metadata.version("openai")

# What runs: the families the fake serves, as paths under the sdist's tests/api_resources/.
SERVED = {
    "chat": "chat.completions.create, stored chat completions and their messages",
    "test_responses.py": "responses create (plain, streamed), retrieve (and its stream), delete, cancel, compact",
    "responses": "responses input_items and input_tokens",
    "test_conversations.py": "conversations",
    "conversations": "conversation items",
    "test_embeddings.py": "embeddings",
    "test_models.py": "models",
    "test_files.py": "files: upload, list, retrieve, content, delete",
    "test_uploads.py": "uploads: create, complete, cancel",
    "uploads": "upload parts",
    "test_batches.py": "batches: create, retrieve, list, cancel",
}

# What does not run yet; an entry moves to SERVED when its family is built.
NOT_SERVED = {name: "not served yet" for name in (
    "admin", "audio", "beta", "containers", "evals", "fine_tuning", "live", "realtime", "safety", "skills",
    "vector_stores", "webhooks",
    "test_completions.py", "test_containers.py", "test_content_provenance_checks.py",
    "test_decisions.py", "test_evals.py", "test_images.py", "test_live.py", "test_moderations.py",
    "test_realtime.py", "test_skills.py", "test_vector_stores.py", "test_videos.py",
    "test_webhooks.py",
)}

# Not test files: the package marker and a helper module.
NOT_TESTS = {"__init__.py", "_websocket_resources.py", "__pycache__"}

# Tests whose own types reject what the real API sends (README, "Strict by default"): node id
# pattern (a regex, matched whole) -> reason. Each is marked xfail(strict=True) in the SDK's
# run, expecting the SDK's validation error (strict client) or its `assert_matches_type`'s
# AssertionError (loose client); any other failure still fails.
SDK_REJECTS_REAL_SHAPES = {
    r"tests/api_resources/test_embeddings\.py::Test(Async)?Embeddings::"
    r"test_(method|raw_response|streaming_response)_create\[(strict|aiohttp)\]":
        "without `encoding_format` the SDK asks for base64 (as the real API then sends it: a string) and decodes "
        "it after parsing, but its strict client first validates the raw body against `embedding: List[float]` "
        "and rejects the string; the loose client, and `encoding_format='float'`, pass",
    r"tests/api_resources/chat/completions/test_messages\.py::Test(Async)?Messages::"
    r"test_(method_list|method_list_with_all_params|raw_response_list|streaming_response_list)\[\w+\]":
        "the SDK types a stored completion's messages as `ChatCompletionStoreMessage`, a `ChatCompletionMessage` "
        "of role 'assistant' only; the real API lists the request's messages, role 'user' among them (recorded: "
        "openai-dotnet ChatStoreTests/GetChatCompletionMessagesWithBasicUsage), and so does the fake",
    r"tests/api_resources/test_responses\.py::Test(Async)?Responses::test_method_compact_with_all_params\[\w+\]":
        "with `input`, a compaction's output begins with the user's messages (role 'user', `input_text` parts) "
        "as the real API sends them (recorded: pydantic-ai test_openai_responses_compact_messages); the SDK "
        "types `CompactedResponse.output` as output items, which have no user message",
}

# Tests the SDK's own conftest skips, with its reason (node id pattern, matched whole): they
# mock the answer with respx2, which cannot intercept the aiohttp client. Any other skip fails.
SDK_SKIPS = {
    r"tests/api_resources/test_files\.py::TestAsyncFiles::"
    r"test_(method|raw_response|streaming_response)_content\[aiohttp\]":
        "aiohttp client is not compatible with respx2_mock",
}

# Loaded into the SDK's pytest run (`-p`): marks the tests above as strict expected failures.
XFAIL_PLUGIN = '''
import json, os, re

import openai
import pytest

_EXPECTED = [(re.compile(p), r) for p, r in json.loads(os.environ["MOCKSERVER_SDK_XFAILS"]).items()]


def pytest_collection_modifyitems(items):
    for item in items:
        for pattern, reason in _EXPECTED:
            if pattern.fullmatch(item.nodeid):
                item.add_marker(pytest.mark.xfail(
                    strict=True, reason=reason, raises=(openai.APIResponseValidationError, AssertionError)))
'''

RUN_TIMEOUT = 600  # seconds; the run takes about 10 s


def sdk_tests_dir() -> Path:
    default = ROOT / ".venv" / "openai-sdk-tests" / VERSION
    return Path(os.environ.get("MOCKSERVER_SDK_TESTS", default))


def start_lenient_server(log: Path) -> tuple[subprocess.Popen, str]:
    """`mockserver serve --lenient` on a free port, ready; (the process, its base URL)."""
    for _ in range(3):  # a port taken between the probe and the bind: try another
        port = free_port()
        with log.open("wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--lenient", "--port", str(port)],
                                       cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    return process, url
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        stop(process)
    raise AssertionError(f"mockserver serve --lenient did not start:\n{log.read_text(errors='replace')[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def outcomes(junit: Path) -> dict[str, tuple[str, str]]:
    """Node id -> (outcome, message), from the run's JUnit XML: passed, failed, xfailed, skipped."""
    found: dict[str, tuple[str, str]] = {}
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        classname, name = case.get("classname", ""), case.get("name", "")
        module, _, cls = classname.rpartition(".") if classname.split(".")[-1][:1].isupper() else (classname, "", "")
        nodeid = module.replace(".", "/") + ".py" + (f"::{cls}" if cls else "") + f"::{name}"
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome, message = "failed", (child.get("message") or "") + "\n" + (child.text or "")[-1500:]
                break
            if child.tag == "skipped":
                xfail = child.get("type") == "pytest.xfail"
                outcome, message = ("xfailed" if xfail else "skipped"), child.get("message") or ""
        found[nodeid] = outcome, message
    return found


def test_sdk_api_resource_tests_pass_against_lenient_mode(tmp_path):
    sdk = require_path(sdk_tests_dir() / "tests" / "api_resources",
                       f"this test runs the openai=={VERSION} sdist's own tests, which `make test` downloads "
                       f"(the Makefile's `.installed-sdk-tests` step)").parent.parent

    # Every entry of the SDK's tests/api_resources is either served or listed as not served yet.
    entries = {path.name for path in (sdk / "tests" / "api_resources").iterdir()} - NOT_TESTS
    assert not set(SERVED) & set(NOT_SERVED)
    assert entries == set(SERVED) | set(NOT_SERVED), (
        f"place these in SERVED or NOT_SERVED: {sorted(entries - set(SERVED) - set(NOT_SERVED))}; "
        f"gone from the SDK: {sorted(set(SERVED) | set(NOT_SERVED) - entries)}")

    plugin_dir = tmp_path / "plugin"
    plugin_dir.mkdir()
    (plugin_dir / "mockserver_sdk_xfails.py").write_text(XFAIL_PLUGIN)
    junit = tmp_path / "junit.xml"
    process, url = start_lenient_server(tmp_path / "server.log")
    try:
        # Not this run's pytest settings (xdist's worker variables, PYTEST_ADDOPTS) nor the caller's
        # OPENAI_* (OPENAI_TEST_HTTP_CLIENT would change the SDK's client).
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "OPENAI_"))}
        env.update(TEST_API_BASE_URL=url, PYTHONPATH=str(plugin_dir),
                   MOCKSERVER_SDK_XFAILS=json.dumps(SDK_REJECTS_REAL_SHAPES), PYTHONDONTWRITEBYTECODE="1")
        began = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-c", str(sdk / "pyproject.toml"), "--rootdir", str(sdk),
             # The SDK's own settings (asyncio mode, warnings as errors, strict xfails), less its
             # addopts (`-n auto`): one process, as xdist's start-up costs more than it saves here.
             "-o", "addopts=", "-p", "no:cacheprovider", "-p", "mockserver_sdk_xfails", "-n", "0",
             "-q", "--tb=short", "--no-header", f"--junitxml={junit}",
             *(f"tests/api_resources/{name}" for name in SERVED)],
            cwd=sdk, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
        )
        took = time.monotonic() - began
    finally:
        stop(process)
    tail = (run.stdout[-4000:] + run.stderr[-2000:]).strip()
    assert junit.exists(), f"the SDK's pytest wrote no report (exit {run.returncode}):\n{tail}"
    found = outcomes(junit)

    failed = {nodeid: message for nodeid, (outcome, message) in found.items() if outcome == "failed"}
    assert not failed, f"{len(failed)} of the SDK's tests failed against --lenient:\n" + "\n\n".join(
        f"{nodeid}: {message.strip()[:1500]}" for nodeid, message in sorted(failed.items())[:15])
    skipped = {nodeid: message for nodeid, (outcome, message) in found.items() if outcome == "skipped"}
    unexpected = {nodeid: message for nodeid, message in skipped.items()
                  if not any(re.fullmatch(pattern, nodeid) and message == reason for pattern, reason in SDK_SKIPS.items())}
    assert not unexpected, f"skipped: {unexpected}"
    for pattern in SDK_SKIPS:  # each listed skip still happens
        assert any(re.fullmatch(pattern, nodeid) for nodeid in skipped), f"{pattern} skipped no test"
    assert run.returncode == 0, tail

    for name in SERVED:  # each family ran
        assert any(nodeid.startswith(f"tests/api_resources/{name}") for nodeid in found), f"no test ran from {name}"
    xfailed = {nodeid for nodeid, (outcome, _) in found.items() if outcome == "xfailed"}
    for pattern in SDK_REJECTS_REAL_SHAPES:  # each listed rejection still happens
        assert any(re.fullmatch(pattern, nodeid) for nodeid in xfailed), f"{pattern} matched no test"
    print(f"openai=={VERSION} tests/api_resources against --lenient: {len(found)} tests, "
          f"{sum(o == 'passed' for o, _ in found.values())} passed, {len(xfailed)} xfailed, in {took:.1f} s")


# --- the same promises, checked here without the sdist --------------------------------------

# (method, path, body, the status the default, strict fake answers, in this order): what the SDK
# suite's placeholders ask, each answered 200 by `--lenient`, and by default as the real API answers.
PLACEHOLDER_REQUESTS = [
    ("POST", "/v1/responses", {"input": "hi"}, 400),  # no model
    ("POST", "/v1/responses", {"model": "gpt-4o-mini", "input": "hi", "previous_response_id": "previous_response_id",
                               "conversation": "string"}, 400),
    ("POST", "/v1/responses", {"model": "gpt-4o-mini", "input": "hi", "previous_response_id": "abc"}, 404),
    ("POST", "/v1/responses", {"model": "gpt-4o-mini", "tools": [{"type": "function", "name": "f", "strict": True,
                                                                  "parameters": {"foo": "bar"}}], "input": "hi"}, 400),
    ("POST", "/v1/responses", {"model": "gpt-4o-mini", "input": [
        {"type": "function_call_output", "call_id": "call_x", "output": "42"}]}, 400),
    ("POST", "/v1/responses", {"model": "gpt-4o-mini", "input": [{"type": "item_reference", "id": "msg_abc"}]}, 404),
    ("POST", "/v1/responses/compact", {"model": "gpt-4o-mini", "input": "hi", "previous_response_id": "resp_123"}, 404),
    ("POST", "/v1/responses/input_tokens", {"model": "gpt-4o-mini", "previous_response_id": "resp_123"}, 404),
    ("GET", "/v1/responses/resp_123?stream=true", None, 404),
    ("POST", "/v1/responses/resp_123/cancel", None, 404),
    ("GET", "/v1/responses/resp_123/input_items?limit=0", None, 404),
    ("DELETE", "/v1/responses/resp_123", None, 404),
    ("GET", "/v1/conversations/conv_123/items/msg_abc", None, 404),
    ("DELETE", "/v1/conversations/conv_123/items/msg_abc", None, 404),
    ("GET", "/v1/conversations/conv_123/items?limit=0", None, 404),
    ("GET", "/v1/chat/completions?limit=0", None, 400),
    ("GET", "/v1/chat/completions?limit=1000", None, 400),
    ("GET", "/v1/chat/completions/completion_id/messages?limit=0", None, 400),
    ("POST", "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}],
                                      "stream_options": {"include_usage": True}}, 400),
    ("GET", "/v1/models/placeholder-model", None, 404),
    ("DELETE", "/v1/models/ft:gpt-4o-mini:acemeco:suffix:abc123", None, 200),  # once: a fine-tune deletes
    ("DELETE", "/v1/models/ft:gpt-4o-mini:acemeco:suffix:abc123", None, 404),  # and then is gone
    ("DELETE", "/v1/models/gpt-4o", None, 403),
    ("POST", "/v1/batches", {"input_file_id": "input_file_id", "endpoint": "/v1/responses", "completion_window": "24h"},
     400),
    ("GET", "/v1/batches/batch_id", None, 404),
    ("POST", "/v1/batches/batch_id/cancel", None, 404),
    ("GET", "/v1/batches?limit=0", None, 400),
]


def test_lenient_answers_the_placeholders_the_default_refuses(make_server):
    strict, lenient = make_server(), make_server(lenient=True)
    with httpx.Client(base_url=strict.origin, timeout=10) as http, httpx.Client(base_url=lenient.origin, timeout=10) as loose:
        for method, path, body, refused in PLACEHOLDER_REQUESTS:
            assert http.request(method, path, json=body).status_code == refused, (method, path, body)
            answer = loose.request(method, path, json=body)
            assert answer.status_code == 200, (method, path, body, answer.text)


def test_lenient_stand_ins_support_every_operation(make_server):
    running = make_server(lenient=True)
    with httpx.Client(base_url=running.origin, timeout=10) as http:
        created = http.post("/v1/responses", json={"input": "hi"}).json()  # no model: the default
        assert created["model"] == "gpt-4o-mini-2024-07-18" and created["status"] == "completed"
        retrieved = http.get("/v1/responses/resp_123").json()
        assert retrieved["id"] == "resp_123" and retrieved["status"] == "completed" and retrieved["output"]
        stream = http.get("/v1/responses/resp_123?stream=true")  # a stand-in's stream replays
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[5:]) for line in stream.text.splitlines() if line.startswith("data:")]
        assert events[0]["type"] == "response.created" and events[-1]["type"] == "response.completed"
        assert events[-1]["response"]["output"] == retrieved["output"]
        assert http.post("/v1/responses/resp_123/cancel").json()["status"] == "completed"  # finished: as it is
        assert http.get("/v1/responses/resp_123/input_items").json()["data"][0]["role"] == "user"
        chained = http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "go on", "previous_response_id": "x",
                                                  "conversation": "conv_123"}).json()
        assert re.fullmatch(r"resp_[0-9a-f]{50}", chained["id"]) and chained["previous_response_id"] == "x"
        assert [i["role"] for i in http.get("/v1/responses/" + chained["id"] + "/input_items?order=asc").json()["data"]
                if i["type"] == "message"] == ["user", "assistant", "user"]  # the stand-in's turn, then this one
        assert http.delete("/v1/responses/resp_123").json()["deleted"] is True

        item = http.get("/v1/conversations/conv_123/items/msg_abc").json()
        assert item["id"] == "msg_abc" and item["type"] == "message"
        assert "msg_abc" in [i["id"] for i in http.get("/v1/conversations/conv_123/items").json()["data"]]
        assert http.delete("/v1/conversations/conv_123/items/msg_abc").json()["id"] == "conv_123"
        assert "msg_abc" not in [i["id"] for i in http.get("/v1/conversations/conv_123/items").json()["data"]]

        assert len(http.get("/v1/chat/completions/completion_id/messages?limit=0").json()["data"]) == 1
        assert http.get("/v1/models/placeholder-model").json()["id"] == "placeholder-model"
        fine_tune = "ft:gpt-4o-mini:acemeco:suffix:abc123"
        assert http.delete(f"/v1/models/{fine_tune}").json() == {"id": fine_tune, "object": "model", "deleted": True}
        assert http.delete("/v1/models/gpt-4o").json()["deleted"] is True
        assert "gpt-4o" in [m["id"] for m in http.get("/v1/models").json()["data"]]  # a base model stays
