"""The Realtime API's HTTP side: ephemeral client secrets, and WebRTC/SIP calls.

`POST /v1/realtime/client_secrets` mints an `ek_` key for a browser, with the session it
opens (echoed with its defaults); the socket accepts it until `expires_at` (the fake's
clock). `POST /v1/realtime/calls` takes an SDP offer (multipart with `sdp` and `session`,
as the SDK sends it, or a bare `application/sdp` body) and answers 201 with an SDP answer
and `Location: /v1/realtime/calls/{call_id}` (as recorded: pydantic-ai's
test_webrtc_sideband_*). `accept`, `hangup`, `refer` and `reject` answer 200 with no body.
A call id the fake never issued is taken for an incoming SIP call (the real API announces
those by webhook, which the fake cannot send), so it is never refused.
"""

from __future__ import annotations

import zlib

import orjson

from .. import errors
from ..files.multipart import boundary_of
from ..routing import Operation
from ..wire import Exchange, Reply
from . import wire

MIN_SECONDS, MAX_SECONDS, DEFAULT_SECONDS = 10, 7200, 600  # the SDK's `expires_after.seconds` docstring
MAX_SDP = 1 << 20


class RealtimeState:
    """What the HTTP side hands the socket: client secrets and calls, by value and id."""

    def __init__(self) -> None:
        self.secrets: dict[str, dict] = {}
        self.calls: dict[str, dict] = {}

    def clear(self) -> None:
        self.secrets.clear()
        self.calls.clear()


def session_from(ex: Exchange, given: dict | None) -> dict:
    given = dict(given or {})
    kind = given.get("type", "realtime")
    model = given.get("model", "gpt-realtime") if kind == "realtime" else None
    session = wire.default_session(kind, ex.runtime.ids.make("sess_", 21), model)
    return wire.merge_session(session, given)


async def create_client_secret(ex: Exchange) -> Reply:
    body = ex.body
    after = body.get("expires_after") or {}
    seconds = after.get("seconds", DEFAULT_SECONDS)
    if seconds < MIN_SECONDS or seconds > MAX_SECONDS:
        above = seconds > MAX_SECONDS
        raise errors.out_of_range("expires_after.seconds", seconds, MAX_SECONDS if above else MIN_SECONDS,
                                  above=above, integer=True)
    now = int(ex.runtime.clock.timestamp())  # `expires_at` is a Unix time (the SDK's ClientSecretCreateResponse)
    session = session_from(ex, body.get("session"))
    session["expires_at"] = now + seconds
    value = ex.runtime.ids.make("ek_", 32)
    ex.runtime.realtime.secrets[value] = {"expires_at": now + seconds, "session": session}
    return Reply.json({"value": value, "expires_at": now + seconds, "session": session})


async def create_call(ex: Exchange) -> Reply:
    raw = await ex.read_body(MAX_SDP)
    media = (ex.header(b"content-type") or b"").split(b";", 1)[0].strip().lower()
    session: dict | None = None
    if media == b"multipart/form-data":
        parts = _form(raw, boundary_of(ex))
        offer = parts.get("sdp", b"").decode("utf-8", "replace")
        if "session" in parts:
            try:
                session = orjson.loads(parts["session"])
            except orjson.JSONDecodeError:
                raise errors.invalid_request("Invalid 'session': expected a JSON object.", param="session",
                                             code="invalid_json") from None
    elif media in (b"application/sdp", b"text/plain", b""):
        offer = raw.decode("utf-8", "replace")
    else:  # the multipart endpoints' wording for a wrong content type (files/multipart.py: ruby-openai#170)
        raise errors.invalid_request(f"Invalid Content-Type header ({media.decode('latin-1')}), expected "
                                     "application/sdp or multipart/form-data.", code="invalid_content_type")
    if not offer.lstrip().startswith("v=0"):
        # An SDP offer starts `v=0` (RFC 8866); what the real API says to anything else is not recorded.
        raise errors.invalid_request("Invalid 'sdp': expected an SDP offer starting with 'v=0'.", param="sdp",
                                     code="invalid_value")
    call_id = ex.runtime.ids.make("rtc_u0_", 21)
    ex.runtime.realtime.calls[call_id] = {"status": "active", "session": session_from(ex, session)}
    return Reply(answer_sdp(offer, call_id).encode(), 201, [(b"location", f"/v1/realtime/calls/{call_id}".encode())],
                 content_type=b"text/plain; charset=utf-8")


def answer_sdp(offer: str, call_id: str) -> str:
    """An SDP answer to `offer`: one media section per offered one, same formats (as recorded)."""
    lines = ["v=0", f"o=- {zlib.crc32(call_id.encode())} 1784736004 IN IP4 0.0.0.0", "s=-", "t=0 0",
             "a=msid-semantic:WMS *", "a=ice-lite"]
    mids = []
    for line in offer.replace("\r\n", "\n").split("\n"):
        if line.startswith("m="):
            kind, _, rest = line[2:].partition(" ")
            _port, _, rest = rest.partition(" ")
            lines += [f"m={kind} 9 {rest}", "c=IN IP4 0.0.0.0", "a=setup:active", f"a=mid:{len(mids)}",
                      "a=ice-ufrag:mock", "a=ice-pwd:mockservermockservermockserver", "a=sendrecv"]
            mids.append(str(len(mids)))
        elif line.startswith("a=rtpmap:"):
            lines.append(line)
    if mids:
        lines.insert(5, "a=group:BUNDLE " + " ".join(mids))
    return "\r\n".join(lines) + "\r\n"


def _form(raw: bytes, boundary: bytes) -> dict[str, bytes]:
    """The small parts of a multipart body, by name (an SDP offer and a session: kilobytes)."""
    parts: dict[str, bytes] = {}
    for chunk in raw.split(b"--" + boundary):
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        marker = b'name="'
        at = head.find(marker)
        if at < 0:
            continue
        name = head[at + len(marker):head.index(b'"', at + len(marker))].decode("latin-1")
        parts[name] = content[:-2] if content.endswith(b"\r\n") else content
    return parts


def _call(ex: Exchange) -> dict:
    call_id = ex.path_params["call_id"]
    return ex.runtime.realtime.calls.setdefault(call_id, {"status": "incoming", "session": session_from(ex, None)})


async def accept_call(ex: Exchange) -> Reply:
    call = _call(ex)
    call["session"] = session_from(ex, ex.body)
    call["status"] = "active"
    return Reply(b"", 200)


async def end_call(ex: Exchange) -> Reply:
    """hangup, refer and reject: the call ends (a referred call leaves this session)."""
    _call(ex)["status"] = "ended"
    return Reply(b"", 200)


OPERATIONS = [
    Operation("realtime.client_secrets.create", "POST", "/realtime/client_secrets", create_client_secret,
              request_schema="realtime.client_secrets.create.request"),
    Operation("realtime.calls.create", "POST", "/realtime/calls", create_call),
    Operation("realtime.calls.accept", "POST", "/realtime/calls/{call_id}/accept", accept_call,
              request_schema="realtime.calls.accept.request"),
    Operation("realtime.calls.hangup", "POST", "/realtime/calls/{call_id}/hangup", end_call),
    Operation("realtime.calls.refer", "POST", "/realtime/calls/{call_id}/refer", end_call,
              request_schema="realtime.calls.refer.request"),
    Operation("realtime.calls.reject", "POST", "/realtime/calls/{call_id}/reject", end_call,
              request_schema="realtime.calls.reject.request"),
]
