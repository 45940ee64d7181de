"""The `--state` file: what mockserver does with a SQLite file that is not (or no longer)
what it expects. A database of another application or of a newer mockserver stops
start-up, named, and is left byte for byte as it was; a file of the first release (no
version) is adopted; a row whose body is not a JSON object refuses start-up, named, and
met at run time (changed behind the server's back) reads as absent: the family's 404 and
one warning, never a 500."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import openai
import orjson
import pytest

from mockserver import Config, create_app
from mockserver.state import SQLiteStore, schema
from mockserver.yamlio import SourceError

from .support.server import RunningServer

# The table as the first release (no state version) created it, verbatim.
FIRST_RELEASE_TABLE = (
    "CREATE TABLE IF NOT EXISTS objects ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, id TEXT NOT NULL, body BLOB NOT NULL,"
    " UNIQUE (kind, id))"
)


def serve(path: Path) -> subprocess.CompletedProcess:
    """`mockserver serve --state PATH`, as a user runs it; these all stop at start-up."""
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--state", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def header(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA application_id").fetchone()[0], db.execute("PRAGMA user_version").fetchone()[0]


def rows(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT seq, kind, id, body FROM objects ORDER BY seq").fetchall()


def write_behind(path: Path, sql: str, *args) -> None:
    """Change the file behind the server's back, as another program would."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute(sql, args)
    finally:
        db.close()


def sdk(running: RunningServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=running.url, api_key="sk-test", max_retries=0)


def stop(running: RunningServer) -> None:
    running.stop()
    running.runtime.store.close()


# --- files that are not ours ---------------------------------------------------------------


def test_a_foreign_database_stops_start_up_unchanged(tmp_path):
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, total REAL)")
        db.execute("INSERT INTO users (name) VALUES ('ada')")
    db.close()
    before = digest(path)
    result = serve(path)
    assert result.returncode == 2, result.stderr
    assert f"mockserver: {path}: is a SQLite database with another schema" in result.stderr
    assert "orders(id, user_id, total)" in result.stderr and "users(id, name)" in result.stderr
    assert "will not write into it" in result.stderr and "Traceback" not in result.stderr
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]  # no journal, WAL or table left behind


@pytest.mark.parametrize("setup", [
    "CREATE TABLE objects (seq INTEGER PRIMARY KEY, kind TEXT, id TEXT, body BLOB, owner TEXT)",  # our name, not ours
    "PRAGMA application_id = 1234",  # another application's marker, no tables
    "PRAGMA user_version = 3",  # another application's version, no tables
])
def test_near_misses_are_foreign_too(tmp_path, setup):
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.execute(setup)
    db.close()
    before = digest(path)
    with pytest.raises(SourceError) as refused:
        SQLiteStore(path)
    assert str(refused.value).startswith(f"{path}: is a SQLite database with another schema")
    assert digest(path) == before


def test_a_newer_state_version_stops_start_up(tmp_path):
    path = tmp_path / "state.db"
    SQLiteStore(path).close()
    write_behind(path, f"PRAGMA user_version = {schema.VERSION + 1}")
    before = digest(path)
    result = serve(path)
    assert result.returncode == 2, result.stderr
    assert (f"mockserver: {path}: was written by a newer mockserver (state version {schema.VERSION + 1}; "
            f"this one reads up to {schema.VERSION})") in result.stderr
    assert digest(path) == before


def test_not_a_database_at_all(tmp_path):
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SourceError, match="cannot use as the state store: file is not a database"):
        create_app(Config(state=path))
    assert path.read_bytes() == b"this is not a database" * 100


# --- files that are ----------------------------------------------------------------------------


def test_a_new_or_empty_file_gets_the_current_version(tmp_path):
    for path in (tmp_path / "new.db", tmp_path / "empty.db"):
        if path.name == "empty.db":
            path.write_bytes(b"")
        SQLiteStore(path).close()
        assert header(path) == (schema.APPLICATION_ID, schema.VERSION)
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_file_of_the_first_release_is_adopted(tmp_path):
    """Written by the release before state versions (same table, no marker): opened, stamped,
    every object still there through the API."""
    path = tmp_path / "state.db"
    first = RunningServer(Config(state=path)).start()
    try:
        kept = sdk(first).responses.create(model="gpt-4o-mini", input="Remember this.")
    finally:
        stop(first)
    with sqlite3.connect(path) as db:  # what the first release wrote: this table, and nothing in the header
        table = db.execute("SELECT sql FROM sqlite_master WHERE name = 'objects'").fetchone()[0]
        assert "".join(table.split()) == "".join(FIRST_RELEASE_TABLE.replace(" IF NOT EXISTS", "").split())
        db.execute("PRAGMA application_id = 0")
        db.execute("PRAGMA user_version = 0")
    db.close()
    before = rows(path)
    assert header(path) == (0, 0) and len(before) == 1

    second = RunningServer(Config(state=path)).start()
    try:
        assert header(path) == (schema.APPLICATION_ID, schema.VERSION)
        client = sdk(second)
        assert client.responses.retrieve(kept.id).output_text == kept.output_text
        chained = client.responses.create(model="gpt-4o-mini", input="And?", previous_response_id=kept.id)
        assert [i.content[0].text for i in client.responses.input_items.list(chained.id, order="asc")][0] == "Remember this."
    finally:
        stop(second)
    assert rows(path)[0] == before[0]  # adopted: the stored object untouched


