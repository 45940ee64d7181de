"""POST /v1/embeddings: deterministic unit vectors of the model's real dimension.

A text's vector depends only on the model and the text (not on the request around
it), so the same text embeds the same in a batch or alone. `dimensions` shortens
and re-normalises the full vector, as the real text-embedding-3 models do, and
`encoding_format: base64` sends little-endian float32 bytes (what the SDKs ask for
by default and decode).

Built in bulk, since a request may ask for 2,048 vectors of 3,072 numbers: each number
is one of 256 levels (a normal distribution's quantiles) picked by a byte of the text's
SHAKE-256 stream, so a vector is its 256 scaled levels (rounded to 10 decimals: short
numbers, as the real API's float32 values print) looked up by its bytes, all in C.
A large batch is built in a worker thread, the body serialised a vector at a time, so
other requests are answered meanwhile.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import math
from array import array
from operator import itemgetter
from statistics import NormalDist

import orjson

from .. import errors
from ..catalog import ModelSpec
from ..routing import Operation
from ..tokens import off_loop
from ..wire import Exchange, Reply, header_text
from .common import api_key, fixture_not_found, probe, requested_model

MAX_INPUT_TOKENS = 8192
# Numbers (vectors times dimensions) past which a request's vectors are built off the loop.
OFF_LOOP_NUMBERS = 64 * 1536
_LEVELS = tuple(NormalDist().inv_cdf((level + 0.5) / 256) for level in range(256))
_SQUARES = tuple(level * level for level in _LEVELS)
_DECIMALS = 1e10  # numbers are k / 1e10 for an integer k: ten decimals, and a short repr


def vector(model: str, item: str | list[int], dimensions: int, size: int | None = None) -> list[float]:
    """A unit vector seeded by (model, input): the full one of `dimensions`, or its first
    `size` numbers re-normalised."""
    pick, table = _levels(model, item, dimensions, size)
    return list(pick(table))


def _levels(model: str, item: str | list[int], dimensions: int, size: int | None = None):
    """The vector as a table of its 256 numbers (the levels scaled to unit length) and the
    function that picks them in order (one itemgetter call looks them all up)."""
    raw = hashlib.shake_256(orjson.dumps([model, item])).digest(dimensions)
    if size is not None and size < dimensions:
        raw = raw[:size]
    pick = itemgetter(*raw) if len(raw) > 1 else (lambda table: tuple(table[byte] for byte in raw))
    scale = _DECIMALS / (math.sqrt(sum(pick(_SQUARES))) or 1.0)
    return pick, list(map(_DECIMALS.__rtruediv__, map(round, map(scale.__mul__, _LEVELS))))


async def create(ex: Exchange) -> Reply:
    runtime = ex.runtime
    body = ex.body
    spec = requested_model(ex, body["model"], "embedding")
    inputs = _inputs(body["input"])
    dimensions = body.get("dimensions")
    if not runtime.config.lenient:
        _check(spec, inputs, dimensions)
    encoding = spec.encoding if spec.family == "embedding" else "cl100k_base"
    counts = await off_loop(len(ex.raw_body), _counts, runtime.tokenizer, inputs, encoding)  # a large input: off the loop
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
    total = sum(counts)
    result = {"object": "list", "data": [], "model": spec.id, "usage": {"prompt_tokens": total, "total_tokens": total}}
    build = lambda: _body(result, spec.id, inputs, full, size, as_base64)  # noqa: E731
    if len(inputs) * size < OFF_LOOP_NUMBERS:
        return Reply(build(), headers=headers)
    return Reply(await asyncio.to_thread(build), headers=headers)


def _counts(tokenizer, inputs: list, encoding: str) -> list[int]:
    return [len(item) if isinstance(item, list) else tokenizer.count(item, encoding) for item in inputs]


def _body(result: dict, model: str, inputs: list, full: int, size: int, as_base64: bool) -> bytes:
    """The body, byte for byte as orjson's two-space indent writes it (the real API
    pretty-prints embeddings), a vector at a time: a vector's numbers are serialised once
    each (256 of them) and joined, and a worker thread building a large body lets the
    event loop run between vectors."""
    head, tail = orjson.dumps(result, option=orjson.OPT_INDENT_2).split(b'"data": []', 1)
    if not inputs:
        return head + b'"data": []' + tail
    parts = [head, b'"data": [\n']  # joined once at the end: each vector's text is copied once
    for index, item in enumerate(inputs):
        pick, table = _levels(model, item, full, size)
        parts.append(b'    {\n      "object": "embedding",\n      "index": %d,\n      "embedding": ' % index)
        if as_base64:
            parts += (b'"', base64.b64encode(array("f", pick(table)).tobytes()), b'"')
        else:
            numbers = pick([orjson.dumps(number) for number in table])
            parts += (b"[\n        ", b",\n        ".join(numbers), b"\n      ]") if numbers else (b"[]",)
        parts.append(b"\n    },\n")
    parts[-1] = b"\n    }\n  ]"
    parts.append(tail)
    return b"".join(parts)


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
