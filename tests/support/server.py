"""The fake on a real port in a background thread: the kit's `RunningServer` (mockserver.kit.running)."""

from __future__ import annotations

from pathlib import Path

from mockserver.kit.running import RunningServer

TESTS = Path(__file__).resolve().parent.parent

__all__ = ["RunningServer", "TESTS"]
