"""The clock background work runs on: real time times a scale, plus whatever a test
has advanced it by (`POST /__mock/clock`). With `time_scale: 0` only the test moves it,
so "queued, then in progress, then completed" happens exactly when the test says."""

from __future__ import annotations

import time


class Clock:
    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self.reset()

    def now(self) -> float:
        """Seconds since start-up (or the last reset), as background work sees them."""
        return (time.monotonic() - self._started) * self.scale + self._advanced

    def advance(self, seconds: float) -> float:
        self._advanced += seconds
        return self.now()

    def reset(self) -> None:
        self._started = time.monotonic()
        self._advanced = 0.0
