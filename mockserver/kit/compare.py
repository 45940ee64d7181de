"""The comparison table in README: the server suite against our fake and against Prism
(Stoplight's spec mock, from npm, on the official OpenAPI spec), check by check.

    python -m mockserver.kit.compare [--examples 5] [--prism DIR] [--spec PATH] [--json PATH]

`--prism` is the folder where `@stoplight/prism-cli` is installed (`tests/prism`, which
`make test` installs); `--spec` the official spec (`../shared/spec/openai-openapi.yaml`).
Both servers get the same seed, examples and model. Prism serves the spec's paths at its
root, so its base URL is `http://127.0.0.1:PORT` (ours `.../v1`).
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from .report import Report
from .server import ServerOptions, run

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prism:
    def __init__(self, prism_dir: Path, spec: Path) -> None:
        self.port = free_port()
        binary = Path(prism_dir) / "node_modules" / ".bin" / "prism"
        self.process = subprocess.Popen([str(binary), "mock", str(spec), "-h", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 90  # it compiles the 3 MB spec first (~14 s here)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prism exited with {self.process.returncode}")
            try:
                urllib.request.urlopen(self.url + "/models", timeout=2)
                return
            except urllib.error.HTTPError:  # an answer (401 without a key): it is up
                return
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.5)
        self.stop()
        raise RuntimeError("prism did not start in 90 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def table(reports: dict[str, Report]) -> str:
    """Markdown: per check, passed / failed per server; then the operations each fails."""
    names = list(reports)
    checks: list[str] = []
    for report in reports.values():
        for check in report.check_names:
            if check not in checks:
                checks.append(check)
    lines = ["| check | " + " | ".join(f"{n}: passed / failed" for n in names) + " |",
             "|---|" + "---|" * len(names)]
    for check in checks:
        cells = []
        for report in reports.values():
            passed = sum(o.checks[check].passed for o in report.operations.values() if check in o.checks)
            failed = sum(o.checks[check].failed for o in report.operations.values() if check in o.checks)
            cells.append(f"{passed:,} / **{failed:,}**" if failed else f"{passed:,} / 0")
        lines.append(f"| `{check}` | " + " | ".join(cells) + " |")
    totals = [r.totals() for r in reports.values()]
    lines.append("| operations (failing) | " + " | ".join(
        f"{t['operations']} ({sum(1 for n, o in r.operations.items() if not n.startswith('scenario:') and o.failed)})"
        for t, r in zip(totals, reports.values())) + " |")
    lines.append("| scenarios (failing) | " + " | ".join(
        f"{t['scenarios']} ({sum(1 for n, o in r.operations.items() if n.startswith('scenario:') and o.failed)})"
        for t, r in zip(totals, reports.values())) + " |")
    lines.append("| cases sent | " + " | ".join(f"{t['cases']:,}" for t in totals) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mockserver.kit.compare")
    parser.add_argument("--examples", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prism", type=Path, default=ROOT / "tests" / "prism")
    parser.add_argument("--spec", type=Path, default=ROOT.parent / "shared" / "spec" / "openai-openapi.yaml")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    from .. import Config
    from .running import RunningServer

    reports: dict[str, Report] = {}
    options = dict(examples=args.examples, seed=args.seed, poll_seconds=20, timeout=20)
    with RunningServer(Config()) as fake:
        reports["mockserver"] = run(ServerOptions(base_url=fake.url, **options))
    prism = Prism(args.prism, args.spec)
    try:
        reports["Prism 5.16 (official spec)"] = run(ServerOptions(base_url=prism.url, **options))
    finally:
        prism.stop()
    print(table(reports))
    if args.json:
        args.json.write_text(json.dumps({name: r.to_json() for name, r in reports.items()}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
