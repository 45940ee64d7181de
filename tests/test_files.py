"""Files through the official SDK: upload, list, retrieve, download, delete; the real errors
(never a 500); limits while the body streams in; state that survives a restart and a
`kill -9`; the content store Batches will build on; the contracts."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess

import httpx
import openai
import pytest
from openai.pagination import SyncCursorPage
from openai.types import FileDeleted, FileObject

from mockserver import Config, files
from mockserver.state import MemoryStore, SQLiteStore, schema
from mockserver.state.content import SPILL_BYTES

from .support.families import agrees_with_spec, holds, sdk
from .support.process import free_port, serve
from .support.server import RunningServer

FILE_KEYS = ["object", "id", "purpose", "filename", "bytes", "created_at", "expires_at", "status", "status_details"]
PURPOSES = ["fine-tune", "assistants", "batch", "user_data", "vision", "evals"]


def error_of(response: httpx.Response) -> dict:
    """The files service's envelope: `error` and, beside it, `detail` (recorded)."""
    body = response.json()
    assert list(body) == ["error", "detail"], body
    assert list(body["error"]) == ["message", "type", "param", "code"]
    assert body["detail"] == {"message": body["error"]["message"], "code": body["error"]["code"]}
    holds("error.response", body)
    return body["error"]


# --- the lifecycle --------------------------------------------------------------------


def test_upload_retrieve_download_delete(client, http):
    data = os.urandom(300_000) + b"\x00\r\n--boundary-ish--\r\n"
    created = client.files.create(file=("data.bin", data), purpose="assistants")
    assert created.id.startswith("file-") and len(created.id) == 27
    assert (created.bytes, created.filename, created.purpose, created.status) == (len(data), "data.bin", "assistants",
                                                                                  "processed")
    assert created.expires_at is None and created.status_details is None
    raw = http.get(f"/v1/files/{created.id}")
    assert list(raw.json()) == FILE_KEYS and raw.text.startswith('{\n  "object": "file",') and raw.text.endswith("}\n")
    holds("files.create.response", raw.json(), FileObject)
    assert client.files.retrieve(created.id) == created
    assert client.files.content(created.id).content == data
    download = http.get(f"/v1/files/{created.id}/content")
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"] == 'attachment; filename="data.bin"'
    assert download.headers["content-length"] == str(len(data)) and download.content == data
    deleted = http.delete(f"/v1/files/{created.id}")
    assert list(deleted.json()) == ["object", "deleted", "id"] and deleted.json()["deleted"] is True
    holds("files.delete.response", deleted.json(), FileDeleted)
    for method, path in (("GET", ""), ("GET", "/content"), ("DELETE", "")):
        answer = http.request(method, f"/v1/files/{created.id}{path}")
        assert answer.status_code == 404
        assert error_of(answer) == {"message": f"No such File object: {created.id}", "type": "invalid_request_error",
                                    "param": "id", "code": None}
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(created.id)


def test_headers_as_recorded(http):
    created = http.post("/v1/files", files={"file": ("a.txt", b"abc")}, data={"purpose": "user_data"})
    assert created.status_code == 200
    for answer in (created, http.get(f"/v1/files/{created.json()['id']}")):
        assert answer.headers["openai-organization"] and answer.headers["openai-project"]
        assert answer.headers["access-control-expose-headers"] == "CF-Ray"
        assert answer.headers["content-type"] == "application/json"


def test_expiry_batch_default_and_expires_after(client):
    batch = client.files.create(file=("input.jsonl", b'{"custom_id": "1"}\n'), purpose="batch")
    assert batch.expires_at - batch.created_at == 2592000  # 30 days, as recorded
    hour = client.files.create(file=("a.txt", b"x"), purpose="user_data",
                               expires_after={"anchor": "created_at", "seconds": 3600})
    assert hour.expires_at - hour.created_at == 3600
    longer = client.files.create(file=("b.jsonl", b"{}\n"), purpose="batch",
                                 expires_after={"anchor": "created_at", "seconds": 86400})
    assert longer.expires_at - longer.created_at == 86400


