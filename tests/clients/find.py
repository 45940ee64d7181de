"""Fuzz every client library in every mode and write what breaks to findings.json (the shrunk
answers, with the library's version and the seed), which tests/test_kit_clients.py replays:

    .venv/bin/python -m tests.clients.find [--examples 30] [--seed 0]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
from pathlib import Path

from mockserver.kit.fuzz import FuzzApp, fuzz
from mockserver.kit.running import RunningServer

from .libraries import LIBRARIES, MODES

FINDINGS = Path(__file__).resolve().parent / "findings.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    holder: list[FuzzApp] = []
    server = RunningServer(wrappers=[lambda app: holder.append(FuzzApp(app)) or holder[0]]).start()
    found = {}
    try:
        for name, library in LIBRARIES.items():
            for mode in MODES:
                call = library.calls[mode]
                finding = fuzz(holder[0], lambda: call(server.url), examples=args.examples, seed=args.seed, errors=True,
                               broke=lambda exc, _: None if library.graceful(exc) else f"{type(exc).__name__}: {exc}"[:400])
                print(f"{name} {mode}: {finding.error if finding else 'ok'}", flush=True)
                if finding:
                    found[f"{name} {mode}"] = {"library": name, "version": importlib.metadata.version(name), "mode": mode,
                                               **finding.to_json()}
    finally:
        server.stop()
    FINDINGS.write_text(json.dumps(found, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
