"""What crosses the wire: the request as the handlers see it, and the replies they return.

Handlers never touch ASGI: they read an `Exchange` and return a `Reply` (a whole body),
a `StreamReply` (server-sent events) or a `FileReply` (a stored file's bytes, streamed). Keeping replies as values lets one place add
the real headers, and lets faults and pacing act on any endpoint's answer.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, AsyncIterator, Iterable, Iterator
from urllib.parse import unquote_plus

import orjson

from . import errors

if TYPE_CHECKING:
    from .runtime import Runtime

JSON = b"application/json"
JSON_UTF8 = b"application/json; charset=utf-8"
OCTET_STREAM = b"application/octet-stream"
EVENT_STREAM = b"text/event-stream; charset=utf-8"
OPENAI_VERSION = b"2020-10-01"

Headers = list[tuple[bytes, bytes]]


@dataclass(slots=True)
class Reply:
    """A complete answer: status, body bytes, and headers beyond the common ones."""

    body: bytes
    status: int = 200
    headers: Headers = field(default_factory=list)
    content_type: bytes = JSON
    delay: float = 0.0  # seconds before the headers
    profile: str | None = None  # which common headers (see Exchange.common_headers); None: the operation's

    @classmethod
    def json(cls, value: Any, status: int = 200, headers: Headers | None = None) -> "Reply":
        return cls(orjson.dumps(value), status, headers or [])

    @classmethod
    def pretty(cls, value: Any, status: int = 200, headers: Headers | None = None) -> "Reply":
        """Indented two spaces, non-ASCII escaped, no final newline: how the Responses
        and Conversations endpoints write their bodies (as Python's `json.dumps(indent=2)`)."""
        return cls(pretty_ascii(value), status, headers or [])

    @classmethod
    def error(cls, err: errors.OpenAIError) -> "Reply":
        extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in err.headers]
        return cls(err.body(), err.status, extra, profile=err.profile)


@dataclass(slots=True)
class StreamReply:
    """Server-sent events. `frames` are complete SSE frames (bytes, `\\n\\n`-terminated).

    `delays` (seconds, one per frame, optional) paces the stream; without it the whole
    stream goes out in one write, since nothing on the wire depends on where it breaks.
    """

    frames: list[bytes] | AsyncIterator[bytes]
    delays: list[float] | None = None
    status: int = 200
    headers: Headers = field(default_factory=list)
    content_type: bytes = EVENT_STREAM
    delay: float = 0.0
    profile: str | None = None


@dataclass(slots=True)
class FileReply:
    """A body of known length sent in pieces as they are read (a stored file's content):
    never held whole in memory, with its Content-Length. `chunks` yields the pieces and
    `close` releases what they are read from, once delivered or dropped.

    A fault that reshapes the body (slicing, truncation, a cut) reads it whole first
    (`whole()`): the fault engine acts on complete answers."""

    chunks: Iterator[bytes]
    length: int
    headers: Headers = field(default_factory=list)
    content_type: bytes = OCTET_STREAM
    status: int = 200
    delay: float = 0.0
    profile: str | None = None
    close: Any = None  # called once the answer is over, delivered or not

    def whole(self) -> Reply:
        try:
            body = b"".join(self.chunks)
        finally:
            self.release()
        return Reply(body, self.status, self.headers, self.content_type, self.delay, self.profile)

    def release(self) -> None:
        close, self.close = self.close, None
        if close is not None:
            close()


