"""A batch line as an internal request: the same operation table, envelope, contracts,
model rules, fixtures, synthesis, rate limits, faults and journal as a request from a
client, never a second copy of the handlers.

The line's method, url and body become an ASGI request for the server's own router: its
body is fed through `receive`, its answer captured from `send`. It carries the batch
creator's API key, `x-mock-batch: <batch id>` (which fault rules and fixtures can match:
`match: {batch: true}`), and, in its scope, the batch's id under `envelope.BATCH_LINE`,
which the journal marks it by and which makes every wait end at once (no one is waiting on
the other end). A fault that needs a socket (a reset, garbage, a hold, a cut) leaves the
line without an HTTP answer: it is written with `response: null` and an `error`.

What a line becomes, as the real API writes it (openai/openai-openapi#302, the Batch guide):

    {"id": "batch_req_...", "custom_id": "...", "response": {"status_code": 200,
     "request_id": "<32 hex>", "body": {...}}, "error": null}

an HTTP error from the endpoint is a `response` with its 4xx or 5xx status and error body;
a line that never got an HTTP answer has `response: null` and an `error` {code, message}.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..envelope import BATCH_LINE, NotFound
from ..matching import BATCH_HEADER
from ..routing import build_routes

USER_AGENT = b"mockserver-batch-runner"


def router_for(runtime) -> Any:
    """The server's routes (the operation table, served at every URL shape), and the
    unknown-URL answer for anything else: a line for an endpoint the fake does not serve
    yet is answered as any unserved URL is (`Invalid URL (POST /v1/completions)`, 404)."""
    from starlette.routing import Router

    return Router(routes=build_routes(runtime, runtime.operations), default=NotFound(runtime), redirect_slashes=False)


@dataclass(slots=True)
class Answer:
    status: int = 0  # 0: no HTTP answer at all
    headers: list = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
    complete: bool = False  # the whole body was sent

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    def header(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.headers if key == name), None)


async def call(router, batch_id: str, method: str, url: str, body: bytes, auth: list[tuple[bytes, bytes]]) -> Answer:
    """Send one request through `router` and capture what it answers."""
    path, _, query = url.partition("?")
    headers = [(b"host", b"mockserver"), (b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode()), (b"user-agent", USER_AGENT),
               (BATCH_HEADER.encode(), batch_id.encode("latin-1")), *auth]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode("latin-1", "replace"), "root_path": "",
        "query_string": query.encode("latin-1", "replace"), "headers": headers, "client": None,
        "server": None, "extensions": {}, BATCH_LINE: batch_id,
    }
    sent = False
    answer = Answer()

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}  # nothing reads twice; if something did, it would see an end

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = list(message.get("headers") or [])
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            if chunk:
                answer.chunks.append(chunk)
            if not message.get("more_body", False):
                answer.complete = True

    await router(scope, receive, send)
    await asyncio.sleep(0)  # bounded work per step: the event loop serves others between lines
    return answer


def request_id_of(answer: Answer) -> str | None:
    """The answer's `x-request-id`, as the output shows it: 32 hex, without `req_`."""
    value = answer.header(b"x-request-id")
    if value is None:
        return None
    text = value.decode("latin-1")
    return text[4:] if text.startswith("req_") else text


def line_id(batch_id: str, created_at: int, index: int, seed: int) -> str:
    """`batch_req_` and 32 hex in the batch ids' pattern, the same for the same line of the
    same batch (so a line run again after a restart keeps its id)."""
    digest = hashlib.blake2b(f"{batch_id}|{index}|{seed}".encode(), digest_size=10).hexdigest()
    return f"batch_req_{created_at & 0xFFFFFFFF:08x}{digest[:4]}8190{digest[4:]}"


def output_line(line_id_: str, custom_id: Any, answer: Answer) -> tuple[bytes, bool, Any]:
    """The line written for an answer: (its JSONL bytes, whether it succeeded, the body's
    `usage` if any). A 2xx answer goes to the output file, anything else to the error file."""
    if not answer.status:
        return failure(line_id_, custom_id, "connection_error",
                       "The request got no HTTP answer: the connection closed before any response."), False, None
    if not answer.complete:
        return failure(line_id_, custom_id, "connection_error",
                       f"The request's HTTP answer was cut short: status {answer.status}, then the connection "
                       "closed before the whole body was sent."), False, None
    try:
        body = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        kind = (answer.header(b"content-type") or b"").decode("latin-1")
        return failure(line_id_, custom_id, "invalid_response",
                       f"The request's answer was not a JSON body (status {answer.status}, {kind or 'no content type'})."
                       ), False, None
    response = {"status_code": answer.status, "request_id": request_id_of(answer), "body": body}
    ok = 200 <= answer.status < 300
    line = orjson.dumps({"id": line_id_, "custom_id": custom_id, "response": response, "error": None}) + b"\n"
    return line, ok, body.get("usage") if ok and isinstance(body, dict) else None


def refused(line_id_: str, custom_id: Any, status: int, message: str, param: str | None) -> bytes:
    """A line the batch answers itself, with an HTTP error as the endpoint would word it."""
    body = {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}}
    response = {"status_code": status, "request_id": None, "body": body}
    return orjson.dumps({"id": line_id_, "custom_id": custom_id, "response": response, "error": None}) + b"\n"


def failure(line_id_: str, custom_id: Any, code: str, message: str) -> bytes:
    """A line that never got an HTTP answer (or never ran: `batch_expired`)."""
    return orjson.dumps({"id": line_id_, "custom_id": custom_id, "response": None,
                         "error": {"code": code, "message": message}}) + b"\n"


EXPIRED_MESSAGE = "This request could not be executed before the completion window expired."
