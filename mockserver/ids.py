"""Ids of the right shape, from a seeded sequence so a run can be replayed exactly.

Real ids: `req_` + 32 hex (x-request-id), `chatcmpl-` + 29 letters and digits,
`call_` + 24, `fp_` + 10 hex (system_fingerprint). The n-th id of a kind depends only
on the server's seed and n, so two runs with the same seed and the same requests
send the same ids.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import string

ALPHANUMERIC = string.ascii_letters + string.digits


class Ids:
    def __init__(self, seed: int = 0) -> None:
        self._key = seed.to_bytes(16, "big", signed=True)
        self._counter = itertools.count()
        self._requests = random.Random(seed)  # every request needs one: the cheapest source

    def _digest(self, kind: bytes) -> bytes:
        n = next(self._counter).to_bytes(8, "big")
        return hashlib.blake2b(kind + n, key=self._key, digest_size=32).digest()

    def request_id(self) -> bytes:
        return b"req_%032x" % self._requests.getrandbits(128)

    def uuid(self) -> bytes:
        """A version-4 UUID (Azure's request ids)."""
        bits = self._requests.getrandbits(128)
        value = (bits & ~(0xF000 << 64) | (0x4000 << 64)) & ~(0xC000 << 48) | (0x8000 << 48)
        text = b"%032x" % value
        return b"-".join((text[:8], text[8:12], text[12:16], text[16:20], text[20:]))

    def make(self, prefix: str, length: int, alphabet: str = ALPHANUMERIC) -> str:
        digest = self._digest(prefix.encode())
        chars = [alphabet[b % len(alphabet)] for b in (digest * (length // 32 + 1))[:length]]
        return prefix + "".join(chars)


def rng_for(*parts: bytes | str | int) -> random.Random:
    """A random source that depends only on `parts` (the request, the seed, a choice index)."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        if isinstance(part, int):
            part = str(part)
        if isinstance(part, str):
            part = part.encode()
        h.update(len(part).to_bytes(4, "big") + part)
    return random.Random(int.from_bytes(h.digest(), "big"))


def token(rng: random.Random, prefix: str, length: int, alphabet: str = ALPHANUMERIC) -> str:
    return prefix + "".join(rng.choice(alphabet) for _ in range(length))
