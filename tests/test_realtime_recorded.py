"""The ten recorded realtime transcripts (pydantic-ai, GA protocol) as the oracle.

Every recorded server event must satisfy contracts/, and replaying each transcript's
client events against the fake must give the recorded server event types in the recorded
order. Two kinds of event are compared by presence, not position: deltas (how a text is cut
into deltas is the model's) and input transcription events (the real API transcribes
beside the response, so they land anywhere in it, differently in every recording). A
recording stops when its client hung up: events the fake sends after the recording's
last one (the `rate_limits.updated` after a spoken answer) are allowed past the end.
The recorder cut each appended audio frame to 33 bytes; the replay stretches each back to
100 ms by repeating its samples, so the audio's energy, which server VAD reads, is kept.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest
import websockets
import yaml

from .support.realtime import problems
from .support.shared import require_shared

CASSETTES = ("recordings", "pydantic__pydantic-ai", "tests", "realtime", "cassettes")
FRAME_MS = 100


def transcripts() -> list[Path]:
    root = require_shared(*CASSETTES)
    found = []
    for path in sorted(root.glob("*/*.yaml")):
        data = yaml.safe_load(path.read_text())
        if any(i.get("kind") == "message" for i in data["interactions"]):
            found.append(path)
    return found


NAMES = ["test_azure_ws/test_audio_in_server_vad_transcribes", "test_azure_ws/test_text_in_audio_out_turn",
         "test_azure_ws/test_tool_call_round", "test_openai_ws/test_audio_in_server_vad_turn",
         "test_openai_ws/test_input_audio_retention_segments_three_server_vad_turns",
         "test_openai_ws/test_message_history_seeding", "test_openai_ws/test_text_in_audio_out_turn",
         "test_openai_ws/test_tool_call_round", "test_openai_ws_sideband/test_webrtc_sideband_audio_turn",
         "test_openai_ws_sideband/test_webrtc_sideband_text_turn"]


def load(name: str) -> list[dict]:
    path = require_shared(*CASSETTES, name + ".yaml")
    return [i for i in yaml.safe_load(path.read_text())["interactions"] if i.get("kind") == "message"]


def test_there_are_ten_transcripts():
    assert [str(p.relative_to(p.parents[1]))[:-5] for p in transcripts()] == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_recorded_server_event_satisfies_the_contracts(name):
    received = [i["data"] for i in load(name) if i["direction"] == "received"]
    assert received and not problems(received)


def comparable(types: list[str]) -> list[str]:
    return [t for t in types if not t.endswith(".delta") and not t.startswith("conversation.item.input_audio_transcription.")]


def stretched(event: dict) -> dict:
    if event["type"] != "input_audio_buffer.append":
        return event
    raw = base64.b64decode(event["audio"])
    raw = raw[: len(raw) // 2 * 2] or b"\x00\x00"
    size = 48 * FRAME_MS
    return {**event, "audio": base64.b64encode((raw * (size // len(raw) + 1))[:size]).decode()}


async def replay(server, name: str) -> list[dict]:
    interactions = load(name)
    if "azure" in name:
        url = f"ws://127.0.0.1:{server.port}/openai/realtime?api-version=2025-08-28&deployment=gpt-realtime"
        headers = {"api-key": "azure-key"}
    elif "sideband" in name:
        url, headers = f"ws://127.0.0.1:{server.port}/v1/realtime?call_id=rtc_u0_replayedcall", {"Authorization": "Bearer sk-test"}
    else:
        url, headers = f"ws://127.0.0.1:{server.port}/v1/realtime?model=gpt-realtime", {"Authorization": "Bearer sk-test"}
    recorded = [i["data"]["type"] for i in interactions if i["direction"] == "received"]
    responses = recorded.count("response.done")
    got: list[dict] = []
    async with websockets.connect(url, additional_headers=headers, max_size=None) as ws:
        for item in interactions:
            if item["direction"] == "sent":
                await ws.send(json.dumps(stretched(item["data"])))
        while sum(1 for e in got if e["type"] == "response.done") < responses:
            got.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        try:
            while True:  # what follows the last response (rate_limits.updated, output_audio_buffer.stopped)
                got.append(json.loads(await asyncio.wait_for(ws.recv(), 0.3)))
        except asyncio.TimeoutError:
            pass
    return got


@pytest.mark.parametrize("name", NAMES)
def test_replaying_the_client_events_gives_the_recorded_server_events(server, name):
    recorded = [i["data"]["type"] for i in load(name) if i["direction"] == "received"]
    got = asyncio.run(replay(server, name))
    types = [e["type"] for e in got]
    expected, ours = comparable(recorded), comparable(types)
    assert ours[: len(expected)] == expected, "\n".join(f"{a:50} {b}" for a, b in zip(expected, ours))
    assert set(ours[len(expected):]) <= {"rate_limits.updated", "output_audio_buffer.stopped"}
    assert set(recorded) <= set(types), set(recorded) - set(types)
    assert not [e for e in got if e["type"] == "error"]
    assert not problems(got)
