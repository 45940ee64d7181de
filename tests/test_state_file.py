"""The `--state` file: what mockserver does with a SQLite file that is not (or no longer)
what it expects. A database of another application or of a newer mockserver stops
start-up, named, and is left byte for byte as it was; a file of the first release (no
version) is adopted; a row whose body is not a JSON object of its kind's shape (not JSON, or
wrong contents under the right keys) refuses start-up, named, and met at run time (changed
behind the server's back) reads as absent: the family's 404 and one warning, never a 500.
The background clock stays finite, so nothing the server stores holds a null for a time."""

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
from .support.families import sdk

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
        db.execute("DROP TABLE contents")  # added by state version 2 (files)
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
    """How the next version will arrive (as version 2 did, with files): a table of its own,
    added by a migration step; the objects stay, the file says the new version, and a
    mockserver that reads up to this one refuses it."""
    path = tmp_path / "state.db"
    store = SQLiteStore(path)
    store.put("response", "resp_1", {"response": {"id": "resp_1"}, "input_items": []})
    store.close()
    current, blobs = schema.VERSION, ("blobs", ("id", "bytes"))
    monkeypatch.setattr(schema, "VERSION", current + 1)
    monkeypatch.setitem(schema.TABLES, current + 1, {**schema.TABLES[current], blobs[0]: blobs[1]})
    monkeypatch.setitem(schema.MIGRATIONS, current + 1, ("CREATE TABLE blobs (id TEXT PRIMARY KEY, bytes BLOB NOT NULL)",))
    store = SQLiteStore(path)
    assert store.get("response", "resp_1") == {"response": {"id": "resp_1"}, "input_items": []}
    store.close()
    assert header(path) == (schema.APPLICATION_ID, current + 1)
    monkeypatch.undo()
    with pytest.raises(SourceError, match=rf"newer mockserver \(state version {current + 1}; this one reads up to {current}\)"):
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


def three_stored_responses(path: Path) -> list[str]:
    """A state file holding three stored responses, written by a server now stopped: their ids."""
    first = RunningServer(Config(state=path)).start()
    try:
        client = sdk(first)
        return [client.responses.create(model="gpt-4o-mini", input=f"n{n}").id for n in range(3)]
    finally:
        stop(first)


def test_an_unreadable_row_stops_start_up_named(tmp_path):
    path = tmp_path / "state.db"
    ids = three_stored_responses(path)
    write_behind(path, "UPDATE objects SET body = ? WHERE id = ?", b"[1,2]", ids[1])
    write_behind(path, "UPDATE objects SET body = ? WHERE id = ?", b"not json", ids[2])
    write_behind(path, "UPDATE objects SET body = ? WHERE id = ?", b'{"response": {}}', ids[0])
    before = rows(path), header(path)
    result = serve(path)
    assert result.returncode == 2, result.stderr
    assert (f"mockserver: {path}: holds 3 stored objects whose body is not a JSON object of its kind's shape "
            f"(the first: response '{ids[0]}')") in result.stderr
    assert (rows(path), header(path)) == before  # nothing deleted, changed or stamped


# --- rows of the right keys and the wrong contents --------------------------------------------
# Each family declares its record's shape as a JSON Schema of what its handlers read
# (`record_shape`); a row failing it is as absent as one that is not JSON at all.


def tamper(path: Path, id: str, change) -> bytes:
    """Rewrite a stored object behind the server's back: `change(record)` is the new record."""
    with sqlite3.connect(path) as db:
        record = orjson.loads(db.execute("SELECT body FROM objects WHERE id = ?", (id,)).fetchone()[0])
    db.close()
    body = orjson.dumps(change(record))
    write_behind(path, "UPDATE objects SET body = ? WHERE id = ?", body, id)
    return body


