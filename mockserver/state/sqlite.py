"""The `--state PATH` backend: the records in a SQLite file, in WAL mode; the contents of
files in a directory beside it (`PATH.files/`), indexed by the file's `contents` table."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Iterator

import orjson

from ..yamlio import SourceError
from .content import ContentIndex, DirContent
from .schema import prepare
from .store import CONTENT_KINDS, SHAPES, Store, well_formed

log = logging.getLogger("mockserver")


class SQLiteStore(Store):
    """Objects in a SQLite file, in WAL mode: a write is in the log before it returns,
    which a killed process cannot undo (only losing power could, with synchronous=NORMAL).

    The file is checked before anything is written to it (schema.py). Rows changed behind
    the server's back are read defensively: every row read (get, values, delete) is checked
    against its kind's record shape (store.py, `record_shape`), and one that does not decode
    to a JSON object of that shape is treated as absent (the family's 404 or a list without
    it, never a 500), with one warning naming the file, kind and id; it is left in the file
    as it is. The check costs under a µs a read (0.4 µs for a response record of 2.6 KB, whose
    decoding takes 5 µs).

    A record of a content kind (a file, an upload part) owns the content of its id, kept
    as a file in `PATH.files/` (state/content.py) and listed in the `contents` table;
    deleting the record deletes it. At start-up, what a crash may have left is swept: a
    partial or unlisted file, a listed content whose file is gone or whose record is."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()  # the server is one event loop; tests may share a store across threads
        self._warned: set[tuple[str, str, int]] = set()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except (sqlite3.Error, OSError) as exc:
            raise SourceError(self.path, None, f"cannot use as the state store: {exc}") from None
        try:
            prepare(self._db, self.path)  # refuses, unchanged, a file that is not ours
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        except SourceError:
            self._db.close()
            raise
        except sqlite3.Error as exc:
            self._db.close()
            raise SourceError(self.path, None, f"cannot use as the state store: {exc}") from None
        try:
            self.content = DirContent(Path(f"{self.path}.files"), _Index(self))
            with self._lock:  # contents whose record is gone (a crash between the two writes)
                self._db.execute("DELETE FROM contents WHERE id NOT IN (SELECT id FROM objects)")
            self.content.sweep()
        except (OSError, sqlite3.Error) as exc:
            self._db.close()
            raise SourceError(self.path, None, f"cannot keep file contents beside it: {exc}") from None

    def _decode(self, kind: str, id: str, body: bytes) -> dict | None:
        """The stored object, or None (and one warning) for a body that is not a record of
        its kind's shape: not a JSON object, or failing the schema its family declared."""
        try:
            value = orjson.loads(body)
        except (orjson.JSONDecodeError, TypeError):
            value = None
        if well_formed(kind, value):
            return value
        key = (kind, id, hash(body))
        if key not in self._warned:
            if len(self._warned) >= 1000:
                self._warned.clear()
            self._warned.add(key)
            shape = SHAPES.get(kind)
            why = shape.problem(value) if shape is not None else "not a JSON object"
            log.warning("%s: the stored %s %r is not a JSON object of its kind's shape (%s; changed outside "
                        "mockserver?); answered as if it did not exist, and left as it is", self.path, kind, id, why)
        return None

    def get(self, kind: str, id: str) -> dict | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM objects WHERE kind = ? AND id = ?", (kind, id)).fetchone()
        return self._decode(kind, id, row[0]) if row else None

    def put(self, kind: str, id: str, value: dict) -> None:
        body = orjson.dumps(value)
        with self._lock:
            self._db.execute(
                "INSERT INTO objects (kind, id, body) VALUES (?, ?, ?)"
                " ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
                (kind, id, body),
            )

    def delete(self, kind: str, id: str) -> bool:
        """Deletes what `get` would find: an unreadable row is absent, and stays as it is."""
        with self._lock:
            row = self._db.execute("SELECT seq, body FROM objects WHERE kind = ? AND id = ?", (kind, id)).fetchone()
            if row is None or self._decode(kind, id, row[1]) is None:
                return False
            deleted = self._db.execute("DELETE FROM objects WHERE seq = ?", (row[0],)).rowcount > 0
        if deleted and kind in CONTENT_KINDS:
            self.content.delete(id)
        return deleted

    def values(self, kind: str) -> Iterator[dict]:
        with self._lock:
            rows = self._db.execute("SELECT id, body FROM objects WHERE kind = ? ORDER BY seq", (kind,)).fetchall()
        for id, body in rows:
            value = self._decode(kind, id, body)
            if value is not None:
                yield value

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM objects")
        self.content.clear()

    def close(self) -> None:
        with self._lock:
            self._db.close()


class _Index(ContentIndex):
    """The `contents` table: which contents in `PATH.files/` are complete, and their sizes."""

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store

    def add(self, content_id: str, size: int) -> None:
        with self._store._lock:
            self._store._db.execute("INSERT INTO contents (id, bytes) VALUES (?, ?) ON CONFLICT (id) DO UPDATE"
                                    " SET bytes = excluded.bytes", (content_id, size))

    def size(self, content_id: str) -> int | None:
        with self._store._lock:
            row = self._store._db.execute("SELECT bytes FROM contents WHERE id = ?", (content_id,)).fetchone()
        return row[0] if row and isinstance(row[0], int) and row[0] >= 0 else None

    def remove(self, content_id: str) -> bool:
        with self._store._lock:
            return self._store._db.execute("DELETE FROM contents WHERE id = ?", (content_id,)).rowcount > 0

    def ids(self) -> list[str]:
        with self._store._lock:
            return [id for (id,) in self._store._db.execute("SELECT id FROM contents")]

    def clear(self) -> None:
        with self._store._lock:
            self._store._db.execute("DELETE FROM contents")
