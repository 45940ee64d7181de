"""`make bench`: the fake side by side with a bare Starlette app returning the same bytes.

Both run on the same stack (uvicorn, httptools, uvloop, one worker) and are loaded by
the same wrk, alternately, at concurrency 32 and 128: a recorded body replayed, a recorded
stream replayed, a synthesized answer and stream (the same request, and every request
different), and a streamed, stored Responses API answer.
It prints requests/s, p50 and p99 latency, peak RSS and the fake/bare ratio, then
start-up time to the first answered request, fixture lookup time from 10 to 10,000
fixtures, files' upload and download throughput and memory at 50 and 200 MB
(bench/files.py), and a chat batch of 5,000 and 50,000 lines from upload to downloaded output,
with its time and memory (bench/batches.py), and 1,000 concurrent realtime sessions with a text
turn each, events/s on one session and memory per idle session (bench/realtime.py). A
benchmark, not a test: it prints figures and asserts nothing.

    python bench/run.py [--duration SECONDS] [--quick] [--files-only] [--batches-only] [--realtime-only]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
OUT = BENCH / "out"
PYTHON = sys.executable

COASTAL = "Tell me about the weather patterns of coastal cities."
SCENARIOS = {
    "replay": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "What are the best pizza toppings?"}]},
    "replay-stream": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Stream the best pizza toppings."}], "stream": True},
    "synthesized": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": COASTAL}]},
    "synthesized-stream": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": COASTAL}], "stream": True},
    # Every request different (a counter in the prompt): nothing can be reused.
    "synthesized-unique": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": COASTAL + " #"}]},
    "synth-unique-stream": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": COASTAL + " #"}], "stream": True},
    # The Responses API: a synthesized answer as typed events, stored on the way.
    "responses-stream": {"model": "gpt-4o-mini", "input": COASTAL, "stream": True},
}
PATHS = {"responses-stream": "/v1/responses"}  # the others: /v1/chat/completions


def path_of(name: str) -> str:
    return PATHS.get(name, "/v1/chat/completions")
CONCURRENCY = (32, 128)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk from Debian's packages ...", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, stdout=subprocess.DEVNULL)
        return shutil.which("wrk") or sys.exit("wrk did not install")
    sys.exit("make bench needs wrk: `sudo apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, body: dict, process: subprocess.Popen, timeout: float = 20) -> float:
    """Seconds until the first request is answered (a POST, so the whole path is ready)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            sys.exit(f"server exited: {process.stderr.read() if process.stderr else ''}")
        try:
            raw = json.dumps(body)  # the exact bytes wrk and the capture use
            if httpx.post(url, content=raw, headers={"content-type": "application/json"}, timeout=1).status_code < 500:
                return time.perf_counter() - started
        except httpx.TransportError:
            time.sleep(0.005)
    sys.exit(f"{url} did not answer within {timeout}s")


