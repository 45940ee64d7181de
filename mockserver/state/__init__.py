"""What the fake stores between requests: responses, conversations, stored chat
completions, files, uploads and batches, behind one small interface.

Objects are JSON documents filed by kind and id, kept in the order they were first
stored (the order lists page through). Two backends:

- `MemoryStore` (store.py), the default: bounded by `state_max_objects`; past the cap the
  oldest object of any kind is evicted, as a test suite's early objects are the least
  likely to be asked for again (README, "State").
- `SQLiteStore` (sqlite.py), with `--state PATH`: every write is committed before the
  request that made it is answered, so a restarted server, or one killed mid-request,
  still has everything it acknowledged. Not bounded. The file's schema is versioned and
  checked at start-up (schema.py): a file that is not ours, or is newer, or holds rows
  that are not JSON objects of their kind's shape (its family's `record_shape`) stops
  start-up, named; such a row written while the server runs reads as absent.

Both hand out copies: a handler changing what it read never changes what is stored.

A record may own content, bytes stored under its id (a file's, an upload part's): the
store's `content` (content.py) keeps them, in memory (spooled to an anonymous temporary
file past 1 MiB) or, with `--state PATH`, as files in `PATH.files/` listed in the state
file; they are written and read as streams, and deleted with their record. A batch's
output is written as a resumable content (content.py `open_resumable`): with `--state` it
outlives the process, and the batch resumes it from its last checkpoint.
"""

from __future__ import annotations

from pathlib import Path

from .content import ContentReader, ContentStore, ContentWriter
from .sqlite import SQLiteStore
from .store import MemoryStore, Store, page, record_shape


def open_store(path: str | Path | None, max_objects: int) -> Store:
    return SQLiteStore(path) if path else MemoryStore(max_objects)


__all__ = ["ContentReader", "ContentStore", "ContentWriter", "MemoryStore", "SQLiteStore", "Store", "open_store",
           "page", "record_shape"]
