"""What the files family keeps in the store, its ids and objects, and the interface other
families (Batches) use to read a stored file and to write one.

Records (state/store.py `record_shape`):

- `file`: `{"file": <the file object, as answered>, "clock": [run, t]}`; it owns the
  content stored under its id (state/content.py), deleted with it.
- `upload`: `{"upload": <the upload object>, "clock": [run, t], "parts": [part ids],
  "file_expires_after": seconds or null}`.
- `upload.part`: `{"part": <the part object>, "bytes": n}`; it owns its content.

`clock` is where the server's clock (clock.py) stood when the object was made, and which
run of the server made it (`Runtime.run_id`): expiry is read on that clock, which tests can
advance (`POST /__mock/clock`), and on wall time, which covers objects of an earlier run.

For Batches:

    with files.create_file(runtime, purpose="batch_output", filename=f"{batch_id}_output.jsonl") as out:
        out.append(line + b"\\n")              # as lines are produced
    out.file                                   # the stored file object (`finish()` returns it too)
    for line in files.lines(runtime, input_file_id): ...   # a stored file's lines, streamed
"""

from __future__ import annotations

import time
from typing import Any, Iterator

from ..state import ContentWriter, record_shape
from ..state.content import check_id

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"  # recorded ids avoid 0, O, I and l
HEX = "0123456789abcdef"

# What a client may upload with, in the order the real API lists them in its error
# (FilesTests/UploadFileCanParseServiceError.json).
UPLOAD_PURPOSES = ("fine-tune", "assistants", "batch", "user_data", "vision", "evals")
# What the server itself creates (Batches' output and error files, fine-tuning results, ...).
OUTPUT_PURPOSES = ("batch_output", "fine-tune-results", "assistants_output")

BATCH_EXPIRY = 30 * 24 * 3600  # a `batch` file expires 30 days after creation by default (recorded)
UPLOAD_EXPIRY = 3600  # an Upload expires an hour after creation (recorded)
EXPIRES_AFTER_RANGE = (3600, 2592000)  # `expires_after.seconds`: 1 hour to 30 days

_FILE_OBJECT = {
    "type": "object",
    "required": ["id", "object", "purpose", "filename", "bytes", "created_at", "expires_at"],
    "properties": {
        "id": {"type": "string"}, "purpose": {"type": "string"}, "filename": {"type": "string"},
        "bytes": {"type": "integer", "minimum": 0}, "created_at": {"type": "integer"},
        "expires_at": {"type": ["integer", "null"]},
    },
}
_CLOCK = {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}], "minItems": 2}

FILE = record_shape("file", {
    "type": "object", "required": ["file", "clock"],
    "properties": {"file": _FILE_OBJECT, "clock": _CLOCK},
}, content=True)
UPLOAD = record_shape("upload", {
    "type": "object", "required": ["upload", "clock", "parts", "file_expires_after"],
    "properties": {
        "upload": {"type": "object", "required": ["id", "bytes", "created_at", "filename", "purpose", "status"],
                   "properties": {"bytes": {"type": "integer", "minimum": 0}, "created_at": {"type": "integer"},
                                  "filename": {"type": "string"}, "purpose": {"type": "string"},
                                  "status": {"type": "string"}}},
        "clock": _CLOCK,
        "parts": {"type": "array", "items": {"type": "string"}},
        "file_expires_after": {"type": ["integer", "null"]},
    },
})
PART = record_shape("upload.part", {
    "type": "object", "required": ["part", "bytes"],
    "properties": {"part": {"type": "object", "required": ["id", "upload_id"]},
                   "bytes": {"type": "integer", "minimum": 0}},
}, content=True)


# --- ids ------------------------------------------------------------------------------


def new_file_id(runtime) -> str:
    """`file-` and 22 letters and digits (base58), as recorded."""
    return runtime.ids.make("file-", 22, BASE58)


def _time_id(runtime, prefix: str, created: int) -> str:
    """`upload_`/`part_` and 32 hex, as recorded: the creation time (8 hex), 4 random, the
    `8191` every recorded id carries there, 16 random."""
    rest = runtime.ids.make("", 20, HEX)
    return f"{prefix}{created & 0xFFFFFFFF:08x}{rest[:4]}8191{rest[4:]}"


def new_upload_id(runtime, created: int) -> str:
    return _time_id(runtime, "upload_", created)


def new_part_id(runtime, created: int) -> str:
    return _time_id(runtime, "part_", created)


# --- time -----------------------------------------------------------------------------


def now() -> int:
    return int(time.time())


def clock_mark(runtime) -> list:
    return [runtime.run_id, runtime.clock.now()]


def expired(runtime, record: dict, expires_at: int | None, lifetime: int | None) -> bool:
    """Past its expiry: `lifetime` seconds on this run's clock since it was made (the clock
    tests advance), or `expires_at` on the wall clock (an object of an earlier run)."""
    if expires_at is None:
        return False
    if time.time() >= expires_at:
        return True
    run, at = record["clock"][:2]
    return lifetime is not None and run == runtime.run_id and runtime.clock.now() - at >= lifetime


# --- files ----------------------------------------------------------------------------