def store_one(running: RunningServer, family: str) -> tuple[str, list[tuple[str, str, dict | None, int]]]:
    """One object of `family`, stored through the API: its id, and requests that read it with
    the answer each gives once it is absent (a list answers 200, without it)."""
    client = sdk(running)
    if family == "chat":
        done = client.chat.completions.create(model="gpt-4o-mini", store=True,
                                              messages=[{"role": "user", "content": "Hi"}])
        return done.id, [
            ("GET", "/chat/completions", None, 200),
            ("GET", "/chat/completions?model=gpt-4o-mini&metadata[k]=v", None, 200),
            ("GET", f"/chat/completions/{done.id}", None, 404),
            ("GET", f"/chat/completions/{done.id}/messages", None, 404),
            ("POST", f"/chat/completions/{done.id}", {"metadata": {"k": "v"}}, 404),
            ("DELETE", f"/chat/completions/{done.id}", None, 404),
        ]
    if family == "conversation":
        conversation = client.conversations.create(items=[{"role": "user", "content": "Hi"}])
        return conversation.id, [
            ("GET", f"/conversations/{conversation.id}", None, 404),
            ("POST", f"/conversations/{conversation.id}", {"metadata": {"k": "v"}}, 404),
            ("GET", f"/conversations/{conversation.id}/items", None, 404),
            ("GET", f"/conversations/{conversation.id}/items/msg_1", None, 404),
            ("POST", f"/conversations/{conversation.id}/items", {"items": [{"role": "user", "content": "More"}]}, 404),
            ("POST", "/responses", {"model": "gpt-4o-mini", "input": "And?", "conversation": conversation.id}, 404),
            ("DELETE", f"/conversations/{conversation.id}", None, 404),
        ]
    background = family == "background"
    response = client.responses.create(model="gpt-4o-mini", input="Hi", background=background)
    if not background:  # a later request may name one of its items: the lookup goes through every stored response
        reference = response.output[-1].id
        return response.id, [
            ("GET", f"/responses/{response.id}", None, 404),
            ("GET", f"/responses/{response.id}/input_items", None, 404),
            ("POST", "/responses", {"model": "gpt-4o-mini", "input": "And?", "previous_response_id": response.id}, 404),
            ("POST", "/responses/input_tokens", {"model": "gpt-4o-mini", "input": "And?",
                                                 "previous_response_id": response.id}, 404),
            ("POST", "/responses", {"model": "gpt-4o-mini",
                                    "input": [{"type": "item_reference", "id": reference}]}, 404),
            ("DELETE", f"/responses/{response.id}", None, 404),
        ]
    return response.id, [
        ("GET", f"/responses/{response.id}", None, 404),
        ("GET", f"/responses/{response.id}?stream=true", None, 404),
        ("POST", f"/responses/{response.id}/cancel", {}, 404),
        ("DELETE", f"/responses/{response.id}", None, 404),
    ]


WRONG_CONTENTS = {  # the hostile tester's rows: every declared key there, the wrong thing in it
    "chat completion without an id": ("chat", lambda r: {"completion": {"x": 1}, "model": "gpt-4o-mini",
                                                          "messages": []}),
    "chat messages an object": ("chat", lambda r: {**r, "messages": {"id": "x"}}),
    "response output an int": ("response", lambda r: {**r, "response": {**r["response"], "output": 1}}),
    "response input items of ints": ("response", lambda r: {**r, "input_items": [1, 2]}),
    "conversation items a string": ("conversation", lambda r: {**r, "items": "abc"}),
    "background clock null": ("background", lambda r: {**r, "clock": None}),
    "background clock time null": ("background", lambda r: {**r, "clock": {**r["clock"], "started": None}}),
    "background opening a list": ("background", lambda r: {**r, "opening": []}),
}


