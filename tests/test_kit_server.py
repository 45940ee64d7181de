"""`mockserver contract server`: the suite against our own fake (zero failures), against a
broken one (it must see the breakage), and its reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from mockserver import Config
from mockserver.cli import main
from mockserver.kit.operations import find, openapi, operations
from mockserver.kit.running import RunningServer
from mockserver.kit.server import ServerOptions, run

FAST = Config(background_queued_seconds=0.05, background_seconds=0.1)


@pytest.fixture(scope="module")
def fake():
    with RunningServer(FAST) as running:
        yield running


def test_the_suite_passes_against_our_fake(fake, tmp_path):
    report = run(ServerOptions(base_url=fake.url, examples=8, seed=0, poll_seconds=20))
    fake.audit.drain()
    assert report.failures == 0, report.summary()
    totals = report.totals()
    served = [op for op in operations()]
    assert totals["operations"] == len(served)  # every operation the fake serves was generated for
    assert totals["scenarios"] >= 10 and totals["cases"] > 300
    checks = {name for result in report.operations.values() for name in result.checks}
    assert {"not_a_server_error", "error_envelope", "rejects_invalid", "response_schema", "stream_framing",
            "stream_events", "scenario"} <= checks
    # the three outputs
    report.write_junit(tmp_path / "junit.xml")
    report.write_html(tmp_path / "report.html")
    report.write_json(tmp_path / "report.json")
    suites = ET.parse(tmp_path / "junit.xml").getroot()
    assert suites.tag == "testsuites" and suites.get("failures") == "0" and len(suites) == len(report.operations)
    assert "<table>" in (tmp_path / "report.html").read_text()
    assert json.loads((tmp_path / "report.json").read_text())["totals"]["failures"] == 0


class Broken:
    """The fake with three bugs a server could have: chat completions lose `created`, an
    embeddings request with a `user` is a 500, and Responses streams lose their `event:` lines."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        if scope["path"].endswith("/embeddings") and b'"user"' in raw:
            await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"Internal Server Error"})
            return
        head: dict = {}
        body = bytearray()

        async def replay():
            return {"type": "http.request", "body": raw, "more_body": False}

        async def capture(message):
            if message["type"] == "http.response.start":
                head.update(message)
            else:
                body.extend(message.get("body", b""))
                if not message.get("more_body"):
                    text = bytes(body)
                    if scope["path"].endswith("/chat/completions") and text.startswith(b"{") and b'"created"' in text:
                        value = json.loads(text)
                        value.pop("created", None)
                        text = json.dumps(value).encode()
                    if scope["path"].endswith("/responses") and b"event: " in text:
                        text = b"\n".join(line for line in text.split(b"\n") if not line.startswith(b"event: "))
                    headers = [(k, v) for k, v in head.get("headers", []) if k.lower() != b"content-length"]
                    await send({"type": "http.response.start", "status": head["status"],
                                "headers": headers + [(b"content-length", str(len(text)).encode())]})
                    await send({"type": "http.response.body", "body": text})

        await self.app(scope, replay, capture)


def test_the_suite_sees_a_broken_server():
    with RunningServer(FAST, wrappers=[Broken]) as broken:
        report = run(ServerOptions(base_url=broken.url, families=["chat.completions.create", "embeddings", "responses.create"],
                                   examples=15, seed=0, scenario_names=["chat.usage_chunk", "responses.stream", "links.responses"]))
        broken.audit.drain()
    chat = report.operations["scenario:links.responses"]
    assert chat.failed == 0
    assert report.operations["embeddings.create"].checks["not_a_server_error"].failed > 0
    first = report.operations["embeddings.create"].checks["not_a_server_error"].first
    assert first.curl.startswith("curl -X POST") and "/embeddings" in first.curl
    stream = report.operations["scenario:responses.stream"]
    assert stream.checks["scenario"].failed == 1 and "event" in stream.checks["scenario"].first.message
    created = report.operations["scenario:chat.usage_chunk"]
    assert created.failed == 0  # streams keep `created`
    summary = report.summary()
    assert "FAIL" in summary and "reproduce: curl" in summary
    assert report.failures > 0


def test_the_cli_runs_it_and_fails_on_failures(fake, tmp_path, capsys):
    code = main(["contract", "server", "--base-url", fake.url, "--operation", "models.*", "--no-scenarios",
                 "--examples", "3", "--junit", str(tmp_path / "j.xml"), "--html", str(tmp_path / "r.html")])
    fake.audit.drain()
    out = capsys.readouterr().out
    assert code == 0, out
    assert "models.retrieve" in out and (tmp_path / "j.xml").exists() and (tmp_path / "r.html").exists()
    with RunningServer(FAST, wrappers=[Broken]) as broken:
        code = main(["contract", "server", "--base-url", broken.url, "--family", "embeddings", "--no-scenarios", "--examples", "10"])
        broken.audit.drain()
    assert code == 1


def test_the_document_is_built_from_the_contracts():
    doc = openapi()
    assert doc["openapi"] == "3.1.0"
    ops = {spec["operationId"] for methods in doc["paths"].values() for spec in methods.values()}
    assert ops == {op.id for op in operations()}
    chat = doc["paths"]["/chat/completions"]["post"]
    assert set(chat["responses"]["200"]["content"]) == {"application/json", "text/event-stream"}
    assert find("POST", "/openai/deployments/prod/chat/completions")[0].id == "chat.completions.create"
    assert find("GET", "/v1/models/ft:gpt-4o-mini:org:x:1")[0].id == "models.retrieve"
    assert find("POST", "/v1/responses/input_tokens")[0].id == "responses.input_tokens.count"
