"""Access to ../shared (the official spec and real recordings), which tests read as an oracle.

Where it is absent the test skips with a reason; `.ci/run` sets MOCKSERVER_REQUIRE_SHARED=1
so that in CI such a skip is a failure instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    return Path(os.environ.get("MOCKSERVER_SHARED", ROOT.parent / "shared"))


def require_shared(*parts: str) -> Path:
    path = shared_dir().joinpath(*parts)
    return require_path(path, "this test reads the shared oracle (spec or recordings)")


def require_path(path: Path, why: str) -> Path:
    """`path`, or a skip naming it and `why` it is needed; under MOCKSERVER_REQUIRE_SHARED=1
    (CI) a failure instead, so that CI cannot skip silently."""
    if not path.exists():
        reason = f"{path} is absent: {why}"
        if os.environ.get("MOCKSERVER_REQUIRE_SHARED") == "1":
            pytest.fail(reason + " and MOCKSERVER_REQUIRE_SHARED=1 makes that a failure")
        pytest.skip(reason)
    return path
