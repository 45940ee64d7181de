"""The Conversations API through the official SDK, and responses that live in a
conversation: items appended, read back newest first, shared ids, the real 404s."""

from __future__ import annotations

import openai
import pytest


def test_conversation_lifecycle(client, http):
    conversation = client.conversations.create(
        metadata={"topic": "test"}, items=[{"type": "message", "role": "system", "content": "You are helpful."}]
    )
    assert conversation.id.startswith("conv_") and len(conversation.id) == 53 and conversation.object == "conversation"
    assert conversation.metadata == {"topic": "test"}
    assert client.conversations.retrieve(conversation.id).created_at == conversation.created_at
    assert client.conversations.update(conversation.id, metadata={"stage": "two"}).metadata == {"stage": "two"}
    raw = http.get(f"/v1/conversations/{conversation.id}")
    assert raw.text.startswith('{\n  "id": "conv_') and list(raw.json()) == ["id", "object", "created_at", "metadata"]
    deleted = client.conversations.delete(conversation.id)
    assert deleted.deleted is True and deleted.object == "conversation.deleted"
    with pytest.raises(openai.NotFoundError) as caught:
        client.conversations.retrieve(conversation.id)
    assert caught.value.body["message"] == f"Conversation with id '{conversation.id}' not found."


def test_responses_in_a_conversation(client):
    conversation = client.conversations.create(items=[{"type": "message", "role": "system", "content": "Be brief."}])
    first = client.responses.create(model="gpt-4o-mini", input="Tell me a joke.", conversation=conversation.id)
    assert first.conversation.id == conversation.id and first.previous_response_id is None
    assert first.id[5:21] == conversation.id[-16:]  # responses in a conversation share its shard
    items = client.conversations.items.list(conversation.id)
    assert [(item.type, item.role) for item in items.data] == [("message", "assistant"), ("message", "user"), ("message", "system")]
    assert items.data[0].content[0].text == first.output_text
    second = client.responses.create(model="gpt-4o-mini", input="Another.", conversation={"id": conversation.id})
    texts = [item.content[0].text for item in client.conversations.items.list(conversation.id, order="asc")]
    assert texts == ["Be brief.", "Tell me a joke.", first.output_text, "Another.", second.output_text]
    # The second response saw the first turn: its prompt is longer by it.
    assert second.usage.input_tokens > first.usage.input_tokens


def test_conversation_items(client):
    conversation = client.conversations.create()
    added = client.conversations.items.create(conversation.id, items=[
        {"type": "message", "role": "user", "content": "first"},
        {"type": "message", "role": "user", "content": "second"},
    ])
    assert [item.content[0].text for item in added.data] == ["first", "second"]
    item_id = added.data[1].id
    assert item_id.endswith(conversation.id[-16:])
    assert client.conversations.items.retrieve(item_id, conversation_id=conversation.id).content[0].text == "second"
    page = client.conversations.items.list(conversation.id, limit=1)
    assert page.data[0].id == item_id and page.has_more
    assert [item.content[0].text for item in client.conversations.items.list(conversation.id, limit=1)] == ["second", "first"]
    after_delete = client.conversations.items.delete(item_id, conversation_id=conversation.id)
    assert after_delete.id == conversation.id
    with pytest.raises(openai.NotFoundError):
        client.conversations.items.retrieve(item_id, conversation_id=conversation.id)


def test_unknown_conversation_and_mutual_exclusion(client):
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="gpt-4o-mini", input="hi", conversation="conv_missing")
    first = client.responses.create(model="gpt-4o-mini", input="hi")
    conversation = client.conversations.create()
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="gpt-4o-mini", input="hi", previous_response_id=first.id, conversation=conversation.id)
    assert caught.value.body["code"] == "mutually_exclusive_parameters"


def test_bad_conversation_input(http):
    answer = http.post("/v1/conversations", json={"items": "not a list"})
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "items"
    answer = http.post("/v1/conversations", json={"bogus": 1})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "unknown_parameter"
    answer = http.get("/v1/conversations/conv_x/items?limit=0")
    assert answer.status_code in (400, 404)
