"""Uploads through the official SDK: parts (in parallel), completion into a file (in the
order given, md5 checked), cancel, expiry on the clock, `upload_file_chunked` end to end,
and the real errors for bad input, never a 500."""

from __future__ import annotations

import asyncio
import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest
from openai.types import FileObject, Upload
from openai.types.uploads import UploadPart

from mockserver import Config

from .support.server import RunningServer
from .support.families import holds, sdk

UPLOAD_KEYS = ["id", "object", "bytes", "created_at", "filename", "purpose", "status", "expires_at"]
MiB = 1 << 20


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert list(body) == ["error", "detail"] and body["detail"]["message"] == body["error"]["message"], body
    holds("error.response", body)
    return body["error"]


def test_create_add_parts_complete_as_recorded(http):
    created = http.post("/v1/uploads", json={"purpose": "fine-tune", "filename": "train.jsonl", "bytes": 8,
                                             "mime_type": "text/jsonl"})
    assert created.status_code == 200, created.text
    upload = created.json()
    assert list(upload) == UPLOAD_KEYS and upload["status"] == "pending"
    assert upload["id"].startswith("upload_") and len(upload["id"]) == 39 and upload["id"][19:23] == "8191"
    assert int(upload["id"][7:15], 16) == upload["created_at"] and upload["expires_at"] == upload["created_at"] + 3600
    assert "openai-organization" in created.headers and "access-control-expose-headers" not in created.headers
    holds("uploads.create.response", upload, Upload)
    parts = []
    for data in (b"abcd", b"efgh"):
        answer = http.post(f"/v1/uploads/{upload['id']}/parts", files={"data": ("blob", data)})
        assert answer.status_code == 200, answer.text
        part = answer.json()
        assert list(part) == ["id", "object", "created_at", "upload_id"] and part["upload_id"] == upload["id"]
        assert part["id"].startswith("part_") and len(part["id"]) == 37
        holds("uploads.parts.create.response", part, UploadPart)
        parts.append(part["id"])
    done = http.post(f"/v1/uploads/{upload['id']}/complete", json={"part_ids": parts})
    assert done.status_code == 200, done.text
    completed = done.json()
    assert list(completed) == UPLOAD_KEYS + ["file"] and completed["status"] == "completed"
    holds("uploads.create.response", completed, Upload)
    file = completed["file"]
    assert (file["bytes"], file["filename"], file["purpose"]) == (8, "train.jsonl", "fine-tune")
    assert file["created_at"] == upload["created_at"] and file["expires_at"] is None  # as recorded
    holds("files.create.response", file, FileObject)
    assert http.get(f"/v1/files/{file['id']}/content").content == b"abcdefgh"
    again = http.post(f"/v1/uploads/{upload['id']}/complete", json={"part_ids": parts})
    assert again.status_code == 400 and error_of(again)["message"] == f"Upload {upload['id']} is already completed."


def test_parts_in_parallel_are_assembled_in_the_order_given(client):
    pieces = [os.urandom(200_000 + n) for n in range(8)]
    upload = client.uploads.create(bytes=sum(map(len, pieces)), filename="p.bin", mime_type="application/octet-stream",
                                   purpose="assistants")
    with ThreadPoolExecutor(4) as pool:
        parts = list(pool.map(lambda data: client.uploads.parts.create(upload_id=upload.id, data=data), pieces))
    order = [3, 0, 7, 1, 6, 2, 5, 4]
    whole = b"".join(pieces[n] for n in order)
    done = client.uploads.complete(upload_id=upload.id, part_ids=[parts[n].id for n in order],
                                   md5=hashlib.md5(whole).hexdigest())
    assert done.status == "completed" and done.file.bytes == len(whole)
    assert client.files.content(done.file.id).content == whole