class Exchange:
    """One HTTP request on its way through the fake."""

    __slots__ = (
        "scope", "receive", "send", "runtime", "started", "request_id", "operation",
        "path_params", "body", "raw_body", "response_status", "fixture", "_query", "_headers",
        "hold_left", "gone", "_watcher",
    )

    def __init__(self, scope: dict, receive: Any, send: Any, runtime: "Runtime") -> None:
        self.scope = scope
        self.receive = receive
        self.send = send
        self.runtime = runtime
        self.started = time.perf_counter()
        self.request_id = runtime.ids.request_id()
        self.operation: Any = None
        self.path_params: dict[str, Any] = scope.get("path_params") or {}
        self.body: Any = None
        self.raw_body = b""
        self.response_status = 0
        self.fixture: str | None = None  # the fixture that answered, for the journal
        self._query: dict[str, Any] | None = None
        self._headers: dict[bytes, bytes] | None = None
        self.hold_left: float = runtime.config.max_hold_seconds  # what waits may still take, in all
        self.gone = False  # the client disconnected (seen while waiting)
        self._watcher: asyncio.Task | None = None

    @property
    def method(self) -> str:
        return self.scope["method"]

    @property
    def path(self) -> str:
        return self.scope["path"]

    def header(self, name: bytes) -> bytes | None:
        """One raw header (lower-case name); a repeated header gives its last value."""
        headers = self._headers
        if headers is None:
            headers = self._headers = dict(self.scope["headers"])
        return headers.get(name)

    @property
    def query(self) -> dict[str, Any]:
        if self._query is None:
            self._query = parse_query(self.scope.get("query_string", b""))
        return self._query

    async def read_body(self, limit: int) -> bytes:
        """The whole body, refusing (413) anything over `limit` before reading it all."""
        length = self.header(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise errors.body_too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientGone()
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise errors.body_too_large(limit)
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        self.raw_body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return self.raw_body

    async def body_chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, for an operation that reads it itself (`streams_body`):
        nothing is kept here, and a client that disconnects raises ClientGone."""
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientGone()
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def wait(self, seconds: float) -> bool:
        """Wait up to `seconds`, returning early (True) when the client disconnects.

        Every delay, hold, stall and pace goes through here, so together they never
        exceed `max_hold_seconds` for one request, and none outlives its client."""
        if self.gone:
            return True
        seconds = min(seconds, self.hold_left)
        if not seconds > 0:  # also NaN
            return False
        if self._watcher is None:
            self._watcher = asyncio.ensure_future(self._watch())
        loop = asyncio.get_running_loop()
        began = loop.time()
        await asyncio.wait((self._watcher,), timeout=seconds)
        self.hold_left -= loop.time() - began
        return self.gone

    async def _watch(self) -> None:
        """Read the request's messages until the client goes (or the answer ends)."""
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self.gone = True
                return

    def finish(self) -> None:
        """The request is over: stop watching the client."""
        if self._watcher is not None and not self._watcher.done():
            self._watcher.cancel()

    async def send_body(self, chunk: bytes, more: bool) -> None:
        """One piece of the answer; a client that has gone raises ClientGone instead of
        being written to (the server would drop the bytes silently)."""
        if self.gone:
            raise ClientGone()
        await self.send({"type": "http.response.body", "body": chunk, "more_body": more})

    def processing_ms(self) -> int:
        return max(1, int((time.perf_counter() - self.started) * 1000))

    def common_headers(self, content_type: bytes, profile: str | None = None) -> Headers:
        """The headers the real API puts on every answer, by profile (as recorded):
        "api" for the model endpoints, "catalog" for /v1/models (no organization or
        project), "auth" for a refused key (the gateway answers: no openai-* headers),
        "azure" for Azure OpenAI's deployment routes, "files" for /v1/files (organization
        and project, and CF-Ray exposed), "uploads" for /v1/uploads (organization and
        project only)."""
        if profile is None:
            if "deployment" in self.path_params:
                profile = "azure"
            else:
                profile = self.operation.header_profile if self.operation is not None else "catalog"
        if profile == "azure":  # Azure OpenAI's gateway: its own ids and headers, no openai-*
            request_id = self.runtime.ids.uuid()
            return [
                (b"content-type", content_type),
                (b"x-request-id", request_id),
                (b"apim-request-id", request_id),
                (b"x-content-type-options", b"nosniff"),
                (b"x-ms-region", b"East US 2"),
                (b"x-ms-rai-invoked", b"true"),
            ]
        if profile == "auth":
            return [(b"content-type", JSON_UTF8), (b"x-request-id", self.request_id), (b"vary", b"Origin")]
        headers = [
            (b"content-type", content_type),
            (b"x-request-id", self.request_id),
            (b"openai-version", OPENAI_VERSION),
            (b"openai-processing-ms", str(self.processing_ms()).encode()),
        ]
        if profile == "api":
            headers += [
                (b"openai-organization", self.runtime.organization),
                (b"openai-project", self.runtime.project),
                (b"access-control-expose-headers", b"X-Request-ID"),
            ]
        elif profile in ("files", "uploads"):  # as recorded (FilesTests, UploadsTests)
            headers += [(b"openai-organization", self.runtime.organization), (b"openai-project", self.runtime.project)]
            if profile == "files":
                headers.append((b"access-control-expose-headers", b"CF-Ray"))
        return headers

    async def start(
        self, status: int, content_type: bytes, extra: Iterable[tuple[bytes, bytes]], length: int | None, profile: str | None = None
    ) -> None:
        headers = self.common_headers(content_type, profile)
        headers.extend(extra)
        if length is not None:
            headers.append((b"content-length", str(length).encode()))
        self.response_status = status
        await self.send({"type": "http.response.start", "status": status, "headers": headers})

    async def send_reply(self, reply: Reply) -> None:
        await self.start(reply.status, reply.content_type, reply.headers, len(reply.body), reply.profile)
        await self.send_body(reply.body, False)

    async def send_file(self, reply: FileReply) -> None:
        """A FileReply piece by piece: the server's flow control paces the reads, so a slow
        client holds one piece in memory, not the file."""
        try:
            await self.start(reply.status, reply.content_type, reply.headers, reply.length, reply.profile)
            sent = 0
            for chunk in reply.chunks:
                sent += len(chunk)
                if sent > reply.length:  # the content grew behind the server's back: send what was promised
                    chunk = chunk[: len(chunk) - (sent - reply.length)]
                await self.send_body(chunk, True)
                if sent >= reply.length:
                    break
            if sent < reply.length:  # it shrank: the promise cannot be kept; end the connection
                raise ClientGone()
            await self.send_body(b"", False)
        finally:
            reply.release()


_NOT_FIELD_TEXT = re.compile(r"[^\t\x20-\x7e]")


def header_text(value: str) -> bytes:
    """Text a client sent (a model or deployment name) made a valid header value: printable
    ASCII as is, anything else %-escaped, since a control character would break the answer."""
    if _NOT_FIELD_TEXT.search(value):
        value = _NOT_FIELD_TEXT.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), value)
    return value.encode("ascii")


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return "\\u%04x" % code
    code -= 0x10000
    return "\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))


