"""Prompt caching as the real API reports it in `usage.prompt_tokens_details.cached_tokens`.

A prompt of 1,024 tokens or more is cached in blocks: the first 1,024 tokens, then
every further 128. A later prompt that repeats a cached prefix (same model and
`prompt_cache_key`) reports the longest such prefix as cached, so cached counts are
0 or 1,024 + 128·k, never more than the shared prefix.
"""

from __future__ import annotations

import hashlib
from array import array
from collections import OrderedDict

MINIMUM = 1024
BLOCK = 128


class PromptCache:
    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self._prefixes: OrderedDict[bytes, None] = OrderedDict()

    def use(self, scope: str, tokens: list[int]) -> int:
        """The cached prefix length for `tokens`, then remember all of its prefixes."""
        if len(tokens) < MINIMUM:
            return 0
        digest = hashlib.blake2b(scope.encode(), digest_size=16)
        start, cached, hit, keys = 0, 0, True, []
        for end in range(MINIMUM, len(tokens) + 1, BLOCK):
            digest.update(array("i", tokens[start:end]).tobytes())
            start = end
            key = digest.copy().digest()
            keys.append(key)
            hit = hit and key in self._prefixes
            if hit:
                cached = end
        for key in keys:
            self._prefixes[key] = None
            self._prefixes.move_to_end(key)
        while len(self._prefixes) > self.capacity:
            self._prefixes.popitem(last=False)
        return cached

    def clear(self) -> None:
        self._prefixes.clear()
