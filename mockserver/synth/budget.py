"""The bound on what the synthesizer writes for a caller's schema or pattern.

A caller's schema may demand anything (`minItems` of a billion, a `{1000000}` in a
pattern, a `$ref` cycle with no finite instance), so the work is bounded by a budget in
characters derived from the answer's token budget, and by a count of work units for the
steps that write nothing (empty repetitions, retries).
"""

from __future__ import annotations

import math
from typing import Any

# The budget. A token of o200k/cl100k is one to a few characters of the JSON this module
# writes (random letters 1.9 characters a token, words 4 to 5, digits at most 3; only long
# runs of one character pack more, up to 128 spaces), so 12 characters a token leaves a
# wide margin: the text cut at the budget still holds more tokens than the budget, and
# the caller cuts it to the budget in tokens. Whatever the budget, a synthesized document
# holds at most MAX_TOKENS tokens (gpt-4o-mini's output limit; the callers cut it there
# with "length"): past it, each token costs the server a stream chunk, token pieces and
# memo space (a 100,000-token stream took 0.43 s and 180 MB), and a client sees how it
# handles a cut answer as well at 16,384 tokens.
CHARS_PER_TOKEN = 12
MAX_TOKENS = 16_384
MAX_CHARS = MAX_TOKENS * CHARS_PER_TOKEN
# MAX_TOKENS bounds a whole request, not each of its `n` choices: each choice's document
# gets its share, never under MIN_TOKENS_PER_CHOICE (128 choices, the real maximum, get
# 128 tokens each). 128 choices of 16,384 tokens blocked the server for 7 s (20 s and
# 2.5 GB streamed); ordinary prose (at most some 70 tokens) is never cut by a share.
MIN_TOKENS_PER_CHOICE = 128
# Work, in units of about a microsecond: a node built costs WORK_PER_NODE, a character
# emitted from a pattern or padded one at a time costs one, a pattern check 32. The budget
# has as many units as characters (12 a token), so nodes that write a token each ("0,")
# still fill the token budget before the work runs out, plus a floor, so that a small
# budget still affords a pattern's retries.
WORK_PER_NODE = 8
WORK_FLOOR = 16_384
MAX_NEST = 160  # builds inside builds (containers, anyOf, allOf): a Python stack that fits


def tokens_per_choice(choices: int) -> int:
    """The most tokens one of `choices` synthesized documents may hold."""
    return max(MIN_TOKENS_PER_CHOICE, MAX_TOKENS // max(1, int(choices)))


def chars_for(tokens: Any) -> int:
    """The character budget for an answer of `tokens` tokens (None: the cap)."""
    if isinstance(tokens, bool) or not isinstance(tokens, (int, float)) or not tokens > 0:
        return MAX_CHARS
    return int(min(MAX_CHARS, math.ceil(tokens) * CHARS_PER_TOKEN))


class Budget:
    """Characters written so far (a lower bound of the position in the final text) and
    work left; once either runs out the builder stops, and `cut` is where the text ends."""

    __slots__ = ("limit", "written", "work", "full", "cut")

    def __init__(self, chars: int) -> None:
        self.limit = max(1, int(chars))
        self.written = 0
        self.work = self.limit + WORK_FLOOR
        self.full = False
        self.cut: int | None = None

    def write(self, count: int) -> None:
        self.written += count
        if self.written > self.limit:
            self.stop()

    def spend(self, units: int) -> bool:
        self.work -= units
        if self.work < 0:
            self.stop()
        return not self.full

    def stop(self) -> None:
        if not self.full:
            self.full = True
            self.cut = min(self.written, self.limit)

    @property
    def left(self) -> int:
        return self.limit - self.written
