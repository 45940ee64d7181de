"""The one path every HTTP request takes after routing.

method → auth → body (content type, size, JSON; or left to a handler that streams it) →
faults → contract → handler → reply,
with the real headers added and any `OpenAIError` turned into the envelope here, and
only here. The fault engine is consulted once, here, for every endpoint family; the
journal entry is opened and closed here. Nothing below raises past this point: an
unexpected exception is logged and answered as the real API's 500, never a traceback.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING, Any

import orjson

from . import errors
from .errors import OpenAIError
from .faults.apply import deliver as apply_fault
from .faults.apply import error_reply
from .matching import Probe, last_user_text
from .streaming import send_stream
from .wire import ClientGone, Exchange, FileReply, Reply, StreamReply

if TYPE_CHECKING:
    from .faults.engine import Decision
    from .routing import Operation
    from .runtime import Runtime

log = logging.getLogger("mockserver")

# A line of a batch, sent through the operation table by the batch runner (batches/lines.py)
# rather than by a client: the scope carries the batch's id under this key, which no HTTP
# client can set. Here, and only here, that makes a difference: the journal marks the
# request as a batch line, and it waits for nothing (no one is waiting on the other end, so
# a delay or a hold ends at once, and a fault that needs a socket leaves it unanswered).
# Fault rules and fixtures see the batch through its `x-mock-batch` header (matching.py).
BATCH_LINE = "mockserver.batch"


class Endpoint:
    """The ASGI app of one URL: picks the operation by method and runs the pipeline."""

    def __init__(self, runtime: "Runtime", operations: dict[str, "Operation"]) -> None:
        self.runtime = runtime
        self.operations = operations

    async def __call__(self, scope: dict, receive, send) -> None:
        runtime = self.runtime
        if not runtime.batches.started:  # background work starts with the first request (lifespan is off)
            runtime.batches.start()
        ex = Exchange(scope, receive, send, runtime)
        op = self.operations.get(scope["method"])
        ex.operation = op
        batch = scope.get(BATCH_LINE)
        if batch is not None:
            ex.hold_left = 0.0
        # Journaled when it starts (a held request is seen in flight), completed when it ends.
        entry = runtime.journal.open(ex, batch) if runtime.journaling and (op is None or not op.admin) else None
        decision = reply = None
        outcome = "disconnected"  # unless the request ends otherwise (a cancelled task ends here)
        try:
            try:
                if op is None:
                    raise errors.method_not_allowed(scope["method"], scope["path"], self.operations)
                reply, decision = await run(ex, op)
            except ClientGone:
                reply = None
            except OpenAIError as err:
                if op is not None and op.error_detail and err.profile is None:
                    err.detail = True  # the family's service answers with `detail` too (not the gateway)
                reply = Reply.error(err)
                if op is not None and not op.error_newline:
                    reply.body = reply.body.rstrip(b"\n")
            except Exception:  # noqa: BLE001 - the envelope is the last line: log and answer 500
                log.exception("unexpected error in %s %s", scope["method"], scope["path"])
                reply = Reply.error(errors.server_error())
            if reply is not None:
                outcome = await deliver(ex, reply, decision)
        finally:
            ex.finish()
            if entry is not None:
                runtime.journal.close(entry, ex, outcome, reply, decision)


async def run(ex: Exchange, op: "Operation") -> tuple[Reply | StreamReply | FileReply, "Decision | None"]:
    runtime = ex.runtime
    if op.admin:
        check_admin(ex)
    elif runtime.config.require_auth:
        check_auth(ex)
    if op.request_schema is not None:
        await read_json(ex)
    decision = None
    if runtime.journaling and not op.admin:
        decision = runtime.faults.decide(ex, request_probe)
        if decision is not None and decision.fault.kind == "http":
            return error_reply(decision.fault, ex), decision
    if op.request_schema is not None:
        check_json(ex, op)
    return await op.handler(ex), decision


async def deliver(ex: Exchange, reply: Reply | StreamReply | FileReply, decision: "Decision | None" = None) -> str:
    """Send the reply (as the fault, if any, dictates); the outcome is for the journal:
    `disconnected` when the client left before its answer was all sent."""
    try:
        if reply.delay > 0 and await ex.wait(reply.delay):
            return "disconnected"
        if decision is not None:
            if isinstance(reply, FileReply):  # faults act on whole answers
                reply = reply.whole()
            return await apply_fault(ex, reply, decision.fault)
        if isinstance(reply, FileReply):
            await ex.send_file(reply)
        elif isinstance(reply, StreamReply):
            await send_stream(ex, reply)
        else:
            await ex.send_reply(reply)
        return "ok" if reply.status < 400 else "error"
    except ClientGone:  # the client went away mid-answer; nothing left to tell it
        return "disconnected"
    except OSError:
        return "connection"
    finally:
        if isinstance(reply, FileReply):
            reply.release()


def request_probe(ex: Exchange) -> Probe:
    """What fault rules match on, for any family: model, last user text, headers, body."""
    body = ex.body if isinstance(ex.body, dict) else {}
    model = body.get("model") if isinstance(body.get("model"), str) else ex.path_params.get("model")

    def header(name: str) -> str | None:
        value = ex.header(name.encode("latin-1"))
        return value.decode("latin-1") if value is not None else None

    return Probe(ex.operation.id, model, body, last_user_text(body), header, ex.method)


def check_admin(ex: Exchange) -> None:
    """The admin API answers loopback clients, or anyone with the configured token, and
    never a web page: a browser's cross-site request carries an `Origin` (or
    `Sec-Fetch-Site`) that is not the server's own, and a DNS-rebinding page a `Host`
    that is not a loopback name. curl and test code send neither."""
    origin = ex.header(b"origin")
    host = (ex.header(b"host") or b"").decode("latin-1")
    site = ex.header(b"sec-fetch-site")
    if (origin is not None and origin.decode("latin-1").split("://", 1)[-1] != host) or (
            site is not None and site not in (b"same-origin", b"none")):
        raise admin_forbidden("The admin API does not answer requests from web pages of another origin.")
    token = ex.runtime.config.admin_token
    if token:
        given = ex.header(b"x-mock-admin-token") or b""
        authorization = ex.header(b"authorization") or b""
        if given.decode("latin-1") != token and authorization.decode("latin-1") != f"Bearer {token}":
            raise errors.OpenAIError(401, "The admin API needs the admin token (X-Mock-Admin-Token).", code="invalid_admin_token")
        return
    client = ex.scope.get("client")
    if client and not is_loopback(client[0]):
        raise admin_forbidden("The admin API answers only on loopback unless an admin token is configured.")
    if not local_host(host, ex.runtime.config.host):
        raise admin_forbidden(f"The admin API answers only under a loopback name or address, not Host {host!r}.")


def admin_forbidden(message: str) -> errors.OpenAIError:
    return errors.OpenAIError(403, message, code="admin_forbidden")


def is_loopback(address: str) -> bool:
    """127.0.0.0/8, ::1 (and IPv4-mapped loopback), or a test client's stand-in name."""
    if address in ("localhost", "testclient"):
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def local_host(host: str, configured: str) -> bool:
    """A `Host` a DNS-rebinding page cannot send: a loopback address, the configured host,
    `localhost` and `*.localhost`, or a single-label name (`mock`, `testserver`, a
    container's name), which public DNS cannot hand a browser."""
    if host.startswith("["):  # [::1]:8000
        name = host[1:].split("]", 1)[0]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.lower()
    if not name:
        return True  # HTTP/1.0 without a Host: not a browser
    if name == configured.lower() or name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return is_loopback(str(ipaddress.ip_address(name)))
    except ValueError:
        return "." not in name


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


async def read_json(ex: Exchange) -> None:
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
    ex.body = body


def check_json(ex: Exchange, op: "Operation") -> None:
    ex.runtime.contracts.check_request(
        op.request_schema, ex.body, top_level_unknown=op.unknown_argument, dialect=op.error_dialect
    )


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
