"""The store's interface, the in-memory backend, and the pagination every list shares."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterator

import jsonschema_rs
import orjson

from ..wire import kept
from .content import ContentStore, MemoryContent


# What each kind's records hold, as the families declare it (`KIND = record_shape(kind,
# schema)`): a small JSON Schema of what their handlers index, compiled once. The SQLite
# backend checks each row it reads against it (a row changed outside mockserver reads as
# absent, never a 500: sqlite.py) and every row at start-up (schema.py). A schema asks only
# what a handler relies on, so whatever the server itself stores (a fixture's body included)
# passes unless a handler could not have read it either.
class Shape:
    __slots__ = ("kind", "schema", "validator")

    def __init__(self, kind: str, schema: dict) -> None:
        self.kind = kind
        self.schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
        self.validator = jsonschema_rs.validator_for(self.schema)

    def accepts(self, value: object) -> bool:
        return isinstance(value, dict) and self.validator.is_valid(value)

    def problem(self, value: object) -> str:
        """Why `value` is refused, in a few words (for the warning; only when it is)."""
        if not isinstance(value, dict):
            return "not a JSON object"
        for error in self.validator.iter_errors(value):
            where = "/" + "/".join(str(step) for step in error.instance_path)
            said = f"at {where}: {error.message}"
            return said if len(said) <= 200 else said[:197] + "..."  # the message quotes the value
        return "valid"


SHAPES: dict[str, Shape] = {}
# Kinds whose records own content (state/content.py) under their own id: a file's bytes, an
# upload part's. Deleting or evicting such a record deletes its content, whichever backend.
CONTENT_KINDS: set[str] = set()


def record_shape(kind: str, schema: dict, *, content: bool = False) -> str:
    """Declare what a stored `kind` holds, as a JSON Schema of the record (an object whose
    `required` keys are its top-level keys); returns the kind (`KIND = record_shape(...)`).
    `content`: each record owns the content stored under its id (deleted with it)."""
    if schema.get("type") != "object":
        raise ValueError(f"the record shape of {kind!r} must be a JSON Schema of type object")
    SHAPES[kind] = Shape(kind, schema)
    if content:
        CONTENT_KINDS.add(kind)
    return kind


def well_formed(kind: str, value: object) -> bool:
    """Whether `value` is a record of `kind` as its family declared it (any object, for a
    kind that declared nothing)."""
    shape = SHAPES.get(kind)
    return shape.accepts(value) if shape is not None else isinstance(value, dict)


class Store:
    """The interface handlers use. Values are JSON-serialisable dicts; `content` holds the
    bytes that records of a content kind own (state/content.py), deleted with them."""

    content: ContentStore

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
    """Objects in this process, as the bytes the server wrote. Nothing else writes them, so
    what is read back is what a handler stored: no shape check on reads (the SQLite file,
    which other programs can change, is checked: sqlite.py)."""

    def __init__(self, max_objects: int = 10_000) -> None:
        self.max_objects = max_objects
        self._data: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self.content = MemoryContent()

    def get(self, kind: str, id: str) -> dict | None:
        raw = self._data.get((kind, id))
        return orjson.loads(raw) if raw is not None else None

    def put(self, kind: str, id: str, value: dict) -> None:
        self._data[(kind, id)] = kept(orjson.dumps(value))
        while len(self._data) > self.max_objects:
            (evicted_kind, evicted_id), _ = self._data.popitem(last=False)
            if evicted_kind in CONTENT_KINDS:
                self.content.delete(evicted_id)

    def delete(self, kind: str, id: str) -> bool:
        if kind in CONTENT_KINDS:
            self.content.delete(id)
        return self._data.pop((kind, id), None) is not None

    def values(self, kind: str) -> Iterator[dict]:
        for (k, _), raw in list(self._data.items()):
            if k == kind:
                yield orjson.loads(raw)

    def clear(self) -> None:
        self._data.clear()
        self.content.clear()

    def close(self) -> None:
        self.content.close()


def page(items: list[dict], *, after: str | None, before: str | None, limit: int, order: str,
         alphabetical: bool = False) -> dict[str, Any]:
    """One page of a list the way the real API pages (`object: list`, `first_id`,
    `last_id`, `has_more`): `items` oldest first; `after`/`before` are ids, exclusive,
    in the order asked for. `alphabetical`: the Responses family's key order
    (`first_id, has_more, last_id`) rather than chat's (`first_id, last_id, has_more`)."""
    ordered = items if order == "asc" else items[::-1]
    ids = [item.get("id") for item in ordered]  # an item stored without one (a fixture's output) lists as null
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
    first, last = (chosen[0].get("id"), chosen[-1].get("id")) if chosen else (None, None)
    if alphabetical:
        return {"object": "list", "data": chosen, "first_id": first, "has_more": has_more, "last_id": last}
    return {"object": "list", "data": chosen, "first_id": first, "last_id": last, "has_more": has_more}
