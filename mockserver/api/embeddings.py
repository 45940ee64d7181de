"""POST /v1/embeddings: deterministic unit vectors of the model's real dimension.

A text's vector depends only on the model and the text (not on the request around
it), so the same text embeds the same in a batch or alone. `dimensions` shortens
and re-normalises the full vector, as the real text-embedding-3 models do, and
`encoding_format: base64` sends little-endian float32 bytes (what the SDKs ask for
by default and decode).
"""

from __future__ import annotations

import base64
import hashlib
import math
from array import array

import orjson

from .. import errors
from ..catalog import ModelSpec
from ..routing import Operation
from ..wire import Exchange, Reply, header_text
from .common import api_key, fixture_not_found, probe, requested_model

MAX_INPUT_TOKENS = 8192


def vector(model: str, item: str | list[int], dimensions: int) -> list[float]:
    """A unit vector seeded by (model, input); the first `dimensions` of the full one."""
    seed = orjson.dumps([model, item])
    raw = hashlib.shake_256(seed).digest(2 * dimensions)
    values = array("h", raw)  # signed 16-bit: symmetric around zero
    norm = math.sqrt(math.fsum(v * v for v in values)) or 1.0
    return [float(f"{v / norm:.8g}") for v in values]


async def create(ex: Exchange) -> Reply:
    runtime = ex.runtime
    body = ex.body
    spec = requested_model(ex, body["model"], "embedding")
    inputs = _inputs(body["input"])
    dimensions = body.get("dimensions")
    if not runtime.config.lenient:
        _check(spec, inputs, dimensions)
    encoding = spec.encoding if spec.family == "embedding" else "cl100k_base"
    counts = [len(item) if isinstance(item, list) else runtime.tokenizer.count(item, encoding) for item in inputs]
    if not runtime.config.lenient:
        for count in counts:
            if count > MAX_INPUT_TOKENS:
                raise errors.invalid_request(
                    f"This model's maximum context length is {MAX_INPUT_TOKENS} tokens, however you requested {count} "
                    f"tokens ({count} in your prompt; 0 for the completion). Please reduce your prompt; or completion length."
                )
    headers = runtime.rate_limits.consume(api_key(ex), spec.id, sum(counts))
    headers += [(b"openai-model", header_text(spec.id)), (b"access-control-allow-origin", b"*")]

    first_text = next((item for item in inputs if isinstance(item, str)), None)
    query = probe(ex, body["model"], first_text)
    hit = runtime.fixtures.find(query)
    if hit is None and runtime.config.strict_fixtures:
        raise fixture_not_found(ex, query)
    if hit is not None:
        ex.fixture = hit.fixture.name
    if hit is not None and hit.response.body_bytes is not None:
        fixture = hit.response
        return Reply(fixture.body_bytes, fixture.status, headers + fixture.headers, delay=fixture.delay)

    full = spec.dimensions or 1536
    size = dimensions or full
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    for index, item in enumerate(inputs):
        values = vector(spec.id, item, full)[:size]
        if size != full:
            norm = math.sqrt(math.fsum(v * v for v in values)) or 1.0
            values = [float(f"{v / norm:.8g}") for v in values]
        embedding = base64.b64encode(array("f", values).tobytes()).decode() if as_base64 else values
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    total = sum(counts)
    result = {"object": "list", "data": data, "model": spec.id, "usage": {"prompt_tokens": total, "total_tokens": total}}
    # The real API pretty-prints embedding bodies.
    return Reply(orjson.dumps(result, option=orjson.OPT_INDENT_2), headers=headers)


def _inputs(value) -> list[str | list[int]]:
    if isinstance(value, str):
        return [value]
    if value and all(isinstance(v, int) for v in value):
        return [value]
    return list(value)


def _check(spec: ModelSpec, inputs: list, dimensions: int | None) -> None:
    if spec.family != "embedding":
        raise errors.invalid_request("You are not allowed to generate embeddings from this model")
    for item in inputs:
        if item == "" or item == []:
            raise errors.invalid_request(
                "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
            )
    if dimensions is not None:
        if not spec.custom_dimensions:
            raise errors.invalid_request("This model does not support specifying dimensions.")
        if spec.dimensions and dimensions > spec.dimensions:
            raise errors.invalid_request(f"{dimensions} is greater than the maximum of {spec.dimensions} - 'dimensions'")


OPERATIONS = [
    Operation(
        "embeddings.create",
        "POST",
        "/embeddings",
        create,
        request_schema="embeddings.create.request",
        azure_deployment=True,
        error_dialect="legacy",
    ),
]
