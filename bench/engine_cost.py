"""What the fault engine and journal cost a request when no rule is configured.

Two apps of one config, one with `fault_engine` off, are called in this process as ASGI
callables with the request wrk sends, in alternating blocks, and timed on the CPU clock:
the difference is the engine's own work (asking the rules, writing the journal) per
request. `run.py` divides it by the fake's whole CPU time per request under wrk to get
its share of requests/s, since the server is CPU-bound there.

Why not two servers under wrk: on a small shared machine two processes of the same
config differ by up to 7% (memory layout, hash seeds, neighbours), and runs of one
server by 20% from one second to the next, while the engine costs a few microseconds.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from pathlib import Path

import orjson

from mockserver import Config, create_app

HEADERS = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), (b"authorization", b"Bearer sk-bench"),
           (b"x-bench", b"replay")]


def _scope(raw: bytes) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": "/v1/chat/completions", "raw_path": b"/v1/chat/completions", "query_string": b"", "root_path": "",
            "headers": [*HEADERS, (b"content-length", str(len(raw)).encode())],
            "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000)}


def _receiver(raw: bytes):
    messages = [{"type": "http.request", "body": raw, "more_body": False}]

    async def receive() -> dict:
        return messages.pop() if messages else {"type": "http.disconnect"}

    return receive


async def _block(app, raw: bytes, n: int) -> float:
    """CPU microseconds per request over n requests."""
    scope = _scope(raw)

    async def send(message: dict) -> None:
        pass

    started = time.process_time()
    for _ in range(n):
        await app(scope, _receiver(raw), send)
    return (time.process_time() - started) / n * 1e6


async def _measure(fixtures: Path, body: dict, blocks: int, n: int) -> dict:
    raw = orjson.dumps(body)
    apps = {engine: create_app(Config(fixtures=[str(fixtures)], fault_engine=engine)) for engine in (True, False)}
    times: dict[bool, list[float]] = {True: [], False: []}
    for app in apps.values():
        await _block(app, raw, n)  # warm-up: caches filled, code paths taken once
    for turn in range(blocks):
        for engine in (True, False) if turn % 2 == 0 else (False, True):
            gc.collect()
            times[engine].append(await _block(apps[engine], raw, n))
    on, off = statistics.median(times[True]), statistics.median(times[False])
    return {"on_us": on, "off_us": off, "engine_us": on - off, "blocks": blocks, "per_block": n}


def measure(fixtures: Path, body: dict, blocks: int = 20, n: int = 5_000) -> dict:
    return asyncio.run(_measure(fixtures, body, blocks, n))