def start_fake(port: int, config: Path | None = None) -> subprocess.Popen:
    extra = ["--config", str(config)] if config else []
    return subprocess.Popen(
        [str(Path(PYTHON).parent / "mockserver"), "serve", "--port", str(port), "--fixtures", str(BENCH / "fixtures"), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def engine_cost(rows: list[dict]) -> dict:
    """The engine's CPU per request (bench/engine_cost.py) as a share of the server's."""
    sys.path.insert(0, str(ROOT))
    from bench.engine_cost import measure

    cost = measure(BENCH / "fixtures", SCENARIOS["replay"])
    server = next(row["fake"]["cpu_us"] for row in rows if row["scenario"] == "replay" and row["connections"] == 32)
    return {**cost, "server_cpu_us": server, "share": cost["engine_us"] / server}


def start_bare(port: int, capture: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "-m", "uvicorn", "bench.bare:app", "--port", str(port), "--http", "httptools", "--loop", "uvloop",
         "--no-access-log", "--log-level", "warning", "--no-server-header"],
        cwd=ROOT, env={**os.environ, "BENCH_CAPTURE": str(capture)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def lua_script(body: dict, directory: Path, name: str) -> Path:
    """wrk's request: the scenario's body, or for `-unique` scenarios a new prompt each time."""
    path = directory / f"{name}.lua"
    payload = json.dumps(body).replace("\\", "\\\\").replace("'", "\\'")
    script = (
        'wrk.method = "POST"\n'
        f"wrk.body = '{payload}'\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        'wrk.headers["Authorization"] = "Bearer sk-bench"\n'
        f'wrk.headers["X-Bench"] = "{name}"\n'
    )
    if "unique" in name:
        head, tail = payload.split(" #", 1)
        script += (
            "counter = 0\n"
            "request = function()\n"
            "  counter = counter + 1\n"
            f"  return wrk.format(nil, nil, nil, '{head} #' .. counter .. '{tail}')\n"
            "end\n"
        )
    path.write_text(script)
    return path


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(wrk: str, url: str, script: Path, connections: int, duration: int) -> dict:
    command = [wrk, "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {p: float(v) * _UNITS[u] for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": rps, "p50_ms": latency.get("50"), "p99_ms": latency.get("99"), "non_2xx": int(errors.group(1)) if errors else 0}


def capture_bytes(origin: str, path: Path) -> None:
    """The fake's exact answer to each scenario, for the bare app to send back."""
    items = []
    for name, body in SCENARIOS.items():
        raw = json.dumps(body)
        response = httpx.post(origin + path_of(name), content=raw, headers={"content-type": "application/json"})
        # Everything but what the server stack writes by itself.
        headers = {k: v for k, v in response.headers.items() if k not in ("date", "content-length", "transfer-encoding")}
        items.append({"request": raw, "scenario": name, "status": response.status_code, "headers": headers, "body": response.text})
    path.write_text(json.dumps(items))


def startup_times(runs: int = 3) -> list[float]:
    times = []
    for _ in range(runs):
        port = free_port()
        process = start_fake(port)
        try:
            times.append(wait_ready(f"http://127.0.0.1:{port}/v1/chat/completions", SCENARIOS["replay"], process))
        finally:
            process.terminate()
            process.wait()
    return times


def lookup_times() -> dict[int, dict[str, float]]:
    """Microseconds per FixtureStore.find with 10, 1,000 and 10,000 fixtures loaded."""
    sys.path.insert(0, str(ROOT))
    from mockserver.fixtures import FixtureStore, Probe, load_fixtures
    from mockserver.routing import resolve_endpoint

    results = {}
    for size in (10, 1_000, 10_000):
        with tempfile.TemporaryDirectory() as directory:
            lines = ["fixtures:"]
            for i in range(size):
                lines.append(f"  - match: {{message: '^question number {i}$'}}\n    response: {{content: answer {i}}}")
            lines.append("  - match: {message: 'weather in (Paris|Rome)'}\n    response: {content: sunny}")
            Path(directory, "many.yaml").write_text("\n".join(lines) + "\n")
            store = FixtureStore(load_fixtures([Path(directory)], resolve_endpoint))
        row = {}
        for label, text in (("hit (last fixture)", f"question number {size - 1}"), ("miss", "no fixture has this")):
            probe = Probe("chat.completions.create", "gpt-4o-mini", {}, text, lambda name: None)
            assert (store.find(probe) is None) == (label == "miss")
            n = 20_000
            started = time.perf_counter()
            for _ in range(n):
                store.find(probe)
            row[label] = (time.perf_counter() - started) / n * 1e6
        results[size] = row
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds per wrk run (default 6)")
    parser.add_argument("--quick", action="store_true", help="2-second runs, concurrency 32 only")
    parser.add_argument("--files-only", action="store_true", help="only the files scenario (bench/files.py)")
    parser.add_argument("--batches-only", action="store_true", help="only the batches scenario (bench/batches.py)")
    parser.add_argument("--realtime-only", action="store_true", help="only the realtime scenario (bench/realtime.py)")
    args = parser.parse_args()
    if args.files_only:
        return files_bench()
    if args.batches_only:
        return batches_bench()
    if args.realtime_only:
        return realtime_bench()
    duration = 2 if args.quick else args.duration
    levels = (32,) if args.quick else CONCURRENCY
    wrk = ensure_wrk()
    OUT.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="mockserver-bench-"))
    print(f"mockserver bench, {dt.date.today()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{wrk} -t1, {duration}s per run\n", flush=True)

    fake_port, bare_port = free_port(), free_port()
    fake = start_fake(fake_port)
    bare = None
    rows = []
    try:
        fake_origin = f"http://127.0.0.1:{fake_port}"
        wait_ready(fake_origin + "/v1/chat/completions", SCENARIOS["replay"], fake)
        capture = work / "capture.json"
        capture_bytes(fake_origin, capture)
        bare = start_bare(bare_port, capture)
        bare_origin = f"http://127.0.0.1:{bare_port}"
        wait_ready(bare_origin + "/v1/chat/completions", SCENARIOS["replay"], bare)
        for name, body in SCENARIOS.items():
            script = lua_script(body, work, name)
            for connections in levels:
                result = {}
                for label, url in (("fake", fake_origin + path_of(name)), ("bare", bare_origin + path_of(name))):
                    run_wrk(wrk, url, script, connections, 1)  # warm-up
                    before = cpu_seconds(fake.pid)
                    result[label] = run_wrk(wrk, url, script, connections, duration)
                    if label == "fake":  # the server's CPU per request, for the engine's share
                        spent = cpu_seconds(fake.pid) - before
                        result[label]["cpu_us"] = spent / (result[label]["rps"] * duration) * 1e6
                rows.append({"scenario": name, "connections": connections, **result})
                fake_row, bare_row = result["fake"], result["bare"]
                print(f"{name:<19} c={connections:<4} fake {fake_row['rps']:>8.0f} req/s  p50 {fake_row['p50_ms']:6.2f} ms  "
                      f"p99 {fake_row['p99_ms']:6.2f} ms | bare {bare_row['rps']:>8.0f} req/s  p99 {bare_row['p99_ms']:6.2f} ms "
                      f"| ratio {fake_row['rps'] / bare_row['rps']:.2f}"
                      + (f"  (non-2xx: {fake_row['non_2xx']})" if fake_row["non_2xx"] else ""), flush=True)
        rss = {"fake": peak_rss_mb(fake.pid), "bare": peak_rss_mb(bare.pid)}
    finally:
        for process in (fake, bare):
            if process is not None:
                process.terminate()
                process.wait()
    print(f"\npeak RSS: fake {rss['fake']:.0f} MB, bare {rss['bare']:.0f} MB")

    startup = startup_times()
    print(f"start-up to first answered request: median {statistics.median(startup) * 1000:.0f} ms "
          f"(runs: {', '.join(f'{t * 1000:.0f}' for t in startup)} ms)")

    cost = engine_cost(rows)
    print(f"fault engine and journal with no rules: {cost['engine_us']:.2f} µs of CPU per request "
          f"({cost['on_us']:.1f} against {cost['off_us']:.1f} µs in-process, median of {cost['blocks']} blocks "
          f"of {cost['per_block']}), of {cost['server_cpu_us']:.1f} µs the server spends per request under wrk "
          f"(replay, c=32): {cost['share'] * 100:.1f}% of requests/s")

    lookups = lookup_times()
    print("\nfixture lookup (µs per find):")
    for size, row in lookups.items():
        print(f"  {size:>6} fixtures: " + ", ".join(f"{label} {value:.2f}" for label, value in row.items()))

    print()
    files = files_bench(save=False)
    print()
    batches = batches_bench(save=False)
    print()
    realtime = realtime_bench(save=False)

    record = {"date": dt.datetime.now().isoformat(timespec="seconds"), "cores": os.cpu_count(),
              "python": platform.python_version(), "duration_s": duration, "runs": rows, "peak_rss_mb": rss,
              "startup_s": startup, "lookup_us": lookups, "engine": cost, "files": files, "batches": batches,
              "realtime": realtime}
    out = OUT / f"bench-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(record, indent=2))
    print(f"\nraw results: {out.relative_to(ROOT)}")
    shutil.rmtree(work, ignore_errors=True)


def family_bench(name: str, *args, save: bool = True):
    """bench/{name}.py's `measure(*args)`, reported, and saved to bench/out unless `save` is off."""
    sys.path.insert(0, str(ROOT))
    module = importlib.import_module(f"bench.{name}")
    result = module.measure(*args)
    module.report(result)
    if save:
        OUT.mkdir(exist_ok=True)
        out = OUT / f"{name}-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
        out.write_text(json.dumps(result, indent=2))
        print(f"\nraw results: {out.relative_to(ROOT)}")
    return result


def files_bench(save: bool = True) -> dict:
    """Upload and download of 50 and 200 MB files: MB/s and the server's peak memory."""
    return family_bench("files", [50, 200], save=save)


def batches_bench(save: bool = True) -> list:
    """A chat batch of 5,000 and 50,000 lines, upload to downloaded output: time and peak memory."""
    return family_bench("batches", [5000, 50000], save=save)


def realtime_bench(save: bool = True) -> dict:
    """1,000 concurrent realtime sessions with a text turn each, one session's events/s, memory."""
    return family_bench("realtime", save=save)


if __name__ == "__main__":
    main()
