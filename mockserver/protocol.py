"""uvicorn's HTTP protocol, with the connection's transport handed to the app.

Network faults (a reset, a connection closed mid-body, garbage instead of HTTP) act on
the connection itself, which ASGI does not expose. `mockserver serve` and the test
servers run this protocol; under any other server those faults end the request
without an answer instead.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .faults.apply import TRANSPORT


class FaultableProtocol(HttpToolsProtocol):
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["extensions"] = {TRANSPORT: self.transport}