def kept(raw: bytes) -> bytes:
    """`raw` copied into exactly its size, for bytes kept past the request. orjson returns
    its output inside the buffer it grew while writing (4 KB at least, 32 KB for a 3 KB
    document), so a store of its outputs would hold ten times what it stores."""
    return bytes(memoryview(raw))


def pretty_ascii(value: Any) -> bytes:
    """JSON indented two spaces with `\\uXXXX` for anything outside ASCII (only strings
    can hold it, so escaping the text after encoding is exact)."""
    raw = orjson.dumps(value, option=orjson.OPT_INDENT_2)
    if raw.isascii():
        return raw
    return _NON_ASCII.sub(_escape, raw.decode()).encode()


class ClientGone(Exception):
    """The client disconnected before we finished; nothing more to send."""


def parse_query(raw: bytes) -> dict[str, Any]:
    """Query strings as the SDKs encode them: `a[]=1&a[]=2` is a list, `m[k]=v` a mapping."""
    result: dict[str, Any] = {}
    if not raw:
        return result
    for pair in raw.decode("latin-1").split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        key, value = unquote_plus(key), unquote_plus(value)
        if key.endswith("[]"):
            existing = result.setdefault(key[:-2], [])
            if isinstance(existing, list):
                existing.append(value)
            else:
                result[key[:-2]] = [existing, value]
        elif key.endswith("]") and "[" in key:
            name, _, sub = key[:-1].partition("[")
            nested = result.setdefault(name, {})
            if isinstance(nested, dict):
                nested[sub] = value
            else:
                result[name] = {sub: value}
        elif key in result:
            existing = result[key]
            result[key] = (existing if isinstance(existing, list) else [existing]) + [value]
        else:
            result[key] = value
    return result
