"""/v1/files: upload (multipart, streamed to the store), list, retrieve, download, delete."""

from __future__ import annotations

from .. import errors
from ..routing import Operation
from ..state import page
from ..wire import Exchange, FileReply, Reply
from . import records, wire
from .multipart import Form, read_form

# `--lenient`: an id the fake never issued is this file (as other families answer stand-ins).
STAND_IN = b"mockserver stand-in file\n"


def stand_in(file_id: str) -> dict:
    return records.file_object(file_id, "user_data", "file.txt", len(STAND_IN), records.now())


def _load(ex: Exchange) -> dict | None:
    """The file the path names, or its 404; None for a `--lenient` stand-in."""
    file_id = ex.path_params["file_id"]
    file = records.load_file(ex.runtime, file_id)
    if file is None and not ex.runtime.config.lenient:
        raise wire.no_such("File", file_id)
    return file


async def create(ex: Exchange) -> Reply:
    runtime = ex.runtime
    file_id = records.new_file_id(runtime)
    form = await read_form(ex, file_field="file", open_writer=lambda: runtime.store.content.open_writer(file_id),
                           limit=runtime.config.max_file_bytes, size_name="File")
    try:
        purpose, expires_after = check_form(form)
        size = form.file.writer.finish()
    except BaseException:
        form.abort()
        raise
    file = records.file_object(file_id, purpose, form.file.filename or "upload", size, records.now(), expires_after)
    records.put_file(runtime, file)
    return wire.reply(file)


def check_form(form: Form) -> tuple[str, int | None]:
    """The purpose and `expires_after.seconds` of an upload, or the files service's 400 in
    python-jsonschema's words (the field's errors first, then what is missing)."""
    fields = form.nested()
    purpose = fields.get("purpose")
    if isinstance(purpose, str) and purpose not in records.UPLOAD_PURPOSES:
        raise wire.not_one_of(purpose, records.UPLOAD_PURPOSES, "purpose")
    expires_after = check_expires_after(fields.get("expires_after"))
    if form.file is None:
        raise wire.required("file")
    if not isinstance(purpose, str):
        raise wire.required("purpose")
    if purpose == "batch" and not records.is_jsonl_name(form.file.filename or ""):
        raise wire.batch_not_jsonl()
    return purpose, expires_after


def check_expires_after(value) -> int | None:
    """`expires_after[anchor]=created_at`, `expires_after[seconds]=N` (1 hour to 30 days)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise errors.invalid_request(f"{value!r} is not of type 'object' - 'expires_after'", param="expires_after")
    for name in ("anchor", "seconds"):
        if name not in value:
            raise errors.invalid_request(f"'{name}' is a required property - 'expires_after'", param="expires_after")
    if value["anchor"] != "created_at":
        raise wire.not_one_of(value["anchor"], ["created_at"], "expires_after.anchor")
    raw = value["seconds"]
    seconds = int(raw) if raw.isascii() and raw.lstrip("-").isdigit() and len(raw) < 20 else None
    if seconds is None:
        raise errors.invalid_request(f"{raw!r} is not of type 'integer' - 'expires_after.seconds'",
                                     param="expires_after.seconds")
    low, high = records.EXPIRES_AFTER_RANGE
    if not low <= seconds <= high:
        side = f"less than the minimum of {low}" if seconds < low else f"greater than the maximum of {high}"
        raise errors.invalid_request(f"{seconds} is {side} - 'expires_after.seconds'", param="expires_after.seconds")
    return seconds


async def list_files(ex: Exchange) -> Reply:
    """Newest first unless `order=asc`; `purpose` filters; `limit` 1..10,000 (default 10,000)."""
    from ..api.common import (
        list_query,  # here: mockserver.files imports alone (api/ lists this family)
    )

    query = list_query(ex, default_order="desc", default_limit=10_000, max_limit=10_000)
    purpose = ex.query.get("purpose")
    files = records.stored_files(ex.runtime)
    if isinstance(purpose, str) and purpose:
        files = [file for file in files if file["purpose"] == purpose]
    return wire.reply(page(files, **query))


async def retrieve(ex: Exchange) -> Reply:
    file = _load(ex)
    return wire.reply(file if file is not None else stand_in(ex.path_params["file_id"]))


async def content(ex: Exchange) -> FileReply:
    """The bytes as uploaded, streamed from the store, as `application/octet-stream` with
    `Content-Disposition: attachment; filename="..."`."""
    file = _load(ex)
    if file is None:
        return FileReply(iter((STAND_IN,)), len(STAND_IN), [wire.content_disposition("file.txt")])
    reader = ex.runtime.store.content.open_reader(file["id"])
    if reader is None:  # the record without its bytes (removed behind the server's back): absent
        raise wire.no_such("File", file["id"])
    return FileReply(reader.chunks(), reader.size, [wire.content_disposition(file["filename"])], close=reader.close)


async def delete(ex: Exchange) -> Reply:
    file_id = ex.path_params["file_id"]
    if not records.delete_file(ex.runtime, file_id) and not ex.runtime.config.lenient:
        raise wire.no_such("File", file_id)
    return wire.reply({"object": "file", "deleted": True, "id": file_id})


_FILES = dict(header_profile="files", error_detail=True)

OPERATIONS = [
    Operation("files.create", "POST", "/files", create, streams_body=True, **_FILES),
    Operation("files.list", "GET", "/files", list_files, **_FILES),
    Operation("files.retrieve", "GET", "/files/{file_id}", retrieve, **_FILES),
    Operation("files.delete", "DELETE", "/files/{file_id}", delete, **_FILES),
    Operation("files.content", "GET", "/files/{file_id}/content", content, **_FILES),
]
