"""The contract suite against another fake from the registries: Prism (@stoplight/prism-cli,
pinned in tests/prism) on the official spec, as README's comparison table is made
(`make contract-compare`). Prism answers about one request in three hundred our fake does,
so CI runs a slice: the models and chat families, a few cases each."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mockserver.kit.compare import Prism, table
from mockserver.kit.running import RunningServer
from mockserver.kit.server import ServerOptions, run

from .support.shared import require_shared

PRISM = Path(__file__).resolve().parent / "prism"


def prism_ready() -> str | None:
    if shutil.which("node") is None:
        return "Node.js is not installed"
    if not (PRISM / "node_modules" / ".bin" / "prism").exists():
        return "Prism is not installed: run `make test` (npm ci --prefix tests/prism)"
    return None


@pytest.mark.skipif(prism_ready() is not None, reason=prism_ready() or "")
def test_the_suite_tells_our_fake_from_prism():
    spec = require_shared("spec", "openai-openapi.yaml")
    options = dict(operations=["models.list", "models.retrieve", "chat.completions.create"], examples=3, seed=0,
                   timeout=15, scenario_names=["chat.usage_chunk"])
    with RunningServer() as fake:
        ours = run(ServerOptions(base_url=fake.url, **options))
        fake.audit.drain()
    prism = Prism(PRISM, spec)
    try:
        theirs = run(ServerOptions(base_url=prism.url, **options))
    finally:
        prism.stop()
    assert ours.failures == 0, ours.summary()
    # Prism answers its spec's examples and refuses in its own envelope (problem+json, 422):
    # the suite must see that, and say so per check.
    assert theirs.failures > 0
    assert sum(o.failed for name, o in theirs.operations.items() if not name.startswith("scenario:")) > 0
    assert theirs.operations["scenario:chat.usage_chunk"].failed == 1
    markdown = table({"mockserver": ours, "Prism": theirs})
    assert markdown.startswith("| check |") and "`error_envelope`" in markdown
