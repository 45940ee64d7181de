"""The official openai Node SDK's retry logic against the fake (tests/node/call.mjs).

`make test` installs the SDK from the npm registry (tests/node/package-lock.json pins
it); without Node.js these tests skip with the reason."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mockserver import Config

from .support.server import RunningServer

NODE_DIR = Path(__file__).resolve().parent / "node"


def node_ready() -> str | None:
    if shutil.which("node") is None:
        return "Node.js is not installed"
    if not (NODE_DIR / "node_modules" / "openai").is_dir():
        return "the Node SDK is not installed: run `make test` (npm ci --prefix tests/node)"
    return None


pytestmark = pytest.mark.skipif(node_ready() is not None, reason=node_ready() or "")


@pytest.fixture(scope="module")
def fake():
    with RunningServer(Config()) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(fake):
    fake.reset()
    yield
    fake.audit.drain()


def node(fake, retries: int, fault: str = "", stream: bool | str = False) -> dict:
    mode = stream if isinstance(stream, str) else "stream" if stream else ""
    result = subprocess.run(
        ["node", str(NODE_DIR / "call.mjs"), fake.url, str(retries), fault, mode],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])




def test_429_then_success(fake):
    assert node(fake, 2, "429; retry-after-ms=50; attempts=2")["ok"] is True
    entries = fake.journal()
    assert [e["retry_count"] for e in entries] == [0, 1, 2]
    assert [e["status"] for e in entries] == [429, 429, 200]
    assert "OpenAI/JS" in entries[0]["client"]  # the SDK's user agent, in the journal


@pytest.mark.parametrize("retries", [0, 2, 5])
def test_retry_counts(fake, retries):
    outcome = node(fake, retries, "503; retry-after-ms=10")
    assert outcome == {**outcome, "ok": False, "name": "InternalServerError", "status": 503}
    assert len(fake.journal()) == retries + 1


def test_retry_after_over_a_minute_falls_back_to_backoff(fake):
    """Unlike the Python SDK, the Node SDK ignores a retry-after over 60 s and retries on its
    own backoff."""
    fake.add_rule(fault={"status": 429, "retry_after": 121}, times=1)
    assert node(fake, 2)["ok"] is True
    assert [e["status"] for e in fake.journal()] == [429, 200]


def test_400_not_retried_and_should_retry_false_obeyed(fake):
    assert node(fake, 3, "400")["status"] == 400
    assert node(fake, 3, '{"status": 503, "should_retry": false}')["status"] == 503
    assert len(fake.journal()) == 2


def test_reset_is_a_connection_error_and_is_retried(fake):
    assert node(fake, 0, "reset")["name"] == "APIConnectionError"
    fake.add_rule(fault={"type": "reset"}, times=1)
    assert node(fake, 2)["ok"] is True
    assert [e["outcome"] for e in fake.journal()] == ["connection", "connection", "ok"]


def test_error_event_mid_stream_throws(fake):
    outcome = node(fake, 2, "stream_error; after-chunks=2", stream=True)
    assert outcome["ok"] is False and outcome["name"] == "APIError"
    assert len(fake.journal()) == 1


def test_responses_error_event_throws(fake):
    """Node raises the Responses API's `error` event (Python yields it: tests/test_chaos.py)."""
    assert node(fake, 0, "", stream="responses-stream")["ok"] is True
    outcome = node(fake, 2, "stream_error; after-chunks=4", stream="responses-stream")
    assert outcome["ok"] is False and outcome["name"] == "APIError"
    assert "server had an error" in outcome["message"]


def test_cut_stream_ends_quietly(fake):
    full = node(fake, 0, "", stream=True)["text"]
    cut = node(fake, 0, "stream_cut; after-chunks=3", stream=True)
    assert cut["ok"] is True and full.startswith(cut["text"]) and len(cut["text"]) < len(full)
