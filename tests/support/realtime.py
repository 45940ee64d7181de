"""What the realtime tests share: a raw WebSocket client, event collection, contract checks,
synthetic audio."""

from __future__ import annotations

import asyncio
import base64
import json
import math
from array import array
from typing import Any

import websockets

from mockserver.kit.operations import contracts  # the one cached copy the audit uses too


def problems(events: list[dict]) -> list[str]:
    """Every server event checked against contracts/ (the SDK's union of 46 server events)."""
    found = []
    for event in events:
        for problem in contracts().problems("realtime.server.event", event):
            found.append(f"{event.get('type')}: {problem}")
    return found


def ws_url(server: Any, query: str = "model=gpt-realtime", path: str = "/v1/realtime") -> str:
    return f"ws://127.0.0.1:{server.port}{path}?{query}"


async def connect(server: Any, query: str = "model=gpt-realtime", headers: dict | None = None, **options):
    return await websockets.connect(ws_url(server, query), additional_headers={"Authorization": "Bearer sk-test",
                                                                               **(headers or {})}, **options)


async def until(ws, kind: str, seen: list[dict] | None = None, timeout: float = 10) -> list[dict]:
    """Events up to and including the first of type `kind`."""
    got = seen if seen is not None else []
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        got.append(event)
        if event["type"] == kind:
            return got


async def send(ws, **event) -> None:
    await ws.send(json.dumps(event))


def tone(ms: int, amplitude: int = 6000, rate: int = 24_000) -> bytes:
    """A 440 Hz tone as PCM16: speech, to server VAD."""
    n = rate * ms // 1000
    return array("h", (int(amplitude * math.sin(2 * math.pi * 440 * i / rate)) for i in range(n))).tobytes()


def silence(ms: int, rate: int = 24_000) -> bytes:
    return bytes(2 * rate * ms // 1000)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def user_text(text: str) -> dict:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


NO_VAD = {"audio": {"input": {"turn_detection": None}}}


async def ready(server: Any, session: dict | None = None, **options):
    """A socket past `session.created` (and, given `session`, past its `session.updated`)."""
    ws = await connect(server, **options)
    await until(ws, "session.created")
    if session is not None:
        await send(ws, type="session.update", session={"type": "realtime", **session})
        await until(ws, "session.updated")
    return ws


async def slowest_small_request(server: Any, count: int) -> float:
    """The slowest of `count` small HTTP requests made one after another while a socket's
    big event is being handled: how long that event held up other clients."""
    import time

    import httpx

    slowest = 0.0
    async with httpx.AsyncClient(base_url=server.url) as http:
        for _ in range(count):
            began = time.perf_counter()
            assert (await http.get("/models")).status_code == 200
            slowest = max(slowest, time.perf_counter() - began)
    return slowest
