"""Realtime: how many WebSocket sessions one server process holds, each with a text turn;
events per second on one session; memory per idle session.

`mockserver serve` (uvloop, one process) is opened N sessions at once by a client process
(asyncio + websockets, the same machine). Each session reads its `session.created`; the
server's resident memory before and after gives the memory per idle session. Then every
session runs one text turn (`conversation.item.create` + `response.create`, a synthesized
answer of ~40 events; each session asks something different) and the time from sending to `response.done` is taken: once with the
turns spread evenly over `--spread` seconds (sessions held open, turns arriving at N/spread
a second), and once all at the same instant (a burst: its p99 is mostly the time to send
everything queued). Last, one session runs text turns back to back for `--seconds`, and the
server events it receives per second are counted.

    python bench/realtime.py [--sessions 1000] [--spread 5] [--seconds 3]   (also run by `make bench`)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
sys.path.insert(0, str(ROOT))

from bench.files import free_port, memory_mb  # noqa: E402

CONFIG = "max_connections: 20000\n"  # uvicorn's limit counts each open socket


def start(work: Path) -> tuple[subprocess.Popen, int]:
    import httpx

    port = free_port()
    (work / "mockserver.yaml").write_text(CONFIG)
    process = subprocess.Popen([str(Path(PYTHON).parent / "mockserver"), "serve", "--port", str(port), "--config",
                                str(work / "mockserver.yaml")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1)
            return process, port
        except httpx.TransportError:
            if time.monotonic() > deadline:
                sys.exit("the server did not start")
            time.sleep(0.05)


def item(n: int) -> str:
    """The user's turn; each session's differs, so the answers (and their lengths) do too."""
    return json.dumps({"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [
        {"type": "input_text", "text": f"Say something short about number {n}."}]}})
CREATE = json.dumps({"type": "response.create", "response": {"output_modalities": ["text"]}})


async def open_session(port: int):
    import websockets

    ws = await websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime",
                                  additional_headers={"Authorization": "Bearer sk-bench"}, open_timeout=60,
                                  ping_interval=None, max_size=None)
    await ws.recv()  # session.created
    return ws


async def turn(ws, n: int = 0) -> tuple[float, int]:
    began = time.perf_counter()
    await ws.send(item(n))
    await ws.send(CREATE)
    events = 0
    while True:
        message = await ws.recv()
        events += 1
        if '"response.done"' in message[:40]:
            return time.perf_counter() - began, events


async def sessions_run(port: int, count: int, spread: float, pid: int) -> dict:
    memory_before = memory_mb(pid)["rss"]
    began = time.perf_counter()
    opened = []
    for start_at in range(0, count, 100):  # in waves of 100, as clients arrive
        opened += await asyncio.gather(*(open_session(port) for _ in range(min(100, count - start_at))))
    open_s = time.perf_counter() - began
    await asyncio.sleep(0.5)
    memory_idle = memory_mb(pid)["rss"]
    rng = random.Random(0)

    async def later(ws, delay: float, n: int):
        await asyncio.sleep(delay)
        return await turn(ws, n)

    began = time.perf_counter()
    spread_results = await asyncio.gather(*(later(ws, rng.uniform(0, spread), n) for n, ws in enumerate(opened)))
    spread_s = time.perf_counter() - began
    began = time.perf_counter()
    burst_results = await asyncio.gather(*(turn(ws, count + n) for n, ws in enumerate(opened)))
    burst_s = time.perf_counter() - began
    peak = memory_mb(pid)["peak"]
    await asyncio.gather(*(ws.close() for ws in opened))
    return {
        "sessions": count, "open_s": round(open_s, 2),
        "rss_before_mb": round(memory_before, 1), "rss_idle_mb": round(memory_idle, 1), "rss_peak_mb": round(peak, 1),
        "kb_per_idle_session": round((memory_idle - memory_before) * 1024 / count, 1),
        "events_per_turn": statistics.mean(e for _, e in spread_results),
        "spread": summary([t for t, _ in spread_results], spread_s, spread),
        "burst": summary([t for t, _ in burst_results], burst_s, 0),
        "completed": sum(1 for _ in spread_results) + sum(1 for _ in burst_results),
    }


def summary(times: list[float], wall: float, spread: float) -> dict:
    ordered = sorted(times)
    return {"spread_s": spread, "wall_s": round(wall, 2), "turns_per_s": round(len(times) / wall, 1),
            "p50_ms": round(ordered[len(ordered) // 2] * 1000, 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


async def one_session(port: int, seconds: float) -> dict:
    ws = await open_session(port)
    events = turns = 0
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        _, got = await turn(ws, turns)
        events += got
        turns += 1
    wall = time.perf_counter() - began
    await ws.close()
    return {"turns": turns, "events": events, "events_per_s": round(events / wall), "turns_per_s": round(turns / wall, 1)}


def measure(sessions: int = 1000, spread: float = 5.0, seconds: float = 3.0) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        process, port = start(Path(folder))
        try:
            asyncio.run(sessions_run(port, 20, 0.1, process.pid))  # warm up: the tokenizer, the contracts
            result = asyncio.run(sessions_run(port, sessions, spread, process.pid))
            result["one_session"] = asyncio.run(one_session(port, seconds))
            return result
        finally:
            process.terminate()
            process.wait(timeout=10)


def report(result: dict) -> None:
    print(f"Realtime: {result['sessions']} concurrent sessions in one process (opened in {result['open_s']} s), "
          f"one text turn each (~{result['events_per_turn']:.0f} events)")
    print(f"{'turns':<34} {'turns/s':>8} {'p50':>9} {'p99':>9} {'max':>9}")
    for name, row in (("spread over %gs" % result["spread"]["spread_s"], result["spread"]),
                      ("all at once (burst)", result["burst"])):
        print(f"{name:<34} {row['turns_per_s']:>8} {row['p50_ms']:>7} ms {row['p99_ms']:>7} ms {row['max_ms']:>7} ms")
    print(f"memory: {result['rss_before_mb']} MB before, {result['rss_idle_mb']} MB with the sessions idle "
          f"({result['kb_per_idle_session']} KB a session), peak {result['rss_peak_mb']} MB")
    one = result["one_session"]
    print(f"one session, turns back to back: {one['events_per_s']:,} events/s ({one['turns_per_s']} turns/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=5.0, help="seconds the turns are spread over")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of back-to-back turns on one session")
    args = parser.parse_args()
    result = measure(args.sessions, args.spread, args.seconds)
    report(result)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / f"realtime-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
