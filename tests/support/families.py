"""What the family tests (files, uploads, batches, state) share: an SDK client on a running
fake, and the check that a value meets its contract and the SDK's type."""

from __future__ import annotations

import openai

from mockserver.contracts import Contracts

CONTRACTS = Contracts()


def sdk(running) -> openai.OpenAI:
    return openai.OpenAI(base_url=running.url, api_key="sk-test", max_retries=0)


def holds(name: str, value, sdk_type=None) -> None:
    """A body satisfies its contract, and the SDK's type where the SDK's strict type takes it."""
    assert CONTRACTS.problems(name, value) == [], (name, CONTRACTS.problems(name, value))
    if sdk_type is not None:
        sdk_type.model_validate(value)


def agrees_with_spec(name: str, operation: tuple, allowed: dict) -> None:
    """Contract `name` against the official spec's schema for `operation` (path, method,
    where, media): every difference found is one `allowed` names with its reason, and every
    allowed difference is still found (so a stale allowance shows)."""
    import yaml

    from ..test_contracts import Document, Walker, operation_schema
    from .shared import require_shared

    with require_shared("spec", "openai-openapi.yaml").open("rb") as handle:
        spec = yaml.load(handle, Loader=yaml.CSafeLoader)
    walker = Walker(Document(spec), Document(CONTRACTS.schemas[name]))
    walker.node(operation_schema(spec, *operation), CONTRACTS.schemas[name], "")
    found = sorted(set(walker.found))
    assert [d for d in found if d not in allowed] == [] and [d for d in allowed if d not in found] == [], found
