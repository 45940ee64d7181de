"""The bytes of stored files (and of upload parts), kept beside the records that describe them.

A record says what a file is (its object: name, purpose, size); the content store holds
what it contains, under the same id. Content is written once, as it arrives, and read
back as a stream: a file of hundreds of MB is never held in memory, neither when it is
uploaded (each piece is written as the multipart parser hands it over) nor when it is
downloaded (read back a chunk at a time).

    writer = content.open_writer("file-abc")     # nothing is visible under the id yet
    writer.write(b"...")                          # as often as needed (`append` is the same)
    size = writer.finish()                        # now it is; `abort()` instead leaves nothing
    with content.open_reader("file-abc") as reader:
        for chunk in reader.chunks(): ...         # or reader.read(n), reader.size
    for line in content.iter_lines("file-abc"): ...   # JSONL: each line, without its newline
    content.delete("file-abc")

A content written over a long time (a batch's output, appended as its lines finish) is
written with `open_resumable`: `checkpoint()` says how much of it is safely written, and
after a restart `open_resumable(id, size)` carries on from that size, the rest cut off; its
bytes become the content of the id only at `finish()`, as with any writer.

Two backends, measured on a 200 MB file (bench/files.py, README "Files and Batches"):

- `MemoryContent` (the in-memory store): content up to SPILL_BYTES stays in memory, once,
  as bytes; past that it is spooled to an anonymous temporary file (unlinked at creation,
  so nothing is left behind even by `kill -9`), which keeps the server's memory flat
  whatever the size of the files it holds.
- `DirContent` (the `--state` SQLite store): each content is a file in a directory beside
  the state file (`state.db.files/`), written under a temporary name and renamed into place
  when finished, and listed in the state file's `contents` table. Plain files were chosen
  over blobs in SQLite by measurement: 3.3 GB/s against 0.2 GB/s to write 200 MB (SQLite
  writes everything twice, through its WAL, and chains 4 KB overflow pages), 10 GB/s
  against 2.2 GB/s to read it back, both with flat memory.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Callable, Iterable, Iterator

CHUNK = 1 << 20  # what a reader hands out at a time
SPILL_BYTES = 1 << 20  # the memory backend keeps content up to this size in memory, and spools the rest

_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")


def check_id(content_id: str) -> str:
    """A content id is a file name in DirContent: letters, digits and `_.-`, nothing else."""
    if not isinstance(content_id, str) or not _SAFE_ID.fullmatch(content_id):
        raise ValueError(f"not a content id: {content_id!r}")
    return content_id


class ContentReader:
    """One content, read from the start (every reader has its own position)."""

    size: int

    def read(self, n: int = -1) -> bytes:
        raise NotImplementedError

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        while True:
            data = self.read(size)
            if not data:
                return
            yield data

    def close(self) -> None:
        pass

    def __enter__(self) -> "ContentReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class BytesReader(ContentReader):
    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self.size = len(data)
        self._at = 0

    def read(self, n: int = -1) -> bytes:
        end = self.size if n < 0 else min(self.size, self._at + n)
        data = bytes(self._view[self._at:end])
        self._at = end
        return data


class FdReader(ContentReader):
    """Reads a file descriptor of its own (a duplicate, or a file it opened) with pread, so
    several downloads of one content, and its deletion meanwhile, never disturb each other."""

    def __init__(self, fd: int, size: int) -> None:
        self._fd = fd
        self.size = size
        self._at = 0

    def read(self, n: int = -1) -> bytes:
        left = self.size - self._at
        n = left if n < 0 else min(n, left)
        if n <= 0:
            return b""
        data = os.pread(self._fd, n, self._at)
        self._at += len(data)
        return data

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()


class ContentWriter:
    """Bytes appended in order; `finish()` makes them the content of the id, `abort()`
    forgets them. Until then, the id shows what it held before (or nothing)."""

    def __init__(self, finish: Callable[["ContentWriter"], None]) -> None:
        self.size = 0
        self.done = False
        self._finish = finish

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    append = write  # the batch output writer's word for it

    def finish(self) -> int:
        if not self.done:
            self.done = True
            self._finish(self)
        return self.size

    def abort(self) -> None:
        self.done = True
        self._discard()

    def checkpoint(self) -> int:
        """Everything written so far handed to the OS (a killed process cannot lose it);
        the size to resume from (`ContentStore.open_resumable`)."""
        return self.size

    def suspend(self) -> None:
        """Stop writing, neither finishing nor forgetting what was written: a resumable
        writer leaves it to be carried on after a restart; any other forgets it."""
        self.abort()

    def _discard(self) -> None:
        pass

    def __enter__(self) -> "ContentWriter":
        return self

    def __exit__(self, kind, *exc) -> None:
        if kind is None:
            self.finish()
        elif not self.done:
            self.abort()


class ContentStore:
    """The interface; ids are those of the records the contents belong to."""

    def open_writer(self, content_id: str) -> ContentWriter:
        raise NotImplementedError

    def open_reader(self, content_id: str) -> ContentReader | None:
        """A reader, or None when there is no such content."""
        raise NotImplementedError

    def size(self, content_id: str) -> int | None:
        raise NotImplementedError

    def delete(self, content_id: str) -> bool:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def open_resumable(self, content_id: str, size: int = 0) -> ContentWriter:
        """A writer whose progress survives a restart (where the backend does: the
        `--state` directory): `checkpoint()` saves it, and `open_resumable(id, size)` after
        a restart carries on from `size` bytes, whatever was written past it cut off."""
        raise NotImplementedError

    def resumables(self) -> list[str]:
        """Ids with a resumable write in progress (left by an earlier run)."""
        return []

    def discard_resumable(self, content_id: str) -> None:
        """Forget a resumable write in progress (its owner is gone)."""

    def read(self, content_id: str) -> bytes | None:
        """The whole content (for small ones: tests, stand-ins)."""
        reader = self.open_reader(content_id)
        if reader is None:
            return None
        with reader:
            return reader.read()

    def iter_lines(self, content_id: str, chunk: int = CHUNK, max_line: int | None = None) -> Iterator[bytes]:
        """Each line of a content (JSONL), without its `\\n` or `\\r\\n`, read a chunk at a
        time: a batch input file of any size is walked in constant memory (and linear time,
        however long a line). A last line without a newline is given too; an empty content
        gives nothing. With `max_line`, a line longer than that is not held: it is given as
        a `LongLine` (empty, with its `length`)."""
        reader = self.open_reader(content_id)
        if reader is None:
            raise KeyError(content_id)
        with reader:
            yield from split_lines(reader.chunks(chunk), max_line)


class LongLine(bytes):
    """A line over the length asked for, given without its bytes (`iter_lines(max_line=)`)."""

    length: int

    def __new__(cls, length: int) -> "LongLine":
        line = super().__new__(cls, b"")
        line.length = length
        return line


def split_lines(chunks: Iterable[bytes], max_line: int | None = None) -> Iterator[bytes]:
    """Lines from a stream of chunks (see `ContentStore.iter_lines`)."""
    pending = bytearray()  # the start of a line the chunks so far have not ended
    skipped = -1  # the length so far of a line over max_line being skipped, or -1
    for data in chunks:
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                piece = len(data) - start
                if skipped >= 0:
                    skipped += piece
                elif max_line is not None and len(pending) + piece > max_line + 1:  # +1: a \r
                    skipped = len(pending) + piece
                    pending.clear()
                else:
                    pending += data[start:]
                break
            if skipped >= 0:
                length = skipped + end - start
                skipped = -1
                yield LongLine(length)
            elif pending:
                pending += data[start:end]
                line = bytes(pending)
                pending.clear()
                yield from _line(line, max_line)
            else:
                yield from _line(data[start:end], max_line)
            start = end + 1
    if skipped >= 0:
        yield LongLine(skipped)
    elif pending:
        yield from _line(bytes(pending), max_line)


def _line(line: bytes, max_line: int | None) -> Iterator[bytes]:
    if line.endswith(b"\r"):
        line = line[:-1]
    if max_line is not None and len(line) > max_line:
        yield LongLine(len(line))
    else:
        yield line


# --- in memory (spooled past SPILL_BYTES) -------------------------------------------------


class _SpoolWriter(ContentWriter):
    def __init__(self, finish: Callable[[ContentWriter], None], spill: int) -> None:
        super().__init__(finish)
        self.buffer: bytearray | None = bytearray()
        self.file = None
        self._spill = spill

    def write(self, data: bytes) -> None:
        if self.done:
            raise ValueError("this content is finished")
        self.size += len(data)
        if self.file is not None:
            self.file.write(data)
            return
        self.buffer += data
        if len(self.buffer) > self._spill:
            self.file = tempfile.TemporaryFile(prefix="mockserver-content-")  # unlinked: gone with the process
            self.file.write(self.buffer)
            self.buffer = None

    def _discard(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        self.buffer = None


class MemoryContent(ContentStore):
    """Small contents as bytes in memory, larger ones in anonymous temporary files."""

    def __init__(self, spill: int = SPILL_BYTES) -> None:
        self.spill = spill
        self._items: dict[str, bytes | object] = {}  # bytes, or an open temporary file
        self._sizes: dict[str, int] = {}

    def open_writer(self, content_id: str) -> ContentWriter:
        check_id(content_id)

        def finish(writer: _SpoolWriter) -> None:
            if writer.file is not None:
                writer.file.flush()
                value: bytes | object = writer.file
                writer.file = None
            else:
                value = bytes(writer.buffer or b"")
                writer.buffer = None
            self._drop(content_id)
            self._items[content_id] = value
            self._sizes[content_id] = writer.size

        return _SpoolWriter(finish, self.spill)

    def open_resumable(self, content_id: str, size: int = 0) -> ContentWriter:
        """In memory nothing outlives the process, so there is never anything to resume."""
        if size:
            raise ValueError(f"nothing to resume for {content_id!r}: contents in memory do not outlive the process")
        return self.open_writer(content_id)

    def open_reader(self, content_id: str) -> ContentReader | None:
        value = self._items.get(content_id)
        if value is None:
            return None
        if isinstance(value, bytes):
            return BytesReader(value)
        return FdReader(os.dup(value.fileno()), self._sizes[content_id])

    def size(self, content_id: str) -> int | None:
        return self._sizes.get(content_id)

    def delete(self, content_id: str) -> bool:
        return self._drop(content_id)

    def _drop(self, content_id: str) -> bool:
        value = self._items.pop(content_id, None)
        self._sizes.pop(content_id, None)
        if value is not None and not isinstance(value, bytes):
            value.close()  # readers hold duplicates of its descriptor: they read on
        return value is not None

    def clear(self) -> None:
        for content_id in list(self._items):
            self._drop(content_id)

    def close(self) -> None:
        self.clear()


# --- files in a directory beside the state file ----------------------------------------


class _FileWriter(ContentWriter):
    def __init__(self, finish: Callable[[ContentWriter], None], directory: Path) -> None:
        super().__init__(finish)
        fd, name = tempfile.mkstemp(prefix=PARTIAL, dir=directory)
        self.path = Path(name)
        self.file = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        if self.done:
            raise ValueError("this content is finished")
        self.file.write(data)
        self.size += len(data)

    def _discard(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


PARTIAL = ".partial-"  # a content being written; left behind only by a crash, and removed at start-up
RESUMABLE = ".resumable-"  # a resumable content being written (+ its id): kept at start-up for its owner


class _ResumableWriter(ContentWriter):
    """Appends to `.resumable-<id>` in the directory, a name that outlives the process:
    `checkpoint()` flushes it to the OS and gives its size; reopened with that size, the
    file is cut back to it (what was written after the last checkpoint is written again)."""

    def __init__(self, finish: Callable[[ContentWriter], None], path: Path, size: int) -> None:
        super().__init__(finish)
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            have = os.fstat(fd).st_size
            if have < size:
                raise ValueError(f"{path.name} holds {have} bytes, fewer than the {size} checkpointed")
            os.ftruncate(fd, size)
            os.lseek(fd, size, os.SEEK_SET)
        except BaseException:
            os.close(fd)
            raise
        self.file = os.fdopen(fd, "wb")
        self.size = size

    def write(self, data: bytes) -> None:
        if self.done:
            raise ValueError("this content is finished")
        self.file.write(data)
        self.size += len(data)

    def checkpoint(self) -> int:
        if not self.done:
            self.file.flush()
        return self.size

    def suspend(self) -> None:
        self.done = True
        self.file.close()

    def _discard(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


class DirContent(ContentStore):
    """Each content a file named by its id in `directory`; `index` (the state file's
    `contents` table, through the SQLite store) says which are complete. A file is
    renamed into place before it is listed, and unlisted before it is removed, so a
    crash at any point leaves either the old state or the new one, plus at worst a file
    that `sweep` removes at the next start."""

    def __init__(self, directory: Path, index: "ContentIndex") -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.index = index
        self._lock = threading.Lock()

    def _path(self, content_id: str) -> Path:
        return self.directory / check_id(content_id)

    def open_writer(self, content_id: str) -> ContentWriter:
        target = self._path(content_id)

        def finish(writer: _FileWriter) -> None:
            writer.file.flush()  # in the OS's hands: a killed server cannot lose it (as the WAL)
            writer.file.close()
            with self._lock:
                os.replace(writer.path, target)
                self.index.add(content_id, writer.size)

        return _FileWriter(finish, self.directory)

    def open_resumable(self, content_id: str, size: int = 0) -> ContentWriter:
        target = self._path(content_id)

        def finish(writer: _ResumableWriter) -> None:
            writer.file.flush()
            writer.file.close()
            with self._lock:
                os.replace(writer.path, target)
                self.index.add(content_id, writer.size)

        return _ResumableWriter(finish, self.directory / (RESUMABLE + check_id(content_id)), size)

    def resumables(self) -> list[str]:
        return [path.name[len(RESUMABLE):] for path in self.directory.iterdir() if path.name.startswith(RESUMABLE)]

    def discard_resumable(self, content_id: str) -> None:
        (self.directory / (RESUMABLE + check_id(content_id))).unlink(missing_ok=True)

    def open_reader(self, content_id: str) -> ContentReader | None:
        size = self.index.size(content_id)
        if size is None:
            return None
        try:
            fd = os.open(self._path(content_id), os.O_RDONLY)
        except (OSError, ValueError):
            return None  # listed, but gone behind the server's back: absent
        return FdReader(fd, min(size, os.fstat(fd).st_size))

    def size(self, content_id: str) -> int | None:
        return self.index.size(content_id)

    def delete(self, content_id: str) -> bool:
        with self._lock:
            listed = self.index.remove(content_id)
            try:
                self._path(content_id).unlink(missing_ok=True)
            except ValueError:
                pass
        return listed

    def clear(self) -> None:
        """Every complete content, and every resumable write (its owner, a batch, is gone
        with the rest); a write in progress finishes as it began: it is its request's,
        which started before the clear."""
        with self._lock:
            self.index.clear()
            for path in self.directory.iterdir():
                if path.is_file() and not path.name.startswith(PARTIAL):
                    path.unlink(missing_ok=True)

    def sweep(self) -> None:
        """At start-up: remove what a crash left (partial writes, files no longer listed)
        and unlist contents whose file is gone. Resumable writes are their owners' to
        resume or discard (the batches in flight: batches/runner.py)."""
        listed = set(self.index.ids())
        present = set()
        for path in self.directory.iterdir():
            if not path.is_file() or path.name.startswith(RESUMABLE):
                continue
            if path.name.startswith(PARTIAL) or path.name not in listed:
                path.unlink(missing_ok=True)
            else:
                present.add(path.name)
        for content_id in listed - present:
            self.index.remove(content_id)


class ContentIndex:
    """Which contents are complete, and their sizes (the SQLite store implements it)."""

    def add(self, content_id: str, size: int) -> None:
        raise NotImplementedError

    def size(self, content_id: str) -> int | None:
        raise NotImplementedError

    def remove(self, content_id: str) -> bool:
        raise NotImplementedError

    def ids(self) -> list[str]:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError
