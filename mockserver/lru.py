"""A small bounded memo: test suites send the same requests again and again, and a
deterministic answer to the same bytes can be reused instead of rebuilt.

Bounded twice: by the number of entries and by their weight in bytes, since a client
chooses what an entry weighs (a key may be a 30 MiB request body; an answer of 128
choices with 20 top logprobs per token is tens of megabytes of Python objects). A key
weighs what its bytes and str parts weigh; a value what the caller's `weigh` estimates
(cheap, from what it knows of the value) or, without one, an approximate walk of the
value that stops once the value is known to be too heavy (so it costs O(size) on a miss
only, never more than the entry bound). An entry heavier than `max_bytes /
ENTRY_FRACTION` is built and returned but not kept: one answer never flushes the memo.

Safe to share with worker threads (requests tokenized off the event loop): the table is
changed under a lock and read without one (each OrderedDict call is atomic), and `build`
runs outside the lock.
"""

from __future__ import annotations

import sys
import threading
import types
from collections import OrderedDict
from typing import Any, Callable, Hashable

DEFAULT_BYTES = 64 << 20  # per memo
ENTRY_FRACTION = 8  # an entry heavier than max_bytes / ENTRY_FRACTION is not kept
ENTRY_OVERHEAD = 200  # the table's node, the key tuple, the weight: bytes per entry
_MISSING = object()


class LRU:
    def __init__(self, size: int = 1024, max_bytes: int = DEFAULT_BYTES) -> None:
        self.size = size
        self.max_bytes = max_bytes  # may be changed at run time; takes effect on the next insert
        self.weight = 0  # the entries' estimated bytes, keys included
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def max_entry(self) -> int:
        return self.max_bytes // ENTRY_FRACTION

    def get(self, key: Hashable, build: Callable[[], Any], weigh: Callable[[Any], int] | None = None) -> Any:
        """The value remembered for `key`, or `build()` (remembered if it is light enough)."""
        found = self.find(key, _MISSING)
        if found is not _MISSING:
            return found
        value = build()
        self.put(key, value, weigh)
        return value

    def find(self, key: Hashable, default: Any = None) -> Any:
        """The value remembered for `key` (now the most recently used), or `default`.
        Without the lock: each OrderedDict call is atomic, and an entry evicted between the
        two is a miss."""
        try:
            self._items.move_to_end(key)
            return self._items[key][0]
        except KeyError:
            return default

    def put(self, key: Hashable, value: Any, weigh: Callable[[Any], int] | None = None) -> bool:
        """Remember `value` for `key` unless it is too heavy; whether it was kept."""
        limit = self.max_entry
        weight = ENTRY_OVERHEAD + key_weight(key)
        if weight <= limit:
            weight += weigh(value) if weigh is not None else approx_size(value, limit - weight)
        if weight > limit:
            return False
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.weight -= old[1]
            self._items[key] = (value, weight)
            self.weight += weight
            while self._items and (len(self._items) > self.size or self.weight > self.max_bytes):
                self.weight -= self._items.popitem(last=False)[1][1]
        return True

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.weight = 0


def key_weight(key: Any) -> int:
    """What a key holds on to: its bytes and str parts (nested tuples included)."""
    if isinstance(key, (bytes, bytearray, str)):
        return len(key)
    total = 0
    if isinstance(key, tuple):
        for part in key:
            if isinstance(part, (bytes, bytearray, str)):
                total += len(part)
            elif isinstance(part, tuple):
                total += key_weight(part)
    return total


def approx_size(value: Any, limit: int = sys.maxsize) -> int:
    """About the bytes `value` holds (sys.getsizeof of it and of what it contains, shared
    objects counted each time they are met), or a number over `limit` as soon as it is
    known to exceed it: a walk of at most `limit` bytes' worth of objects."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        total += sys.getsizeof(item)
        if total > limit:
            return total
        if isinstance(item, _LEAVES) or item is None:
            continue
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif hasattr(item, "__dict__"):
            stack.extend(vars(item).values())
        elif hasattr(item, "__slots__"):
            slots = (item.__slots__,) if isinstance(item.__slots__, str) else item.__slots__
            stack.extend(getattr(item, name) for name in slots if hasattr(item, name))
    return total


# Not walked into: scalars, and what a value may refer to but does not own.
_LEAVES = (str, bytes, bytearray, int, float, bool, type, types.ModuleType, types.FunctionType, types.MethodType)
