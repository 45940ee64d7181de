"""The fake on a free port in a background thread, as a user's test suite (or the kit) runs it.

uvicorn with the fake's own protocol (`mockserver.protocol.server_options`, so network
faults work), on port 0: the system picks a free port, so parallel runs (pytest-xdist
workers) never clash. `wrappers` are ASGI wrappers put around the app, innermost first
(the kit's strict checker and response fuzzer); the outermost is an `Audit`, which keeps
a copy of every answer.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any, Callable

from .. import Config, create_app
from .audit import Audit


class RunningServer:
    def __init__(self, config: Config | None = None, wrappers: list[Callable[[Any], Any]] | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        from ..protocol import server_options

        self.config = config or Config()
        self.app = create_app(self.config)
        self.runtime = self.app.state.runtime
        outer: Any = self.app
        self.wrappers: list[Any] = []
        for wrap in wrappers or []:
            outer = wrap(outer)
            self.wrappers.append(outer)
        self.audit = Audit(outer)
        uv_config = uvicorn.Config(self.audit, host=host, port=port, loop="asyncio", log_level="warning",
                                   **server_options(self.config))
        self.server = uvicorn.Server(uv_config)
        self.thread = threading.Thread(target=self.server.run, name="mockserver", daemon=True)

    def start(self) -> "RunningServer":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the fake did not start")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.origin}/v1"
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> "RunningServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def client_env(self, api_key: str = "sk-mockserver") -> dict[str, str]:
        """The environment that points a client at this server: OpenAI's variables, Azure's,
        and the legacy `OPENAI_API_BASE` some libraries still read."""
        return client_env(self.url, self.origin, api_key)

    # --- the admin API, as a test uses it ----------------------------------------------

    def _admin(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.origin}{path}", data=data, method=method,
                                         headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def reset(self) -> None:
        status, _ = self._admin("POST", "/__mock/reset")
        assert status == 200, status

    def add_rule(self, **spec) -> dict:
        """A run-time fault rule for chat completions (unless `match` says otherwise)."""
        status, body = self._admin("POST", "/__mock/faults", {"match": {"endpoint": "chat.completions"}, **spec})
        assert status == 201, body
        return body

    def journal(self) -> list[dict]:
        return self._admin("GET", "/__mock/requests")[1]["data"]

    def verdict(self) -> dict:
        return self._admin("GET", "/__mock/verdict")[1]


def client_env(url: str, origin: str, api_key: str = "sk-mockserver") -> dict[str, str]:
    return {
        "OPENAI_BASE_URL": url, "OPENAI_API_BASE": url, "OPENAI_API_KEY": api_key,
        "AZURE_OPENAI_ENDPOINT": origin, "AZURE_OPENAI_API_KEY": api_key, "OPENAI_API_VERSION": "2024-10-21",
        "MOCKSERVER_URL": origin,
    }
