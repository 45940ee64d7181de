"""multipart/form-data, read as it streams in: the file part goes straight to the content
store, a piece at a time, and the small fields are kept.

The body is fed chunk by chunk from ASGI `receive` (`Exchange.body_chunks`) to
python-multipart's streaming parser (4 GB/s on this machine, measured), whose callbacks
write the file part's bytes to a `ContentWriter`. Nothing holds the body whole, so a file
of hundreds of MB costs the server one chunk of memory. Limits are checked twice: the
declared Content-Length first (refused before a byte is read), then the file part's bytes
as they arrive (refused the moment it goes over), so a client that lies or sends no
Content-Length is stopped all the same.

Errors are the real API's: a body that is not multipart is its 400 `Invalid Content-Type
header (...), expected multipart/form-data.` (publicly reported, ruby-openai#170); a body
that is multipart but broken is the 400 its web framework answers (`The browser (or proxy)
sent a request that this server could not understand.`, type `server_error`, publicly
reported, openai-java#306).
"""

from __future__ import annotations

import email.header
import logging
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import unquote

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MAX_BOUNDARY_LENGTH, MultipartState

from .. import errors
from ..state import ContentWriter
from ..wire import Exchange

FRAMING = 64 * 1024  # what a body may hold beyond its file part: boundaries, headers, the small fields
FIELD_LIMIT = 16 * 1024  # one small field (`purpose`, `expires_after[seconds]`)

# python-multipart logs a warning for each malformed body it meets; a client's bad body is
# answered (400), not logged by the server.
_PARSER_LOG = logging.getLogger("mockserver.files.multipart")
_PARSER_LOG.setLevel(logging.CRITICAL + 1)  # not `disabled`: logging's dictConfig (uvicorn's) clears that
_PARSER_LOG.propagate = False


@dataclass
class FilePart:
    name: str
    filename: str | None
    content_type: str | None
    writer: ContentWriter

    @property
    def size(self) -> int:
        return self.writer.size


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)  # the first value of each small field
    file: FilePart | None = None

    def nested(self) -> dict:
        """The fields as the SDKs encode objects (`expires_after[seconds]=3600`), nested."""
        out: dict = {}
        for key, value in self.fields.items():
            if key.endswith("]") and "[" in key:
                name, _, sub = key[:-1].partition("[")
                parent = out.setdefault(name, {})
                if isinstance(parent, dict):
                    parent[sub] = value
            else:
                out.setdefault(key, value)
        return out

    def abort(self) -> None:
        if self.file is not None and not self.file.writer.done:
            self.file.writer.abort()


def not_multipart(content_type: str | None) -> errors.OpenAIError:
    shown = content_type if content_type is not None else "None"
    return errors.invalid_request(
        f"Invalid Content-Type header ({shown}), expected multipart/form-data. (HINT: If you're using curl, you can "
        "pass -H 'Content-Type: multipart/form-data')"
    )


def malformed() -> errors.OpenAIError:
    return errors.OpenAIError(400, "The browser (or proxy) sent a request that this server could not understand.",
                              type="server_error")


def boundary_of(ex: Exchange) -> bytes:
    """The body's boundary, or the real error for a body that is not multipart (or has none)."""
    raw = ex.header(b"content-type")
    text = raw.decode("latin-1") if raw is not None else None
    if text is None:
        raise not_multipart(None)
    media, params = parse_params(text)
    if media.lower() != "multipart/form-data":
        raise not_multipart(text)
    boundary = params.get("boundary")
    if not boundary or len(boundary) > MAX_BOUNDARY_LENGTH:
        raise malformed()
    return boundary.encode("latin-1")


