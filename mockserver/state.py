"""What the fake stores between requests: responses, conversations, stored chat
completions (and files and batches next), behind one small interface.

Objects are JSON documents filed by kind and id, kept in the order they were first
stored (the order lists page through). Two backends:

- `MemoryStore`, the default: bounded by `state_max_objects`; past the cap the oldest
  object of any kind is evicted, as a test suite's early objects are the least likely
  to be asked for again (README, "State").
- `SQLiteStore`, with `--state PATH`: every write is committed before the request that
  made it is answered, so a restarted server, or one killed mid-request, still has
  everything it acknowledged. Not bounded.

Both hand out copies: a handler changing what it read never changes what is stored.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterator

import orjson

from .wire import kept
from .yamlio import SourceError


class Store:
    """The interface handlers use. Values are JSON-serialisable dicts."""

    def get(self, kind: str, id: str) -> dict | None:
        raise NotImplementedError

    def put(self, kind: str, id: str, value: dict) -> None:
        """Store or replace; a replaced object keeps its place in the order."""
        raise NotImplementedError

    def delete(self, kind: str, id: str) -> bool:
        raise NotImplementedError

    def values(self, kind: str) -> Iterator[dict]:
        """Every object of a kind, oldest first."""
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class MemoryStore(Store):
    def __init__(self, max_objects: int = 10_000) -> None:
        self.max_objects = max_objects
        self._data: OrderedDict[tuple[str, str], bytes] = OrderedDict()

    def get(self, kind: str, id: str) -> dict | None:
        raw = self._data.get((kind, id))
        return orjson.loads(raw) if raw is not None else None

    def put(self, kind: str, id: str, value: dict) -> None:
        self._data[(kind, id)] = kept(orjson.dumps(value))
        while len(self._data) > self.max_objects:
            self._data.popitem(last=False)

    def delete(self, kind: str, id: str) -> bool:
        return self._data.pop((kind, id), None) is not None

    def values(self, kind: str) -> Iterator[dict]:
        for (k, _), raw in list(self._data.items()):
            if k == kind:
                yield orjson.loads(raw)

    def clear(self) -> None:
        self._data.clear()


class SQLiteStore(Store):
    """One table in a SQLite file, in WAL mode: a write is in the log before it returns,
    which a killed process cannot undo (only losing power could, with synchronous=NORMAL)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()  # the server is one event loop; tests may share a store across threads
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS objects ("
                " seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, id TEXT NOT NULL, body BLOB NOT NULL,"
                " UNIQUE (kind, id))"
            )
            self._db.execute("SELECT count(*) FROM objects").fetchone()
        except (sqlite3.Error, OSError) as exc:
            raise SourceError(self.path, None, f"cannot use as the state store: {exc}") from None

    def get(self, kind: str, id: str) -> dict | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM objects WHERE kind = ? AND id = ?", (kind, id)).fetchone()
        return orjson.loads(row[0]) if row else None

    def put(self, kind: str, id: str, value: dict) -> None:
        body = orjson.dumps(value)
        with self._lock:
            self._db.execute(
                "INSERT INTO objects (kind, id, body) VALUES (?, ?, ?)"
                " ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
                (kind, id, body),
            )

    def delete(self, kind: str, id: str) -> bool:
        with self._lock:
            return self._db.execute("DELETE FROM objects WHERE kind = ? AND id = ?", (kind, id)).rowcount > 0

    def values(self, kind: str) -> Iterator[dict]:
        with self._lock:
            rows = self._db.execute("SELECT body FROM objects WHERE kind = ? ORDER BY seq", (kind,)).fetchall()
        for (body,) in rows:
            yield orjson.loads(body)

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM objects")

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_store(path: str | Path | None, max_objects: int) -> Store:
    return SQLiteStore(path) if path else MemoryStore(max_objects)


def page(items: list[dict], *, after: str | None, before: str | None, limit: int, order: str,
         alphabetical: bool = False) -> dict[str, Any]:
    """One page of a list the way the real API pages (`object: list`, `first_id`,
    `last_id`, `has_more`): `items` oldest first; `after`/`before` are ids, exclusive,
    in the order asked for. `alphabetical`: the Responses family's key order
    (`first_id, has_more, last_id`) rather than chat's (`first_id, last_id, has_more`)."""
    ordered = items if order == "asc" else items[::-1]
    ids = [item["id"] for item in ordered]
    start, end = 0, len(ordered)
    if after is not None and after in ids:
        start = ids.index(after) + 1
    if before is not None and before in ids:
        end = ids.index(before)
    window = ordered[start:end]
    if before is not None and after is None:
        chosen = window[-limit:] if limit < len(window) else window
        has_more = len(window) > limit
    else:
        chosen = window[:limit]
        has_more = len(window) > limit
    first, last = (chosen[0]["id"], chosen[-1]["id"]) if chosen else (None, None)
    if alphabetical:
        return {"object": "list", "data": chosen, "first_id": first, "has_more": has_more, "last_id": last}
    return {"object": "list", "data": chosen, "first_id": first, "last_id": last, "has_more": has_more}
