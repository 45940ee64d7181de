"""Rate-limit bookkeeping per API key and model, and the `x-ratelimit-*` headers it yields.

Each (key, model) pair has two token buckets (requests and tokens per minute) that
refill continuously, as OpenAI describes its limits. Every completion reports the
buckets' true state in the real header format (`reset` as a Go duration: `20ms`,
`8.64s`, `6m0s`), so client code that paces itself from these headers sees
consistent numbers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache

from . import errors
from .config import RateLimit

# What the recordings show for gpt-4o-mini on a high usage tier.
DEFAULT_LIMIT = RateLimit(requests_per_minute=30_000, tokens_per_minute=150_000_000)


def go_duration(seconds: float) -> str:
    """A duration as Go's time.Duration prints it, which is what the real headers carry."""
    if seconds < 1:
        return _milliseconds(int(seconds * 1000))  # truncated to whole ms, as recorded
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.3f}".rstrip("0").rstrip(".") + "s"
    if hours >= 1:
        return f"{int(hours)}h{int(minutes)}m{text}"
    if minutes >= 1:
        return f"{int(minutes)}m{text}"
    return text


@lru_cache(maxsize=1024)
def _milliseconds(ms: int) -> str:
    return f"{ms}ms" if ms > 0 else "0s"


@dataclass
class Bucket:
    capacity: float
    level: float
    stamp: float

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.capacity / 60.0)
        self.stamp = now

    def take(self, amount: float, now: float) -> None:
        self.refill(now)
        self.level -= amount

    def time_until(self, amount: float) -> float:
        """Seconds until the bucket holds `amount` again."""
        return max(0.0, (amount - self.level) / (self.capacity / 60.0))

    def remaining(self) -> int:
        return max(0, int(self.level))

    def reset_after(self) -> float:
        return max(0.0, (self.capacity - self.level) / (self.capacity / 60.0))


class RateLimits:
    def __init__(self, limits: dict[str, RateLimit] | None = None, enforce: bool = False) -> None:
        self.limits = limits or {}
        self.enforce = enforce
        self._buckets: dict[tuple[str, str], tuple[Bucket, Bucket]] = {}

    def limit_for(self, model: str) -> RateLimit:
        return self.limits.get(model) or self.limits.get("default") or DEFAULT_LIMIT

    def consume(self, key: str, model: str, tokens: int) -> list[tuple[bytes, bytes]]:
        """Count one request of `tokens` and return the headers that describe the result.
        When enforcing, a request the buckets cannot hold is refused with the real 429
        (and not counted)."""
        now = time.monotonic()
        pair = self._buckets.get((key, model))
        if pair is None:
            limit = self.limit_for(model)
            pair = (
                Bucket(limit.requests_per_minute, limit.requests_per_minute, now),
                Bucket(limit.tokens_per_minute, limit.tokens_per_minute, now),
            )
            self._buckets[(key, model)] = pair
        requests, token_bucket = pair
        if self.enforce:
            if tokens > token_bucket.capacity:
                raise errors.OpenAIError(
                    429,
                    f"Request too large for {model} in organization org-mockserver on tokens per min (TPM): Limit "
                    f"{int(token_bucket.capacity)}, Requested {tokens}. The input or output tokens must be reduced "
                    "in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.",
                    type="tokens",
                    code="rate_limit_exceeded",
                )
            requests.refill(now)
            token_bucket.refill(now)
            if requests.level < 1:
                raise self._exceeded(model, "requests", requests, 1, pair)
            if token_bucket.level < tokens:
                raise self._exceeded(model, "tokens", token_bucket, tokens, pair)
        requests.take(1, now)
        token_bucket.take(tokens, now)
        return self._headers(pair)

    def _exceeded(self, model: str, kind: str, bucket: "Bucket", wanted: int, pair: tuple) -> errors.OpenAIError:
        """The real 429 for a spent bucket, with an honest wait until it holds `wanted`."""
        wait = bucket.time_until(wanted)
        unit = "requests per min (RPM)" if kind == "requests" else "tokens per min (TPM)"
        message = (
            f"Rate limit reached for {model} in organization org-mockserver on {unit}: Limit {int(bucket.capacity)}, "
            f"Used {round(bucket.capacity - max(0, bucket.level))}, Requested {wanted}. Please try again in "
            f"{go_duration(wait)}. Visit https://platform.openai.com/account/rate-limits to learn more."
        )
        headers = [(k.decode(), v.decode()) for k, v in self._headers(pair)]
        headers += [("retry-after", str(max(1, math.ceil(wait)))), ("retry-after-ms", str(max(1, math.ceil(wait * 1000))))]
        return errors.OpenAIError(429, message, type=kind, code="rate_limit_exceeded", headers=headers)

    def _headers(self, pair: tuple) -> list[tuple[bytes, bytes]]:
        requests, token_bucket = pair
        return [
            (b"x-ratelimit-limit-requests", str(int(requests.capacity)).encode()),
            (b"x-ratelimit-limit-tokens", str(int(token_bucket.capacity)).encode()),
            (b"x-ratelimit-remaining-requests", str(requests.remaining()).encode()),
            (b"x-ratelimit-remaining-tokens", str(token_bucket.remaining()).encode()),
            (b"x-ratelimit-reset-requests", go_duration(requests.reset_after()).encode()),
            (b"x-ratelimit-reset-tokens", go_duration(token_bucket.reset_after()).encode()),
        ]

    def configured(self, model: str) -> bool:
        """Whether the config limits this model (itself, or a `default`), or enforces limits."""
        return self.enforce or model in self.limits or "default" in self.limits

    def tokens_left(self, key: str, model: str) -> tuple[int, int, float] | None:
        """The tokens bucket of (key, model), as `rate_limits.updated` reports it: its limit,
        what remains and the seconds until it is full; None before its first request."""
        pair = self._buckets.get((key, model))
        if pair is None:
            return None
        tokens = pair[1]
        tokens.refill(time.monotonic())
        return int(tokens.capacity), tokens.remaining(), round(tokens.reset_after(), 3)

    def reset(self) -> None:
        self._buckets.clear()
