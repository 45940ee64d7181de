"""How the files service writes its answers: bodies, errors, the download's headers.

As recorded (FilesTests, UploadsTests): JSON indented two spaces, non-ASCII as UTF-8
(`"filename": "你好.txt"`), a final newline; errors with a `detail` object beside `error`
(the operations set `error_detail`, so the envelope adds it to every error they raise).
"""

from __future__ import annotations

from urllib.parse import quote

import orjson

from .. import errors
from ..wire import Reply, header_text


def reply(value: dict) -> Reply:
    return Reply(orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n")


def no_such(kind: str, object_id: str) -> errors.OpenAIError:
    """`No such File object: fake_id` (404, param `id`), as recorded; Upload the same way."""
    return errors.OpenAIError(404, f"No such {kind} object: {object_id}", param="id")


def required(name: str) -> errors.OpenAIError:
    """A missing form field, in python-jsonschema's words as the files service answers
    (publicly reported for `file`: `'file' is a required property`, param null)."""
    return errors.invalid_request(f"'{name}' is a required property")


def not_one_of(value: str, options, path: str) -> errors.OpenAIError:
    """As recorded: `'world_domination' is not one of ['fine-tune', ...] - 'purpose'`, param `purpose`."""
    return errors.invalid_request(f"{value!r} is not one of {list(options)!r} - '{path}'", param=path)


def batch_not_jsonl() -> errors.OpenAIError:
    """Publicly reported (BerriAI/litellm#37527, a `notes.txt` uploaded for `batch`)."""
    return errors.invalid_request("Invalid file format for Batch API. Must be .jsonl")


def content_disposition(filename: str) -> tuple[bytes, bytes]:
    """`attachment; filename="..."`, with the name's UTF-8 form in `filename*` when it is
    not plain ASCII (a header carries Latin-1 only)."""
    plain = header_text(filename.replace("\\", "\\\\").replace('"', '\\"'))
    value = b'attachment; filename="' + plain + b'"'
    if not filename.isascii():
        value += b"; filename*=UTF-8''" + quote(filename, safe="").encode("ascii")
    return b"content-disposition", value
