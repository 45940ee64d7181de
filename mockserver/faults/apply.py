"""How each fault acts on an answer, as the real API or a real network would.

HTTP errors replace the answer (`error_reply`). Everything else happens while the answer
is delivered (`deliver`): delays and holds before the headers, network faults on the
connection itself, slicing and stream faults on the body. Holds watch for the client
going away, so a hung request never outlives its client, and never the server's maximum.
"""

from __future__ import annotations

import math
import os
import socket
import struct
from typing import TYPE_CHECKING

import orjson

from ..ratelimit import go_duration
from ..streaming import DONE, send_frames, send_stream
from ..wire import JSON, ClientGone, Exchange, Reply, StreamReply
from .spec import Fault

if TYPE_CHECKING:
    from ..runtime import Runtime

TRANSPORT = "mockserver.transport"  # scope extension set by mockserver.protocol
GARBAGE_MAX = 1 << 20  # a garbage fault writes at most 1 MiB: enough to break any parser


def error_reply(fault: Fault, ex: Exchange) -> Reply:
    """The real error for an http fault: envelope (or the proxy's HTML), status, headers."""
    headers: list[tuple[bytes, bytes]] = []
    wait = fault.retry_after_ms / 1000 if fault.retry_after_ms is not None else fault.retry_after
    if fault.retry_after is not None:
        headers.append((b"retry-after", _number(fault.retry_after)))
    if fault.retry_after_ms is not None:
        headers.append((b"retry-after-ms", str(fault.retry_after_ms).encode()))
        if fault.retry_after is None:
            headers.append((b"retry-after", str(max(1, math.ceil(fault.retry_after_ms / 1000))).encode()))
    if fault.should_retry is not None:
        headers.append((b"x-should-retry", b"true" if fault.should_retry else b"false"))
    if fault.status == 429 and fault.code == "rate_limit_exceeded":
        headers += _exhausted_limits(ex.runtime, wait or 1.0)
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in fault.headers]
    if fault.body is not None:
        content_type = b"text/html" if fault.body.lstrip().startswith("<") else JSON
        return Reply(fault.body.encode(), fault.status, headers, content_type=content_type, profile="catalog")
    message = (fault.message or "").replace("{wait}", go_duration(wait or 1.0))  # not format(): any braces may stand
    envelope = {"error": {"message": message, "type": fault.type, "param": fault.param, "code": fault.code}}
    return Reply(orjson.dumps(envelope, option=orjson.OPT_INDENT_2), fault.status, headers)


def _exhausted_limits(runtime: "Runtime", wait: float) -> list[tuple[bytes, bytes]]:
    limit = runtime.rate_limits.limit_for("default")
    reset = go_duration(wait).encode()
    return [
        (b"x-ratelimit-limit-requests", str(limit.requests_per_minute).encode()),
        (b"x-ratelimit-limit-tokens", str(limit.tokens_per_minute).encode()),
        (b"x-ratelimit-remaining-requests", b"0"),
        (b"x-ratelimit-remaining-tokens", b"0"),
        (b"x-ratelimit-reset-requests", reset),
        (b"x-ratelimit-reset-tokens", reset),
    ]


def _number(value: float) -> bytes:
    return (str(int(value)) if float(value).is_integer() else repr(value)).encode()


# --- delivery under a fault ---------------------------------------------------------------


async def deliver(ex: Exchange, reply: Reply | StreamReply, fault: Fault) -> str:
    """Send `reply` as the fault dictates; returns the outcome for the journal."""
    kind = fault.kind
    if kind == "latency":
        jitter = ex.runtime.faults_rng.uniform(-fault.jitter, fault.jitter) if fault.jitter else 0.0
        if await ex.wait(max(0.0, fault.delay + jitter)):
            raise ClientGone()
        if isinstance(reply, StreamReply) and (fault.first_chunk or fault.chunk_delay):
            reply.delays = _paced(reply, fault.first_chunk, fault.chunk_delay)
        return await _send(ex, reply)
    if kind == "http" and fault.delay and await ex.wait(fault.delay):
        raise ClientGone()
    if kind == "timeout":
        gone = await ex.wait(fault.hold if fault.hold is not None else math.inf)
        if gone:
            return "timeout"
        if fault.then == "answer":
            return await _send(ex, reply)
        await close(ex)
        return "timeout"
    if kind in ("reset", "empty"):
        await close(ex, reset=kind == "reset")
        return "connection"
    if kind == "garbage":
        transport = _transport(ex)
        if transport is not None:
            transport.write(os.urandom(min(fault.bytes or 64, GARBAGE_MAX)))
        await close(ex)
        return "connection"
    if kind in ("headers_then_close", "limit_data"):
        body = _body(reply)
        await ex.start(reply.status, reply.content_type, reply.headers, None if isinstance(reply, StreamReply) else len(body),
                       reply.profile)
        if kind == "limit_data" and fault.bytes:
            await ex.send_body(body[: fault.bytes], True)
        await close(ex)
        return "connection"
    if kind == "slicer":
        return await _slices(ex, reply, fault)
    if kind == "malformed_json":
        return await _send(ex, _malformed(reply))
    if fault.stream and isinstance(reply, StreamReply):
        return await _stream_fault(ex, reply, fault)
    return await _send(ex, reply)  # a stream fault on a plain answer: nothing to cut


