"""What several endpoint families share: the model a request names, its text, its seed."""

from __future__ import annotations

import time
from typing import Any

import orjson

from .. import errors
from ..catalog import ModelSpec
from ..matching import Probe, text_of  # noqa: F401 - text_of is part of this module's API
from ..wire import Exchange


def requested_model(ex: Exchange, name: Any, family: str) -> ModelSpec:
    """The model a request names (Azure: its deployment), or the real API's 404."""
    runtime = ex.runtime
    deployment = ex.path_params.get("deployment")
    if deployment is not None:
        name = runtime.config.azure_deployments.get(deployment, deployment)
        spec = runtime.catalog.get(name)
        if spec is None:
            if runtime.config.lenient:
                return runtime.catalog.lenient(name, family)
            raise errors.deployment_not_found()
        return spec
    if runtime.config.lenient:
        return runtime.catalog.lenient(str(name), family)
    spec = runtime.catalog.get(name)
    if spec is None:
        raise errors.model_not_found(str(name))
    return spec


def api_key(ex: Exchange) -> str:
    """The caller's key (for per-key bookkeeping); "" when none was sent."""
    authorization = ex.header(b"authorization")
    if authorization and authorization[:7].lower() == b"bearer ":
        return authorization[7:].decode("latin-1").strip()
    key = ex.header(b"api-key")
    return key.decode("latin-1") if key else ""


def probe(ex: Exchange, model: str | None, message: str | None) -> Probe:
    def header(name: str) -> str | None:
        value = ex.header(name.encode("latin-1"))
        return value.decode("latin-1") if value is not None else None

    return Probe(ex.operation.id, model, ex.body, message, header, ex.method)


# Fields that change how an answer is delivered, cut or billed, not what it says: a
# streamed, truncated or stopped request reads as a prefix of the plain one.
DELIVERY_FIELDS = frozenset({
    "stream", "stream_options", "max_tokens", "max_completion_tokens", "max_output_tokens", "n",
    "logprobs", "top_logprobs", "stop", "user", "metadata", "store", "service_tier",
    "prompt_cache_key", "prompt_cache_retention", "safety_identifier", "background", "include",
})


def request_rng_seed(ex: Exchange, ignore: tuple[str, ...] = ()) -> bytes:
    """What makes two requests "the same" for synthesis: the body without delivery
    options (and `ignore`), and the server's seed."""
    body = {k: v for k, v in ex.body.items() if k not in DELIVERY_FIELDS and k not in ignore}
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS) + b"|" + str(ex.runtime.config.seed).encode()


def now() -> int:
    return int(time.time())


def fixture_not_found(ex: Exchange, probe_value: Probe) -> errors.OpenAIError:
    """`--strict-fixtures`: 404 (as WireMock answers an unmatched request) naming the closest fixture."""
    where = f"{ex.method} {ex.path}" + (f", model {probe_value.model!r}" if probe_value.model else "")
    message = f"No fixture matches this request ({where})."
    closest = ex.runtime.fixtures.closest(probe_value)
    if closest is not None:
        fixture, reasons = closest
        message += f" Closest: {fixture.name!r} ({fixture.source}): " + "; ".join(reasons or ["it matched, but was used up"]) + "."
    else:
        message += " No fixtures are loaded."
    return errors.OpenAIError(404, message, code="fixture_not_found")


def query_integer(raw: Any) -> int | None:
    """An integer from a query string, as the SDKs write it: `20`, or `20.0` when the
    caller passed a float; None for anything else."""
    if not isinstance(raw, str) or not raw.isascii() or len(raw) > 20:
        return None
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        number = float(raw)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


# The model a `--lenient` request that names none is answered with (a Responses create
# whose model a stored prompt would name), and the one stand-in objects report.
LENIENT_MODEL = "gpt-4o-mini"


def list_query(ex: Exchange, default_order: str = "desc", default_limit: int = 20, max_limit: int = 100) -> dict:
    """A list endpoint's cursor query (`after`, `before`, `limit` 1..`max_limit` with
    `default_limit` when absent: 1..100 and 20, unless a family says otherwise as files
    do, 1..10,000; `order` asc|desc), checked, as keyword arguments for `state.page`. Under `--lenient`
    a `limit` out of range (a suite's placeholder `limit=0`) is taken as the nearest in it."""
    query = ex.query
    order = query.get("order", default_order)
    if order not in ("asc", "desc"):
        raise errors.invalid_value("order", order, ["asc", "desc"])
    raw = query.get("limit")
    limit = default_limit
    if raw is not None:
        limit = query_integer(raw)
        if limit is None:
            raise errors.invalid_type("limit", "an integer", raw)
        if not 1 <= limit <= max_limit:
            if not ex.runtime.config.lenient:
                raise errors.out_of_range("limit", limit, 1 if limit < 1 else max_limit, above=limit > max_limit,
                                          integer=True)
            limit = min(max(limit, 1), max_limit)
    return {"after": query.get("after"), "before": query.get("before"), "limit": limit, "order": order}


def delete_stored(ex: Exchange, kind: str, object_id: str, missing) -> None:
    """Remove a stored object, or raise `missing(object_id)` (the family's 404); under
    `--lenient` an unknown id deletes fine."""
    if not ex.runtime.store.delete(kind, object_id) and not ex.runtime.config.lenient:
        raise missing(object_id)
