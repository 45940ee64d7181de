"""Files: upload and download throughput, and the server's memory, by file size.

`mockserver serve` (in memory, then with `--state`) is sent a file of 50 MB and one of
200 MB through `POST /v1/files` (the body streamed from a generator, so the client holds
1 MiB at a time), then through the Uploads API (four parts and `complete`), and each is
downloaded (`GET /v1/files/{id}/content`, streamed, checked against the bytes sent). It
prints MB/s and the server's resident memory before and at its peak (VmHWM): the peak must
not grow with the file's size. Then the measurement behind the content store's design:
writing and reading 200 MB as blobs in SQLite (1 MiB rows, WAL) against plain files.

    python bench/files.py [--sizes 50 200]      (also run by `make bench`, after the rest)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
MiB = 1 << 20
BLOCK = bytes(range(256)) * 4096  # 1 MiB of a pattern: what the client sends, over and over


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory_mb(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return {"rss": out["VmRSS"], "peak": out["VmHWM"]}


def start(state: Path | None, *options: str) -> tuple[subprocess.Popen, str]:
    """`mockserver serve` on a free port (with `--state` if given, and `options`), once it answers."""
    port = free_port()
    command = [str(Path(PYTHON).parent / "mockserver"), "serve", "--port", str(port), *options]
    if state is not None:
        command += ["--state", str(state)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    origin = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(origin + "/v1/models", timeout=1)
            return process, origin
        except httpx.TransportError:
            if time.monotonic() > deadline:
                sys.exit("the server did not start")
            time.sleep(0.05)


def body(size: int, boundary: str, field: str, extra: bytes = b""):
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="bench.jsonl"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(extra) + len(head) + size + len(tail)

    def chunks():
        yield extra + head
        left = size
        while left:
            piece = BLOCK if left >= MiB else BLOCK[:left]
            left -= len(piece)
            yield piece
        yield tail

    return length, chunks()


def expected_md5(size: int) -> str:
    digest, left = hashlib.md5(), size
    while left:
        piece = BLOCK if left >= MiB else BLOCK[:left]
        digest.update(piece)
        left -= len(piece)
    return digest.hexdigest()


def upload_file(http: httpx.Client, size: int) -> tuple[str, float]:
    boundary = "benchboundary0123456789"
    purpose = f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n'.encode()
    length, chunks = body(size, boundary, "file", purpose)
    began = time.perf_counter()
    answer = http.post("/v1/files", content=chunks, headers={
        "content-type": f"multipart/form-data; boundary={boundary}", "content-length": str(length)})
    elapsed = time.perf_counter() - began
    answer.raise_for_status()
    assert answer.json()["bytes"] == size, answer.text
    return answer.json()["id"], elapsed


def upload_in_parts(http: httpx.Client, size: int, parts: int = 4) -> tuple[str, float]:
    began = time.perf_counter()
    upload = http.post("/v1/uploads", json={"bytes": size, "filename": "bench.jsonl", "purpose": "user_data",
                                            "mime_type": "application/jsonl"}).json()
    share = size // parts
    assert share % 256 == 0, "each part restarts the 256-byte pattern, so the parts must hold whole periods"
    ids = []
    for n in range(parts):
        part_size = share if n < parts - 1 else size - share * (parts - 1)
        boundary = "benchpart0123456789"
        length, chunks = body(part_size, boundary, "data")
        answer = http.post(f"/v1/uploads/{upload['id']}/parts", content=chunks, headers={
            "content-type": f"multipart/form-data; boundary={boundary}", "content-length": str(length)})
        answer.raise_for_status()
        ids.append(answer.json()["id"])
    done = http.post(f"/v1/uploads/{upload['id']}/complete", json={"part_ids": ids, "md5": expected_md5(size)})
    done.raise_for_status()
    return done.json()["file"]["id"], time.perf_counter() - began


def download(http: httpx.Client, file_id: str, size: int) -> float:
    digest, got = hashlib.md5(), 0
    began = time.perf_counter()
    with http.stream("GET", f"/v1/files/{file_id}/content") as answer:
        answer.raise_for_status()
        for chunk in answer.iter_bytes(MiB):
            got += len(chunk)
            digest.update(chunk)
    elapsed = time.perf_counter() - began
    assert got == size and digest.hexdigest() == expected_md5(size), "the download differs from the upload"
    return elapsed


def with_curl(origin: str, size: int, work: Path) -> dict:
    """The same through curl (a client that costs the server's measure nothing): httpx
    itself tops out near 300 MB/s reading a body here."""
    source = work / "bench.jsonl"
    with open(source, "wb") as handle:
        left = size
        while left:
            left -= handle.write(BLOCK if left >= MiB else BLOCK[:left])
    began = time.perf_counter()
    sent = subprocess.run(["curl", "-sS", "-F", "purpose=user_data", "-F", f"file=@{source}", f"{origin}/v1/files"],
                          capture_output=True, check=True)
    up = time.perf_counter() - began
    file_id = __import__("json").loads(sent.stdout)["id"]
    source.unlink()
    began = time.perf_counter()
    subprocess.run(["curl", "-sS", "-o", "/dev/null", f"{origin}/v1/files/{file_id}/content"], check=True)
    return {"curl_upload_mb_s": size / MiB / up, "curl_download_mb_s": size / MiB / (time.perf_counter() - began)}


def serve_and_measure(sizes: list[int], state: Path | None) -> list[dict]:
    rows = []
    for size_mb in sizes:  # a fresh server per size: its peak memory is that size's
        process, origin = start(state)
        size = size_mb * MiB
        try:
            with httpx.Client(base_url=origin, timeout=300) as http:
                warm, _ = upload_file(http, MiB)
                download(http, warm, MiB)
                before = memory_mb(process.pid)["rss"]
                file_id, up = upload_file(http, size)
                down = download(http, file_id, size)
                row = {"backend": "state" if state else "memory", "size_mb": size_mb,
                       "upload_mb_s": size_mb / up, "download_mb_s": size_mb / down}
                parted, parts_time = upload_in_parts(http, size)
                download(http, parted, size)
                row["uploads_api_mb_s"] = size_mb / parts_time
                if shutil.which("curl"):
                    with tempfile.TemporaryDirectory() as work:
                        row.update(with_curl(origin, size, Path(work)))
                memory = memory_mb(process.pid)
                row.update(rss_before_mb=before, peak_rss_mb=memory["peak"])
                rows.append(row)
        finally:
            process.terminate()
            process.wait()
        if state is not None:
            for path in (state.parent.glob(state.name + "*")):
                if path.is_dir():
                    for child in path.iterdir():
                        child.unlink()
                    path.rmdir()
                else:
                    path.unlink()
    return rows


def content_store_choice(size_mb: int = 200) -> dict:
    """Blobs in SQLite (1 MiB rows in a table, WAL, synchronous=NORMAL, as the state file)
    against a plain file, written in 64 KiB pieces as an upload arrives, read in 1 MiB."""
    size = size_mb * MiB
    piece = os.urandom(64 * 1024)
    out = {}
    with tempfile.TemporaryDirectory() as work:
        db = sqlite3.connect(Path(work) / "s.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE chunks (id TEXT, n INTEGER, data BLOB, PRIMARY KEY (id, n))")
        began, buffer, n = time.perf_counter(), bytearray(), 0
        for _ in range(size // len(piece)):
            buffer += piece
            if len(buffer) >= MiB:
                db.execute("INSERT INTO chunks VALUES ('f', ?, ?)", (n, bytes(buffer)))
                buffer.clear()
                n += 1
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        write = time.perf_counter() - began
        began = time.perf_counter()
        for index in range(n):
            db.execute("SELECT data FROM chunks WHERE id = 'f' AND n = ?", (index,)).fetchone()
        out["sqlite"] = {"write_mb_s": size_mb / write, "read_mb_s": size_mb / (time.perf_counter() - began)}
        db.close()
        began = time.perf_counter()
        with open(Path(work) / "f", "wb") as handle:
            for _ in range(size // len(piece)):
                handle.write(piece)
        write = time.perf_counter() - began
        began = time.perf_counter()
        with open(Path(work) / "f", "rb") as handle:
            while handle.read(MiB):
                pass
        out["files"] = {"write_mb_s": size_mb / write, "read_mb_s": size_mb / (time.perf_counter() - began)}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def measure(sizes: list[int]) -> dict:
    rows = serve_and_measure(sizes, None)
    with tempfile.TemporaryDirectory() as work:
        rows += serve_and_measure(sizes, Path(work) / "state.db")
    return {"rows": rows, "content_store": content_store_choice()}


def report(result: dict) -> None:
    print("files (httpx: POST /v1/files, then the Uploads API in 4 parts; downloads streamed and checked):")
    for row in result["rows"]:
        print(f"  {row['backend']:<6} {row['size_mb']:>4} MB: upload {row['upload_mb_s']:6.0f} MB/s, "
              f"download {row['download_mb_s']:6.0f} MB/s, uploads API {row['uploads_api_mb_s']:6.0f} MB/s"
              + (f"; curl: upload {row['curl_upload_mb_s']:5.0f}, download {row['curl_download_mb_s']:5.0f} MB/s"
                 if "curl_upload_mb_s" in row else "")
              + f" | server RSS {row['rss_before_mb']:.0f} MB before, peak {row['peak_rss_mb']:.0f} MB")
    store = result["content_store"]
    print(f"  content store, 200 MB: SQLite blobs write {store['sqlite']['write_mb_s']:.0f} MB/s, read "
          f"{store['sqlite']['read_mb_s']:.0f} MB/s; plain files write {store['files']['write_mb_s']:.0f} MB/s, "
          f"read {store['files']['read_mb_s']:.0f} MB/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200], help="file sizes in MB (default 50 200)")
    args = parser.parse_args()
    report(measure(args.sizes))


if __name__ == "__main__":
    main()