@pytest.mark.parametrize("case", list(WRONG_CONTENTS))
def test_a_row_of_the_wrong_contents_at_run_time_is_absent_and_logged(tmp_path, make_server, caplog, case):
    family, change = WRONG_CONTENTS[case]
    path = tmp_path / "state.db"
    running = make_server(state=path, time_scale=0)  # a background response stays queued
    id, requests = store_one(running, family)
    body = tamper(path, id, change)
    with caplog.at_level(logging.WARNING, logger="mockserver"), httpx.Client(base_url=running.url) as http:
        for method, url, payload, status in requests:
            answer = http.request(method, url, json=payload)
            assert answer.status_code == status, (method, url, answer.text)
            if status == 404:
                assert answer.json()["error"]["message"]
            else:
                assert id not in [item["id"] for item in answer.json()["data"]]  # the list skips it
    warnings = [r.getMessage() for r in caplog.records if r.name == "mockserver" and id in r.getMessage()]
    assert len(warnings) == 1, warnings  # one, however often it is read
    kind = {"chat": "chat.completion", "background": "response"}.get(family, family)
    assert f"{path}: the stored {kind} '{id}' is not a JSON object of its kind's shape (at /" in warnings[0]
    assert not any(r.exc_info for r in caplog.records if r.name == "mockserver")
    assert [j["status"] for j in running.journal()].count(500) == 0
    assert [row[3] for row in rows(path) if row[2] == id] == [body]  # left as it was


@pytest.mark.parametrize("case", list(WRONG_CONTENTS))
def test_a_row_of_the_wrong_contents_stops_start_up_named(tmp_path, case):
    family, change = WRONG_CONTENTS[case]
    path = tmp_path / "state.db"
    first = RunningServer(Config(state=path, time_scale=0)).start()
    try:
        ids = [store_one(first, family)[0] for _ in range(3)]
    finally:
        stop(first)
    id = ids[1]  # good rows before and after it
    tamper(path, id, change)
    before = rows(path), header(path)
    kind = {"chat": "chat.completion", "background": "response"}.get(family, family)
    with pytest.raises(SourceError) as refused:
        SQLiteStore(path)
    assert str(refused.value).startswith(
        f"{path}: holds 1 stored object whose body is not a JSON object of its kind's shape "
        f"(the first: {kind} '{id}'): at /")
    assert (rows(path), header(path)) == before  # nothing deleted, changed or stamped