def test_parts_in_parallel_with_the_async_client(async_client):
    async def run() -> bytes:
        pieces = [bytes([n]) * 50_000 for n in range(6)]
        upload = await async_client.uploads.create(bytes=300_000, filename="a.jsonl", mime_type="text/jsonl",
                                                   purpose="batch")
        parts = await asyncio.gather(*(async_client.uploads.parts.create(upload_id=upload.id, data=p) for p in pieces))
        done = await async_client.uploads.complete(upload_id=upload.id, part_ids=[p.id for p in parts])
        assert done.file.purpose == "batch" and done.file.expires_at - done.file.created_at == 2592000
        return (await async_client.files.content(done.file.id)).content

    assert asyncio.run(run()) == b"".join(bytes([n]) * 50_000 for n in range(6))


def test_upload_file_chunked_end_to_end(client, tmp_path):
    data = os.urandom(3 * MiB + 12345)
    path = tmp_path / "training.jsonl"
    path.write_bytes(data)
    done = client.uploads.upload_file_chunked(file=path, mime_type="text/jsonl", purpose="fine-tune",
                                              part_size=MiB, md5=hashlib.md5(data).hexdigest())
    assert done.status == "completed" and done.filename == "training.jsonl" and done.file.bytes == len(data)
    assert client.files.content(done.file.id).content == data
    in_memory = client.uploads.upload_file_chunked(file=data[:1000], filename="m.txt", bytes=1000,
                                                   mime_type="text/plain", purpose="assistants")
    assert client.files.content(in_memory.file.id).content == data[:1000]


def test_the_sdk_default_part_size_is_accepted_and_one_byte_more_is_not(make_server):
    """64 MiB is the SDK's part size (DEFAULT_PART_SIZE) and the limit: exactly that is taken."""
    running = make_server()
    client = sdk(running)
    size = 64 * MiB
    upload = client.uploads.create(bytes=size, filename="big.bin", mime_type="application/octet-stream",
                                   purpose="assistants")
    data = b"\x5a" * size
    part = client.uploads.parts.create(upload_id=upload.id, data=data)
    with pytest.raises(openai.APIStatusError) as caught:
        client.uploads.parts.create(upload_id=upload.id, data=data + b"!")
    assert caught.value.status_code == 413
    assert caught.value.body["message"] == "Part too large. The maximum part size is 67108864 bytes (64 MB)."
    done = client.uploads.complete(upload_id=upload.id, part_ids=[part.id])
    assert done.file.bytes == size


def test_a_part_over_the_limit_is_refused_while_streaming(make_server):
    running = make_server(max_upload_part_bytes=1000)
    client = sdk(running)
    upload = client.uploads.create(bytes=5000, filename="a.txt", mime_type="text/plain", purpose="assistants")

    def chunked():
        yield b'--b\r\nContent-Disposition: form-data; name="data"; filename="blob"\r\n\r\n'
        for _ in range(10):
            yield b"x" * 500
        yield b"\r\n--b--\r\n"

    answer = httpx.post(f"{running.url}/uploads/{upload.id}/parts", content=chunked(),
                        headers={"content-type": "multipart/form-data; boundary=b"})
    assert answer.status_code == 413 and error_of(answer)["code"] == "request_too_large"
    assert running.runtime.store.content._items == {}  # nothing kept of it


def test_md5_byte_count_and_part_ids_are_checked(client, http):
    upload = client.uploads.create(bytes=6, filename="a.txt", mime_type="text/plain", purpose="assistants")
    first = client.uploads.parts.create(upload_id=upload.id, data=b"abc")
    second = client.uploads.parts.create(upload_id=upload.id, data=b"def")
    other = client.uploads.create(bytes=3, filename="b.txt", mime_type="text/plain", purpose="assistants")
    foreign = client.uploads.parts.create(upload_id=other.id, data=b"xyz")
    cases = [
        ({"part_ids": [first.id]}, "The parts hold 3 bytes in all, but the upload was created for 6 bytes.", "part_ids"),
        ({"part_ids": [first.id, "part_nope"]}, f"Part part_nope does not belong to upload {upload.id}.", "part_ids[1]"),
        ({"part_ids": [first.id, foreign.id]}, f"Part {foreign.id} does not belong to upload {upload.id}.", "part_ids[1]"),
        ({"part_ids": [first.id, second.id], "md5": "0" * 32},
         (f"The md5 checksum of the parts ({hashlib.md5(b'abcdef').hexdigest()}) does not match the md5 given "
          f"({'0' * 32})."), "md5"),
        ({"part_ids": "abc"}, "Invalid type for 'part_ids': expected an array of strings, but got a string instead.",
         "part_ids"),
        ({}, "Missing required parameter: 'part_ids'.", "part_ids"),
    ]
    for body, message, param in cases:
        answer = http.post(f"/v1/uploads/{upload.id}/complete", json=body)
        assert answer.status_code == 400, answer.text
        error = error_of(answer)
        assert (error["message"], error["param"]) == (message, param), body
    done = client.uploads.complete(upload_id=upload.id, part_ids=[second.id, first.id],
                                   md5=hashlib.md5(b"defabc").hexdigest())
    assert client.files.content(done.file.id).content == b"defabc"