def file_object(file_id: str, purpose: str, filename: str, size: int, created_at: int,
                expires_after: int | None = None) -> dict:
    """The file object with the recorded key order; a `batch` file expires in 30 days
    unless told otherwise, any other never unless told."""
    if expires_after is None and purpose == "batch":
        expires_after = BATCH_EXPIRY
    return {
        "object": "file", "id": file_id, "purpose": purpose, "filename": filename, "bytes": size,
        "created_at": created_at, "expires_at": created_at + expires_after if expires_after is not None else None,
        "status": "processed", "status_details": None,
    }


def put_file(runtime, file: dict) -> None:
    runtime.store.put(FILE, file["id"], {"file": file, "clock": clock_mark(runtime)})


def load_file(runtime, file_id: str) -> dict | None:
    """A stored file object, or None (unknown, deleted, or expired: an expired file is
    deleted, content and all, when it is next looked at, as the real API deletes it)."""
    record = runtime.store.get(FILE, file_id)
    if record is None:
        return None
    file = record["file"]
    expires_at = file.get("expires_at")
    if expired(runtime, record, expires_at, expires_at - file["created_at"] if expires_at is not None else None):
        runtime.store.delete(FILE, file_id)
        return None
    return file


def stored_files(runtime) -> list[dict]:
    """Every live file, oldest first."""
    out = []
    for record in list(runtime.store.values(FILE)):
        file = record["file"]
        expires_at = file.get("expires_at")
        if expired(runtime, record, expires_at, expires_at - file["created_at"] if expires_at is not None else None):
            runtime.store.delete(FILE, file["id"])
            continue
        out.append(file)
    return out


def delete_file(runtime, file_id: str) -> bool:
    return load_file(runtime, file_id) is not None and runtime.store.delete(FILE, file_id)


def is_jsonl_name(filename: str) -> bool:
    """A `batch` file must be `.jsonl`: a name with another extension is refused (publicly
    reported: `notes.txt`); a name with none is taken (recorded: `test-batch-file`)."""
    base = filename.rsplit("/", 1)[-1]
    if "." not in base.lstrip("."):
        return True
    return base.lower().endswith(".jsonl")


class FileWriter:
    """A file written by the server (Batches' output and error files): lines appended as
    they are produced, then `finish()` stores the file object and returns it. Used as a
    context manager, an exception aborts it and leaves nothing behind.

    `resumable`: a file written over a long time that must survive a restart (a batch's
    output, with `--state`): `checkpoint()` returns the size written safely so far, and a
    writer made again with the same `file_id` and `resume_at` that size carries on from it
    (state/content.py `open_resumable`); `suspend()` stops without finishing or forgetting."""

    def __init__(self, runtime, purpose: str, filename: str, expires_after: int | None = None, *,
                 file_id: str | None = None, resumable: bool = False, resume_at: int = 0,
                 created_at: int | None = None) -> None:
        self.runtime = runtime
        self.id = file_id or new_file_id(runtime)
        self.purpose, self.filename, self.expires_after = purpose, filename, expires_after
        self.created_at = created_at if created_at is not None else now()
        content = runtime.store.content
        self._writer: ContentWriter = (content.open_resumable(self.id, resume_at) if resumable
                                       else content.open_writer(self.id))
        self.file: dict | None = None

    def append(self, data: bytes) -> None:
        self._writer.write(data)

    write = append

    @property
    def size(self) -> int:
        return self._writer.size

    def checkpoint(self) -> int:
        return self._writer.checkpoint()

    def suspend(self) -> None:
        if self.file is None:
            self._writer.suspend()

    def finish(self) -> dict:
        if self.file is None:
            size = self._writer.finish()
            self.file = file_object(self.id, self.purpose, self.filename, size, self.created_at, self.expires_after)
            put_file(self.runtime, self.file)
        return self.file

    def abort(self) -> None:
        self._writer.abort()

    def __enter__(self) -> "FileWriter":
        return self

    def __exit__(self, kind, *exc: Any) -> None:
        if kind is None:
            self.finish()
        elif self.file is None:
            self.abort()


def create_file(runtime, *, purpose: str, filename: str, expires_after: int | None = None,
                **resume: Any) -> FileWriter:
    """A new file the server writes: `append` its bytes, then `finish()` (or use `with`).
    `file_id=`, `resumable=True`, `resume_at=`, `created_at=`: see `FileWriter`."""
    return FileWriter(runtime, purpose, filename, expires_after, **resume)


def lines(runtime, file_id: str, max_line: int | None = None) -> Iterator[bytes]:
    """The lines of a stored file (without their newlines), read as a stream; KeyError for
    a file that does not exist (or has no content). With `max_line`, a longer line is given
    as a `LongLine` (empty, with its `length`) instead of being held."""
    if load_file(runtime, check_id(file_id)) is None:
        raise KeyError(file_id)
    return runtime.store.content.iter_lines(file_id, max_line=max_line)


# --- uploads --------------------------------------------------------------------------


def upload_object(upload_id: str, size: int, created_at: int, filename: str, purpose: str,
                  status: str = "pending") -> dict:
    """The upload object with the recorded key order (`file` follows once completed)."""
    return {"id": upload_id, "object": "upload", "bytes": size, "created_at": created_at, "filename": filename,
            "purpose": purpose, "status": status, "expires_at": created_at + UPLOAD_EXPIRY}


def part_object(part_id: str, created_at: int, upload_id: str) -> dict:
    return {"id": part_id, "object": "upload.part", "created_at": created_at, "upload_id": upload_id}
