"""A small bounded memo: test suites send the same requests again and again, and a
deterministic answer to the same bytes can be reused instead of rebuilt."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Hashable


class LRU:
    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        try:
            self._items.move_to_end(key)
            return self._items[key]
        except KeyError:
            value = self._items[key] = build()
            if len(self._items) > self.size:
                self._items.popitem(last=False)
            return value

    def clear(self) -> None:
        self._items.clear()