async def _send(ex: Exchange, reply: Reply | StreamReply) -> str:
    if isinstance(reply, StreamReply):
        await send_stream(ex, reply)
    else:
        await ex.send_reply(reply)
    return "ok" if reply.status < 400 else "error"


def _paced(reply: StreamReply, first: float, between: float) -> list[float]:
    count = len(_frames(reply))
    return [first] + [between] * (count - 1)


def _frames(reply: StreamReply) -> list[bytes]:
    """A stream's frames one by one (an unpaced stream may hold them joined in one)."""
    frames = reply.frames if isinstance(reply.frames, list) else []
    if len(frames) == 1:
        frames = [part + b"\n\n" for part in frames[0].split(b"\n\n") if part]
    reply.frames = frames
    return frames


def _body(reply: Reply | StreamReply) -> bytes:
    return reply.body if isinstance(reply, Reply) else b"".join(_frames(reply))


async def _slices(ex: Exchange, reply: Reply | StreamReply, fault: Fault) -> str:
    """The whole answer, dribbled: `slice_bytes` at a time, `slice_delay` apart."""
    body = _body(reply)
    size = max(1, fault.slice_bytes or 16)
    await ex.start(reply.status, reply.content_type, reply.headers, None if isinstance(reply, StreamReply) else len(body),
                   reply.profile)
    for start in range(0, len(body), size):
        await ex.send_body(body[start:start + size], True)
        if await ex.wait(fault.slice_delay or 0.05):
            raise ClientGone()
    await ex.send_body(b"", False)
    return "ok"


def _malformed(reply: Reply | StreamReply) -> Reply | StreamReply:
    """Valid-looking JSON cut in the middle (a body, or one chunk of a stream)."""
    if isinstance(reply, Reply):
        body = reply.body[: max(1, len(reply.body) // 2)]
        return Reply(body, reply.status, reply.headers, reply.content_type, reply.delay, reply.profile)
    frames = list(_frames(reply))  # a copy: the frames may be a fixture's own
    if frames:
        middle = len(frames) // 2
        frames[middle] = frames[middle][: max(8, len(frames[middle]) // 2)] + b"\n\n"
    reply.frames = frames
    return reply


async def _stream_fault(ex: Exchange, reply: StreamReply, fault: Fault) -> str:
    frames = [f for f in _frames(reply) if f != DONE]
    kept = frames[: fault.after_chunks]
    if fault.kind == "stream_error":
        kept.append(_error_frame(fault, frames, len(kept)))
    delays = reply.delays[: len(kept)] if reply.delays else None
    await send_stream_partial(ex, StreamReply(kept, delays, reply.status, reply.headers, reply.content_type, 0.0, reply.profile))
    if fault.kind == "stall":
        await ex.wait(fault.hold if fault.hold is not None else math.inf)
        await close(ex)
        return "cut"
    if fault.kind == "stream_cut" and fault.close:
        await close(ex)
        return "cut"
    await ex.send_body(b"", False)
    return "cut"


def _error_frame(fault: Fault, frames: list[bytes], sequence_number: int) -> bytes:
    """The error the real API sends inside a stream whose 200 is already out: chat's
    `{"error": {...}}` chunk, or the Responses API's typed `error` event (`type` first,
    other keys sorted, numbered after the events before it)."""
    message = fault.message or "The server had an error while processing your request. Sorry about that!"
    if any(frame.startswith(b"event: ") for frame in frames):  # a typed-event stream (Responses)
        event = {"type": "error", "code": fault.code or "server_error", "message": message, "param": None,
                 "sequence_number": sequence_number}
        return b"event: error\ndata: " + orjson.dumps(event) + b"\n\n"
    error = {"message": message, "type": "server_error", "param": None, "code": fault.code}
    return b"data: " + orjson.dumps({"error": error}) + b"\n\n"


async def send_stream_partial(ex: Exchange, reply: StreamReply) -> None:
    """The frames of `reply`, leaving the response open for the fault to finish."""
    await ex.start(reply.status, reply.content_type, reply.headers, None, reply.profile)
    await send_frames(ex, reply.frames, reply.delays)


# --- holding and closing --------------------------------------------------------------


def _transport(ex: Exchange):
    return (ex.scope.get("extensions") or {}).get(TRANSPORT)


async def close(ex: Exchange, reset: bool = False) -> None:
    """Drop the connection (with a TCP reset when asked), then wait for the server to notice.

    Needs the transport, which `mockserver serve` (and `mockserver.protocol`) provide; under
    another server the request simply ends without an answer."""
    transport = _transport(ex)
    if transport is None:
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        transport.abort()
    else:
        transport.close()
    ex.hold_left = max(ex.hold_left, 1.0)  # not a hold: the time for the server to notice
    await ex.wait(1.0)
