"""Faults on a realtime session's events: the WebSocket side of `apply.py`.

The same fault values as HTTP (one rule syntax, one header, one admin API), read for a
socket: `http` refuses the upgrade with its status and envelope, `latency` delays the
upgrade (`delay_ms`) and every event (`chunk_delay_ms`), the network kinds drop the TCP
connection before the upgrade, and the stream kinds act after `after_chunks` server events
(counted from the first `response.created`, included, with `mid_response`):

    stream_cut    close with `close_code` (1011 by default); with `close: true` drop the
                  TCP connection instead, which a client sees as 1006
    stream_error  send an `error` event (`code`: rate_limit_exceeded, server_error, ...);
                  the socket stays open, as the real API's error events leave it
    stall         stop sending, hold (`hold_ms`, bounded), then close (1011 by default)
"""

from __future__ import annotations

from dataclasses import dataclass

from .spec import Fault

CUT = "cut"
ERROR = "error"
STALL = "stall"

ERROR_MESSAGES = {
    "rate_limit_exceeded": ("tokens", "Rate limit reached for tokens. Please try again in 1s."),
    "server_error": ("server_error", "The server had an error while processing your request. Sorry about that!"),
}


@dataclass
class EventFaults:
    """Counts the session's server events and says when its fault acts (once)."""

    fault: Fault | None
    sent: int = 0
    counting: bool = False
    fired: bool = False

    def __post_init__(self) -> None:
        self.counting = self.fault is not None and self.fault.stream and not self.fault.mid_response

    @property
    def pace(self) -> float:
        """Seconds before each event (a latency fault's `chunk_delay_ms`)."""
        return self.fault.chunk_delay if self.fault is not None and self.fault.kind == "latency" else 0.0

    def at_start(self) -> str | None:
        """The action due before any event (`after_chunks: 0`, not mid-response)."""
        fault = self.fault
        if fault is None or not fault.stream or fault.mid_response or fault.after_chunks:
            return None
        self.fired = True
        return self._action()

    def after(self, event_type: str) -> str | None:
        """The action due once an event of `event_type` has been sent, if any."""
        fault = self.fault
        if fault is None or self.fired or not fault.stream:
            return None
        if not self.counting:
            if event_type != "response.created":
                return None
            self.counting = True
        self.sent += 1
        if self.sent < max(1, fault.after_chunks):
            return None
        self.fired = True
        return self._action()

    def _action(self) -> str:
        return {"stream_cut": CUT, "stream_error": ERROR, "stall": STALL}[self.fault.kind]

    def close_code(self) -> int:
        """The close code of a cut or a stall; 1006 means: drop the TCP connection."""
        fault = self.fault
        if fault is not None and fault.kind == "stream_cut" and fault.close:
            return 1006
        return (fault.close_code if fault is not None else 0) or 1011

    def error(self) -> tuple[str, str, str]:
        """(type, code, message) of a `stream_error`'s error event."""
        code = (self.fault.code if self.fault is not None else None) or "server_error"
        kind, message = ERROR_MESSAGES.get(code, ("server_error", ERROR_MESSAGES["server_error"][1]))
        if self.fault is not None and self.fault.message:
            message = self.fault.message
        return kind, code, message
