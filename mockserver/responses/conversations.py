"""/v1/conversations: create, retrieve, update, delete, and their items; a response
created with `conversation` reads the items and appends its input and output.

A conversation is one record (`kind` "conversation"): the object as answered and its
items, oldest first. Ids as recorded: `conv_` + the creation time (8 hex), 24 random
hex, then a 16-hex shard that the responses in the conversation begin with.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import time
from typing import Any

from .. import errors
from ..ids import rng_for
from ..routing import Operation
from ..state import page, record_shape
from ..wire import Exchange, Reply
from . import plan
from ..api.common import delete_stored, list_query

# A stored item (a conversation's, or a stored response's input or output) as the handlers
# read it back: an object; a tool call's `call_id` a scalar (the calls are gathered in a set).
ITEM_SHAPE = {"type": "object", "properties": {"call_id": {"type": ["string", "number", "boolean", "null"]}}}
# A stored conversation, as far as these handlers read it (state/store.py, `record_shape`).
KIND = record_shape("conversation", {
    "type": "object",
    "required": ["conversation", "items"],
    "properties": {"conversation": {"type": "object"}, "items": {"type": "array", "items": ITEM_SHAPE}},
})


def not_found(conversation_id: str) -> errors.OpenAIError:
    return errors.OpenAIError(404, f"Conversation with id '{conversation_id}' not found.")


def shard_of(conversation_id: str) -> str:
    """The 16 hex an issued id ends with; for any other id (`--lenient` takes any), 16 hex
    derived from it, so the ids made from it stay well formed."""
    shard = conversation_id[-16:]
    if len(shard) == 16 and all(c in "0123456789abcdef" for c in shard):
        return shard
    return hashlib.blake2b(conversation_id.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def item_maker(shard: str, rng: random.Random):
    """Ids for items added through these endpoints: time first, shard last (as recorded)."""
    created = int(time.time())
    return lambda prefix: f"{prefix}_{created & 0xFFFFFFFF:08x}{rng.getrandbits(96):024x}{shard}"


def load(ex: Exchange, conversation_id: str) -> dict:
    record = ex.runtime.store.get(KIND, conversation_id)
    if record is None:
        if not ex.runtime.config.lenient:
            raise not_found(conversation_id)
        # `--lenient`: an id the fake never issued is an empty conversation, kept from now on.
        record = {"conversation": {"id": conversation_id, "object": "conversation", "created_at": int(time.time()),
                                   "metadata": {}}, "items": []}
        ex.runtime.store.put(KIND, conversation_id, record)
    return record


async def create(ex: Exchange) -> Reply:
    body = ex.body if isinstance(ex.body, dict) else {}
    rng = rng_for(ex.runtime.ids.make("", 16), "conversation")
    created_at = int(time.time())
    shard = f"{rng.getrandbits(64):016x}"
    conversation_id = f"conv_{created_at & 0xFFFFFFFF:08x}{rng.getrandbits(96):024x}{shard}"
    items = plan.input_items(body.get("items") or [], item_maker(shard, rng))
    conversation = {"id": conversation_id, "object": "conversation", "created_at": created_at,
                    "metadata": body.get("metadata") or {}}
    ex.runtime.store.put(KIND, conversation_id, {"conversation": conversation, "items": items})
    return Reply.pretty(conversation)


async def retrieve(ex: Exchange) -> Reply:
    return Reply.pretty(load(ex, ex.path_params["conversation_id"])["conversation"])


async def update(ex: Exchange) -> Reply:
    """The metadata is replaced, not merged (as recorded)."""
    conversation_id = ex.path_params["conversation_id"]
    record = load(ex, conversation_id)
    record["conversation"]["metadata"] = ex.body.get("metadata") or {}
    ex.runtime.store.put(KIND, conversation_id, record)
    return Reply.pretty(record["conversation"])


async def delete(ex: Exchange) -> Reply:
    conversation_id = ex.path_params["conversation_id"]
    delete_stored(ex, KIND, conversation_id, not_found)
    return Reply.pretty({"id": conversation_id, "object": "conversation.deleted", "deleted": True})


async def add_items(ex: Exchange) -> Reply:
    conversation_id = ex.path_params["conversation_id"]
    record = load(ex, conversation_id)
    rng = rng_for(ex.runtime.ids.make("", 16), "items")
    items = plan.input_items(ex.body.get("items") or [], item_maker(shard_of(conversation_id), rng))
    record["items"].extend(items)
    ex.runtime.store.put(KIND, conversation_id, record)
    return Reply.pretty(page(items, after=None, before=None, limit=len(items) or 1, order="asc", alphabetical=True))


async def list_items(ex: Exchange) -> Reply:
    record = load(ex, ex.path_params["conversation_id"])
    return Reply.pretty(page(record["items"], **list_query(ex), alphabetical=True))


def _item(record: dict, item_id: str) -> tuple[int, dict] | None:
    for index, item in enumerate(record["items"]):
        if item.get("id") == item_id:
            return index, item
    return None


def item_not_found(item_id: str) -> errors.OpenAIError:
    return errors.OpenAIError(404, f"Item with id '{item_id}' not found.")


async def retrieve_item(ex: Exchange) -> Reply:
    """An item of the conversation; under `--lenient` an unknown id is a one-line user
    message, added to the conversation (kept from now on, so it lists and deletes)."""
    conversation_id, item_id = ex.path_params["conversation_id"], ex.path_params["item_id"]
    record = load(ex, conversation_id)
    found = _item(record, item_id)
    if found is not None:
        return Reply.pretty(found[1])
    if not ex.runtime.config.lenient:
        raise item_not_found(item_id)
    item = {"id": item_id, "type": "message", "status": "completed",
            "content": [{"type": "input_text", "text": "Hello."}], "role": "user"}
    record["items"].append(item)
    ex.runtime.store.put(KIND, conversation_id, record)
    return Reply.pretty(item)


async def delete_item(ex: Exchange) -> Reply:
    """Answers with the conversation, as the SDK's types say; under `--lenient` an unknown
    item id deletes fine."""
    conversation_id, item_id = ex.path_params["conversation_id"], ex.path_params["item_id"]
    record = load(ex, conversation_id)
    found = _item(record, item_id)
    if found is None:
        if not ex.runtime.config.lenient:
            raise item_not_found(item_id)
        return Reply.pretty(record["conversation"])
    del record["items"][found[0]]
    ex.runtime.store.put(KIND, conversation_id, record)
    return Reply.pretty(record["conversation"])


# --- what the Responses API uses -------------------------------------------------------


def conversation_id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return value.get("id")
    return None


def history(ex: Exchange, conversation_id: str) -> list[dict]:
    return load(ex, conversation_id)["items"]


def append(ex: Exchange, conversation_id: str, items: list[dict]) -> None:
    record = load(ex, conversation_id)
    record["items"].extend(items)
    ex.runtime.store.put(KIND, conversation_id, record)


_COMMON: dict[str, Any] = dict(unknown_argument="unknown")

OPERATIONS = [
    Operation("conversations.create", "POST", "/conversations", create,
              request_schema="conversations.create.request", **_COMMON),
    Operation("conversations.retrieve", "GET", "/conversations/{conversation_id}", retrieve),
    Operation("conversations.update", "POST", "/conversations/{conversation_id}", update,
              request_schema="conversations.update.request", **_COMMON),
    Operation("conversations.delete", "DELETE", "/conversations/{conversation_id}", delete),
    Operation("conversations.items.create", "POST", "/conversations/{conversation_id}/items", add_items,
              request_schema="conversations.items.create.request", **_COMMON),
    Operation("conversations.items.list", "GET", "/conversations/{conversation_id}/items", list_items),
    Operation("conversations.items.retrieve", "GET", "/conversations/{conversation_id}/items/{item_id}", retrieve_item),
    Operation("conversations.items.delete", "DELETE", "/conversations/{conversation_id}/items/{item_id}", delete_item),
]
# Their error bodies end without a newline (a recorded 404 is 197 bytes: `json.dumps(indent=2)`).
OPERATIONS = [dataclasses.replace(op, error_newline=False) for op in OPERATIONS]
