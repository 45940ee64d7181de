"""`mockserver serve` as a user runs it, in a process of its own: for the tests that kill it
(`kill -9` mid-load) or restart it on the same port and state file."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(port: int, *options: str, timeout: float = 20) -> subprocess.Popen:
    """`mockserver serve --port PORT OPTIONS...`, once it answers; its process."""
    process = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--port", str(port), *options],
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1)
            return process
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)


def vm_rss_mb() -> float:
    """This process's resident memory, in MB (in-process test servers run in it, on a thread)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0
