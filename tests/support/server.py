"""Run the fake on a real port in a background thread, as a user's test suite would."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import uvicorn

from mockserver import Config, create_app
from mockserver.protocol import server_options

from .audit import Audit


class RunningServer:
    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        self.app = create_app(self.config)
        self.runtime = self.app.state.runtime
        self.audit = Audit(self.app)
        uv_config = uvicorn.Config(self.audit, host="127.0.0.1", port=0, loop="asyncio", log_level="warning",
                                   **server_options(self.config))
        self.server = uvicorn.Server(uv_config)
        self.thread = threading.Thread(target=self.server.run, name="mockserver-test", daemon=True)

    def start(self) -> "RunningServer":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
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

    # --- the admin API, as a test uses it ----------------------------------------------

    def reset(self) -> None:
        httpx.post(f"{self.origin}/__mock/reset").raise_for_status()

    def add_rule(self, **spec) -> dict:
        """A run-time fault rule for chat completions (unless `match` says otherwise)."""
        response = httpx.post(f"{self.origin}/__mock/faults", json={"match": {"endpoint": "chat.completions"}, **spec})
        assert response.status_code == 201, response.text
        return response.json()

    def journal(self) -> list[dict]:
        return httpx.get(f"{self.origin}/__mock/requests").json()["data"]

    def verdict(self) -> dict:
        return httpx.get(f"{self.origin}/__mock/verdict").json()


TESTS = Path(__file__).resolve().parent.parent