def test_a_first_release_table_made_by_hand_is_adopted(tmp_path):
    path = tmp_path / "state.db"
    write_behind(path, FIRST_RELEASE_TABLE)
    write_behind(path, "INSERT INTO objects (kind, id, body) VALUES ('conversation', 'conv_1', ?)",
                 orjson.dumps({"conversation": {"id": "conv_1"}, "items": []}))
    store = SQLiteStore(path)
    assert store.get("conversation", "conv_1") == {"conversation": {"id": "conv_1"}, "items": []}
    store.close()
    assert header(path) == (schema.APPLICATION_ID, schema.VERSION)


def test_a_later_version_migrates_and_is_then_refused_by_this_one(tmp_path, monkeypatch):
    """How version 2 will arrive: a table of its own, added by a migration step; the objects
    stay, the file says version 2, and a mockserver that reads up to 1 refuses it."""
    path = tmp_path / "state.db"
    store = SQLiteStore(path)
    store.put("response", "resp_1", {"response": {"id": "resp_1"}, "input_items": []})
    store.close()
    blobs = ("blobs", ("id", "bytes"))
    monkeypatch.setattr(schema, "VERSION", 2)
    monkeypatch.setitem(schema.TABLES, 2, {**schema.TABLES[1], blobs[0]: blobs[1]})
    monkeypatch.setitem(schema.MIGRATIONS, 2, ("CREATE TABLE blobs (id TEXT PRIMARY KEY, bytes BLOB NOT NULL)",))
    store = SQLiteStore(path)
    assert store.get("response", "resp_1") == {"response": {"id": "resp_1"}, "input_items": []}
    store.close()
    assert header(path) == (schema.APPLICATION_ID, 2)
    monkeypatch.undo()
    with pytest.raises(SourceError, match=r"newer mockserver \(state version 2; this one reads up to 1\)"):
        SQLiteStore(path)


# --- rows that are not JSON objects ----------------------------------------------------------


@pytest.mark.parametrize("bad", [b"not json", b"[1,2]", b"{}", b'{"response": 1}'])
def test_an_unreadable_row_at_run_time_is_absent_and_logged(tmp_path, make_server, caplog, bad):
    path = tmp_path / "state.db"
    running = make_server(state=path)
    client = sdk(running)
    response = client.responses.create(model="gpt-4o-mini", input="Keep me.")
    completions = [client.chat.completions.create(model="gpt-4o-mini", store=True,
                                                  messages=[{"role": "user", "content": f"n{n}"}]) for n in range(2)]
    write_behind(path, "UPDATE objects SET body = ? WHERE id = ?", bad, response.id)
    write_behind(path, "UPDATE objects SET body = ? WHERE id = ?", bad, completions[0].id)

    with caplog.at_level(logging.WARNING, logger="mockserver"):
        with pytest.raises(openai.NotFoundError) as missing:
            client.responses.retrieve(response.id)
        assert missing.value.body["message"] == f"Response with id '{response.id}' not found."
        raw = httpx.get(f"{running.url}/chat/completions/{completions[0].id}")
        assert raw.status_code == 404 and raw.json()["error"]["code"] == "not_found"
        assert [c.id for c in client.chat.completions.list()] == [completions[1].id]  # the list skips it
        with pytest.raises(openai.NotFoundError):  # nor can it be deleted: it is absent, and left as it is
            client.responses.delete(response.id)
        with pytest.raises(openai.NotFoundError):
            client.responses.create(model="gpt-4o-mini", input="And?", previous_response_id=response.id)
    warnings = [r.getMessage() for r in caplog.records if r.name == "mockserver"]
    assert all(r.levelno == logging.WARNING and not r.exc_info for r in caplog.records if r.name == "mockserver")
    assert f"{path}: the stored response '{response.id}' is not a JSON object of its kind's shape" in warnings[0]
    assert any(f"the stored chat.completion '{completions[0].id}'" in w for w in warnings)
    assert len([w for w in warnings if response.id in w]) == 1  # one warning, however often it is read
    assert [j["status"] for j in running.journal()].count(500) == 0
    assert sum(1 for row in rows(path) if row[3] == bad) == 2  # left as they were


def test_an_unreadable_row_stops_start_up_named(tmp_path):
    path = tmp_path / "state.db"
    first = RunningServer(Config(state=path)).start()
    try:
        client = sdk(first)
        ids = [client.responses.create(model="gpt-4o-mini", input=f"n{n}").id for n in range(3)]
    finally:
        stop(first)
    write_behind(path, "UPDATE objects SET body = ? WHERE id = ?", b"[1,2]", ids[1])
    write_behind(path, "UPDATE objects SET body = ? WHERE id = ?", b"not json", ids[2])
    write_behind(path, "UPDATE objects SET body = ? WHERE id = ?", b'{"response": {}}', ids[0])
    before = rows(path), header(path)
    result = serve(path)
    assert result.returncode == 2, result.stderr
    assert (f"mockserver: {path}: holds 3 stored objects whose body is not a JSON object of its kind's shape "
            f"(the first: response '{ids[0]}')") in result.stderr
    assert (rows(path), header(path)) == before  # nothing deleted, changed or stamped
