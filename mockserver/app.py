"""`create_app(config)`: the Starlette application, assembled and nothing more."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Router

from .config import Config
from .envelope import NotFound
from .routing import build_routes
from .runtime import Runtime


class MockServer(Starlette):
    """A Starlette app whose middleware stack is just the router.

    Every endpoint runs the envelope pipeline itself (errors, headers, auth), so
    Starlette's error and exception middleware would only add a layer per request.
    """

    def build_middleware_stack(self):
        return self.router


def create_app(config: Config | None = None) -> MockServer:
    config = config or Config()
    runtime = Runtime(config)
    app = MockServer()
    # No redirects: the real API answers `GET /v1/chat/completions/` as any unknown URL.
    from .realtime import websocket_routes  # the Realtime API's WebSocket, beside the HTTP routes

    routes = build_routes(runtime, runtime.operations) + websocket_routes(runtime)
    app.router = Router(routes=routes, default=NotFound(runtime), redirect_slashes=False)
    app.state.runtime = runtime
    return app
