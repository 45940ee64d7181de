"""Batches: a chat batch of 5,000 and of 50,000 lines (every prompt different, answers
synthesized), from upload to downloaded output, and the server's memory.

`mockserver serve` (in memory, then with `--state`) is sent a JSONL file of N chat requests
(streamed from a generator), a batch is created on it and polled until `completed`, and its
output file is downloaded (streamed) and counted: every line, each `custom_id` once. It
prints the time for the whole (and for the run alone, created → completed) and the server's
resident memory before (warmed up: the tokenizer loaded) and at its peak (VmHWM): the peak
must not grow with the line count.
The config lets the lines run as fast as the server can (`batch_lines_per_second`), as a
client waiting for a big batch would want.

    python bench/batches.py [--lines 5000 50000] [--state]   (also run by `make bench`)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
sys.path.insert(0, str(ROOT))

from bench.files import memory_mb  # noqa: E402
from bench.files import start as serve  # noqa: E402

CONFIG = "batch_lines_per_second: 1000000000\nbatch_validating_seconds: 0\nbatch_finalizing_seconds: 0\n"


def start(work: Path, state: bool) -> tuple[subprocess.Popen, str]:
    (work / "mockserver.yaml").write_text(CONFIG)
    return serve(work / "state.db" if state else None, "--config", str(work / "mockserver.yaml"))


def input_lines(count: int):
    """The JSONL body, in 1 MiB pieces: each line a different question."""
    boundary = "benchbatchboundary0123"
    yield (f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
           f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.jsonl"\r\n'
           "Content-Type: application/jsonl\r\n\r\n").encode()
    piece = bytearray()
    for n in range(count):
        piece += json.dumps({"custom_id": f"line-{n}", "method": "POST", "url": "/v1/chat/completions", "body": {
            "model": "gpt-4o-mini", "max_completion_tokens": 60, "messages": [
                {"role": "system", "content": "You answer in one short paragraph."},
                {"role": "user", "content": f"Tell me about the weather patterns of coastal city number {n}."}]}},
            separators=(",", ":")).encode() + b"\n"
        if len(piece) >= 1 << 20:
            yield bytes(piece)
            piece.clear()
    yield bytes(piece) + f"\r\n--{boundary}--\r\n".encode()


def run_one(count: int, state: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="mockserver-bench-batches-") as work:
        process, origin = start(Path(work), state)
        try:
            with httpx.Client(base_url=origin, timeout=120) as http:
                http.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [
                    {"role": "user", "content": "warm up"}]}).raise_for_status()  # the tokenizer loaded
                before = memory_mb(process.pid)["rss"]
                began = time.perf_counter()
                uploaded = http.post("/v1/files", content=input_lines(count), headers={
                    "content-type": "multipart/form-data; boundary=benchbatchboundary0123"})
                uploaded.raise_for_status()
                batch = http.post("/v1/batches", json={"input_file_id": uploaded.json()["id"], "completion_window": "24h",
                                                       "endpoint": "/v1/chat/completions"}).json()
                created = time.perf_counter()
                while batch["status"] not in ("completed", "failed", "expired", "cancelled"):
                    time.sleep(0.25)
                    batch = http.get(f"/v1/batches/{batch['id']}").json()
                finished = time.perf_counter()
                assert batch["status"] == "completed", batch
                assert batch["request_counts"] == {"total": count, "completed": count, "failed": 0}, batch
                seen, size = set(), 0
                with http.stream("GET", f"/v1/files/{batch['output_file_id']}/content") as answer:
                    answer.raise_for_status()
                    for line in answer.iter_lines():
                        if line:
                            seen.add(json.loads(line)["custom_id"])
                            size += len(line) + 1
                done = time.perf_counter()
            assert len(seen) == count, f"{len(seen)} lines of {count}"
            memory = memory_mb(process.pid)
            return {"lines": count, "state": state, "total_s": round(done - began, 2),
                    "run_s": round(finished - created, 2), "lines_per_s": round(count / (finished - created)),
                    "output_mb": round(size / 2**20, 1), "rss_before_mb": round(before), "peak_rss_mb": round(memory["peak"])}
        finally:
            process.terminate()
            process.wait()


def measure(counts: list[int], state: bool | None = None) -> list[dict]:
    modes = [False, True] if state is None else [state]
    return [run_one(count, mode) for mode in modes for count in counts]


def report(rows: list[dict]) -> None:
    print("batches (chat, synthesized answers): upload → created → completed → output downloaded")
    print(f"  {'store':<8} {'lines':>7} {'total':>8} {'run':>8} {'lines/s':>8} {'output':>9} {'RSS before':>11} {'peak RSS':>9}")
    for row in rows:
        print(f"  {'--state' if row['state'] else 'memory':<8} {row['lines']:>7,} {row['total_s']:>7.1f}s "
              f"{row['run_s']:>7.1f}s {row['lines_per_s']:>8,} {row['output_mb']:>7.1f}MB {row['rss_before_mb']:>9}MB "
              f"{row['peak_rss_mb']:>7}MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--state", action="store_true", default=None, help="only with --state")
    parser.add_argument("--memory", action="store_false", dest="state", help="only in memory")
    args = parser.parse_args()
    report(measure(args.lines, args.state))


if __name__ == "__main__":
    main()
