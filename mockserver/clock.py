"""The clock background work runs on: real time times a scale, plus whatever a test
has advanced it by (`POST /__mock/clock`). With `time_scale: 0` only the test moves it,
so "queued, then in progress, then completed" happens exactly when the test says.

It stays finite and within LIMIT seconds (about 31,700 years): a background response
stores the time it started, and JSON has no infinity (orjson writes it as null)."""

from __future__ import annotations

import math
import time

LIMIT = 1e12  # seconds; an advance past it is refused, and the scaled real time stops there


class Clock:
    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self.reset()

    def now(self) -> float:
        """Seconds since start-up (or the last reset), as background work sees them."""
        now = (time.monotonic() - self._started) * self.scale + self._advanced
        return now if now <= LIMIT else LIMIT  # also a huge or infinite scale (NaN compares false)

    def advance(self, seconds: float) -> float:
        """Move the clock forward; ValueError (the clock unchanged) for an advance that is not
        a finite number of seconds, 0 or more, or that would take it past LIMIT."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("'advance' must be a finite number of seconds, 0 or more.")
        if self.now() + seconds > LIMIT:
            raise ValueError(f"'advance' would take the clock past {LIMIT:.0e} seconds (it is at {self.now():g}); "
                             "POST /__mock/reset sets it back to 0.")
        self._advanced += seconds
        return self.now()

    def timestamp(self) -> float:
        """Unix time as the fake's clock tells it: the wall time at start-up (or the last
        reset), moved on by the clock, so an `expires_at` written with it passes when a test
        advances the clock past it."""
        return self._epoch + self.now()

    def reset(self) -> None:
        self._started = time.monotonic()
        self._epoch = time.time()
        self._advanced = 0.0