def test_the_start_up_check_names_the_first_and_counts_every_kind_of_bad_row(tmp_path):
    path = tmp_path / "state.db"
    ids = three_stored_responses(path)
    tamper(path, ids[2], lambda r: {**r, "input_items": "x"})  # wrong contents
    write_behind(path, "UPDATE objects SET body = ? WHERE id = ?", b"[1]", ids[1])  # not an object
    # a kind no family declares: any JSON object will do
    write_behind(path, "INSERT INTO objects (kind, id, body) VALUES ('vector_store', 'vs_1', 'nope')")
    write_behind(path, "INSERT INTO objects (kind, id, body) VALUES ('vector_store', 'vs_2', '{\"any\": 1}')")
    result = serve(path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert (f"mockserver: {path}: holds 3 stored objects whose body is not a JSON object of its kind's shape "
            f"(the first: response '{ids[1]}'): not a JSON object; mockserver leaves them as they are") in result.stderr


# Recorded bodies with no more than a handler needs: no status, model or created, an output item without an id.
RECORDED_BARE = """\
fixtures:
  - match: {endpoint: responses, message: '^bare$'}
    response:
      body: {id: resp_bare, object: response, output: [{type: message, role: assistant,
             content: [{type: output_text, text: Bare.}]}]}
  - match: {endpoint: chat.completions, message: '^bare$'}
    response:
      body: {id: chatcmpl-bare, object: chat.completion, choices: [{message: {role: assistant, content: Bare.}}]}
"""


def test_what_the_server_stores_passes_its_own_check(tmp_path):
    """Every kind of record the families write, background ones and recorded bodies included,
    reads back and opens again: the shapes ask nothing the server does not write."""
    path = tmp_path / "state.db"
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "bare.yaml").write_text(RECORDED_BARE)
    running = RunningServer(Config(state=path, time_scale=0, fixtures=[tmp_path / "fixtures"])).start()
    try:
        client = sdk(running)
        bare = client.responses.create(model="gpt-4o-mini", input="bare")
        assert bare.id == "resp_bare" and client.responses.retrieve(bare.id).output_text == "Bare."
        after = client.responses.create(model="gpt-4o-mini", input="And?", previous_response_id=bare.id)
        items = client.responses.input_items.list(after.id)
        assert [item.id for item in items][1] is None  # the fixture's output item had none: listed, not a 500
        assert client.chat.completions.create(model="gpt-4o-mini", store=True,
                                              messages=[{"role": "user", "content": "bare"}]).id == "chatcmpl-bare"
        plain = client.responses.create(model="gpt-4o-mini", input="Hi", store=True)
        chained = client.responses.create(model="gpt-4o-mini", input="And?", previous_response_id=plain.id)
        tools = client.responses.create(model="gpt-4o-mini", input=[
            {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "42"}])
        background = client.responses.create(model="gpt-4o-mini", input="Later", background=True)
        streamed = list(client.responses.create(model="gpt-4o-mini", input="Watch", background=True, stream=True))
        conversation = client.conversations.create(items=[{"role": "user", "content": "Hi"}])
        client.responses.create(model="gpt-4o-mini", input="In it", conversation=conversation.id)
        client.chat.completions.create(model="gpt-4o-mini", store=True, metadata={"k": "v"},
                                       messages=[{"role": "system", "content": "Be brief."},
                                                 {"role": "user", "content": [{"type": "text", "text": "Hi"}]}])
        client.chat.completions.create(model="gpt-4o-mini", store=True, stream=True,
                                       messages=[{"role": "user", "content": "Hi"}]).close()
        client.responses.cancel(background.id)
    finally:
        stop(running)
    stored = rows(path)
    assert {row[1] for row in stored} == {"response", "conversation", "chat.completion"} and len(stored) >= 12
    store = SQLiteStore(path)  # the start-up check passes
    try:
        for _, kind, id, body in stored:
            assert store.get(kind, id) == orjson.loads(body)
    finally:
        store.close()
    assert chained.id and tools.id and streamed


# --- the background clock stays finite ----------------------------------------------------------


def test_the_clock_cannot_be_advanced_to_infinity(tmp_path, make_server):
    """Twice 1e308 made it infinite, and a background response then stored null for its start
    time; now an advance past 10^12 seconds is refused, and the clock is as it was."""
    path = tmp_path / "state.db"
    running = make_server(state=path, time_scale=0)
    client = sdk(running)
    clock = f"{running.origin}/__mock/clock"
    for _ in range(2):
        answer = httpx.post(clock, json={"advance": 1e308})
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert error["param"] == "advance" and "past 1e+12 seconds" in error["message"]
    assert httpx.get(clock).json()["now"] == 0
    assert httpx.post(clock, json={"advance": 1e12 - 10}).json()["now"] == 1e12 - 10
    assert httpx.post(clock, json={"advance": 11}).status_code == 400
    created = client.responses.create(model="gpt-4o-mini", input="Late.", background=True)
    assert isinstance(orjson.loads(rows(path)[-1][3])["clock"]["started"], float)
    assert client.responses.retrieve(created.id).status == "queued"
    assert httpx.post(clock, json={"advance": 10}).status_code == 200  # exactly to the bound
    assert client.responses.retrieve(created.id).status == "completed"
    assert client.responses.cancel(created.id).status == "completed"
    for bad in (-1, "1", True, None, 10**30):
        assert httpx.post(clock, json={"advance": bad}).status_code == 400
    assert [j["status"] for j in running.journal()].count(500) == 0


def test_a_clock_of_any_scale_stays_finite():
    from mockserver.clock import LIMIT, Clock

    for scale in (float("inf"), 1e300, 1.0, 0.0):
        clock = Clock(scale)
        assert 0 <= clock.now() <= LIMIT
    with pytest.raises(ValueError):
        Clock(0).advance(float("nan"))
    with pytest.raises(ValueError):
        Clock(0).advance(float("inf"))
