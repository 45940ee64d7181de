"""The pytest plugin: the fake for a test or a session (entry point `pytest11`, so installing
mockserver is enough).

Fixtures:

- `openai_mock`: the fake for one test. `OPENAI_BASE_URL`, `OPENAI_API_KEY` and Azure's
  variables point at it while the test runs; the object it hands over has the fixture store
  (`.fixtures.add(...)`), fault rules (`.faults.add(...)`), the journal (`.calls`,
  `.assert_called(...)`), the verdict (`.verdict()`) and the strict checker's findings
  (`.violations`). Everything the test added is gone after it; the fake's state (stored
  objects, journal, counters) is reset before it.
- `openai_mock_server`: the session's fake, shared by the tests of a session (one per
  pytest-xdist worker, each on a free port: no clashes), or the one at `--mock-url`.
- `openai_mock_factory`: a fake of the test's own (`openai_mock_factory(Config(...))`), in-process.

Markers: `@pytest.mark.openai_fixtures("path/or/file.yaml", {...fixture...})` and
`@pytest.mark.openai_faults(429, "503; attempts=2", {"match": {...}, "fault": {...}})`.
Options: `--mock-url URL` (a fake already running, shared: nothing is reset, the journal is
read from where the test began), `--openai-mock-strict` (a test whose client sent a request
that breaks the request contracts fails, naming the field and the call).
"""

from __future__ import annotations

import json
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