def test_a_file_is_gone_when_it_expires_on_the_clock(make_server):
    running = make_server(time_scale=0)
    client = sdk(running)
    short = client.files.create(file=("a.txt", b"x"), purpose="user_data",
                                expires_after={"anchor": "created_at", "seconds": 3600})
    kept = client.files.create(file=("b.txt", b"y"), purpose="user_data")
    httpx.post(f"{running.origin}/__mock/clock", json={"advance": 3601}).raise_for_status()
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(short.id)
    assert [f.id for f in client.files.list()] == [kept.id]
    assert running.runtime.store.content.size(short.id) is None  # deleted with it


def test_every_upload_purpose(client):
    for purpose in PURPOSES:
        name = "x.jsonl" if purpose in ("batch", "fine-tune") else "x.txt"
        assert client.files.create(file=(name, b"{}\n"), purpose=purpose).purpose == purpose


def test_non_ascii_filenames(client, http):
    created = client.files.create(file=("你好 x.txt", "你好, world".encode()), purpose="assistants")
    assert created.filename == "你好 x.txt"
    raw = http.get(f"/v1/files/{created.id}")
    assert '"filename": "你好 x.txt"' in raw.content.decode()  # UTF-8, not escaped, as recorded
    download = http.get(f"/v1/files/{created.id}/content")
    assert download.headers["content-disposition"].endswith("filename*=UTF-8''%E4%BD%A0%E5%A5%BD%20x.txt")
    assert download.content == "你好, world".encode()


def test_dotnet_style_part_headers(http):
    """The .NET SDK's parts: unquoted names, `filename*` beside `filename` (recorded)."""
    boundary = "2=AhqwS0V9xyw1TosCAsI=H_hLtXu"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=file; filename=test-batch-file; "
            f"filename*=utf-8''%E4%BD%A0%E5%A5%BD.jsonl\r\n\r\n" + '{"custom_id": "r1"}\r\n' +
            f"\r\n--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: form-data; "
            f"name=purpose\r\n\r\nbatch\r\n--{boundary}--\r\n").encode()
    answer = http.post("/v1/files", content=body, headers={"content-type": f'multipart/form-data; boundary="{boundary}"'})
    assert answer.status_code == 200, answer.text
    assert answer.json()["filename"] == "你好.jsonl" and answer.json()["bytes"] == 21


# --- lists ----------------------------------------------------------------------------


def test_list_filters_orders_and_pages(make_server):
    running = make_server()
    client = sdk(running)
    made = [client.files.create(file=(f"f{n}.jsonl", b"{}\n"), purpose="batch" if n % 2 else "assistants")
            for n in range(7)]
    ids = [f.id for f in made]
    assert [f.id for f in client.files.list()] == ids[::-1]  # newest first by default
    assert [f.id for f in client.files.list(order="asc")] == ids
    assert [f.id for f in client.files.list(purpose="batch", order="asc")] == ids[1::2]
    assert client.files.list(purpose="vision").data == []
    first = client.files.list(limit=3, order="asc")
    assert [f.id for f in first.data] == ids[:3] and first.has_more
    assert [f.id for f in client.files.list(limit=3, order="asc", after=ids[2]).data] == ids[3:6]
    assert len(list(client.files.list(limit=2).iter_pages())) == 4
    assert [f.id for f in client.files.list(limit=2)] == ids[::-1]  # the SDK follows the cursor
    raw = httpx.get(f"{running.url}/files", params={"limit": 2})
    assert list(raw.json()) == ["object", "data", "first_id", "last_id", "has_more"]
    holds("files.list.response", raw.json(), SyncCursorPage[FileObject])
    empty = httpx.get(f"{running.url}/files", params={"purpose": "vision"}).json()
    assert empty == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
    holds("files.list.response", empty)
    assert len(client.files.list(limit=10000).data) == 7


@pytest.mark.parametrize("limit, expected", [
    ("0", "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got 0 instead."),
    ("10001", "Invalid 'limit': integer above maximum value. Expected a value <= 10000, but got 10001 instead."),
    ("ten", "Invalid type for 'limit': expected an integer, but got a string instead."),
])
def test_a_bad_limit_is_the_real_400(http, limit, expected):
    answer = http.get("/v1/files", params={"limit": limit})
    assert answer.status_code == 400 and error_of(answer)["message"] == expected
    assert error_of(answer)["param"] == "limit"


