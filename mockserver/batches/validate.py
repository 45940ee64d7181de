"""A batch's input file checked as the real API checks it: asynchronously, while the batch
is `validating`, a failure making it `failed` with `errors: {object: "list", data: [{code,
line, message, param}]}` (lines numbered from 1).

The file is read as a stream (files.lines): its lines are never all held, only a 64-bit
hash of each `custom_id` (for duplicates: 50,000 of them fit in a few MB). A line longer
than a request body may be (`max_body_bytes`) is not read into memory at all.

Codes and wording: `invalid_json_line` ("This line is not parseable as valid JSON.") as
observed; `empty_file`, `duplicate_custom_id`, `url_mismatch`, `model_mismatch` and
`too_many_tasks` are the documented codes (their wording is ours where no public report
gives it); a missing or mistyped field is worded as the API words a request's
(`missing_required_parameter`, `invalid_type`). At most MAX_ERRORS errors are listed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Callable

import orjson

from .. import files
from ..errors import json_type
from ..state.content import LongLine

MAX_ERRORS = 100
YIELD_EVERY = 256  # lines read between two turns of the event loop
FIELDS = (("custom_id", str, "a string"), ("method", str, "a string"), ("url", str, "a string"),
          ("body", dict, "an object"))


@dataclass
class Validation:
    total: int = 0  # requests (non-blank lines)
    model: str | None = None  # the model every line names (the first one's)
    errors: list[dict] = field(default_factory=list)

    def fail(self, code: str, message: str, line: int | None = None, param: str | None = None) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"code": code, "line": line, "message": message, "param": param})


async def validate(runtime, file_id: str, endpoint: str, stopped: Callable[[], bool]) -> Validation | None:
    """The file's checks, or None when `stopped()` (a cancel) interrupted them."""
    config = runtime.config
    result = Validation()
    try:
        file = files.load_file(runtime, file_id)
    except ValueError:  # not even a file id (`--lenient` takes any string)
        file = None
    if file is None:
        result.fail("invalid_file", f"The input file {file_id} does not exist (unknown, deleted or expired).",
                    param="input_file_id")
        return result
    if file["bytes"] > config.batch_max_input_bytes:
        result.fail("too_large", f"The batch input file is {file['bytes']:,} bytes; a batch's input file may be at "
                                 f"most {config.batch_max_input_bytes:,} bytes.", param="input_file_id")
        return result
    seen: set[int] = set()
    lines = None
    try:
        lines = files.lines(runtime, file_id, max_line=config.max_body_bytes + 65536)
        for number, raw in enumerate(lines, 1):
            if number % YIELD_EVERY == 0:
                await asyncio.sleep(0)
                if stopped():
                    return None
            if isinstance(raw, LongLine):
                result.total += 1
                result.fail("request_too_large", f"This line is {raw.length:,} bytes; a request may be at most "
                                                 f"{config.max_body_bytes:,} bytes.", number)
            elif raw.strip():
                result.total += 1
                check_line(result, raw, number, endpoint, seen)
            if result.total > config.batch_max_lines:
                result.errors.clear()
                result.fail("too_many_tasks", f"The batch input file holds more than {config.batch_max_lines:,} "
                                              f"requests, the most a batch may have.")
                return result
    except KeyError:  # deleted between the look-up and the read
        result.fail("invalid_file", f"The input file {file_id} does not exist (unknown, deleted or expired).",
                    param="input_file_id")
        return result
    finally:
        if lines is not None:
            lines.close()  # the reader of a file given up on is released now, not when collected
    if result.total == 0:
        result.fail("empty_file", "The batch input file is empty.")
    return result


def check_line(result: Validation, raw: bytes, number: int, endpoint: str, seen: set[int]) -> None:
    """The first problem of one line, if any."""
    try:
        item = orjson.loads(raw)
    except orjson.JSONDecodeError:
        item = None
    if not isinstance(item, dict):
        result.fail("invalid_json_line", "This line is not parseable as valid JSON.", number)
        return
    for name, kind, said in FIELDS:
        if name not in item or item[name] is None:
            result.fail("missing_required_parameter", f"Missing required parameter: '{name}'.", number, name)
            return
        if not isinstance(item[name], kind):
            result.fail("invalid_type", f"Invalid type for '{name}': expected {said}, but got "
                                        f"{_type_name(item[name])} instead.", number, name)
            return
    if item["method"] != "POST":
        result.fail("invalid_value", f"Invalid value: '{item['method']}'. Supported values are: 'POST'.", number, "method")
        return
    if item["url"] != endpoint:
        result.fail("url_mismatch", f"The URL provided for this request ('{item['url']}') does not match the batch "
                                    f"endpoint ('{endpoint}').", number, "url")
        return
    key = hash(item["custom_id"])
    if key in seen:
        result.fail("duplicate_custom_id", "The custom_id for this request is a duplicate of another request. The "
                                           "custom_id parameter must be unique for each request in a batch.",
                    number, "custom_id")
        return
    seen.add(key)
    model = item["body"].get("model")
    if isinstance(model, str):
        if result.model is None:
            result.model = model
        elif model != result.model:
            result.fail("model_mismatch", f"The model '{model}' differs from the batch's model '{result.model}' "
                                          "(its first request's): every request of a batch must use the same model.",
                        number, "body.model")


# json_type's names as the batch error's wording has them.
_TYPE_NAMES = {"boolean": "a boolean", "integer": "an integer", "number": "a decimal", "string": "a string",
               "array": "an array", "object": "an object", "null": "null"}


def _type_name(value) -> str:
    return _TYPE_NAMES[json_type(value)]
