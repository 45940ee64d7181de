"""The `--state` file's schema, its version, and the checks made before it is used.

A file is mockserver's when its SQLite header says so: `PRAGMA application_id` is
APPLICATION_ID and `PRAGMA user_version` is the state version that wrote it. `prepare`
runs at start-up, in one transaction, and writes nothing unless the file is ours:

- a new or empty file gets the current schema;
- a file of the first release (its one `objects(seq, kind, id, body)` table, no marker)
  is adopted: stamped with the marker and version 1, nothing else changed;
- a file of an older state version is migrated to this one, step by step;
- a file of a newer version, or a SQLite database with any other schema, is refused with
  a SourceError naming it, and left byte for byte as it was;
- a file holding a row that would read as absent is refused, naming the first such row,
  what is wrong with it, and how many there are: a row of a declared kind whose body is not
  a JSON object of its record shape (store.py), or a row of any other kind whose body is
  not a JSON object (about 0.25 s in all for 25,000 rows of 2.7 KB).

Version 2 (files and uploads) added the `contents` table: the index of the file contents
kept beside the state file (`PATH.files/`, state/content.py), one row per complete
content, its id and size. A version-1 file is migrated when first opened (MIGRATIONS[2]),
and an older mockserver refuses the migrated file as newer instead of misreading it. A
later version adds TABLES[3] and MIGRATIONS[3] the same way.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson

from ..yamlio import SourceError
from .store import SHAPES

APPLICATION_ID = 0x6D6F636B  # "mock", in the SQLite header's field for the owning application
VERSION = 2  # the state version this code reads and writes

# What a file of each version holds: its tables and their columns, in order.
TABLES: dict[int, dict[str, tuple[str, ...]]] = {
    1: {"objects": ("seq", "kind", "id", "body")},
    2: {"contents": ("id", "bytes"), "objects": ("seq", "kind", "id", "body")},
}

# The statements that bring a file from version N - 1 to version N.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("CREATE TABLE objects (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, id TEXT NOT NULL,"
        " body BLOB NOT NULL, UNIQUE (kind, id))",),
    2: ("CREATE TABLE contents (id TEXT PRIMARY KEY, bytes INTEGER NOT NULL)",),
}

# A row whose body is not a JSON object. The CAST reads the stored bytes as JSON text (newer
# SQLite reads a BLOB as its binary JSONB); the CASE keeps json_type from raising on bad text.
NOT_AN_OBJECT = "(CASE WHEN json_valid(CAST(body AS TEXT)) THEN json_type(CAST(body AS TEXT)) END) IS NOT 'object'"


def prepare(db: sqlite3.Connection, path: Path) -> None:
    """Make `db` a state file of VERSION, or raise SourceError having written nothing."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version, marked = _version(db, path)
        for step in range(version + 1, VERSION + 1):
            for statement in MIGRATIONS[step]:
                db.execute(statement)
        if version < VERSION or not marked:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {VERSION}")
        _check_rows(db, path)
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _version(db: sqlite3.Connection, path: Path) -> tuple[int, bool]:
    """The file's state version (0: nothing yet) and whether it carries our marker."""
    application = db.execute("PRAGMA application_id").fetchone()[0]
    version = db.execute("PRAGMA user_version").fetchone()[0]
    tables = _tables(db)
    if application == APPLICATION_ID:
        if version > VERSION:
            raise SourceError(path, None, f"was written by a newer mockserver (state version {version}; this one "
                                          f"reads up to {VERSION}); use that release, or another --state file")
        if tables == TABLES.get(version, {}):
            return version, True
        raise SourceError(path, None, f"is marked as mockserver state version {version}, but its schema is not "
                                      f"that version's ({_describe(tables)}); mockserver will not write into it")
    if application == 0 and version == 0:
        if not tables:
            return 0, False  # new, or empty
        if tables == TABLES[1]:
            return 1, False  # written by the first release, which kept no version: adopted
    found = [_describe(tables)]
    if application:
        found.append(f"application_id {application:#010x}")
    if version:
        found.append(f"user_version {version}")
    raise SourceError(path, None, f"is a SQLite database with another schema ({'; '.join(found)}); "
                                  "mockserver will not write into it")


def _tables(db: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    names = db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
                       " AND name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY name").fetchall()
    return {name: tuple(column for (column,) in db.execute("SELECT name FROM pragma_table_info(?)", (name,)))
            for (name,) in names}


def _describe(tables: dict[str, tuple[str, ...]]) -> str:
    if not tables:
        return "no tables"
    shown = [f"{name}({', '.join(columns)})" for name, columns in list(tables.items())[:6]]
    return "tables: " + ", ".join(shown) + (f", and {len(tables) - 6} more" if len(tables) > 6 else "")


def _check_rows(db: sqlite3.Connection, path: Path) -> None:
    """Refuse a file holding a row that would read as absent. A row of a kind a family
    declared (store.py, `record_shape`) is decoded and checked against its schema as
    sqlite.py reads it: about 0.23 s for 25,000 rows of 2.7 KB. A row of any other kind
    must be a JSON object: SQLite's JSON functions, in one scan of those rows (0.03 s).
    (The SQL scan of every row's top-level keys that came first, 0.15 s for the same
    file, would find nothing the schemas do not.)"""
    declared = list(SHAPES)
    marks = ", ".join("?" * len(declared))
    count, first = 0, None  # first: (seq, kind, id, what is wrong)
    for seq, kind, id in db.execute(f"SELECT seq, kind, id FROM objects WHERE kind NOT IN ({marks}) AND "
                                    f"{NOT_AN_OBJECT} ORDER BY seq", declared):
        count += 1
        first = first or (seq, kind, id, "not a JSON object")
    # `+kind`: one scan of the table in seq order, not a look-up per row through the (kind, id) index
    for seq, kind, id, body in db.execute(f"SELECT seq, kind, id, body FROM objects WHERE +kind IN ({marks})"
                                          " ORDER BY seq", declared):
        try:
            value = orjson.loads(body)
        except (orjson.JSONDecodeError, TypeError):
            value = None
        shape = SHAPES[kind]
        if not shape.accepts(value):
            count += 1
            if first is None or seq < first[0]:
                first = (seq, kind, id, shape.problem(value))
    if first is None:
        return
    _, kind, id, why = first
    raise SourceError(path, None, f"holds {count} stored object{'s' if count > 1 else ''} whose body is not a JSON "
                                  f"object of its kind's shape (the first: {kind} {id!r}): {why}; mockserver leaves "
                                  "them as they are: repair or delete those rows, or use another --state file")
