"""`mockserver contract client -- COMMAND ...`: a client judged against the contracts.

The fake starts on a free port behind the strict checker (and, with `--fuzz`, the response
fuzzer); COMMAND runs with `OPENAI_BASE_URL`, `OPENAI_API_KEY` and Azure's variables pointing
at it. Afterwards: the calls it made (from the fake's journal), every request that broke a
request contract (field path, wording, the call), and with `--fuzz` the first schema-valid
answer that made COMMAND fail (exit non-zero), shrunk, with the seed. Exit status: COMMAND's
own when it failed on the fake's normal answers, else 1 on a violation or a finding, else 0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from .. import Config
from ..config import load_config
from .fuzz import DEFAULT_OPERATIONS, FuzzApp, fuzz
from .running import RunningServer
from .strict import StrictChecker


class CommandFailed(Exception):
    pass


def main(args: Any) -> int:
    command = list(args.cmd)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        print("mockserver contract client: give the command after --, e.g. "
              "mockserver contract client -- python my_app.py", file=sys.stderr)
        return 2
    config = load_config(args.config) if args.config else Config()
    if args.fixtures:
        config = config.replace(fixtures=args.fixtures)
    fuzz_app: list[FuzzApp] = []
    checker: list[StrictChecker] = []

    def fuzzing(app):
        fuzz_app.append(FuzzApp(app, tuple(args.fuzz_operation or DEFAULT_OPERATIONS)))
        return fuzz_app[0]

    def strict(app):
        checker.append(StrictChecker(app, args.violations))
        return checker[0]

    server = RunningServer(config, wrappers=[fuzzing, strict], port=args.port).start()
    env = {**os.environ, **server.client_env()}
    results: dict[str, Any] = {"command": command, "url": server.url}
    try:
        print(f"mockserver: serving {server.url} for: {' '.join(command)}", file=sys.stderr, flush=True)
        try:
            first = subprocess.run(command, env=env, timeout=args.timeout)
            code = first.returncode
        except subprocess.TimeoutExpired:
            code = 124
        except FileNotFoundError as exc:
            print(f"mockserver contract client: {exc}", file=sys.stderr)
            return 127
        entries = server.runtime.journal.entries()
        violations = checker[0].drain()
        results.update(exit_code=code, calls=[{"operation": e.operation, "method": e.method, "path": e.path,
                                               "status": e.status, "model": e.model, "stream": e.stream} for e in entries],
                       violations=[v.to_json() for v in violations])
        finding = None
        if args.fuzz:
            def run_command() -> None:
                done = subprocess.run(command, env=env, timeout=args.timeout, capture_output=True, text=True)
                if done.returncode != 0:
                    tail = (done.stderr or done.stdout or "").strip().splitlines()[-3:]
                    raise CommandFailed(f"exit {done.returncode}: " + " | ".join(tail))

            finding = fuzz(fuzz_app[0], run_command, examples=args.examples, seed=args.seed, errors=args.errors,
                           shrink_seconds=args.shrink_seconds)
            violations += checker[0].drain()
            results["fuzz"] = {"examples": args.examples, "seed": args.seed, "finding": finding.to_json() if finding else None}
    finally:
        server.stop()
    print(f"\n{len(results['calls'])} calls: " + ", ".join(sorted({c['operation'] or c['path'] for c in results['calls']})))
    if violations:
        print(f"{len(violations)} request(s) broke the contracts:")
        for violation in violations[:50]:
            print(f"  {violation}")
    else:
        print("every request met its contract")
    if args.fuzz:
        print(finding.describe() if finding else f"fuzzing: {args.examples} runs on schema-valid answers, none broke it (seed {args.seed})")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if code != 0:
        return code
    return 1 if violations or finding else 0