def test_cancel(client, http):
    upload = client.uploads.create(bytes=3, filename="a.txt", mime_type="text/plain", purpose="assistants")
    part = client.uploads.parts.create(upload_id=upload.id, data=b"abc")
    cancelled = http.post(f"/v1/uploads/{upload.id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert list(cancelled.json()) == UPLOAD_KEYS
    holds("uploads.create.response", cancelled.json(), Upload)
    for path, kwargs in (("parts", {"files": {"data": ("b", b"x")}}), ("complete", {"json": {"part_ids": [part.id]}}),
                         ("cancel", {})):
        answer = http.post(f"/v1/uploads/{upload.id}/{path}", **kwargs)
        assert answer.status_code == 400 and error_of(answer)["message"] == f"Upload {upload.id} was cancelled."


def test_an_upload_expires_an_hour_on_the_clock(make_server):
    running = make_server(time_scale=0)
    client = sdk(running)
    upload = client.uploads.create(bytes=3, filename="a.txt", mime_type="text/plain", purpose="assistants")
    part = client.uploads.parts.create(upload_id=upload.id, data=b"abc")
    httpx.post(f"{running.origin}/__mock/clock", json={"advance": 3599}).raise_for_status()
    client.uploads.parts.create(upload_id=upload.id, data=b"")  # still pending
    httpx.post(f"{running.origin}/__mock/clock", json={"advance": 1}).raise_for_status()
    expected = f"Upload {upload.id} has expired: an upload must be completed within an hour of its creation."
    for call in (lambda: client.uploads.complete(upload_id=upload.id, part_ids=[part.id]),
                 lambda: client.uploads.parts.create(upload_id=upload.id, data=b"x"),
                 lambda: client.uploads.cancel(upload.id)):
        with pytest.raises(openai.BadRequestError) as caught:
            call()
        assert caught.value.body["message"] == expected
    assert running.runtime.store.content.size(part.id) is None  # an expired upload's parts are dropped


def test_unknown_upload_is_the_404_with_detail(http):
    for path, kwargs in (("parts", {"files": {"data": ("b", b"x")}}), ("complete", {"json": {"part_ids": []}}),
                         ("cancel", {})):
        answer = http.post(f"/v1/uploads/upload_nope/{path}", **kwargs)
        assert answer.status_code == 404
        assert error_of(answer) == {"message": "No such Upload object: upload_nope", "type": "invalid_request_error",
                                    "param": "id", "code": None}


@pytest.mark.parametrize("body, status, message", [
    ({"purpose": "world", "filename": "a", "bytes": 1, "mime_type": "t"}, 400,
     "Invalid value: 'world'. Supported values are: 'assistants', 'batch', 'fine-tune', 'vision', 'user_data', and 'evals'."),
    ({"purpose": "assistants", "filename": "a", "bytes": -1, "mime_type": "t"}, 400,
     "Invalid 'bytes': integer below minimum value. Expected a value >= 0, but got -1 instead."),
    ({"purpose": "assistants", "filename": "a", "bytes": 9 << 30, "mime_type": "t"}, 400,
     "Invalid 'bytes': integer above maximum value. Expected a value <= 8589934592, but got 9663676416 instead."),
    ({"purpose": "assistants", "filename": "a", "mime_type": "t"}, 400, "Missing required parameter: 'bytes'."),
    ({"purpose": "batch", "filename": "a.csv", "bytes": 1, "mime_type": "t"}, 400,
     "Invalid file format for Batch API. Must be .jsonl"),
    ({"purpose": "batch", "filename": "a.jsonl", "bytes": 1, "mime_type": "t",
      "expires_after": {"anchor": "created_at", "seconds": 10}}, 400,
     "Invalid 'expires_after.seconds': integer below minimum value. Expected a value >= 3600, but got 10 instead."),
])
def test_bad_creates_get_the_real_error(http, body, status, message):
    answer = http.post("/v1/uploads", json=body)
    assert answer.status_code == status and error_of(answer)["message"] == message


def test_expires_after_carries_to_the_file(client):
    upload = client.uploads.create(bytes=2, filename="a.txt", mime_type="text/plain", purpose="user_data",
                                   expires_after={"anchor": "created_at", "seconds": 7200})
    part = client.uploads.parts.create(upload_id=upload.id, data=b"hi")
    done = client.uploads.complete(upload_id=upload.id, part_ids=[part.id])
    assert done.file.expires_at == done.file.created_at + 7200


def test_a_missing_data_part_or_a_non_multipart_body(http, client):
    upload = client.uploads.create(bytes=2, filename="a.txt", mime_type="text/plain", purpose="user_data")
    answer = http.post(f"/v1/uploads/{upload.id}/parts", files={"other": ("x", b"y")})
    assert answer.status_code == 400 and error_of(answer)["message"] == "'data' is a required property"
    answer = http.post(f"/v1/uploads/{upload.id}/parts", json={"data": "abc"})
    assert answer.status_code == 400 and error_of(answer)["message"].startswith("Invalid Content-Type header")
    no_filename = http.post(f"/v1/uploads/{upload.id}/parts",  # `data` as a plain field: taken
                            content=b'--b\r\nContent-Disposition: form-data; name="data"\r\n\r\nhi\r\n--b--\r\n',
                            headers={"content-type": "multipart/form-data; boundary=b"})
    assert no_filename.status_code == 200, no_filename.text


def test_uploads_survive_a_restart(tmp_path):
    path = tmp_path / "state.db"
    with RunningServer(Config(state=path)) as first:
        client = sdk(first)
        upload = client.uploads.create(bytes=6, filename="a.txt", mime_type="text/plain", purpose="assistants")
        part = client.uploads.parts.create(upload_id=upload.id, data=b"abc")
    with RunningServer(Config(state=path)) as second:
        client = sdk(second)
        later = client.uploads.parts.create(upload_id=upload.id, data=b"def")
        done = client.uploads.complete(upload_id=upload.id, part_ids=[part.id, later.id])
        assert client.files.content(done.file.id).content == b"abcdef"
    assert sorted(p.name for p in (tmp_path / "state.db.files").iterdir()) == [done.file.id]  # parts dropped


def test_lenient_answers_placeholder_upload_ids(make_server):
    """The SDK's own tests send `upload_abc123` and `part_ids=["string"]`: stand-ins, never stored."""
    running = make_server(lenient=True)
    client = sdk(running)
    part = client.uploads.parts.create(upload_id="upload_abc123", data=b"x")
    assert part.upload_id == "upload_abc123" and part.object == "upload.part"
    assert client.uploads.cancel("upload_abc123").status == "cancelled"
    done = client.uploads.complete(upload_id="upload_abc123", part_ids=["string"], md5="md5")
    assert done.status == "completed" and done.file.object == "file"
    assert list(running.runtime.store.values("upload")) == [] and running.runtime.store.content._items == {}
    real = client.uploads.create(bytes=10, filename="a.txt", mime_type="text/plain", purpose="assistants")
    kept = client.uploads.parts.create(upload_id=real.id, data=b"abc")
    done = client.uploads.complete(upload_id=real.id, part_ids=["string", kept.id], md5="nope")  # checks skipped
    assert client.files.content(done.file.id).content == b"abc"
