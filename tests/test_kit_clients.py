"""The client libraries under the contract kit: strict request checking and response fuzzing.

Each library (tests/clients/libraries.py) makes one call of each kind (chat completions and
Responses, plain and streamed) against the fake behind the kit's wrappers:

- strict: every request it sends must meet its request contract (`StrictChecker`);
- fuzzed: its calls are answered from the response contracts (`FuzzApp`, `fuzz`), `EXAMPLES`
  runs each, error statuses included; it must not crash on any schema-valid answer. Raising
  its own API error on an error status is not a crash.

A library that does break is a finding: its test stays, as a strict xfail naming the version
and the shrunk answer (README, "Client libraries"), so a release that fixes it shows.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mockserver.kit.fuzz import FuzzApp, answer_from_json, fuzz, replay
from mockserver.kit.running import RunningServer
from mockserver.kit.strict import StrictChecker

from .clients.libraries import LIBRARIES, MODES

EXAMPLES = 6  # per library and mode, error statuses included (the slowest library's runs take ~0.3 s each)
SHRINK_SECONDS = 10
NODE = Path(__file__).resolve().parent / "node"
# What breaks, found by `python -m tests.clients.find` (more examples than CI runs): each
# library, version, mode, seed and the shrunk answers. Such a case replays its answers (a
# strict xfail: a release of the library that fixes it turns the test red, to be updated).
FINDINGS = json.loads((Path(__file__).resolve().parent / "clients" / "findings.json").read_text())


class Kit:
    def __init__(self) -> None:
        self.fuzz: FuzzApp | None = None
        self.strict: StrictChecker | None = None

        def fuzzing(app):
            self.fuzz = FuzzApp(app)
            return self.fuzz

        def strict(app):
            self.strict = StrictChecker(app)
            return self.strict

        self.server = RunningServer(wrappers=[fuzzing, strict]).start()


@pytest.fixture(scope="module")
def kit():
    running = Kit()
    yield running
    running.server.stop()


@pytest.fixture(autouse=True)
def fresh(kit):
    kit.strict.drain()
    yield
    kit.server.audit.drain()  # fuzzed answers are schema-valid, not the fake's: not audited as its own


CASES = [(name, mode) for name in LIBRARIES for mode in MODES]


def finding_of(name: str, mode: str) -> dict | None:
    finding = FINDINGS.get(f"{name} {mode}")
    return finding if finding and finding["version"] == importlib.metadata.version(name) else None


def case(name: str, mode: str):
    finding = finding_of(name, mode)
    marks = [pytest.mark.xfail(strict=True, reason=f"{name} {finding['version']} breaks on a schema-valid answer: "
                                                    f"{finding['error'][:200]}")] if finding else []
    return pytest.param(name, mode, marks=marks, id=f"{name}-{mode}")


@pytest.mark.parametrize("name,mode", CASES, ids=[f"{n}-{m}" for n, m in CASES])
def test_requests_meet_the_contracts(kit, name, mode):
    LIBRARIES[name].calls[mode](kit.server.url)
    violations = kit.strict.drain()
    assert not violations, "\n".join(map(str, violations))


@pytest.mark.parametrize("name,mode", [case(n, m) for n, m in CASES])
def test_survives_schema_valid_answers(kit, name, mode):
    library = LIBRARIES[name]
    call = library.calls[mode]
    finding = finding_of(name, mode)
    if finding:  # the shrunk answers that break it, replayed
        error = replay(kit.fuzz, lambda: call(kit.server.url), [answer_from_json(a) for a in finding["answers"]])
        assert error is None or library.graceful(error), f"{type(error).__name__}: {error}"
        return

    def broke(exc: BaseException, answers: list) -> str | None:
        return None if library.graceful(exc) else f"{type(exc).__name__}: {exc}"[:600]

    found = fuzz(kit.fuzz, lambda: call(kit.server.url), examples=EXAMPLES, seed=0, errors=True, broke=broke,
                 shrink_seconds=SHRINK_SECONDS)
    assert found is None, found.describe()


# --- the official Node SDK (with the machine's Node.js) -----------------------------------------

def node_ready() -> str | None:
    if shutil.which("node") is None:
        return "Node.js is not installed"
    if not (NODE / "node_modules" / "openai").is_dir():
        return "the Node SDK is not installed: run `make test` (npm ci --prefix tests/node)"
    return None


class NodeBroke(Exception):
    pass


def run_node(url: str, mode: str) -> None:
    done = subprocess.run(["node", str(NODE / "kit_client.mjs"), url, mode], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise NodeBroke(done.stderr.strip()[-400:] or f"exit {done.returncode}")


@pytest.mark.skipif(node_ready() is not None, reason=node_ready() or "")
@pytest.mark.parametrize("mode", MODES)
def test_node_sdk_under_the_kit(kit, mode):
    run_node(kit.server.url, mode)
    violations = kit.strict.drain()
    assert not violations, "\n".join(map(str, violations))
    found = fuzz(kit.fuzz, lambda: run_node(kit.server.url, mode), examples=4, seed=0, errors=True,
                 shrink_seconds=SHRINK_SECONDS)
    assert found is None, found.describe()
