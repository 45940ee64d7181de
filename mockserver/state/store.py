"""The store's interface, the in-memory backend, and the pagination every list shares."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterator

import orjson

from ..wire import kept


# The top-level keys each kind's records hold, as the families declare them
# (`record_shape`): a SQLite row of a known kind without them (changed outside mockserver)
# is refused at start-up and read as absent at run time, never a 500 (sqlite.py, schema.py).
SHAPES: dict[str, tuple[str, ...]] = {}


def record_shape(kind: str, *keys: str) -> str:
    """Declare what a stored `kind` holds; returns the kind (`KIND = record_shape(...)`)."""
    SHAPES[kind] = keys
    return kind


def well_formed(kind: str, value: object) -> bool:
    return isinstance(value, dict) and all(key in value for key in SHAPES.get(kind, ()))


class Store:
    """The interface handlers use. Values are JSON-serialisable dicts."""

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
    def __init__(self, max_objects: int = 10_000) -> None:
        self.max_objects = max_objects
        self._data: OrderedDict[tuple[str, str], bytes] = OrderedDict()

    def get(self, kind: str, id: str) -> dict | None:
        raw = self._data.get((kind, id))
        return orjson.loads(raw) if raw is not None else None

    def put(self, kind: str, id: str, value: dict) -> None:
        self._data[(kind, id)] = kept(orjson.dumps(value))
        while len(self._data) > self.max_objects:
            self._data.popitem(last=False)

    def delete(self, kind: str, id: str) -> bool:
        return self._data.pop((kind, id), None) is not None

    def values(self, kind: str) -> Iterator[dict]:
        for (k, _), raw in list(self._data.items()):
            if k == kind:
                yield orjson.loads(raw)

    def clear(self) -> None:
        self._data.clear()


def page(items: list[dict], *, after: str | None, before: str | None, limit: int, order: str,
         alphabetical: bool = False) -> dict[str, Any]:
    """One page of a list the way the real API pages (`object: list`, `first_id`,
    `last_id`, `has_more`): `items` oldest first; `after`/`before` are ids, exclusive,
    in the order asked for. `alphabetical`: the Responses family's key order
    (`first_id, has_more, last_id`) rather than chat's (`first_id, last_id, has_more`)."""
    ordered = items if order == "asc" else items[::-1]
    ids = [item["id"] for item in ordered]
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
    first, last = (chosen[0]["id"], chosen[-1]["id"]) if chosen else (None, None)
    if alphabetical:
        return {"object": "list", "data": chosen, "first_id": first, "has_more": has_more, "last_id": last}
    return {"object": "list", "data": chosen, "first_id": first, "last_id": last, "has_more": has_more}