_ACTIVE = pytest.StashKey["OpenAIMock"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockserver", "the OpenAI fake (mockserver)")
    group.addoption("--mock-url", default=None, metavar="URL",
                    help="use the fake already running at URL (e.g. http://127.0.0.1:8000) instead of starting one per worker")
    group.addoption("--openai-mock-strict", action="store_true", default=False,
                    help="fail a test whose client sent a request that breaks the request contracts")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "openai_fixtures(*paths_or_fixtures): fixtures the fake answers with during the test")
    config.addinivalue_line("markers", "openai_faults(*rules): fault rules in force during the test (a status, a header "
                                       "value such as '503; attempts=2', or a rule mapping)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield
    mock = item.stash.get(_ACTIVE, None)
    if mock is not None and item.config.getoption("--openai-mock-strict"):
        found = mock.violations
        if found:
            lines = "\n".join(f"  {v}" for v in found[:20])
            raise AssertionError(f"--openai-mock-strict: {len(found)} request(s) broke the request contracts:\n{lines}")
    return result


# --- the servers ------------------------------------------------------------------------------

class _Local:
    """A fake in this process, on a free port, behind the strict checker (record mode)."""

    def __init__(self, config: Any = None) -> None:
        from .running import RunningServer
        from .strict import StrictChecker

        self.checker: StrictChecker | None = None

        def strict(app):
            self.checker = StrictChecker(app, "record")
            return self.checker

        self.server = RunningServer(config, wrappers=[strict]).start()
        self.runtime = self.server.runtime
        self.url, self.origin = self.server.url, self.server.origin
        self.base_fixtures = self.runtime.fixtures

    def stop(self) -> None:
        self.server.stop()


class _Remote:
    def __init__(self, url: str) -> None:
        url = url.rstrip("/")
        self.origin = url[: -len("/v1")] if url.endswith("/v1") else url
        self.url = self.origin + "/v1"
        self.checker = None
        self.runtime = None

    def stop(self) -> None:
        pass


def _admin(origin: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(origin + path, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as err:
        raise RuntimeError(f"{method} {path} on the fake: {err.code} {err.read()[:300]!r}") from None


# --- what a test holds ----------------------------------------------------------------------

class Fixtures:
    """The fixture store, for this test: `add` files, directories or fixtures written as
    mappings (the fixture format of README's "Fixtures"); they win ties over the fake's own."""

    def __init__(self, mock: "OpenAIMock") -> None:
        self._mock = mock
        self._paths: list[Path] = []
        self._tmp: tempfile.TemporaryDirectory | None = None

    def add(self, *items: Any) -> None:
        backend = self._mock._backend
        if backend.runtime is None:
            raise RuntimeError("fixtures can be added from Python to an in-process fake only, not to --mock-url "
                               "(start that one with --fixtures)")
        for item in items:
            if isinstance(item, (str, Path)):
                self._paths.append(Path(item))
                continue
            if self._tmp is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="mockserver-fixtures-")
            path = Path(self._tmp.name) / f"{len(self._paths):04d}.yaml"
            path.write_text(json.dumps({"fixtures": item if isinstance(item, list) else [item]}))
            self._paths.append(path)
        self._load()

    def _load(self) -> None:
        from ..config import ModelEntry
        from ..fixtures import FixtureStore, load_fixtures
        from ..routing import resolve_endpoint

        runtime = self._mock._backend.runtime
        paths = self._paths + list(runtime.config.fixture_paths())
        fixtures = load_fixtures(paths, lambda name: resolve_endpoint(name, runtime.operations))
        for fixture in fixtures:
            for model in fixture.criteria.models:
                if runtime.catalog.get(model) is None:
                    runtime.catalog.add(ModelEntry(id=model))
        runtime.fixtures = FixtureStore(fixtures)

    def clear(self) -> None:
        backend = self._mock._backend
        if self._paths and backend.runtime is not None:
            backend.runtime.fixtures = backend.base_fixtures
        self._paths = []
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


class Faults:
    """Fault rules in force for this test (README's "Chaos testing"): `add(429)`,
    `add("503; attempts=2")`, `add({"match": {...}, "fault": {...}, "times": 1})`."""

    def __init__(self, mock: "OpenAIMock") -> None:
        self._mock = mock
        self.ids: list[str] = []

    def add(self, *rules: Any) -> list[dict]:
        added = []
        for rule in rules:
            if isinstance(rule, str) and ";" in rule:
                rule = _fault_from_header(rule)
            if not isinstance(rule, dict) or not ({"fault", "steps", "scenario"} & set(rule)):
                rule = {"fault": rule}
            described = _admin(self._mock.origin, "POST", "/__mock/faults", rule)
            self.ids.append(described["id"])
            added.append(described)
        return added

    def clear(self) -> None:
        for rule_id in self.ids:
            try:
                _admin(self._mock.origin, "DELETE", f"/__mock/faults/{rule_id}")
            except RuntimeError:
                pass
        self.ids = []


def _fault_from_header(text: str) -> dict:
    """`"503; attempts=2"` (the X-Mock-Fault header's syntax) as a fault mapping."""
    head, *params = [part.strip() for part in text.split(";")]
    fault: dict[str, Any] = {"status": int(head)} if head.isdigit() else {"type": head}
    for param in params:
        key, _, value = param.partition("=")
        value = value.strip()
        try:
            fault[key.strip()] = int(value)
        except ValueError:
            try:
                fault[key.strip()] = float(value)
            except ValueError:
                fault[key.strip()] = value
    return fault


class OpenAIMock:
    """The fake, as one test sees it."""

    def __init__(self, backend: Any, api_key: str = "sk-mockserver") -> None:
        self._backend = backend
        self.url = backend.url  # the OpenAI base URL, with /v1
        self.origin = backend.origin
        self.api_key = api_key
        self.fixtures = Fixtures(self)
        self.faults = Faults(self)
        self._since = 0

    # --- a test's life -------------------------------------------------------------------

    def _begin(self, shared: bool) -> None:
        if shared:
            entries = self._journal()
            self._since = max((e.id for e in entries), default=0)
        else:
            _admin(self.origin, "POST", "/__mock/reset")
            self._since = 0
        if self._backend.checker is not None:
            self._backend.checker.drain()

    def _end(self) -> None:
        self.faults.clear()
        self.fixtures.clear()

    @property
    def env(self) -> dict[str, str]:
        from .running import client_env

        return client_env(self.url, self.origin, self.api_key)

    def client(self, **options: Any) -> Any:
        """An `openai.OpenAI` pointed at the fake (`max_retries=0` unless given)."""
        from openai import OpenAI

        return OpenAI(base_url=self.url, api_key=self.api_key, **{"max_retries": 0, **options})

    def reset(self) -> None:
        _admin(self.origin, "POST", "/__mock/reset")

    # --- the witness ---------------------------------------------------------------------

    def _journal(self) -> list:
        from ..journal import Entry

        if self._backend.runtime is not None:
            return self._backend.runtime.journal.entries()
        rows = _admin(self.origin, "GET", "/__mock/requests")["data"]
        fields = set(Entry.__dataclass_fields__)
        return sorted((Entry(**{k: v for k, v in row.items() if k in fields}) for row in rows), key=lambda e: e.id)

    @property
    def calls(self) -> list:
        """The requests of this test, oldest first (`mockserver.journal.Entry`). A request whose
        answer the client already has may still be closing its journal entry: waited for (1 s at most)."""
        import time

        deadline = time.monotonic() + 1.0
        while True:
            entries = [e for e in self._journal() if e.id > self._since]
            if not any(e.outcome == "in_flight" for e in entries) or time.monotonic() > deadline:
                return entries
            time.sleep(0.01)

    def called(self, operation: str | None = None, *, model: str | None = None, stream: bool | None = None,
               status: int | None = None) -> list:
        """The calls that match: an operation id or family (`chat.completions`), a model, ..."""
        found = []
        for entry in self.calls:
            if operation and not (entry.operation == operation or (entry.operation or "").startswith(operation + ".")):
                continue
            if model is not None and entry.model != model:
                continue
            if stream is not None and entry.stream != stream:
                continue
            if status is not None and entry.status != status:
                continue
            found.append(entry)
        return found

    def assert_called(self, operation: str | None = None, *, times: int | None = None, **criteria: Any) -> list:
        """`mock.assert_called("chat.completions.create", model="gpt-4o-mini", times=2)`."""
        found = self.called(operation, **criteria)
        what = " ".join(filter(None, [operation, *(f"{k}={v!r}" for k, v in criteria.items())])) or "anything"
        if times is None:
            assert found, f"the fake was never called with {what}; calls: {self._listing()}"
        else:
            assert len(found) == times, f"expected {times} call(s) with {what}, got {len(found)}; calls: {self._listing()}"
        return found

    def assert_not_called(self, operation: str | None = None, **criteria: Any) -> None:
        found = self.called(operation, **criteria)
        assert not found, f"expected no call, got {len(found)}; calls: {self._listing()}"

    def _listing(self) -> str:
        return ", ".join(f"{e.operation or e.path} {e.model or ''} -> {e.status}".strip() for e in self.calls) or "none"

    def verdict(self, retry_budget: int = 5) -> dict:
        """The verdict on the client's retries, over this test's calls (README: "The journal and the verdict")."""
        from ..verdict import judge

        return judge(self.calls, retry_budget)

    @property
    def violations(self) -> list:
        """Requests of this test that broke the request contracts (`mockserver.kit.strict.Violation`);
        against `--mock-url`, the requests the fake refused with a 400."""
        if self._backend.checker is not None:
            return list(self._backend.checker.violations)
        from .strict import Violation

        return [Violation(e.id, e.method, e.path, e.operation or "", "(body)", f"refused: {e.error_code or e.status}", e.client,
                          e.request_id) for e in self.calls if e.status == 400]


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def openai_mock_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    url = request.config.getoption("--mock-url")
    backend = _Remote(url) if url else _Local()
    try:
        yield backend
    finally:
        backend.stop()


@pytest.fixture
def openai_mock(openai_mock_server: Any, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIMock]:
    mock = OpenAIMock(openai_mock_server)
    mock._begin(shared=isinstance(openai_mock_server, _Remote))
    for marker in reversed(list(request.node.iter_markers("openai_fixtures"))):
        mock.fixtures.add(*marker.args)
    for marker in reversed(list(request.node.iter_markers("openai_faults"))):
        mock.faults.add(*marker.args)
    for key, value in mock.env.items():
        monkeypatch.setenv(key, value)
    request.node.stash[_ACTIVE] = mock
    try:
        yield mock
    finally:
        mock._end()


@pytest.fixture
def openai_mock_factory() -> Iterator[Any]:
    """`openai_mock_factory(config=None)`: a fake of the test's own, stopped after it."""
    started: list[_Local] = []

    def start(config: Any = None) -> OpenAIMock:
        backend = _Local(config)
        started.append(backend)
        return OpenAIMock(backend)

    yield start
    for backend in started:
        backend.stop()
