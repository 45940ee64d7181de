"""The envelope of a realtime WebSocket: what `envelope.py` is for an HTTP request.

connect → the URL's one of `model` / `call_id` / `intent=transcription` → auth (Bearer,
Azure's `api-key`, the browser's `openai-insecure-api-key.<key>` sub-protocol, or an
`ek_` client secret until it expires) → the fault engine, once, as for any request (an
`http` fault refuses the upgrade with its status) → accept → `session.created` → each
client event read, checked (`events.py`) and handled (`session.py`), every problem an
`error` event on an open socket → close. One journal entry per session, with its events
in and out by type and its close code.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from typing import TYPE_CHECKING, Any

import orjson

from .. import errors
from ..errors import OpenAIError
from ..faults import events as event_faults
from ..faults.apply import error_reply
from ..matching import Probe
from ..tokens import OFF_LOOP_BYTES
from ..wire import Exchange, Reply
from . import wire
from .events import BadEvent, Checker
from .session import Session

if TYPE_CHECKING:
    from ..routing import Operation
    from ..runtime import Runtime

log = logging.getLogger("mockserver")
KEY_PROTOCOL = "openai-insecure-api-key."
NORMAL = {1000, 1001, 1005}  # the client ended the session itself


class Closed(Exception):
    """The socket is gone (closed by a fault or by the client): stop the session."""


class RealtimeEndpoint:
    """The ASGI app of `/v1/realtime` (and Azure's shapes) for WebSocket scopes."""

    def __init__(self, runtime: "Runtime", operation: "Operation") -> None:
        self.runtime = runtime
        self.operation = operation
        self.checker: Checker | None = None

    async def __call__(self, scope: dict, receive, send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        runtime = self.runtime
        if self.checker is None:
            self.checker = Checker(runtime.contracts)
        ex = Exchange({**scope, "method": "GET"}, receive, send, runtime)
        ex.operation = self.operation
        entry = runtime.journal.open(ex) if runtime.journaling else None
        conn = Connection(self, ex, scope, receive, send)
        try:
            await conn.run()
        except Closed:
            pass
        except Exception:  # noqa: BLE001 - the last line: log, and end the session as the real API's 1011
            log.exception("unexpected error in a realtime session")
            conn.close_code = conn.close_code or 1011
            await conn.close(1011, quiet=True)
        finally:
            if conn.session is not None:
                conn.session.close()
            ex.finish()
            if entry is not None:
                runtime.journal.close(entry, ex, conn.outcome(), conn.refused, conn.decision)
                runtime.journal.note_session(entry, conn.facts())


class Connection:
    def __init__(self, endpoint: RealtimeEndpoint, ex: Exchange, scope: dict, receive, send) -> None:
        self.endpoint = endpoint
        self.runtime = endpoint.runtime
        self.ex = ex
        self.scope = scope
        self.receive = receive
        self.asgi_send = send
        self.session: Session | None = None
        self.faults = event_faults.EventFaults(None)
        self.decision: Any = None
        self.refused: Reply | None = None
        self.accepted = False
        self.closed = False
        self.close_code: int | None = None
        self.closed_by: str | None = None
        self.sent: Counter = Counter()
        self.received: Counter = Counter()
        self.kind = "realtime"
        self.model: str | None = None

    # --- the handshake -----------------------------------------------------------------------

    async def run(self) -> None:
        ex, runtime = self.ex, self.runtime
        query = ex.query
        try:
            target = self.target(query)
            key = self.authenticate()
        except OpenAIError as err:
            await self.refuse(Reply.error(err))
            return
        if runtime.journaling:
            try:
                self.decision = runtime.faults.decide(ex, self.probe)
            except OpenAIError as err:
                await self.refuse(Reply.error(err))
                return
        fault = self.decision.fault if self.decision is not None else None
        if fault is not None and not await self.before_accept(fault):
            return
        self.faults = event_faults.EventFaults(fault)
        protocols = self.scope.get("subprotocols") or []
        await self.asgi_send({"type": "websocket.accept", "subprotocol": "realtime" if "realtime" in protocols else None})
        self.accepted = True
        ex.response_status = 101
        if (ex.header(b"openai-beta") or b"").lower().startswith(b"realtime=v1"):
            # What the real API now answers a beta client (its GA migration notice).
            await self.send(wire.error_event(self.event_id(), "The Realtime Beta API is no longer supported. Please "
                                             "use the GA API (remove the 'OpenAI-Beta: realtime=v1' header).",
                                             code="beta_api_not_supported"))
            await self.close(1000)
            return
        problem = self.check_target(target)
        if problem is not None:
            await self.send(problem)
            await self.close(1008)
            return
        await self.serve(target, key)

    def target(self, query: dict) -> tuple[str, str | None]:
        """(kind, value): ("model", name), ("call", call_id) or ("transcription", None)."""
        model = query.get("model") or query.get("deployment")
        given = [k for k, v in (("model", model), ("call_id", query.get("call_id")), ("intent", query.get("intent"))) if v]
        if len(given) != 1:
            # The SDK sends exactly one (`connect(model=...)`, `call_id=`, or `intent=transcription`).
            raise errors.invalid_request("A realtime connection needs exactly one of the query parameters 'model', "
                                         "'call_id' or 'intent=transcription'.", param=None, code="invalid_value")
        if given[0] == "intent":
            if query["intent"] != "transcription":
                raise errors.invalid_request(f"Invalid value: '{query['intent']}'. Supported values are: 'transcription'.",
                                             param="intent", code="invalid_value")
            return "transcription", None
        if given[0] == "call_id":
            return "call", query["call_id"]
        return "model", model

    def authenticate(self) -> str | None:
        ex = self.ex
        key = None
        authorization = ex.header(b"authorization")
        if authorization:
            scheme, _, value = authorization.decode("latin-1").partition(" ")
            key = value.strip() if scheme.lower() == "bearer" else None
        if not key and ex.header(b"api-key"):
            key = ex.header(b"api-key").decode("latin-1").strip()
        if not key:
            for protocol in self.scope.get("subprotocols") or []:
                if protocol.startswith(KEY_PROTOCOL):
                    key = protocol[len(KEY_PROTOCOL):]
        secrets = self.runtime.realtime.secrets
        if key and key.startswith("ek_") and key in secrets:
            if secrets[key]["expires_at"] <= self.runtime.clock.timestamp():
                raise errors.invalid_api_key(key)  # an ephemeral key past `expires_at` is just a wrong key
            return key
        config = self.runtime.config
        if config.require_auth:
            if not key:
                raise errors.missing_api_key()
            if config.api_keys and key not in config.api_keys:
                raise errors.invalid_api_key(key)
        return key

    def probe(self, ex: Exchange) -> Probe:
        query = ex.query
        return Probe(self.endpoint.operation.id, query.get("model") or query.get("deployment"), {}, None,
                     self.header, "GET")

    def header(self, name: str) -> str | None:
        value = self.ex.header(name.encode("latin-1"))
        return value.decode("latin-1") if value is not None else None

    async def before_accept(self, fault: Any) -> bool:
        """Serve a fault that acts before the upgrade; False when the session ends here."""
        ex = self.ex
        if fault.kind == "http":
            await self.refuse(error_reply(fault, ex))
            return False
        if fault.kind == "latency":
            jitter = self.runtime.faults_rng.uniform(0, fault.jitter) if fault.jitter else 0.0
            await asyncio.sleep(min(fault.delay + jitter, ex.hold_left))
            return True
        if fault.kind == "timeout":
            hold = fault.hold if fault.hold is not None else self.runtime.config.max_hold_seconds
            await asyncio.sleep(min(hold, self.runtime.config.max_hold_seconds))
            if fault.then == "answer":
                return True
            self.drop(abort=False)
            return False
        if fault.network:
            self.drop(abort=fault.kind == "reset")
            return False
        return True

    async def refuse(self, reply: Reply) -> None:
        """An HTTP answer instead of the upgrade (ASGI's WebSocket denial response)."""
        self.refused = reply
        ex = self.ex

        async def as_denial(message: dict) -> None:
            await self.asgi_send({**message, "type": "websocket." + message["type"]})

        ex.send = as_denial
        if "websocket.http.response" in (self.scope.get("extensions") or {}):
            await ex.send_reply(reply)
        else:  # a server without denial responses: a plain refusal (403 to the client)
            await self.asgi_send({"type": "websocket.close", "code": 1008})
            ex.response_status = reply.status
        self.closed = True

    def check_target(self, target: tuple[str, str | None]) -> dict | None:
        kind, value = target
        if kind == "model" and not self.runtime.config.lenient and self.runtime.catalog.get(value) is None:
            # The real API's unknown-model wording and code (errors.model_not_found, recorded over HTTP),
            # as an event: the socket is already open when the session is set up.
            return wire.error_event(self.event_id(), f"The model `{value}` does not exist or you do not have access to it.",
                                    code="model_not_found", param="model")
        if kind == "call" and self.runtime.realtime.calls.get(value, {}).get("status") == "ended":
            # A call id never issued is an incoming SIP call (http.py); one hung up has no session left.
            return wire.error_event(self.event_id(), f"Call '{value}' has ended.", code="call_ended", param="call_id")
        return None

    # --- the session ------------------------------------------------------------------------------

    async def serve(self, target: tuple[str, str | None], key: str | None) -> None:
        kind, value = target
        runtime = self.runtime
        config = None
        if kind == "call":
            config = (runtime.realtime.calls.get(value) or {}).get("session")
        elif key is not None and key in runtime.realtime.secrets:
            config = runtime.realtime.secrets[key]["session"]
            if kind == "transcription" and config.get("type") != "transcription":
                config = None
        session_kind = "transcription" if kind == "transcription" else (config or {}).get("type", "realtime")
        self.kind = session_kind
        self.model = value if kind == "model" else (config or {}).get("model")
        self.ex.body = {"model": self.model}  # the journal's `model`
        seed = repr((self.scope.get("query_string"), self.ex.request_id)).encode()
        self.session = session = Session(runtime, self.send, session_kind, self.model, seed, self.header,
                                         sideband=kind == "call", config=None)
        session.exchange = self.ex
        session.api_key = key or ""  # the HTTP API's buckets are per key too (api/common.py: api_key)
        if config is not None:
            session.config = wire.merge_session(session.config, config)
        session.paced = self.faults.pace > 0
        await self.act(self.faults.at_start())
        if kind != "call":  # a sideband socket joins a session the call created: recorded without `session.created`
            await session.emit("session.created", session=session.config)
        checker = self.endpoint.checker
        while not self.closed:
            message = await self.receive()
            if message["type"] == "websocket.disconnect":
                self.closed = True
                self.close_code = message.get("code", 1005)
                self.closed_by = "client"
                break
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            try:
                event = checker.read(data)
                self.received[event["type"]] += 1
                if len(data) >= OFF_LOOP_BYTES:  # only a frame this long can hold a string this long
                    await session.count_long_strings(event)
                await session.handle(event)
            except BadEvent as bad:
                self.received["(invalid)" if bad.code in ("invalid_json", "missing_required_parameter") else "(refused)"] += 1
                await self.send(wire.error_event(self.event_id(), bad.message, type=bad.type, code=bad.code,
                                                 param=bad.param, client_event_id=bad.event_id))

    def event_id(self) -> str:
        return self.session.ids.event() if self.session is not None else wire.Ids(random.Random(0)).event()

    # --- sending, through the session's fault -------------------------------------------------------

    async def send(self, event: dict) -> None:
        if self.closed:
            raise Closed()
        faults = self.faults
        if faults.fault is None:
            await self._write(event)
            return
        if faults.pace:
            await asyncio.sleep(faults.pace)
        await self._write(event)
        await self.act(faults.after(event["type"]))

    async def act(self, action: str | None) -> None:
        """Serve an event fault that is due: cut, stall, or an error event."""
        faults = self.faults
        if action == event_faults.CUT:
            await self.close(faults.close_code())
            raise Closed()
        if action == event_faults.STALL:
            hold = faults.fault.hold if faults.fault.hold is not None else self.runtime.config.max_hold_seconds
            await asyncio.sleep(min(hold, self.runtime.config.max_hold_seconds))
            await self.close(faults.close_code())
            raise Closed()
        if action == event_faults.ERROR:
            kind, code, message = faults.error()
            await self._write(wire.error_event(self.event_id(), message, type=kind, code=code))

    async def _write(self, event: dict) -> None:
        try:
            await self.asgi_send({"type": "websocket.send", "text": orjson.dumps(event).decode()})
        except Exception:  # noqa: BLE001 - the client went away (uvicorn raises its own kinds)
            self.closed = True
            self.closed_by = self.closed_by or "client"
            self.close_code = self.close_code or 1006
            raise Closed() from None
        self.sent[event["type"]] += 1

    async def close(self, code: int, quiet: bool = False) -> None:
        if self.closed and not quiet:
            return
        self.closed = True
        self.closed_by = "server"
        self.close_code = code
        if code == 1006:  # no close frame at all: the TCP connection just ends
            self.drop(abort=True)
            return
        try:
            await self.asgi_send({"type": "websocket.close", "code": code})
        except Exception:  # noqa: BLE001 - already gone
            pass

    def drop(self, abort: bool) -> None:
        """End the TCP connection under the WebSocket (reset, or a clean FIN)."""
        from ..protocol import transport_of

        self.closed = True
        self.closed_by = "server"
        self.close_code = 1006
        transport = transport_of(self.scope, self.asgi_send)
        if transport is None:
            return
        if abort:
            transport.abort()
        else:
            transport.close()

    # --- the journal ------------------------------------------------------------------------------------

    def outcome(self) -> str:
        if self.refused is not None:
            return "error"
        if not self.accepted:
            return "connection" if self.close_code == 1006 else "disconnected"
        if self.closed_by == "server" and self.close_code not in NORMAL:
            return "connection" if self.close_code == 1006 else "cut"
        return "ok"

    def facts(self) -> dict:
        return {"kind": self.kind, "model": self.model, "events_in": sum(self.received.values()),
                "events_out": sum(self.sent.values()), "in": dict(self.received), "out": dict(self.sent),
                "close_code": self.close_code, "closed_by": self.closed_by,
                "fixture": self.session.fixture if self.session is not None else None}