async def read_form(
    ex: Exchange,
    *,
    file_field: str,
    open_writer: Callable[[], ContentWriter],
    limit: int,
    size_name: str,
    needs_filename: bool = True,
) -> Form:
    """Read the whole body: the first `file_field` part to `open_writer()` (at most `limit`
    bytes: 413 otherwise), the other small fields kept. The writer is left unfinished for
    the caller to finish once it has checked the form (or to abort); on any error here it
    is aborted. `needs_filename`: a `file_field` part without a filename is refused as the
    real API refuses it."""
    boundary = boundary_of(ex)
    length = ex.header(b"content-length")
    if length is not None and length.isdigit() and int(length) > limit + FRAMING:
        raise errors.file_too_large(size_name, limit)
    form = Form()
    current: dict = {}  # the part being read: its headers, then where its bytes go

    def on_part_begin() -> None:
        current.clear()
        current["headers"] = {}
        current["field"], current["value"] = bytearray(), bytearray()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        current["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        current["value"] += data[start:end]

    def on_header_end() -> None:
        name = bytes(current["field"]).decode("latin-1").strip().lower()
        current["headers"][name] = bytes(current["value"])
        current["field"], current["value"] = bytearray(), bytearray()

    def on_headers_finished() -> None:
        disposition = current["headers"].get("content-disposition", b"")
        name, filename = form_names(disposition)
        current["sink"] = None
        if name == file_field and form.file is None:
            if filename is None and needs_filename:
                raise malformed()
            content_type = current["headers"].get("content-type")
            form.file = FilePart(name, filename, content_type.decode("latin-1") if content_type else None, open_writer())
            current["sink"] = form.file.writer
        elif name is not None and filename is None and name not in form.fields:
            current["buffer"] = bytearray()
            current["name"] = name

    def on_part_data(data: bytes, start: int, end: int) -> None:
        sink = current.get("sink")
        if sink is not None:
            sink.write(data[start:end])
            if sink.size > limit:
                raise errors.file_too_large(size_name, limit)
            return
        buffer = current.get("buffer")
        if buffer is not None:
            buffer += data[start:end]
            if len(buffer) > FIELD_LIMIT:
                raise errors.file_too_large("Field", FIELD_LIMIT)

    def on_part_end() -> None:
        buffer = current.get("buffer")
        if buffer is not None:
            form.fields[current["name"]] = bytes(buffer).decode("utf-8", "replace")

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }, max_header_count=32, max_header_size=16 * 1024)
    parser.logger = _PARSER_LOG
    try:
        async for chunk in ex.body_chunks():
            parser.write(chunk)
        parser.finalize()
        if parser.state != MultipartState.END:  # the closing boundary never came
            raise malformed()
    except MultipartParseError:
        form.abort()
        raise malformed() from None
    except BaseException:
        form.abort()
        raise
    return form


# --- Content-Disposition --------------------------------------------------------------


def parse_params(value: str) -> tuple[str, dict[str, str]]:
    """`type; a=1; b="two; three"` → ("type", {"a": "1", "b": "two; three"}); names lower-cased,
    quoted strings unquoted (backslash escapes), the first value of a name kept."""
    head, rest = _split_value(value)
    params: dict[str, str] = {}
    while rest:
        rest = rest.lstrip(" \t;")
        if not rest:
            break
        name, _, rest = rest.partition("=")
        name = name.strip().lower()
        rest = rest.lstrip(" \t")
        if rest.startswith('"'):
            out, i = [], 1
            while i < len(rest) and rest[i] != '"':
                if rest[i] == "\\" and i + 1 < len(rest):
                    i += 1
                out.append(rest[i])
                i += 1
            text, rest = "".join(out), rest[i + 1:]
            rest = rest.partition(";")[2]
        else:
            text, _, rest = rest.partition(";")
            text = text.strip()
        if name and name not in params:
            params[name] = text
    return head.strip(), params


def _split_value(value: str) -> tuple[str, str]:
    head, _, rest = value.partition(";")
    return head, rest


def form_names(disposition: bytes) -> tuple[str | None, str | None]:
    """The field name and the filename of a part. The filename as clients send it: UTF-8
    in `filename` (httpx, browsers), RFC 5987 `filename*=utf-8''...` (which wins when both
    are there, as .NET sends), or an RFC 2047 encoded word."""
    text = disposition.decode("latin-1")
    kind, params = parse_params(text)
    if kind.lower() != "form-data":
        return None, None
    name = _utf8(params.get("name"))
    filename = None
    extended = params.get("filename*")
    if extended is not None and "'" in extended:
        charset, _, encoded = extended.partition("'")
        encoded = encoded.partition("'")[2]
        try:
            filename = unquote(encoded, encoding=charset or "utf-8", errors="strict")
        except (LookupError, UnicodeDecodeError):
            filename = None
    if filename is None and "filename" in params:
        filename = _utf8(params["filename"])
        if filename.startswith("=?") and filename.endswith("?="):
            try:
                filename = str(email.header.make_header(email.header.decode_header(filename)))
            except (ValueError, LookupError, UnicodeDecodeError):
                pass
    return name, filename


def _utf8(value: str | None) -> str | None:
    """A header parameter read as Latin-1 bytes, decoded as the UTF-8 clients write."""
    if value is None:
        return None
    raw = value.encode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return value
