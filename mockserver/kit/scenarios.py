"""Hand-written scenarios: what generated cases miss, against any OpenAI-compatible server.

Each scenario is a row of the report (`scenario:<name>`): its `scenario` check counts the
steps that held, and every answer on the way is also judged by the generated cases' checks
(`response_schema`, `stream_framing`, `stream_events`, `error_envelope`). A scenario stops
at its first failing step, reported with a `curl` that sends the same request. A scenario
whose operations the server does not serve (a family not in `contracts/` yet) is skipped
with that reason.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable

from . import sse
from .operations import Op, contracts, find, operations
from .report import Failure, OperationResult, Report, curl


class StepFailed(Exception):
    def __init__(self, message: str, curl: str | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.failure = Failure(message, curl, detail)


class Session:
    def __init__(self, options: Any, outcome: OperationResult) -> None:
        import httpx

        self.options = options
        self.base = options.base_url.rstrip("/")
        self.headers = options.request_headers()
        self.http = httpx.Client(timeout=options.timeout, headers=self.headers)
        self.outcome = outcome
        self.steps = 0
        self.model = options.model

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, *, json_body: Any = None, files: Any = None, data: Any = None,
             params: dict | None = None, expect: tuple[int, ...] = (200,)) -> Any:
        url = self.base + path
        request = self.http.build_request(method, url, json=json_body, files=files, data=data, params=params)
        shown_body = json_body if json_body is not None else ("(multipart)" if files else None)
        command = curl(method, str(request.url), {**self.headers, **({"Content-Type": "application/json"} if json_body is not None else {})},
                       shown_body)
        if files:
            command += "".join(f" -F {k}=@{v[0]}" for k, v in files.items()) + "".join(f" -F {k}={v}" for k, v in (data or {}).items())
        try:
            response = self.http.send(request)
        except Exception as exc:  # noqa: BLE001
            raise StepFailed(f"{method} {path}: no answer ({type(exc).__name__}: {exc})", command) from None
        self.outcome.cases += 1
        found = find(method, "/v1" + path.split("?", 1)[0])
        if found is not None:
            from .server import judge_answer

            judge_answer(found[0], response.status_code, response.headers.get("content-type", ""), response.content,
                         self.outcome, lambda message, detail=None: Failure(message, command, detail))
        if response.status_code not in expect:
            raise StepFailed(f"{method} {path}: expected {' or '.join(map(str, expect))}, got {response.status_code}",
                             command, response.text[:600])
        self.steps += 1
        response.command = command  # type: ignore[attr-defined]
        return response

    def require(self, condition: bool, message: str, response: Any = None, detail: Any = None) -> None:
        if not condition:
            text = detail if detail is not None else (response.text[:600] if response is not None else None)
            raise StepFailed(message, getattr(response, "command", None), text if isinstance(text, str) else json.dumps(text)[:600])
        self.steps += 1


# --- lifecycles (the stateful links) ------------------------------------------------------

def links_responses(s: Session) -> None:
    r = s.call("POST", "/responses", json_body={"model": s.model, "input": "Say hello to the contract kit.", "store": True})
    rid = r.json()["id"]
    g = s.call("GET", f"/responses/{rid}")
    s.require(g.json().get("id") == rid, "retrieve answered another response", g)
    items = s.call("GET", f"/responses/{rid}/input_items")
    s.require(bool(items.json().get("data")), "input_items of a response with input is empty", items)
    s.call("DELETE", f"/responses/{rid}")
    s.call("GET", f"/responses/{rid}", expect=(404,))


def links_conversations(s: Session) -> None:
    c = s.call("POST", "/conversations", json_body={"metadata": {"kit": "1"},
                                                     "items": [{"type": "message", "role": "user", "content": "hi"}]})
    cid = c.json()["id"]
    s.call("GET", f"/conversations/{cid}")
    s.call("POST", f"/conversations/{cid}/items", json_body={"items": [{"type": "message", "role": "user", "content": "second"}]})
    items = s.call("GET", f"/conversations/{cid}/items")
    data = items.json().get("data") or []
    s.require(len(data) >= 2, f"the conversation lists {len(data)} items after two were added", items)
    item_id = data[0]["id"]
    s.call("GET", f"/conversations/{cid}/items/{item_id}")
    s.call("DELETE", f"/conversations/{cid}/items/{item_id}")
    u = s.call("POST", f"/conversations/{cid}", json_body={"metadata": {"kit": "2"}})
    s.require(u.json().get("metadata") == {"kit": "2"}, "update did not replace the metadata", u)
    s.call("DELETE", f"/conversations/{cid}")
    s.call("GET", f"/conversations/{cid}", expect=(404,))


def links_stored_completions(s: Session) -> None:
    r = s.call("POST", "/chat/completions", json_body={"model": s.model, "store": True, "metadata": {"kit": "1"},
                                                        "messages": [{"role": "user", "content": "Say hi"}]})
    cid = r.json()["id"]
    s.call("GET", f"/chat/completions/{cid}")
    s.call("GET", "/chat/completions", params={"limit": 10})
    s.call("GET", f"/chat/completions/{cid}/messages")
    u = s.call("POST", f"/chat/completions/{cid}", json_body={"metadata": {"kit": "2"}})
    s.require(u.json().get("metadata") == {"kit": "2"}, "update did not replace the metadata", u)
    s.call("DELETE", f"/chat/completions/{cid}")
    s.call("GET", f"/chat/completions/{cid}", expect=(404,))


def links_files(s: Session) -> None:
    content = "hello, contract kit\n".encode()
    f = s.call("POST", "/files", files={"file": ("kit.txt", content, "text/plain")}, data={"purpose": "user_data"})
    fid = f.json()["id"]
    s.call("GET", f"/files/{fid}")
    page = s.call("GET", "/files")
    s.require(any(item.get("id") == fid for item in page.json().get("data") or []), "the new file is not listed", page)
    body = s.call("GET", f"/files/{fid}/content")
    s.require(body.content == content, "the content is not what was uploaded", body)
    d = s.call("DELETE", f"/files/{fid}")
    s.require(d.json().get("deleted") is True, "delete did not say deleted", d)
    s.call("GET", f"/files/{fid}", expect=(404,))


def links_uploads(s: Session) -> None:
    content = b"part one, part two\n"
    u = s.call("POST", "/uploads", json_body={"bytes": len(content), "filename": "kit.txt", "mime_type": "text/plain",
                                               "purpose": "user_data"})
    uid = u.json()["id"]
    p = s.call("POST", f"/uploads/{uid}/parts", files={"data": ("blob", content, "application/octet-stream")})
    done = s.call("POST", f"/uploads/{uid}/complete", json_body={"part_ids": [p.json()["id"]]})
    s.require(done.json().get("status") == "completed", "the upload is not completed", done)
    fid = (done.json().get("file") or {}).get("id")
    body = s.call("GET", f"/files/{fid}/content")
    s.require(body.content == content, "the file made from the parts is not what was uploaded", body)


# --- what generation misses ---------------------------------------------------------------

def _stream(s: Session, path: str, body: dict, kind: str) -> tuple[Any, list]:
    r = s.call("POST", path, json_body=body)
    s.require(r.headers.get("content-type", "").startswith("text/event-stream"), "a stream was asked for, not sent", r)
    values, problems = sse.judge(r.text, kind)
    s.require(not problems, f"the stream is not well framed: {problems[:1]}", r)
    return r, values


def chat_usage_chunk(s: Session) -> None:
    r, chunks = _stream(s, "/chat/completions", {"model": s.model, "stream": True, "stream_options": {"include_usage": True},
                                                  "messages": [{"role": "user", "content": "Count to three."}]}, "chat")
    s.require(bool(chunks), "no chunks", r)
    last = chunks[-1]
    s.require(last.get("choices") == [] and isinstance(last.get("usage"), dict),
              "the last chunk is not the usage chunk (choices: [], usage)", r, last)
    s.require(all(c.get("usage") is None for c in chunks[:-1] if "choices" in c and c["choices"]),
              "a chunk before the usage chunk carries usage", r)
    usage = last["usage"]
    s.require(usage.get("total_tokens") == usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0),
              "total_tokens is not prompt + completion", r, usage)


WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
                   "required": ["city"], "additionalProperties": False}}}


def chat_tool_call_deltas(s: Session) -> None:
    import jsonschema_rs

    r, chunks = _stream(s, "/chat/completions", {"model": s.model, "stream": True, "tools": [WEATHER], "tool_choice": "required",
                                                  "messages": [{"role": "user", "content": "What's the weather in Paris?"}]}, "chat")
    calls: dict[int, dict] = {}
    for chunk in chunks:
        for choice in chunk.get("choices") or []:
            for delta in (choice.get("delta") or {}).get("tool_calls") or []:
                index = delta.get("index")
                s.require(isinstance(index, int), "a tool-call delta without an integer index", r, delta)
                call = calls.setdefault(index, {"id": None, "name": None, "arguments": ""})
                if call["id"] is None:
                    s.require(bool(delta.get("id")) and bool((delta.get("function") or {}).get("name")),
                              "the first delta of a tool call has no id or name", r, delta)
                    call["id"], call["name"] = delta["id"], delta["function"]["name"]
                call["arguments"] += (delta.get("function") or {}).get("arguments") or ""
    s.require(bool(calls), "tool_choice required, yet no tool call was streamed", r)
    validator = jsonschema_rs.validator_for(WEATHER["function"]["parameters"])
    for index, call in sorted(calls.items()):
        try:
            arguments = json.loads(call["arguments"])
        except ValueError:
            raise StepFailed(f"tool call {index}: the argument fragments do not reassemble to JSON",
                             r.command, call["arguments"][:300]) from None
        s.require(call["name"] == "get_weather", f"tool call {index} names {call['name']!r}", r)
        s.require(validator.is_valid(arguments), f"tool call {index}: the arguments break the function's parameters", r, arguments)


def responses_stream(s: Session) -> None:
    r, events = _stream(s, "/responses", {"model": s.model, "input": "Tell me a short story.", "stream": True}, "responses")
    types = [e.get("type") for e in events]
    s.require(types[:1] == ["response.created"], f"the stream opens with {types[:1]}", r)
    s.require(types[-1] in ("response.completed", "response.incomplete", "response.failed"), f"the stream ends with {types[-1]}", r)
    text = "".join(e.get("delta", "") for e in events if e.get("type") == "response.output_text.delta")
    final = events[-1].get("response") or {}
    written = "".join(part.get("text", "") for item in final.get("output") or [] if item.get("type") == "message"
                      for part in item.get("content") or [] if part.get("type") == "output_text")
    s.require(text == written, "the text deltas do not spell the final response's text", r, {"deltas": text[:200], "final": written[:200]})


def responses_previous_response_id(s: Session) -> None:
    first = s.call("POST", "/responses", json_body={"model": s.model, "input": "My name is Kit.", "store": True})
    second = s.call("POST", "/responses", json_body={"model": s.model, "input": "What is my name?",
                                                      "previous_response_id": first.json()["id"]})
    s.require(second.json().get("previous_response_id") == first.json()["id"], "previous_response_id is not echoed", second)
    items = s.call("GET", f"/responses/{second.json()['id']}/input_items")
    texts = json.dumps(items.json().get("data"))
    s.require("What is my name?" in texts, "the second turn's input is not listed", items)
    s.call("POST", "/responses", json_body={"model": s.model, "input": "x", "previous_response_id": "resp_" + "0" * 50},
           expect=(400, 404))


def responses_background(s: Session) -> None:
    r = s.call("POST", "/responses", json_body={"model": s.model, "input": "Say hi", "background": True})
    body = r.json()
    s.require(body.get("status") in ("queued", "in_progress", "completed"), f"a background response answered {body.get('status')!r}", r)
    deadline = time.monotonic() + s.options.poll_seconds
    while body.get("status") in ("queued", "in_progress"):
        if time.monotonic() > deadline:
            raise StepFailed(f"still {body.get('status')} after {s.options.poll_seconds:.0f} s", r.command)
        time.sleep(0.2)
        r = s.call("GET", f"/responses/{body['id']}")
        body = r.json()
    s.require(body.get("status") == "completed", f"the background response ended {body.get('status')!r}", r)


def batches_lifecycle(s: Session) -> None:
    line = {"custom_id": "kit-1", "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": s.model, "messages": [{"role": "user", "content": "Say hi"}]}}
    f = s.call("POST", "/files", files={"file": ("kit.jsonl", (json.dumps(line) + "\n").encode(), "application/jsonl")},
               data={"purpose": "batch"})
    b = s.call("POST", "/batches", json_body={"input_file_id": f.json()["id"], "endpoint": "/v1/chat/completions",
                                               "completion_window": "24h"})
    batch = b.json()
    deadline = time.monotonic() + s.options.poll_seconds
    while batch.get("status") not in ("completed", "failed", "expired", "cancelled"):
        if time.monotonic() > deadline:
            raise StepFailed(f"the batch is still {batch.get('status')} after {s.options.poll_seconds:.0f} s", b.command)
        time.sleep(0.2)
        b = s.call("GET", f"/batches/{batch['id']}")
        batch = b.json()
    s.require(batch.get("status") == "completed", f"the batch ended {batch.get('status')!r}", b)
    out = s.call("GET", f"/files/{batch.get('output_file_id')}/content")
    rows = [json.loads(row) for row in out.text.splitlines() if row.strip()]
    s.require([row.get("custom_id") for row in rows] == ["kit-1"], "the output does not hold the one line's answer", out)
    answer = (rows[0].get("response") or {})
    s.require(answer.get("status_code") == 200, "the line was not answered 200", out)
    found = contracts().problems("chat.completions.create.response", answer.get("body"))
    s.require(not found, f"the line's answer breaks chat.completions.create.response: {found[:1]}", out)
    s.call("GET", "/batches")


def realtime_text_turn(s: Session) -> None:
    """A text turn over the Realtime WebSocket: session.created, session.update → session.updated,
    an item and a response, each server event against `realtime.server.event`, in the GA order."""
    from websockets.sync.client import connect

    url = ("wss" + s.base[5:] if s.base.startswith("https") else "ws" + s.base[4:]) + "/realtime?model=gpt-realtime"
    command = f"websocat -H 'Authorization: ...' '{url}'"
    try:
        ws = connect(url, additional_headers=s.headers, open_timeout=s.options.timeout, max_size=None)
    except Exception as exc:  # noqa: BLE001 - a refused or failed upgrade fails the step, named
        raise StepFailed(f"GET /realtime: no WebSocket ({type(exc).__name__}: {exc})", command) from None
    seen: list[str] = []

    def until(kind: str) -> None:
        while True:
            event = json.loads(ws.recv(timeout=s.options.timeout))
            s.outcome.cases += 1
            found = contracts().problems("realtime.server.event", event)
            if found:
                raise StepFailed(f"{event.get('type')} breaks realtime.server.event: {found[0]}", command)
            seen.append(event["type"])
            if event["type"] == "error":
                raise StepFailed(f"an error event: {event.get('error')}", command)
            if event["type"] == kind:
                s.steps += 1
                return

    with ws:
        until("session.created")
        ws.send(json.dumps({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}}))
        until("session.updated")
        ws.send(json.dumps({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Say hi"}]}}))
        ws.send(json.dumps({"type": "response.create"}))
        until("response.done")
    order = [t for t in seen if not t.endswith(".delta")]
    expected = ["session.created", "session.updated", "conversation.item.added", "conversation.item.done",
                "response.created", "response.output_item.added", "conversation.item.added",
                "response.content_part.added", "response.output_text.done", "response.content_part.done",
                "conversation.item.done", "response.output_item.done", "response.done"]
    if order != expected:
        raise StepFailed("the text turn's events are not in the GA order", command, json.dumps(order))
    s.steps += 1


# name, the operations it needs (all must be served), function
SCENARIOS: list[tuple[str, tuple[str, ...], Callable[[Session], None]]] = [
    ("links.responses", ("responses.create", "responses.retrieve", "responses.input_items.list", "responses.delete"), links_responses),
    ("links.conversations", ("conversations.create", "conversations.items.list", "conversations.delete"), links_conversations),
    ("links.chat.completions", ("chat.completions.create", "chat.completions.retrieve", "chat.completions.list",
                                "chat.completions.delete"), links_stored_completions),
    ("links.files", ("files.create", "files.retrieve", "files.list", "files.content", "files.delete"), links_files),
    ("links.uploads", ("uploads.create", "uploads.parts.create", "uploads.complete", "files.content"), links_uploads),
    ("links.batches", ("files.create", "batches.create", "batches.retrieve", "batches.list"), batches_lifecycle),
    ("chat.usage_chunk", ("chat.completions.create",), chat_usage_chunk),
    ("chat.tool_call_deltas", ("chat.completions.create",), chat_tool_call_deltas),
    ("responses.stream", ("responses.create",), responses_stream),
    ("responses.previous_response_id", ("responses.create", "responses.input_items.list"), responses_previous_response_id),
    ("responses.background", ("responses.create", "responses.retrieve"), responses_background),
    ("realtime.text_turn", ("realtime.connect",), realtime_text_turn),
]


def run_scenarios(options: Any, report: Report, selected: list[Op], deadline: float | None) -> None:
    served = {op.id for op in operations()}
    chosen = {op.id for op in selected}
    for name, needs, function in SCENARIOS:
        if options.scenario_names and not any(name == n or name.startswith(n + ".") for n in options.scenario_names):
            continue
        if not any(need in chosen for need in needs):
            continue  # a family not asked for
        outcome = report.op(f"scenario:{name}")
        missing = [need for need in needs if need not in served]
        if missing:
            outcome.skip("scenario", f"not in contracts/ yet: {', '.join(missing)}")
            outcome.note = "skipped: " + outcome.checks["scenario"].skipped
            continue
        if deadline and time.monotonic() > deadline:
            outcome.skip("scenario", "time limit reached")
            outcome.note = "skipped: time limit reached"
            continue
        began = time.monotonic()
        session = Session(options, outcome)
        try:
            function(session)
            outcome.record("scenario", True)
            outcome.check("scenario").passed = session.steps
        except StepFailed as failed:
            outcome.record("scenario", False, failed.failure)
            outcome.check("scenario").passed = session.steps
        except Exception as exc:  # noqa: BLE001 - an answer of an unexpected shape fails the scenario, named
            outcome.record("scenario", False, Failure(f"{type(exc).__name__}: {exc}"[:500]))
        finally:
            session.close()
            outcome.seconds = time.monotonic() - began
