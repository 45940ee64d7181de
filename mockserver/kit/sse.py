"""Server-sent events, parsed and judged the way the real API frames them.

Chat completions: `data: {chunk}` frames, no `event:` line, `data: [DONE]` last (an error
object may end a stream instead). Responses: `event: <type>` and `data: {event}` per frame,
the `event:` equal to the data's `type`, `sequence_number` increasing, no `[DONE]`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass
class Frame:
    event: str | None
    data: str
    value: Any = None  # the parsed JSON, None for [DONE] or a frame that is not JSON


def parse(text: str) -> tuple[list[Frame], list[str]]:
    """Frames, and framing problems (a line that is no SSE field, a frame without data)."""
    frames: list[Frame] = []
    problems: list[str] = []
    text = text.replace("\r\n", "\n")
    for number, block in enumerate(b for b in text.split("\n\n") if b.strip()):
        event = None
        data: list[str] = []
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                data.append(value)
            elif field == "event":
                event = value
            elif field in ("id", "retry"):
                continue
            else:
                problems.append(f"frame {number}: {line[:80]!r} is not an SSE field")
        if not data:
            problems.append(f"frame {number}: no data line")
            continue
        payload = "\n".join(data)
        frame = Frame(event, payload)
        if payload != "[DONE]":
            try:
                frame.value = json.loads(payload)
            except ValueError:
                problems.append(f"frame {number}: data is not JSON: {payload[:80]!r}")
        frames.append(frame)
    if not text.endswith("\n\n") and text.strip():
        problems.append("the stream does not end with a blank line")
    return frames, problems


def judge(text: str, kind: str) -> tuple[list[Any], list[str]]:
    """(the events' values, framing problems) for a `chat` or `responses` stream."""
    frames, problems = parse(text)
    if not frames:
        return [], problems + ["an empty stream"]
    values = [f.value for f in frames if f.value is not None]
    if kind == "chat":
        for i, frame in enumerate(frames):
            if frame.event is not None and not (isinstance(frame.value, dict) and "error" in frame.value):
                problems.append(f"frame {i}: a chat stream has no `event:` lines (got {frame.event!r})")
            if frame.data == "[DONE]" and i != len(frames) - 1:
                problems.append(f"frame {i}: [DONE] before the end")
        last = frames[-1]
        if last.data != "[DONE]" and not (isinstance(last.value, dict) and "error" in last.value):
            problems.append("the chat stream does not end with data: [DONE]")
    else:
        previous = None
        for i, frame in enumerate(frames):
            if frame.data == "[DONE]":
                problems.append(f"frame {i}: a Responses stream has no [DONE]")
                continue
            value = frame.value if isinstance(frame.value, dict) else {}
            if frame.event is None:
                problems.append(f"frame {i}: no `event:` line")
            elif frame.event != value.get("type"):
                problems.append(f"frame {i}: event {frame.event!r} differs from the data's type {value.get('type')!r}")
            number = value.get("sequence_number")
            if not isinstance(number, int):
                problems.append(f"frame {i}: no integer sequence_number")
            elif previous is not None and number <= previous:
                problems.append(f"frame {i}: sequence_number {number} after {previous}")
            else:
                previous = number
    return values, problems


def kind_of(contract: str | None) -> str:
    return "chat" if contract and contract.endswith(".chunk") else "responses"
