"""The Realtime API: a WebSocket session per connection, and its HTTP side.

    socket.py    the WebSocket envelope: URL, auth, upgrade faults, the event loop, journal facts
    events.py    a client event read and checked against its contract (errors as `error` events)
    session.py   one session: config, conversation, input audio, the 11 client events
    respond.py   what a response says (fixture or synthesizer) and the server events that say it
    audio.py     pcm / pcmu / pcma, the spoken answer, server VAD from the audio's energy
    wire.py      ids, the session and response objects, usage, the `error` event
    http.py      /v1/realtime/client_secrets, /v1/realtime/calls (+ accept, hangup, refer, reject)

The socket is served at `/v1/realtime`, `/openai/v1/realtime` and Azure's
`/openai/realtime?deployment=`; the operation `realtime.connect` names it for fixtures and
fault rules (`endpoint: realtime`). A plain HTTP GET there is refused: it only upgrades.
"""

from __future__ import annotations

from starlette.routing import WebSocketRoute

from .. import errors
from ..routing import PREFIXES, Operation
from ..wire import Exchange
from .http import OPERATIONS as HTTP_OPERATIONS
from .http import RealtimeState


async def not_upgraded(ex: Exchange) -> None:
    # Our wording: the real endpoint speaks WebSocket only (the SDKs never send a plain GET).
    raise errors.invalid_request("This endpoint only accepts WebSocket connections (GET with 'Upgrade: websocket').",
                                 code="websocket_required")


CONNECT = Operation("realtime.connect", "GET", "/realtime", not_upgraded)
AZURE_PATH = "/openai/realtime"

OPERATIONS = [CONNECT, *HTTP_OPERATIONS]


def websocket_routes(runtime) -> list[WebSocketRoute]:
    from .socket import RealtimeEndpoint

    endpoint = RealtimeEndpoint(runtime, CONNECT)
    return [WebSocketRoute(path, endpoint) for path in (*(p + CONNECT.path for p in PREFIXES), AZURE_PATH)]


__all__ = ["OPERATIONS", "RealtimeState", "websocket_routes"]