# --- bad input: the real errors, never a 500 --------------------------------------------


def test_wrong_purpose_as_recorded(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(file=("a.txt", b"x"), purpose="world_domination")
    assert caught.value.body["message"] == ("'world_domination' is not one of ['fine-tune', 'assistants', 'batch', "
                                            "'user_data', 'vision', 'evals'] - 'purpose'")
    assert caught.value.body["param"] == "purpose" and caught.value.response.json()["detail"]["code"] is None


def test_a_batch_file_must_be_jsonl(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(file=("notes.txt", b"{}\n"), purpose="batch")
    assert caught.value.body["message"] == "Invalid file format for Batch API. Must be .jsonl"
    assert client.files.create(file=("test-batch-file", b"{}\n"), purpose="batch").purpose == "batch"  # recorded
    assert client.files.create(file=("UPPER.JSONL", b"{}\n"), purpose="batch").purpose == "batch"


@pytest.mark.parametrize("case", ["json", "no content type", "text", "no file", "no purpose", "file without filename",
                                  "no boundary", "long boundary", "cut short", "not multipart at all",
                                  "bad expires_after"])
def test_bad_bodies_get_the_real_error(http, case):
    ok_part = ("a.txt", b"hello")
    if case == "json":
        answer = http.post("/v1/files", json={"purpose": "assistants"})
    elif case == "no content type":
        answer = http.post("/v1/files", content=b"purpose=assistants")
    elif case == "text":
        answer = http.post("/v1/files", content=b"x", headers={"content-type": "text/plain"})
    elif case == "no file":
        answer = http.post("/v1/files", data={"purpose": "assistants"}, files={"other": ok_part})
    elif case == "no purpose":
        answer = http.post("/v1/files", files={"file": ok_part})
    elif case == "file without filename":
        answer = http.post("/v1/files", content=b'--b\r\nContent-Disposition: form-data; name="file"\r\n\r\nx\r\n--b--\r\n',
                           headers={"content-type": "multipart/form-data; boundary=b"})
    elif case == "no boundary":
        answer = http.post("/v1/files", content=b"--b\r\n", headers={"content-type": "multipart/form-data"})
    elif case == "long boundary":  # past python-multipart's 256: refused, not its exception
        answer = http.post("/v1/files", content=b"--b\r\n", headers={"content-type": "multipart/form-data; boundary=" + "b" * 300})
    elif case == "cut short":
        answer = http.post("/v1/files", content=b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nxx',
                           headers={"content-type": "multipart/form-data; boundary=b"})
    elif case == "not multipart at all":
        answer = http.post("/v1/files", content=os.urandom(2000), headers={"content-type": "multipart/form-data; boundary=zz"})
    else:
        answer = http.post("/v1/files", files={"file": ok_part},
                           data={"purpose": "assistants", "expires_after[anchor]": "created_at", "expires_after[seconds]": "60"})
    assert answer.status_code == 400, answer.text
    error = error_of(answer)
    expected = {
        "json": "Invalid Content-Type header (application/json), expected multipart/form-data. (HINT: If you're using "
                "curl, you can pass -H 'Content-Type: multipart/form-data')",
        "no content type": "Invalid Content-Type header (None), expected multipart/form-data. (HINT: If you're using "
                           "curl, you can pass -H 'Content-Type: multipart/form-data')",
        "no file": "'file' is a required property",
        "no purpose": "'purpose' is a required property",
        "bad expires_after": "60 is less than the minimum of 3600 - 'expires_after.seconds'",
    }
    if case in expected:
        assert error["message"] == expected[case] and error["type"] == "invalid_request_error"
    elif case == "text":
        assert error["message"].startswith("Invalid Content-Type header (text/plain)")
    else:  # the web framework's words for a broken multipart body, as publicly reported
        assert error == {"message": "The browser (or proxy) sent a request that this server could not understand.",
                         "type": "server_error", "param": None, "code": None}


def test_a_file_over_the_limit_is_refused_early_and_while_streaming(make_server):
    running = make_server(max_file_bytes=100_000)
    client = sdk(running)
    assert client.files.create(file=("ok.bin", b"x" * 100_000), purpose="assistants").bytes == 100_000
    # Content-Length says too much: refused before the body is read.
    with pytest.raises(openai.APIStatusError) as caught:
        client.files.create(file=("big.bin", b"x" * 200_000), purpose="assistants")
    assert caught.value.status_code == 413
    assert caught.value.body["message"] == "File too large. The maximum file size is 100000 bytes (100000 bytes)."
    # No Content-Length (chunked): refused as the bytes go over.
    boundary = "xyz"

    def chunked():
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'.encode()
        for _ in range(30):
            yield b"y" * 10_000
        yield f"\r\n--{boundary}--\r\n".encode()

    answer = httpx.post(f"{running.url}/files", content=chunked(),
                        headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert answer.status_code == 413 and error_of(answer)["code"] == "request_too_large"
    store = running.runtime.store
    assert [record["file"]["filename"] for record in store.values("file")] == ["ok.bin"]
    assert len(store.content._items) == 1  # nothing kept of the refused ones


def test_faults_and_the_journal_cover_files(client, server, http):
    with pytest.raises(openai.InternalServerError):
        client.files.create(file=("a.txt", b"x"), purpose="assistants", extra_headers={"X-Mock-Fault": "500"})
    created = client.files.create(file=("a.txt", b"0123456789" * 1000), purpose="assistants")
    sliced = http.get(f"/v1/files/{created.id}/content", headers={"X-Mock-Fault": "slicer; slice_bytes=4096; slice_delay_ms=1"})
    assert sliced.status_code == 200 and sliced.content == b"0123456789" * 1000
    with pytest.raises(httpx.HTTPError):
        http.get(f"/v1/files/{created.id}/content", headers={"X-Mock-Fault": "limit_data; bytes=100"}).read()
    entries = [e for e in server.runtime.journal.entries() if e.operation and e.operation.startswith("files.")]
    assert {"files.create", "files.content"} <= {e.operation for e in entries}
    assert any(e.fault and e.status == 500 for e in entries)


def test_lenient_answers_unknown_ids_with_a_stand_in(make_server):
    running = make_server(lenient=True)
    client = sdk(running)
    stand_in = client.files.retrieve("file-unknown")
    assert (stand_in.id, stand_in.object, stand_in.status) == ("file-unknown", "file", "processed")
    assert client.files.content("file-unknown").content == b"mockserver stand-in file\n"
    assert client.files.delete("file-unknown").deleted is True
    holds("files.create.response", httpx.get(f"{running.url}/files/file-unknown").json(), FileObject)


def test_reset_clears_content(make_server):
    running = make_server()
    client = sdk(running)
    big = client.files.create(file=("big.bin", os.urandom(SPILL_BYTES + 10)), purpose="assistants")
    small = client.files.create(file=("small.bin", b"x"), purpose="assistants")
    assert running.runtime.store.content.size(big.id) == SPILL_BYTES + 10
    running.reset()
    for file in (big, small):
        with pytest.raises(openai.NotFoundError):
            client.files.content(file.id)
    assert running.runtime.store.content._items == {}


# --- state that outlives the server ------------------------------------------------------


def test_files_survive_a_restart(tmp_path):
    path = tmp_path / "state.db"
    data = os.urandom(SPILL_BYTES * 2)
    with RunningServer(Config(state=path)) as first:
        client = sdk(first)
        kept = client.files.create(file=("kept.bin", data), purpose="assistants")
        gone = client.files.create(file=("gone.bin", b"bye"), purpose="assistants")
        client.files.delete(gone.id)
    assert sorted(p.name for p in (tmp_path / "state.db.files").iterdir()) == [kept.id]
    with RunningServer(Config(state=path)) as second:
        client = sdk(second)
        assert client.files.retrieve(kept.id) == kept
        assert client.files.content(kept.id).content == data
        with pytest.raises(openai.NotFoundError):
            client.files.content(gone.id)
        client.files.delete(kept.id)
    assert list((tmp_path / "state.db.files").iterdir()) == []


def test_what_a_crash_leaves_is_swept_at_start_up(tmp_path):
    path = tmp_path / "state.db"
    store = SQLiteStore(path)
    with store.content.open_writer("file-kept") as writer:
        writer.write(b"kept")
    store.put("file", "file-kept", {"file": files.records.file_object("file-kept", "user_data", "k", 4, 1), "clock": ["x", 0]})
    with store.content.open_writer("file-orphan") as writer:  # content whose record never came
        writer.write(b"orphan")
    store.content.open_writer("file-partial").write(b"half")  # a write that never finished
    store.close()
    (tmp_path / "state.db.files" / "stray").write_bytes(b"?")
    store = SQLiteStore(path)
    assert sorted(p.name for p in (tmp_path / "state.db.files").iterdir()) == ["file-kept"]
    assert store.content.read("file-kept") == b"kept" and store.content.size("file-orphan") is None
    store.close()


def test_files_survive_a_kill(tmp_path):
    """Every acknowledged upload is on disk, bytes and all: kill -9 mid-load, restart, all there."""
    path = tmp_path / "state.db"
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def start() -> subprocess.Popen:
        return serve(port, "--state", str(path))

    server = start()
    try:
        acknowledged = {}
        with httpx.Client(base_url=base, timeout=10) as session:
            for n in range(25):
                data = os.urandom(100 + n * 50_000)
                answer = session.post("/v1/files", files={"file": (f"f{n}.bin", data)}, data={"purpose": "assistants"})
                acknowledged[answer.json()["id"]] = hashlib.sha256(data).hexdigest()
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        server = start()
        with httpx.Client(base_url=base, timeout=10) as session:
            for file_id, digest in acknowledged.items():
                assert hashlib.sha256(session.get(f"/v1/files/{file_id}/content").content).hexdigest() == digest
            assert len(session.get("/v1/files").json()["data"]) == 25
    finally:
        server.kill()
        server.wait()


def test_a_version_1_state_file_is_migrated(tmp_path):
    """A file written before files existed (state version 1) opens: migrated to version 2
    (the `contents` table added), every object kept, files then stored in it."""
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE objects (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, id TEXT NOT NULL,"
                   " body BLOB NOT NULL, UNIQUE (kind, id))")
        db.execute("INSERT INTO objects (kind, id, body) VALUES ('conversation', 'conv_1', ?)",
                   (b'{"conversation": {"id": "conv_1"}, "items": []}',))
        db.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
        db.execute("PRAGMA user_version = 1")
    db.close()
    with RunningServer(Config(state=path)) as running:
        client = sdk(running)
        assert client.conversations.retrieve("conv_1").id == "conv_1"
        created = client.files.create(file=("a.txt", b"abc"), purpose="assistants")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION == 2
        assert db.execute("SELECT id, bytes FROM contents").fetchall() == [(created.id, 3)]
    db.close()


# --- the content store, for Batches ----------------------------------------------------


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_content_store_for_batches(tmp_path, backend):
    store = MemoryStore() if backend == "memory" else SQLiteStore(tmp_path / "state.db")
    runtime = type("R", (), {})()
    runtime.store, runtime.ids, runtime.run_id = store, __import__("mockserver.ids").ids.Ids(0), "run"
    runtime.clock = type("C", (), {"now": staticmethod(lambda: 0.0)})()
    try:
        # Reading an input file's lines as a stream (CRLF, a last line without newline, blanks kept).
        body = b'{"custom_id": "1"}\r\n\n' + b'{"custom_id": "2", "pad": "' + b"x" * (3 << 20) + b'"}\n{"custom_id": "3"}'
        with files.create_file(runtime, purpose="batch", filename="input.jsonl") as source:
            for start in range(0, len(body), 100_000):
                source.append(body[start:start + 100_000])
        lines = list(files.lines(runtime, source.file["id"]))
        assert [len(line) for line in lines] == [18, 0, len(body.split(b"\n")[2]), 18]
        assert lines[0] == b'{"custom_id": "1"}' and lines[3] == b'{"custom_id": "3"}'
        # Writing an output file line by line as results come.
        with files.create_file(runtime, purpose="batch_output", filename="batch_x_output.jsonl") as out:
            for n in range(1000):
                out.append(b'{"id": "batch_req_%d"}\n' % n)
        assert out.file["purpose"] == "batch_output" and out.file["bytes"] == out.size
        assert out.file["expires_at"] is None and list(out.file) == FILE_KEYS
        assert len(list(files.lines(runtime, out.file["id"]))) == 1000
        assert files.load_file(runtime, out.file["id"]) == out.file
        # An aborted writer leaves nothing.
        with pytest.raises(RuntimeError):
            with files.create_file(runtime, purpose="batch_output", filename="err.jsonl") as failing:
                failing.append(b"partial\n")
                raise RuntimeError("the batch failed")
        assert files.load_file(runtime, failing.id) is None and store.content.size(failing.id) is None
        with pytest.raises(KeyError):
            list(files.lines(runtime, "file-missing"))
        # Deleting the record deletes the content.
        assert store.delete("file", out.file["id"]) and store.content.size(out.file["id"]) is None
    finally:
        store.close()


def test_memory_content_spills_to_a_temporary_file_and_evicts_with_its_record():
    store = MemoryStore(max_objects=2)
    for name, size in (("file-small", 10), ("file-large", SPILL_BYTES + 1)):
        with store.content.open_writer(name) as writer:
            writer.write(b"z" * size)
        store.put("file", name, {"file": {}, "clock": ["r", 0]})
    assert isinstance(store.content._items["file-small"], bytes)
    assert not isinstance(store.content._items["file-large"], bytes)  # an anonymous temporary file
    with store.content.open_reader("file-large") as reader:
        store.put("response", "resp_1", {})  # evicts file-small; then the large one goes while being read
        store.put("response", "resp_2", {})
        assert store.content.size("file-small") is None and store.content.size("file-large") is None
        assert len(reader.read()) == SPILL_BYTES + 1  # a reader keeps what it opened


# --- contracts against the official spec -----------------------------------------------

SPEC_OPERATIONS = {
    "files.create.response": ("/files", "post", "200", "application/json"),
    "files.list.response": ("/files", "get", "200", "application/json"),
    "files.delete.response": ("/files/{file_id}", "delete", "200", "application/json"),
    "uploads.create.request": ("/uploads", "post", "request", "application/json"),
    "uploads.create.response": ("/uploads", "post", "200", "application/json"),
    "uploads.complete.request": ("/uploads/{upload_id}/complete", "post", "request", "application/json"),
    "uploads.parts.create.response": ("/uploads/{upload_id}/parts", "post", "200", "application/json"),
}
# Differences from the official spec, each for a reason (as tests/test_contracts.py keeps them).
SPEC_ALLOWED = {
    "files.create.response": {
        "expires_at: required by ours, optional in spec": "every recorded file object carries it (null when unset)",
        "status_details: required by ours, optional in spec": "every recorded file object carries it (null)",
        "purpose: enum values only in ours: ['evals']": "an `evals` file is answered with its upload purpose",
    },
    "files.list.response": {
        "data[].expires_at: required by ours, optional in spec": "as files.create.response",
        "data[].status_details: required by ours, optional in spec": "as files.create.response",
        "data[].purpose: enum values only in ours: ['evals']": "as files.create.response",
        "object: enum ['list'] only in ours": "a list is `object: list`, as every cursor list answers (the spec: a string)",
    },
    "uploads.create.request": {
        "purpose: enum values only in ours: ['evals', 'user_data']":
            "the SDK's FilePurpose is newer than the spec's CreateUploadRequest",
    },
    "uploads.create.response": {
        "file.expires_at: required by ours, optional in spec": "as files.create.response",
        "file.status_details: required by ours, optional in spec": "as files.create.response",
        "file.purpose: enum values only in ours: ['evals']": "as files.create.response",
        "object: required by ours, optional in spec": "the SDK's Upload requires it; every recorded upload has it",
    },
}


@pytest.mark.parametrize("name", sorted(SPEC_OPERATIONS))
def test_files_contracts_agree_with_the_official_spec(name):
    agrees_with_spec(name, SPEC_OPERATIONS[name], SPEC_ALLOWED.get(name, {}))
