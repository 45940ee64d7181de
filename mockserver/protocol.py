"""uvicorn's HTTP protocol, with the connection's transport handed to the app and a
deadline on the request head.

Network faults (a reset, a connection closed mid-body, garbage instead of HTTP) act on
the connection itself, which ASGI does not expose. `mockserver serve` and the test
servers run this protocol; under any other server those faults end the request
without an answer instead.

uvicorn closes idle keep-alive connections, but has no deadline for a client that
opens a connection and sends its request slowly, or never: on a shared CI runner a few
hundred such connections would hold the server's sockets for good. Here the request
line and headers must arrive within `client_timeout` seconds of the connection (or of
the request's first byte, on a kept-alive connection), and then no gap in the body may
be longer than that; otherwise the connection is closed. Answering is not bounded here:
holds have their own bound (`max_hold_seconds`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from .faults.apply import TRANSPORT


class FaultableProtocol(HttpToolsProtocol):
    client_timeout: float = 30.0  # seconds for the request head, and for any gap in the body (`protocol_for`)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_deadline: asyncio.TimerHandle | None = None
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["extensions"] = {TRANSPORT: self.transport}
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        self._arm()  # the body's turn (a request without one completes at once)

    def on_body(self, body: bytes) -> None:
        self._disarm()
        super().on_body(body)
        self._arm()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        self._disarm()  # the connection now belongs to the WebSocket protocol
        super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.client_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _too_slow(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def protocol_for(client_timeout: float) -> type[FaultableProtocol]:
    """The protocol class with the server's deadline for a request head."""
    return type("FaultableProtocol", (FaultableProtocol,), {"client_timeout": client_timeout})


WS_MAX_BYTES = 24 * 2**20  # a 15 MiB audio append, base64-encoded, and its envelope

# What uvicorn answers a request it cannot parse (its httptools protocol's 400).
INVALID_REQUEST = (b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n"
                   b"content-length: 30\r\nconnection: close\r\n\r\nInvalid HTTP request received.")


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, answering an upgrade request that websockets' own parser
    refuses. httptools takes request lines of up to 64 KB, websockets 8 KB: on a longer URL
    (a `?model=` of 20 KB) websockets gives up on the handshake and uvicorn writes nothing,
    so the client hung until it timed out. It gets uvicorn's 400 for malformed HTTP now."""

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.handshake_exc is not None and not self.handshake_complete and not self.transport.is_closing():
            self.transport.write(INVALID_REQUEST)
            self.transport.close()


def server_options(config: Any) -> dict[str, Any]:
    """What `mockserver serve` (and the test servers) give uvicorn: the protocol, and the
    limits that protect a shared machine (README, "Command line and config")."""
    return {
        "http": protocol_for(config.client_timeout_seconds),
        "timeout_keep_alive": config.keep_alive_seconds,
        "limit_concurrency": config.max_connections,
        "server_header": False,
        "lifespan": "off",
        # Realtime sockets: no permessage-deflate. Every client works without it (it is an
        # offer the server may decline), and compressing each small event cost the server
        # an eighth of its time under 1,000 sessions (bench/realtime.py, profiled).
        "ws_per_message_deflate": False,
        # An `input_audio_buffer.append` may carry up to 15 MiB of audio (the SDK's docstring),
        # 20 MiB in base64: uvicorn's 16 MiB default would refuse it with 1009.
        "ws_max_size": WS_MAX_BYTES,
        "ws": WebSocketProtocol,
    }


def transport_of(scope: dict, send: Any) -> asyncio.Transport | None:
    """The TCP transport under a request or a WebSocket, for faults that act on it (a
    realtime session's 1006 is its connection dropped): the scope's extension under this
    protocol; under uvicorn's WebSocket protocols, the transport of the protocol object
    whose `send` the app was given."""
    transport = (scope.get("extensions") or {}).get(TRANSPORT)
    if transport is None:
        transport = getattr(getattr(send, "__self__", None), "transport", None)
    return transport
