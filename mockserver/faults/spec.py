"""What a fault is: one value with parameters, read from config, the admin API or a header.

Kinds, named as Toxiproxy and WireMock users know them:

    http               an HTTP error with the real body and headers (429, 500, 502, ...)
    latency            a fixed or jittered delay before the headers; for streams also
                       a time to first chunk and a delay between chunks
    timeout            hold the request open (bounded), then close it or answer
    reset              close the connection before any response, with a TCP reset
    empty              close the connection before any response, cleanly
    headers_then_close send the headers, then close
    limit_data         send the first N bytes of the answer, then close
    slicer             dribble the answer in small slices (read timeouts fire mid-body)
    garbage            random bytes instead of HTTP, then close
    malformed_json     a 200 whose JSON body is broken
    stream_cut         a stream ends after N chunks without `[DONE]` (or the connection drops)
    stream_error       an error event after N chunks, as the real API sends one
    stall              a stream stops after N chunks and hangs (bounded), then closes
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..yamlio import Reader

KINDS = (
    "http", "latency", "timeout", "reset", "empty", "headers_then_close", "limit_data", "slicer",
    "garbage", "malformed_json", "stream_cut", "stream_error", "stall",
)
NETWORK = {"reset", "empty", "headers_then_close", "limit_data", "garbage"}
STREAM = {"stream_cut", "stream_error", "stall"}

# key -> (kinds it applies to, converter): the parameters a fault accepts, in one table.
_MS = "ms"
PARAMETERS: dict[str, tuple[set[str] | None, str]] = {
    "status": ({"http"}, "status"),
    "code": ({"http", "stream_error"}, "str"),
    "type": (None, "kind"),
    "error_type": ({"http"}, "str"),
    "message": ({"http", "stream_error"}, "str"),
    "param": ({"http"}, "str"),
    "retry_after": ({"http"}, "seconds"),
    "retry_after_ms": ({"http"}, "int"),
    "should_retry": ({"http"}, "bool"),
    "headers": ({"http"}, "headers"),
    "body": ({"http"}, "body"),
    "delay_ms": ({"latency", "http"}, _MS),
    "jitter_ms": ({"latency", "http"}, _MS),
    "first_chunk_ms": ({"latency"}, _MS),
    "chunk_delay_ms": ({"latency"}, _MS),
    "hold_ms": ({"timeout", "stall"}, _MS),
    "then": ({"timeout"}, "then"),
    "bytes": ({"limit_data", "garbage"}, "int"),
    "slice_bytes": ({"slicer"}, "int"),
    "slice_delay_ms": ({"slicer"}, _MS),
    "after_chunks": (STREAM, "int"),
    "close": ({"stream_cut"}, "bool"),
    # Realtime sessions (faults/events.py): the WebSocket close code a cut or a stall ends
    # with, and counting `after_chunks` from the first response's `response.created`.
    "close_code": ({"stream_cut", "stall"}, "close_code"),
    "mid_response": (STREAM, "bool"),
    "attempts": (None, "int"),
}


@dataclass(frozen=True)
class Fault:
    kind: str
    status: int = 0
    code: str | None = None
    type: str | None = None  # the error envelope's `type` (http)
    message: str | None = None
    param: str | None = None
    retry_after: float | None = None  # seconds, for `retry-after`
    retry_after_ms: int | None = None
    should_retry: bool | None = None  # `x-should-retry`
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None  # a raw body instead of the envelope (the 502's HTML)
    delay: float = 0.0
    jitter: float = 0.0
    first_chunk: float = 0.0
    chunk_delay: float = 0.0
    hold: float | None = None  # seconds; None: the server's maximum
    then: str = "close"  # timeout: "close" or "answer"
    bytes: int = 0
    slice_bytes: int = 0
    slice_delay: float = 0.0
    after_chunks: int = 0
    close: bool = False
    close_code: int = 0  # realtime: the close code (0: 1011, or 1006 with `close`)
    mid_response: bool = False  # realtime: `after_chunks` counts from the first response
    attempts: int | None = None  # header faults: fire only on the first N attempts of a call
    extras: dict = field(default_factory=dict, compare=False, hash=False)

    def describe(self) -> str:
        """A short label for the journal and the admin API: `429 rate_limit_exceeded`, `reset`."""
        if self.kind == "http":
            return f"{self.status} {self.code or self.type or ''}".strip()
        if self.kind in STREAM:
            return f"{self.kind} after {self.after_chunks} chunks"
        return self.kind

    @property
    def network(self) -> bool:
        return self.kind in NETWORK

    @property
    def stream(self) -> bool:
        return self.kind in STREAM


# --- the real errors, by status ---------------------------------------------------------

RATE_LIMITED = "Rate limit reached for requests. Please try again in {wait}. Visit https://platform.openai.com/account/rate-limits to learn more."
INSUFFICIENT_QUOTA = (
    "You exceeded your current quota, please check your plan and billing details. For more information on "
    "this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."
)
BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
    "</center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
)
# status -> the real error's type, code and message
HTTP_DEFAULTS: dict[int, tuple[str, str | None, str]] = {
    408: ("invalid_request_error", "timeout", "Request timed out."),
    409: ("invalid_request_error", "conflict", "The request could not be completed due to a conflict with another request. Please retry."),
    429: ("requests", "rate_limit_exceeded", RATE_LIMITED),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
    504: ("server_error", None, "Gateway timeout. The upstream server took too long to respond."),
}
# The words a header or a short spec may use for a whole fault.
SHORTHANDS: dict[str, dict[str, Any]] = {
    "insufficient_quota": {"status": 429, "code": "insufficient_quota", "error_type": "insufficient_quota",
                           "message": INSUFFICIENT_QUOTA},
    "slow_down": {"status": 503, "code": "slow_down", "message": "Please reduce your rate of requests and try again."},
    "overloaded": {"status": 503},
}
OK = "ok"  # a scenario step (or header) that lets the request through


def http_fault(status: int, **given: Any) -> Fault:
    """An HTTP error fault with the real type, code, message (and 429's retry-after)."""
    kind_type, code, message = HTTP_DEFAULTS.get(status, ("server_error" if status >= 500 else "invalid_request_error", None, "Error."))
    values: dict[str, Any] = {"kind": "http", "status": status, "type": kind_type, "code": code, "message": message}
    if status == 502:
        values["body"] = BAD_GATEWAY_HTML
    if "error_type" in given:
        given["type"] = given.pop("error_type")
    if status == 429 and given.get("code", code) == "rate_limit_exceeded" and "retry_after" not in given:
        values["retry_after_ms"] = 1000  # the SDKs honour it: retries come quickly but not at once
    values.update({k: v for k, v in given.items() if v is not None})
    return Fault(**values)


# --- reading a fault -------------------------------------------------------------------

def parse_fault(r: Reader, value: Any, parent: Any = None, key: Any = None) -> Fault | None:
    """A fault from config or admin JSON: `429`, `"timeout"`, `"insufficient_quota"`, or a
    mapping. None is "ok": a scenario step that lets the request through."""
    spec = _spec(r, value, parent, key)
    return None if spec is None else _from_mapping(r, spec, parent, key)


def _spec(r: Reader, value: Any, parent: Any, key: Any) -> dict | None:
    """Any accepted form, as the mapping form."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, str, dict)):
        r.fail(parent, key, "a fault is a status code, a name or a mapping")
    if isinstance(value, dict):
        return value
    word = str(value).strip().lower().replace("-", "_")
    if word.isascii() and word.isdigit():
        return {"status": int(word)}
    if word == OK:
        return None
    if word in SHORTHANDS:
        return dict(SHORTHANDS[word])
    if word in KINDS and word != "http":
        return {"type": word}
    r.fail(parent, key, f"unknown fault {value!r}; use a status code, one of "
                        f"{', '.join(k for k in KINDS if k != 'http')}, {', '.join(SHORTHANDS)} or {OK!r}")


def _from_mapping(r: Reader, value: dict, parent: Any = None, key: Any = None) -> Fault:
    normal = {str(k).replace("-", "_"): v for k, v in value.items()}
    for name in normal:
        if name not in PARAMETERS:
            r.fail(value, name, f"unknown fault parameter {name!r}; expected one of: {', '.join(sorted(PARAMETERS))}")
    word = normal.pop("type", None)
    if isinstance(word, str):
        word = word.replace("-", "_")
    if word in SHORTHANDS:
        normal = {**SHORTHANDS[word], **normal}
        kind = "http"
    elif word in KINDS:
        kind = word
    elif word is None:
        if "status" not in normal:
            r.fail(parent if not value else value, key if not value else None, "a fault needs a 'status' or a 'type'")
        kind = "http"
    elif "status" in normal:
        kind, normal["error_type"] = "http", str(word)  # with a status, `type` is the envelope's
    else:
        r.fail(value, "type", f"unknown fault type {word!r}; expected one of: {', '.join(KINDS)}")
    fields: dict[str, Any] = {}
    for name, raw in normal.items():
        kinds, converter = PARAMETERS[name]
        if kinds is not None and kind not in kinds:
            r.fail(value, name, f"{name!r} does not apply to a {kind} fault")
        fields.update(_convert(r, value, name, raw, converter))
    if kind == "http":
        status = fields.pop("status", None)
        if status is None:
            r.fail(value, None, "an http fault needs a 'status'")
        return http_fault(status, **fields)
    return Fault(kind=kind, **fields)


def _convert(r: Reader, where: dict, key: str, raw: Any, converter: str) -> dict[str, Any]:
    if converter == _MS:
        return {_MS_FIELDS[key]: _number(r, where, key, raw) / 1000}
    if converter == "int":
        if isinstance(raw, float) and raw.is_integer() and abs(raw) <= MAX_INT:
            raw = int(raw)  # `after_chunks=3.0`: any integer may arrive as an integral float
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_INT:
            r.fail(where, key, f"{key!r} must be a whole number from 0 to {MAX_INT}")
        return {key: raw}
    if converter == "seconds":
        return {key: _number(r, where, key, raw)}
    if converter == "status":
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int) or not 400 <= raw <= 599:
            r.fail(where, key, "'status' must be an error status (400-599)")
        return {key: raw}
    if converter == "bool":
        if not isinstance(raw, bool):
            r.fail(where, key, f"{key!r} must be true or false")
        return {key: raw}
    if converter == "str":
        if not isinstance(raw, str):
            r.fail(where, key, f"{key!r} must be a string")
        return {key: raw}
    if converter == "close_code":
        # RFC 6455 §7.4: 1004 and 1005 are never sent; 1006 is served as a dropped connection.
        if isinstance(raw, bool) or not isinstance(raw, int) or raw in (1004, 1005) or not (
                1000 <= raw <= 1014 or 3000 <= raw <= 4999):
            r.fail(where, key, "'close_code' must be a WebSocket close code (1000-1003, 1006-1014 or 3000-4999)")
        return {key: raw}
    if converter == "then":
        if raw not in ("close", "answer"):
            r.fail(where, key, "'then' must be 'close' or 'answer'")
        return {key: raw}
    if converter == "headers":
        if not isinstance(raw, dict):
            r.fail(where, key, "'headers' must be a mapping")
        headers = tuple((str(k).lower(), str(v)) for k, v in raw.items())
        for name, value in headers:
            if not _TOKEN.fullmatch(name) or name in _FRAMING:
                r.fail(where, key, f"{name!r} cannot be a fault's header (an HTTP token, and not one that frames the answer)")
            if not _FIELD_VALUE.fullmatch(value):
                r.fail(where, key, f"the value of {name!r} must be printable Latin-1 text, without line breaks")
        return {key: headers}
    if converter == "body":
        return {key: raw if isinstance(raw, str) else json.dumps(raw)}
    return {}


MAX_INT = 10**12  # any count or size a fault takes (ms, bytes, chunks): far past any use, never an overflow
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")  # RFC 9110 field names (lower-cased)
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
_FRAMING = {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "trailer", "te",
            "content-type"}

_MS_FIELDS = {"delay_ms": "delay", "jitter_ms": "jitter", "first_chunk_ms": "first_chunk",
              "chunk_delay_ms": "chunk_delay", "hold_ms": "hold", "slice_delay_ms": "slice_delay"}


def _number(r: Reader, where: dict, key: str, raw: Any) -> float:
    """Durations: any finite amount (holds are capped by `max_hold_seconds` where they are served)."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw < 0 or not math.isfinite(float(raw)):
        r.fail(where, key, f"{key!r} must be a number >= 0")
    return float(raw)


def parse_header(text: str) -> Fault | None:
    """`X-Mock-Fault`: `429`, `timeout`, `429; retry-after-ms=50; attempts=2`, or a JSON object.

    A malformed value raises SourceError naming the problem; the envelope answers a 400."""
    r = Reader("X-Mock-Fault")
    text = text.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            r.fail(None, None, "not valid JSON")
        return parse_fault(r, value)
    head, *pairs = [part.strip() for part in text.split(";")]
    spec = _spec(r, head, None, None)
    params: dict[str, Any] = {}
    for pair in filter(None, pairs):
        name, sep, raw = pair.partition("=")
        if not sep:
            r.fail(None, None, f"expected key=value, got {pair!r}")
        params[name.strip()] = _scalar(raw.strip())
    if spec is None:
        if params:
            r.fail(None, None, "'ok' takes no parameters")
        return None
    return _from_mapping(r, {**spec, **params})


def _scalar(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for convert in (int, float):
        try:
            return convert(raw)
        except ValueError:
            pass
    return raw
