"""The one path every HTTP request takes after routing.

method → auth → body (content type, size, JSON, contract) → handler → reply, with the
real headers added and any `OpenAIError` turned into the envelope here, and only
here. Nothing below raises past this point: an unexpected exception is logged and
answered as the real API's 500, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import orjson

from . import errors
from .errors import OpenAIError
from .streaming import send_stream
from .wire import ClientGone, Exchange, Reply, StreamReply

if TYPE_CHECKING:
    from .routing import Operation
    from .runtime import Runtime

log = logging.getLogger("mockserver")


class Endpoint:
    """The ASGI app of one URL: picks the operation by method and runs the pipeline."""

    def __init__(self, runtime: "Runtime", operations: dict[str, "Operation"]) -> None:
        self.runtime = runtime
        self.operations = operations

    async def __call__(self, scope: dict, receive, send) -> None:
        ex = Exchange(scope, receive, send, self.runtime)
        try:
            op = self.operations.get(scope["method"])
            if op is None:
                raise errors.method_not_allowed(scope["method"], scope["path"], self.operations)
            ex.operation = op
            reply = await run(ex, op)
        except ClientGone:
            return
        except OpenAIError as err:
            reply = Reply.error(err)
        except Exception:  # noqa: BLE001 - the envelope is the last line: log and answer 500
            log.exception("unexpected error in %s %s", scope["method"], scope["path"])
            reply = Reply.error(errors.server_error())
        await deliver(ex, reply)


async def run(ex: Exchange, op: "Operation") -> Reply | StreamReply:
    runtime = ex.runtime
    if runtime.config.require_auth:
        check_auth(ex)
    if op.request_schema is not None:
        await read_json(ex, op)
    return await op.handler(ex)


async def deliver(ex: Exchange, reply: Reply | StreamReply) -> None:
    try:
        if reply.delay > 0:
            await asyncio.sleep(reply.delay)
        if isinstance(reply, StreamReply):
            await send_stream(ex, reply)
        else:
            await ex.send_reply(reply)
    except (OSError, ClientGone):  # the client went away mid-answer; nothing left to tell it
        return


def check_auth(ex: Exchange) -> None:
    """Bearer auth as OpenAI does it, or Azure's `api-key` header."""
    key = None
    authorization = ex.header(b"authorization")
    if authorization:
        scheme, _, value = authorization.decode("latin-1").partition(" ")
        key = value.strip() if scheme.lower() == "bearer" else None
    if not key:
        api_key = ex.header(b"api-key")
        key = api_key.decode("latin-1").strip() if api_key else None
    if not key:
        raise errors.missing_api_key()
    allowed = ex.runtime.config.api_keys
    if allowed and key not in allowed:
        raise errors.invalid_api_key(key)


async def read_json(ex: Exchange, op: "Operation") -> None:
    content_type = ex.header(b"content-type")
    if content_type is not None:
        media = content_type.split(b";", 1)[0].strip().lower()
        if media != b"application/json":
            raise errors.unsupported_content_type(content_type.decode("latin-1"))
    raw = await ex.read_body(ex.runtime.config.max_body_bytes)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise errors.malformed_json() from None
    if not isinstance(body, dict):
        raise errors.invalid_request(
            f"Invalid type for body: expected an object, but got {errors.type_name(body)} instead."
        )
    # Only a body with that many brackets can be that deep: the walk is for those alone.
    if raw.count(b"{") + raw.count(b"[") > MAX_NESTING and nesting(body) > MAX_NESTING:
        raise errors.invalid_request(f"Invalid body: JSON nested more than {MAX_NESTING} levels deep.")
    deployment = ex.path_params.get("deployment")
    if deployment is not None and "model" not in body:
        body["model"] = deployment  # Azure names the model in the URL; the body may omit it
    ex.runtime.contracts.check_request(
        op.request_schema, body, top_level_unknown=op.unknown_argument, dialect=op.error_dialect
    )
    ex.body = body


MAX_NESTING = 100  # deeper bodies are refused: every walk over a body stays far from recursion limits


def nesting(value: Any) -> int:
    """How deep objects and arrays nest in `value` (without recursion, whatever the depth)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


class NotFound:
    """Any URL no operation serves: the real API's `Invalid URL (METHOD /path)`."""

    def __init__(self, runtime: "Runtime") -> None:
        self.runtime = runtime

    async def __call__(self, scope: dict, receive, send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        ex = Exchange(scope, receive, send, self.runtime)
        await deliver(ex, Reply.error(errors.invalid_url(scope["method"], scope["path"])))
