from __future__ import annotations

import os
from typing import Any, Iterator

import httpx
import pytest
from openai import AsyncOpenAI, OpenAI

from hypothesis import settings

from mockserver import Config
from mockserver.contracts import Contracts

from .support.audit import problems
from .support.server import RunningServer

# Generated-input tests are derandomized by default, so a run's outcome depends on the
# code alone, as CI must; `HYPOTHESIS_PROFILE=explore` searches afresh (and keeps what it finds).
settings.register_profile("deterministic", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

_SESSION: list[RunningServer] = []


@pytest.fixture(scope="session")
def server() -> Iterator[RunningServer]:
    """The fake with its defaults: bundled fixtures, synthesis on a miss."""
    with RunningServer(Config()) as running:
        _SESSION.append(running)
        yield running


@pytest.fixture
def make_server() -> Iterator[Any]:
    """Start a fake with a config of the test's own; stopped (and audited) when the test ends."""
    started: list[RunningServer] = []

    def start(config: Config | None = None, **changes: Any) -> RunningServer:
        running = RunningServer((config or Config()).replace(**changes)).start()
        started.append(running)
        return running

    yield start
    found = [p for running in started for p in problems(running.audit.drain())]
    for running in started:
        running.stop()
    assert not found, "responses that break the contracts:\n" + "\n".join(found[:20])


@pytest.fixture(autouse=True)
def audit_responses() -> Iterator[None]:
    """After each test, every body the session server sent must satisfy contracts/ and the SDK."""
    yield
    found = [p for running in _SESSION for p in problems(running.audit.drain())]
    assert not found, "responses that break the contracts:\n" + "\n".join(found[:20])


@pytest.fixture
def client(server: RunningServer) -> OpenAI:
    return OpenAI(base_url=server.url, api_key="sk-test", max_retries=0)


@pytest.fixture
def async_client(server: RunningServer) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=server.url, api_key="sk-test", max_retries=0)


@pytest.fixture
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.origin, timeout=10) as session:
        yield session


@pytest.fixture(scope="session")
def contracts() -> Contracts:
    return Contracts()


@pytest.fixture(scope="module", autouse=True)
def _give_memory_back() -> Iterator[None]:
    """After each module, hand freed memory back to the system: a worker runs many modules,
    some with bodies of tens of MB, and glibc keeps what Python freed unless asked (the
    suite's peak, per process, must stay well under 1.5 GB on a small CI runner)."""
    yield
    import gc

    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass
