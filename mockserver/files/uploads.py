"""/v1/uploads: a large file sent in parts, then completed into a file.

    POST /v1/uploads                   {bytes, filename, mime_type, purpose, expires_after?} → pending
    POST /v1/uploads/{id}/parts        multipart `data` (at most 64 MB), parts in any order, in parallel
    POST /v1/uploads/{id}/complete     {part_ids: [...in order], md5?} → completed, with `file`
    POST /v1/uploads/{id}/cancel       → cancelled

An upload is `pending` until completed or cancelled, and `expired` an hour after it was
created, on the server's clock (`POST /__mock/clock` advances it). Each part's bytes are
written to the store as they arrive; completing checks the parts (theirs, and as many
bytes as declared, and the md5 when given) and writes the file from them, in the order
given, then drops the parts. The file takes the upload's `created_at`, as recorded.

`--lenient` (placeholder ids, as the SDK's own tests send): an upload id the fake never
issued is a stand-in, never stored: a part added to it is read and dropped, `complete`
answers it completed with a stand-in file, `cancel` cancelled. Completing a real upload
skips part ids it does not own and does not check the byte count or the md5 (cross-field
rules, which `--lenient` skips everywhere).
"""

from __future__ import annotations

import asyncio
import hashlib

from .. import errors
from ..routing import Operation
from ..state import ContentWriter
from ..wire import Exchange, Reply
from . import records, wire
from .multipart import read_form

# Uploads being completed in this process (by store, upload id): a second complete, a
# cancel or a part arriving meanwhile is refused rather than racing the first.
_COMPLETING: set[tuple[int, str]] = set()
_THREAD_ABOVE = 16 << 20  # a file assembled from more than this many bytes is written off the event loop


def not_pending(upload: dict) -> errors.OpenAIError:
    status, upload_id = upload["status"], upload["id"]
    if status == "expired":
        return errors.invalid_request(f"Upload {upload_id} has expired: an upload must be completed within an hour "
                                      "of its creation.")
    if status == "cancelled":
        return errors.invalid_request(f"Upload {upload_id} was cancelled.")
    return errors.invalid_request(f"Upload {upload_id} is already {status}.")


def _drop_parts(runtime, record: dict) -> None:
    for part_id in record["parts"]:
        runtime.store.delete(records.PART, part_id)
    record["parts"] = []


def load(ex: Exchange, upload_id: str | None = None) -> dict:
    """The upload's record, its status brought up to date (an upload past its hour is
    `expired`, and its parts are dropped), or its 404."""
    runtime = ex.runtime
    upload_id = upload_id or ex.path_params["upload_id"]
    record = runtime.store.get(records.UPLOAD, upload_id)
    if record is None:
        if not runtime.config.lenient:
            raise wire.no_such("Upload", upload_id)
        upload = records.upload_object(upload_id, 0, records.now(), "upload.bin", "user_data")
        return {"upload": upload, "clock": records.clock_mark(runtime), "parts": [], "file_expires_after": None,
                "stand_in": True}
    upload = record["upload"]
    if upload["status"] == "pending" and records.expired(runtime, record, upload.get("expires_at"),
                                                          records.UPLOAD_EXPIRY):
        upload["status"] = "expired"
        _drop_parts(runtime, record)
        runtime.store.put(records.UPLOAD, upload_id, record)
    return record


def _pending(ex: Exchange, record: dict) -> dict:
    upload = record["upload"]
    if upload["status"] != "pending":
        raise not_pending(upload)
    if (id(ex.runtime.store), upload["id"]) in _COMPLETING:
        raise errors.invalid_request(f"Upload {upload['id']} is being completed.")
    return upload


async def create(ex: Exchange) -> Reply:
    runtime = ex.runtime
    body = ex.body
    size, filename, purpose = body["bytes"], body["filename"], body["purpose"]
    if size < 0 or size > runtime.config.max_upload_bytes:
        limit = 0 if size < 0 else runtime.config.max_upload_bytes
        raise errors.out_of_range("bytes", size, limit, above=size > 0, integer=True)
    if purpose == "batch" and not records.is_jsonl_name(filename):
        raise wire.batch_not_jsonl()
    expires_after = (body.get("expires_after") or {}).get("seconds")
    created = records.now()
    upload = records.upload_object(records.new_upload_id(runtime, created), size, created, filename, purpose)
    runtime.store.put(records.UPLOAD, upload["id"], {"upload": upload, "clock": records.clock_mark(runtime),
                                                     "parts": [], "file_expires_after": expires_after})
    return wire.reply(upload)


async def add_part(ex: Exchange) -> Reply:
    """The part's bytes go to the store as they arrive; the part counts once it is whole
    (and only if its upload is still pending then: a cancel meanwhile wins)."""
    runtime = ex.runtime
    record = load(ex)
    upload = _pending(ex, record)
    stand_in = "stand_in" in record
    created = records.now()
    part_id = records.new_part_id(runtime, created)
    form = await read_form(ex, file_field="data",
                           open_writer=_Dropped if stand_in else (lambda: runtime.store.content.open_writer(part_id)),
                           limit=runtime.config.max_upload_part_bytes, size_name="Part", needs_filename=False)
    try:
        if form.file is None:
            raise wire.required("data")
        if stand_in:
            return wire.reply(records.part_object(part_id, created, upload["id"]))
        record = load(ex, upload["id"])  # again: the body took time, and others may have acted
        _pending(ex, record)
        size = form.file.writer.finish()
    except BaseException:
        form.abort()
        raise
    part = records.part_object(part_id, created, upload["id"])
    runtime.store.put(records.PART, part_id, {"part": part, "bytes": size})
    record["parts"].append(part_id)
    runtime.store.put(records.UPLOAD, upload["id"], record)
    return wire.reply(part)


async def complete(ex: Exchange) -> Reply:
    runtime = ex.runtime
    lenient = runtime.config.lenient
    record = load(ex)
    upload = _pending(ex, record)
    if "stand_in" in record:
        upload.update(status="completed", file=records.file_object(records.new_file_id(runtime), upload["purpose"],
                                                                  upload["filename"], 0, upload["created_at"]))
        return wire.reply(upload)
    part_ids, md5 = ex.body["part_ids"], ex.body.get("md5")
    owned = set(record["parts"])
    sizes, kept = [], []
    for index, part_id in enumerate(part_ids):
        part = runtime.store.get(records.PART, part_id) if part_id in owned else None
        if part is None:
            if lenient:
                continue
            raise errors.invalid_request(f"Part {part_id} does not belong to upload {upload['id']}.",
                                         param=f"part_ids[{index}]")
        sizes.append(part["bytes"])
        kept.append(part_id)
    part_ids = kept
    if lenient:
        md5 = None
    elif sum(sizes) != upload["bytes"]:
        raise errors.invalid_request(
            f"The parts hold {sum(sizes)} bytes in all, but the upload was created for {upload['bytes']} bytes.",
            param="part_ids")
    file_id = records.new_file_id(runtime)
    key = (id(runtime.store), upload["id"])
    _COMPLETING.add(key)
    try:
        if sum(sizes) > _THREAD_ABOVE:
            writer, digest = await asyncio.to_thread(_assemble, runtime, file_id, part_ids)
        else:
            writer, digest = _assemble(runtime, file_id, part_ids)
    finally:
        _COMPLETING.discard(key)
    if isinstance(md5, str) and md5 and md5.lower() != digest:
        writer.abort()
        raise errors.invalid_request(f"The md5 checksum of the parts ({digest}) does not match the md5 given ({md5}).",
                                     param="md5")
    record = load(ex, upload["id"])
    upload = record["upload"]
    if upload["status"] != "pending":  # cannot happen while _COMPLETING holds it; kept safe all the same
        writer.abort()
        raise not_pending(upload)
    size = writer.finish()
    file = records.file_object(file_id, upload["purpose"], upload["filename"], size, upload["created_at"],
                               record["file_expires_after"])
    records.put_file(runtime, file)
    _drop_parts(runtime, record)
    upload["status"] = "completed"
    upload["file"] = file
    runtime.store.put(records.UPLOAD, upload["id"], record)
    return wire.reply(upload)


def _assemble(runtime, file_id: str, part_ids: list[str]):
    """The file's bytes from its parts, in order, and their md5 (hex), a piece at a time."""
    content = runtime.store.content
    writer = content.open_writer(file_id)
    digest = hashlib.md5(usedforsecurity=False)
    try:
        for part_id in part_ids:
            reader = content.open_reader(part_id)
            if reader is None:
                raise errors.invalid_request(f"Part {part_id} has no content.", param="part_ids")
            with reader:
                for chunk in reader.chunks():
                    writer.write(chunk)
                    digest.update(chunk)
    except BaseException:
        writer.abort()
        raise
    return writer, digest.hexdigest()


async def cancel(ex: Exchange) -> Reply:
    record = load(ex)
    upload = _pending(ex, record)
    upload["status"] = "cancelled"
    if "stand_in" in record:
        return wire.reply(upload)
    _drop_parts(ex.runtime, record)
    ex.runtime.store.put(records.UPLOAD, upload["id"], record)
    return wire.reply(upload)


class _Dropped(ContentWriter):
    """Where a stand-in upload's part goes: counted, then forgotten."""

    def __init__(self) -> None:
        super().__init__(lambda writer: None)

    def write(self, data: bytes) -> None:
        self.size += len(data)


_UPLOADS = dict(header_profile="uploads", error_detail=True)

OPERATIONS = [
    Operation("uploads.create", "POST", "/uploads", create, request_schema="uploads.create.request", **_UPLOADS),
    Operation("uploads.parts.create", "POST", "/uploads/{upload_id}/parts", add_part, streams_body=True, **_UPLOADS),
    Operation("uploads.complete", "POST", "/uploads/{upload_id}/complete", complete,
              request_schema="uploads.complete.request", **_UPLOADS),
    Operation("uploads.cancel", "POST", "/uploads/{upload_id}/cancel", cancel, **_UPLOADS),
]
