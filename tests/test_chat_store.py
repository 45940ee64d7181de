"""Stored chat completions (`store: true`) through the official SDK's `client.chat.completions.*`:
create, retrieve, list (filters, pagination), update, messages, delete; the recorded wire
format (ChatStoreTests/*.json: compact JSON, the stored record's own key order, the 404)."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from openai import OpenAI

# Key orders as recorded (openai-dotnet ChatStoreTests).
STORED_KEYS = [
    "object", "id", "model", "created", "request_id", "tool_choice", "usage", "seed", "top_p", "temperature",
    "presence_penalty", "frequency_penalty", "system_fingerprint", "input_user", "service_tier", "tools",
    "metadata", "choices", "response_format",
]
LIST_KEYS = ["object", "data", "first_id", "last_id", "has_more"]
MESSAGES = [{"role": "user", "content": "Say 'this is a test'."}]


def sdk_for(running) -> OpenAI:
    return OpenAI(base_url=running.url, api_key="sk-test", max_retries=0)


def store(client: OpenAI, content: str = "Say 'this is a test'.", **kwargs):
    kwargs.setdefault("model", "gpt-4o-mini")
    return client.chat.completions.create(messages=[{"role": "user", "content": content}], store=True, **kwargs)


def test_create_with_store_then_retrieve(client, server):
    created = store(client, metadata={"suite": "chat-store", "case": "retrieve"}, temperature=0.5, seed=7)
    got = client.chat.completions.retrieve(created.id)
    assert got.id == created.id and got.model == created.model and got.created == created.created
    assert got.choices[0].message.content == created.choices[0].message.content
    assert got.choices[0].finish_reason == "stop"
    assert got.metadata == {"suite": "chat-store", "case": "retrieve"}
    assert got.usage.total_tokens == created.usage.total_tokens
    assert got.usage.prompt_tokens == created.usage.prompt_tokens

    raw = httpx.get(f"{server.url}/chat/completions/{created.id}")
    assert raw.status_code == 200 and raw.headers["content-type"] == "application/json"
    assert b"\n" not in raw.content and raw.content.startswith(b'{"object":"chat.completion","id":')  # compact
    body = raw.json()
    assert list(body) == STORED_KEYS
    assert list(body["usage"]) == ["total_tokens", "completion_tokens", "prompt_tokens"]
    assert list(body["choices"][0]) == ["index", "message", "finish_reason", "logprobs"]
    assert list(body["choices"][0]["message"]) == ["content", "role", "tool_calls", "function_call"]
    assert body["request_id"].startswith("req_") and len(body["request_id"]) == 36
    assert body["temperature"] == 0.5 and body["seed"] == 7 and b'"top_p":1.0' in raw.content
    assert body["tool_choice"] is None and body["tools"] is None and body["response_format"] is None
    # The same answer under Azure OpenAI's /openai/v1 prefix.
    assert httpx.get(f"{server.origin}/openai/v1/chat/completions/{created.id}").json()["id"] == created.id


def test_without_store_nothing_is_kept(client):
    for kwargs in ({}, {"store": False}):
        created = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **kwargs)
        with pytest.raises(openai.NotFoundError) as caught:
            client.chat.completions.retrieve(created.id)
        assert caught.value.code == "not_found" and caught.value.param == "completion_id"


def test_delete_then_404(client, server):
    created = store(client)
    deleted = client.chat.completions.delete(created.id)
    assert deleted.id == created.id and deleted.deleted is True and deleted.object == "chat.completion.deleted"
    raw = httpx.delete(f"{server.url}/chat/completions/{created.id}")
    assert raw.status_code == 404  # already gone

    missing = httpx.get(f"{server.url}/chat/completions/{created.id}")
    assert missing.status_code == 404
    assert missing.json() == {"error": {
        "message": f"Completion {created.id} not found", "type": "invalid_request_error",
        "param": "completion_id", "code": "not_found",
    }}
    assert missing.content.startswith(b'{\n  "error": {') and not missing.content.endswith(b"\n")  # indent-2, as recorded
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.retrieve(created.id)
    assert caught.value.code == "not_found" and caught.value.param == "completion_id"
    assert caught.value.body["message"] == f"Completion {created.id} not found"
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.messages.list(created.id)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.update(created.id, metadata={"a": "b"})


def test_deleted_body_as_recorded(client, server):
    created = store(client)
    raw = httpx.delete(f"{server.url}/chat/completions/{created.id}")
    assert raw.content == b'{"object":"chat.completion.deleted","id":"%s","deleted":true}' % created.id.encode()


def test_update_replaces_metadata(client):
    created = store(client, metadata={"kept": "no", "key": "initial"})
    updated = client.chat.completions.update(created.id, metadata={"key": "updated", "updated_by": "test"})
    assert updated.id == created.id and updated.metadata == {"key": "updated", "updated_by": "test"}
    assert client.chat.completions.retrieve(created.id).metadata == {"key": "updated", "updated_by": "test"}
    assert client.chat.completions.update(created.id, metadata=None).metadata == {}


def test_update_with_bad_metadata_is_400(client, server):
    created = store(client)
    for metadata in ("not an object", 3, ["a"]):
        raw = httpx.post(f"{server.url}/chat/completions/{created.id}", json={"metadata": metadata})
        assert raw.status_code == 400, raw.text
        error = raw.json()["error"]
        assert error["param"] == "metadata" and error["type"] == "invalid_request_error"
    too_many = {f"k{i}": "v" for i in range(17)}
    assert httpx.post(f"{server.url}/chat/completions/{created.id}", json={"metadata": too_many}).status_code == 400
    assert httpx.post(f"{server.url}/chat/completions/{created.id}", json={"metadata": {}, "extra": 1}).status_code == 400
    assert httpx.post(f"{server.url}/chat/completions/{created.id}", content=b"{nope",
                      headers={"content-type": "application/json"}).status_code == 400
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.update(created.id, metadata={"n": 1})  # values are strings
    assert caught.value.param == "metadata.n"


def test_list_filters_and_pagination(make_server):
    running = make_server()
    client = sdk_for(running)
    ids = [store(client, f"Say {i}", metadata={"group": "even" if i % 2 == 0 else "odd", "n": str(i)}).id for i in range(5)]
    other = store(client, "Say other", model="gpt-4.1-mini").id
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # not stored, never listed
    everything = ids + [other]

    raw = httpx.get(f"{running.url}/chat/completions", params={"limit": 2})
    assert raw.status_code == 200 and b"\n" not in raw.content
    body = raw.json()
    assert list(body) == LIST_KEYS and body["object"] == "list"
    assert [c["id"] for c in body["data"]] == everything[::-1][:2]  # newest first, as recorded
    assert body["first_id"] == other and body["last_id"] == ids[4] and body["has_more"] is True
    assert list(body["data"][0]) == STORED_KEYS

    page = client.chat.completions.list(limit=2)
    assert [c.id for c in page.data] == everything[::-1][:2] and page.has_more is True
    following = client.chat.completions.list(limit=2, after=page.data[-1].id)
    assert [c.id for c in following.data] == everything[::-1][2:4]
    last = client.chat.completions.list(limit=2, after=following.data[-1].id)
    assert [c.id for c in last.data] == everything[::-1][4:] and last.has_more is False
    # The SDK's auto-pagination walks every page.
    assert [c.id for c in client.chat.completions.list(limit=2)] == everything[::-1]
    assert [c.id for c in client.chat.completions.list(order="asc")] == everything
    assert [c.id for c in client.chat.completions.list(limit=4, order="asc", after=ids[1])] == everything[2:]

    # Filters: the model named in the request (or the snapshot answered), and every metadata pair.
    assert [c.id for c in client.chat.completions.list(model="gpt-4.1-mini")] == [other]
    snapshot = client.chat.completions.retrieve(ids[0]).model
    assert [c.id for c in client.chat.completions.list(model=snapshot, order="asc")] == ids
    assert [c.id for c in client.chat.completions.list(model="gpt-4o-mini", order="asc")] == ids
    assert [c.id for c in client.chat.completions.list(metadata={"group": "even"}, order="asc")] == ids[0::2]
    assert [c.id for c in client.chat.completions.list(metadata={"group": "odd", "n": "3"})] == [ids[3]]
    assert list(client.chat.completions.list(metadata={"group": "none"})) == []
    assert [c.id for c in client.chat.completions.list(metadata={"group": "even"}, limit=1)] == ids[0::2][::-1]
    empty = httpx.get(f"{running.url}/chat/completions", params={"model": "gpt-5"}).json()
    assert empty == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}

    client.chat.completions.delete(ids[0])
    assert ids[0] not in [c.id for c in client.chat.completions.list()]


def test_bad_list_query_is_400(client, server):
    created = store(client)
    cases = [
        ("/chat/completions", {"limit": 0}, "limit"),
        ("/chat/completions", {"limit": 101}, "limit"),
        ("/chat/completions", {"limit": "ten"}, "limit"),
        ("/chat/completions", {"order": "sideways"}, "order"),
        ("/chat/completions", {"metadata": "plain"}, "metadata"),
        (f"/chat/completions/{created.id}/messages", {"limit": 1000}, "limit"),
        (f"/chat/completions/{created.id}/messages", {"order": "random"}, "order"),
    ]
    for path, params, param in cases:
        raw = httpx.get(server.url + path, params=params)
        assert raw.status_code == 400, (path, params, raw.text)
        assert raw.json()["error"]["param"] == param and raw.json()["error"]["type"] == "invalid_request_error"
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.list(limit=0)
    assert caught.value.param == "limit" and caught.value.code == "integer_below_min_value"
    assert client.chat.completions.list(limit=100).data  # the bounds themselves are fine
    assert client.chat.completions.list(limit=1).data


def test_messages_list(client, server):
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Say 'Hello, this is a test message.'", "name": "tester"},
        {"role": "assistant", "content": "Hello, this is a test message."},
        {"role": "user", "content": [{"type": "text", "text": "Again,"}, {"type": "text", "text": "please."}]},
    ]
    created = client.chat.completions.create(model="gpt-4o-mini", messages=messages, store=True)
    raw = httpx.get(f"{server.url}/chat/completions/{created.id}/messages")
    assert raw.status_code == 200 and b"\n" not in raw.content
    body = raw.json()
    assert list(body) == LIST_KEYS and body["has_more"] is False
    assert [m["id"] for m in body["data"]] == [f"{created.id}-{i}" for i in range(4)]
    assert body["first_id"] == f"{created.id}-0" and body["last_id"] == f"{created.id}-3"
    assert list(body["data"][0]) == ["id", "role", "content", "content_parts", "name"]
    assert body["data"][0] == {"id": f"{created.id}-0", "role": "system", "content": "You are terse.",
                               "content_parts": None, "name": None}
    assert body["data"][1]["name"] == "tester"
    assert body["data"][3]["content_parts"] == messages[3]["content"] and body["data"][3]["content"] == "Again,\nplease."

    listed = client.chat.completions.messages.list(created.id)
    assert [m.content for m in listed.data][:3] == [m["content"] for m in messages[:3]]
    first = client.chat.completions.messages.list(created.id, limit=2)
    assert [m.id for m in first.data] == [f"{created.id}-0", f"{created.id}-1"] and first.has_more is True
    assert [m.id for m in client.chat.completions.messages.list(created.id, limit=2, after=first.data[-1].id).data] == [
        f"{created.id}-2", f"{created.id}-3"]
    assert [m.id for m in client.chat.completions.messages.list(created.id, limit=1)] == [f"{created.id}-{i}" for i in range(4)]
    assert [m.id for m in client.chat.completions.messages.list(created.id, order="desc")] == [
        f"{created.id}-{i}" for i in (3, 2, 1, 0)]


def test_streamed_create_with_store_keeps_the_full_text(client, server):
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Tell me a long story about a server."}],
        store=True, stream=True, metadata={"mode": "stream"},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    got = client.chat.completions.retrieve(chunks[0].id)
    assert got.choices[0].message.content == text and got.choices[0].finish_reason == "stop"
    assert got.metadata == {"mode": "stream"}
    # Without include_usage the stream carries none; the stored completion still has it,
    # and it is what the plain answer to the same request counts.
    plain = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Tell me a long story about a server."}], store=True,
    )
    assert plain.choices[0].message.content == text
    assert (got.usage.prompt_tokens, got.usage.completion_tokens) == (plain.usage.prompt_tokens, plain.usage.completion_tokens)
    with_usage = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Count to three."}], store=True, stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(with_usage)
    stored = client.chat.completions.retrieve(chunks[0].id)
    assert stored.usage.total_tokens == chunks[-1].usage.total_tokens
    assert [m.content for m in client.chat.completions.messages.list(chunks[0].id)] == ["Count to three."]


def test_fixture_answers_are_stored(make_server, tmp_path):
    recorded = {"id": "chatcmpl-recorded", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini-2024-07-18",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris.", "refusal": None, "annotations": []},
                             "logprobs": None, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 14, "completion_tokens": 2, "total_tokens": 16}, "service_tier": "default",
                "system_fingerprint": "fp_recorded"}
    chunk = {"id": "chatcmpl-streamed", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
             "choices": [{"index": 0, "delta": {"content": "Hi"}, "logprobs": None, "finish_reason": None}]}
    end = {**chunk, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]}
    (tmp_path / "fixtures.yaml").write_text(
        f"- match: {{message: France}}\n  response:\n    body: {json.dumps(recorded)}\n"
        f"- match: {{message: stream me}}\n  response:\n    stream:\n"
        f"      - {json.dumps(chunk)}\n      - {json.dumps(chunk)}\n      - {json.dumps(end)}\n"
        "- match: {message: Oslo}\n  response: {content: Oslo is in Norway.}\n"
    )
    running = make_server(fixtures=[tmp_path])
    client = sdk_for(running)
    store(client, "What is the capital of France?")
    got = client.chat.completions.retrieve("chatcmpl-recorded")
    assert got.choices[0].message.content == "Paris." and got.system_fingerprint == "fp_recorded"
    assert got.usage.total_tokens == 16 and got.created == 1700000000
    list(client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "stream me"}],
                                        store=True, stream=True))
    assert client.chat.completions.retrieve("chatcmpl-streamed").choices[0].message.content == "HiHi"
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Where is Oslo?"}],
                                            store=True, stream=True)
    streamed_id = [c.id for c in stream][0]
    assert client.chat.completions.retrieve(streamed_id).choices[0].message.content == "Oslo is in Norway."


def test_lenient_answers_an_unknown_id(make_server):
    running = make_server(lenient=True)
    client = sdk_for(running)
    got = client.chat.completions.retrieve("chatcmpl-never-issued")
    assert got.id == "chatcmpl-never-issued" and got.object == "chat.completion"
    assert got.choices[0].message.content and got.usage.total_tokens > 0
    raw = httpx.get(f"{running.url}/chat/completions/chatcmpl-never-issued")
    assert list(raw.json()) == STORED_KEYS
    assert raw.json() == got.model_dump(mode="json", exclude_unset=True)  # the same one, kept
    messages = client.chat.completions.messages.list("chatcmpl-other-unknown")
    assert [m.id for m in messages.data] == ["chatcmpl-other-unknown-0"] and messages.data[0].content
    assert client.chat.completions.update("chatcmpl-third", metadata={"a": "b"}).metadata == {"a": "b"}
    assert client.chat.completions.delete("chatcmpl-fourth").deleted is True


def test_stored_completions_survive_a_restart(make_server, tmp_path):
    state = tmp_path / "state.db"
    first = make_server(state=state)
    created = store(sdk_for(first), metadata={"where": "sqlite"})
    first.stop()
    second = make_server(state=state)
    assert sdk_for(second).chat.completions.retrieve(created.id).metadata == {"where": "sqlite"}


def test_post_still_creates_and_other_methods_are_405(client, server):
    assert httpx.get(f"{server.url}/chat/completions").status_code == 200  # the list, no longer 405
    assert httpx.put(f"{server.url}/chat/completions").status_code == 405
    assert httpx.put(f"{server.url}/chat/completions/chatcmpl-x").status_code == 405
    assert client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES).object == "chat.completion"


# --- the recordings as the oracle ------------------------------------------------------


def shape(value):
    """The key tree of a JSON value (metadata by its keys only: its order is the server's)."""
    if isinstance(value, dict):
        return [(k, sorted(v) if k == "metadata" and isinstance(v, dict) else shape(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__ if value is not None else None


def test_recorded_sessions_replayed_get_the_recorded_shapes(make_server, contracts):
    """Each ChatStoreTests session replayed in order, the fake's ids in place of the recorded
    ones: same status (but for the real API's 404s right after create, its eventual
    consistency) and the same key tree at every level, bodies compact as recorded."""
    from openai.types.chat import ChatCompletion

    from .support.recorded import all_recorded

    sessions: dict[str, list] = {}
    for item in all_recorded():
        if "ChatStoreTests/" in item.source:
            sessions.setdefault(item.source, []).append(item)
    assert len(sessions) >= 4
    running = make_server()
    for source, items in sessions.items():
        ids: dict[str, str] = {}
        answered: set[str] = set()  # ids the real API has answered 200 for
        for item in items:
            path = item.path
            for recorded_id, ours in ids.items():
                path = path.replace(recorded_id, ours)
            url = running.origin + path + (f"?{httpx.QueryParams(item.query)}" if item.query else "")
            answer = httpx.request(item.method, url, json=item.request_body if item.method == "POST" else None,
                                   headers={"authorization": "Bearer sk-replay"})
            where = f"{source}#{item.index} {item.method} {item.path}"
            target = item.path.rsplit("/chat/completions", 1)[1].strip("/").split("/")[0]
            if item.status == 404 and target not in answered:
                assert answer.status_code == 200, where  # the real API had not caught up yet; the fake has
                continue
            assert answer.status_code == item.status, (where, answer.text)
            if item.method == "POST" and item.path.endswith("/chat/completions"):
                ids[item.response_json["id"]] = answer.json()["id"]
                continue
            answered.add(target)
            if item.status == 404:
                expected = item.response_json["error"]["message"].replace(target, ids.get(target, target))
                assert answer.json()["error"] == {**item.response_json["error"], "message": expected}, where
                assert len(answer.content) == len(json.dumps(answer.json(), indent=2)), where
                continue
            assert b"\n" not in answer.content, where
            assert shape(answer.json()) == shape(item.response_json), where
            if "/messages" not in item.path and item.method == "GET":
                for completion in item.response_json.get("data") or [item.response_json]:
                    assert contracts.problems("chat.completions.create.response", completion) == [], where
                    ChatCompletion.model_validate(completion)
    assert contracts.problems("chat.completions.list.response", next(
        i.response_json for s in sessions.values() for i in s if i.method == "GET" and i.path.endswith("/chat/completions"))) == []
