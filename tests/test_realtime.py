"""The Realtime API over WebSocket, driven by the official Python SDK (`client.realtime.connect`)
and by a raw `websockets` client for what the SDK would not send. Every server event a test
receives is checked against contracts/."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
import websockets
from openai import AsyncOpenAI

from .support.realtime import (NO_VAD, b64, connect, problems, ready, send, silence, slowest_small_request, tone,
                               until, user_text)

WEATHER = {"type": "function", "name": "get_weather", "description": "Look up the weather for a city.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                          "additionalProperties": False}}


PACED = {"X-Mock-Fault": "latency; chunk_delay_ms=10"}  # every event 10 ms apart: responses can be cut short


def run(coroutine):
    return asyncio.run(coroutine)


async def sdk_turn(conn, until_type: str = "response.done") -> list[dict]:
    got = []
    async for event in conn:
        got.append(event.model_dump(exclude_unset=True))
        if event.type == until_type:
            return got
    return got


def types(events: list[dict]) -> list[str]:
    return [e["type"] for e in events]


# --- the SDK ----------------------------------------------------------------------------------------


def test_a_text_turn_with_the_sdk(server):
    async def go():
        client = AsyncOpenAI(base_url=server.url, api_key="sk-test")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            created = await conn.recv()
            assert created.type == "session.created" and created.session.model == "gpt-realtime"
            await conn.session.update(session={"type": "realtime", "output_modalities": ["text"],
                                               "instructions": "Be brief."})
            updated = await conn.recv()
            assert updated.type == "session.updated" and updated.session.output_modalities == ["text"]
            await conn.conversation.item.create(item=user_text("Say something."))
            await conn.response.create()
            events = await sdk_turn(conn)
            user = events[0]["item"]
            await conn.conversation.item.retrieve(item_id=user["id"])
            retrieved = await conn.recv()
            return events, user, retrieved.model_dump(exclude_unset=True)

    events, user, retrieved = run(go())
    assert types(events)[:5] == ["conversation.item.added", "conversation.item.done", "response.created",
                                 "response.output_item.added", "conversation.item.added"]
    assert types(events)[-5:] == ["response.output_text.done", "response.content_part.done", "conversation.item.done",
                                  "response.output_item.done", "response.done"]
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    done = events[-1]["response"]
    assert done["status"] == "completed" and done["output"][0]["content"][0]["text"] == text and text
    assert done["usage"]["output_tokens"] > 0 and done["usage"]["input_token_details"]["text_tokens"] > 0
    assert retrieved["type"] == "conversation.item.retrieved" and retrieved["item"]["id"] == user["id"]
    assert retrieved["item"]["content"] == [{"type": "input_text", "text": "Say something."}]
    assert len({e["event_id"] for e in events}) == len(events)
    assert not problems(events)


def test_the_same_seed_gives_the_same_answer(make_server):
    async def answer(port_server):
        client = AsyncOpenAI(base_url=port_server.url, api_key="sk-test")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
            await conn.conversation.item.create(item=user_text("Tell me something."))
            await conn.response.create()
            events = await sdk_turn(conn)
            return events[-1]["response"]["output"][0]["content"][0]["text"]

    first, second = make_server(seed=7), make_server(seed=7)
    assert run(answer(first)) == run(answer(second))


def test_a_function_call_round_trip(server):
    async def go():
        client = AsyncOpenAI(base_url=server.url, api_key="sk-test")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.session.update(session={"type": "realtime", "output_modalities": ["text"], "tools": [WEATHER]})
            await conn.conversation.item.create(item=user_text("What is the weather in London?"))
            await conn.response.create()
            first = await sdk_turn(conn)
            call = first[-1]["response"]["output"][0]
            await conn.conversation.item.create(item={"type": "function_call_output", "call_id": call["call_id"],
                                                      "output": "Foggy, 12 degrees."})
            await conn.response.create()
            second = await sdk_turn(conn)
            return first, call, second

    first, call, second = run(go())
    assert call["type"] == "function_call" and call["name"] == "get_weather"
    assert "city" in json.loads(call["arguments"])
    deltas = "".join(e["delta"] for e in first if e["type"] == "response.function_call_arguments.delta")
    assert deltas == call["arguments"]
    assert second[0]["item"]["type"] == "function_call_output"
    assert second[-1]["response"]["output"][0]["type"] == "message"
    assert not problems(first + second)


def test_an_audio_turn_driven_by_synthetic_audio_through_server_vad(server):
    async def go():
        client = AsyncOpenAI(base_url=server.url, api_key="sk-test")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.session.update(session={"type": "realtime", "audio": {"input": {
                "transcription": {"model": "gpt-realtime-whisper"},
                "turn_detection": {"type": "server_vad", "silence_duration_ms": 300}}}})
            await sdk_turn(conn, "session.updated")
            for raw in (silence(500), tone(1200), silence(600)):
                for i in range(0, len(raw), 4800):
                    await conn.input_audio_buffer.append(audio=b64(raw[i:i + 4800]))
            return await sdk_turn(conn)

    events = run(go())
    names = types(events)
    assert names[:3] == ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
                         "input_audio_buffer.committed"]
    assert events[0]["audio_start_ms"] == 200  # speech at 500 ms, less the 300 ms prefix padding
    assert events[1]["audio_end_ms"] == 2000  # 300 ms of silence after the tone ended at 1700 ms
    assert "conversation.item.input_audio_transcription.completed" in names
    transcript = next(e for e in events if e["type"] == "conversation.item.input_audio_transcription.completed")
    assert transcript["transcript"] and transcript["item_id"] == events[2]["item_id"]
    audio = b"".join(base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta")
    spoken = next(e for e in events if e["type"] == "response.output_audio_transcript.done")["transcript"]
    words = len(spoken.split())
    assert len(audio) == words * 400 * 48  # pcm16 at 24 kHz: 0.4 s a word
    usage = events[-1]["response"]["usage"]
    assert usage["input_token_details"]["audio_tokens"] > 0 and usage["output_token_details"]["audio_tokens"] > 0
    assert not problems(events)


def test_a_15_mib_append_is_taken_without_holding_up_other_clients(server):
    """The SDK's docstring allows 15 MiB of audio in one append (20 MiB of base64: over
    uvicorn's default frame limit), and minutes of audio must not stall the server."""
    speech = tone(1000)
    raw = (silence(500) + speech * 320)[: 15 * 2**20 - len(silence(1000))] + silence(1000)

    async def go():
        ws = await ready(server, {"audio": {"input": {"turn_detection": {"type": "server_vad", "create_response": False}}}},
                         max_size=None)
        async with ws:
            await send(ws, type="input_audio_buffer.append", audio=b64(raw))
            slowest = await slowest_small_request(server, 10)
            return await until(ws, "input_audio_buffer.committed", timeout=60), slowest

    events, slowest = run(go())
    assert types(events)[:3] == ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
                                 "input_audio_buffer.committed"]
    assert events[0]["audio_start_ms"] == 200
    assert slowest < 1.0, f"a small request waited {slowest:.2f}s behind the append"


@pytest.mark.parametrize("fmt", ["audio/pcmu", "audio/pcma"])
def test_g711_audio_in_and_out(server, fmt):
    from mockserver.realtime.audio import _linear_to_alaw, _linear_to_ulaw

    encode = _linear_to_ulaw if fmt == "audio/pcmu" else _linear_to_alaw
    from array import array

    def g711(raw: bytes) -> bytes:
        return bytes(encode(v) for v in array("h", raw)[::3])

    async def go():
        async with await ready(server) as ws:
            await send(ws, type="session.update", session={"type": "realtime", "audio": {
                "input": {"format": {"type": fmt}}, "output": {"format": {"type": fmt}}}})
            await until(ws, "session.updated")
            for raw in (silence(400), tone(800), silence(400)):
                await send(ws, type="input_audio_buffer.append", audio=b64(g711(raw)))
            return await until(ws, "response.done")

    events = run(go())
    assert "input_audio_buffer.speech_started" in types(events)
    audio = b"".join(base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta")
    words = len(events[-1]["response"]["output"][0]["content"][0]["transcript"].split())
    assert len(audio) == words * 400 * 8  # G.711 at 8 kHz: a byte a sample
    assert events[-1]["response"]["audio"]["output"]["format"] == {"type": fmt}
    assert not problems(events)


def test_manual_commit_without_vad_and_the_too_small_buffer_error(server):
    async def go():
        async with await ready(server, NO_VAD) as ws:
            await send(ws, type="input_audio_buffer.append", audio=b64(tone(50)))
            await send(ws, type="input_audio_buffer.commit", event_id="evt_small")
            error = await until(ws, "error")
            await send(ws, type="input_audio_buffer.append", audio=b64(tone(200)))
            await send(ws, type="input_audio_buffer.commit")
            committed = await until(ws, "conversation.item.done")
            await send(ws, type="input_audio_buffer.append", audio=b64(tone(200)))
            await send(ws, type="input_audio_buffer.clear")
            cleared = await until(ws, "input_audio_buffer.cleared")
            return error, committed, cleared

    error, committed, cleared = run(go())
    assert error[-1]["error"]["code"] == "input_audio_buffer_commit_empty"
    assert error[-1]["error"]["event_id"] == "evt_small"
    assert "100ms" in error[-1]["error"]["message"]
    assert types(committed) == ["input_audio_buffer.committed", "conversation.item.added", "conversation.item.done"]
    assert not problems(error + committed + cleared)


def test_cancel_mid_response(server):
    async def go():
        client = AsyncOpenAI(base_url=server.url, api_key="sk-test")
        async with client.realtime.connect(model="gpt-realtime",
                                           extra_headers={"X-Mock-Fault": "latency; chunk_delay_ms=15"}) as conn:
            await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
            await conn.conversation.item.create(item=user_text("Tell me a long story."))
            await conn.response.create()
            got = []
            async for event in conn:
                got.append(event.model_dump(exclude_unset=True))
                if event.type == "response.output_text.delta":
                    await conn.response.cancel()
                    break
            got += await sdk_turn(conn)
            await conn.response.cancel(event_id="evt_late")
            late = await conn.recv()
            return got, late

    events, late = run(go())
    done = events[-1]["response"]
    assert done["status"] == "cancelled" and done["status_details"]["reason"] == "client_cancelled"
    assert done["output"][0]["status"] == "incomplete"
    assert late.type == "error" and late.error.code == "response_cancel_not_active" and late.error.event_id == "evt_late"
    assert not problems(events)


def test_speech_interrupts_a_response_in_progress(server):
    async def go():
        async with await ready(server, headers=PACED) as ws:
            await send(ws, type="conversation.item.create", item=user_text("Talk to me."))
            await send(ws, type="response.create")
            await until(ws, "response.output_audio.delta")
            await send(ws, type="input_audio_buffer.append", audio=b64(tone(200)))
            events = await until(ws, "response.done")
            return events

    events = run(go())
    assert "input_audio_buffer.speech_started" in types(events)
    assert events[-1]["response"]["status"] == "cancelled"
    assert events[-1]["response"]["status_details"]["reason"] == "turn_detected"


def test_item_delete_truncate_and_unknown_items(server):
    async def go():
        async with await ready(server) as ws:
            await send(ws, type="conversation.item.create", item=user_text("Hello there."))
            await send(ws, type="response.create")
            turn = await until(ws, "response.done")
            assistant = turn[-1]["response"]["output"][0]
            await send(ws, type="conversation.item.truncate", item_id=assistant["id"], content_index=0, audio_end_ms=100)
            truncated = await until(ws, "conversation.item.truncated")
            await send(ws, type="conversation.item.truncate", item_id=assistant["id"], content_index=0,
                       audio_end_ms=999_999, event_id="evt_long")
            too_long = await until(ws, "error")
            await send(ws, type="conversation.item.delete", item_id=assistant["id"])
            deleted = await until(ws, "conversation.item.deleted")
            out = []
            for action in ("retrieve", "delete"):
                await send(ws, type=f"conversation.item.{action}", item_id="item_nope", event_id=f"evt_{action}")
                out += await until(ws, "error")
            await send(ws, type="conversation.item.truncate", item_id="item_nope", content_index=0, audio_end_ms=0)
            out += await until(ws, "error")
            return turn, truncated, too_long, deleted, out

    turn, truncated, too_long, deleted, errors = run(go())
    assert truncated[-1]["audio_end_ms"] == 100
    assert too_long[-1]["error"]["param"] == "audio_end_ms" and too_long[-1]["error"]["event_id"] == "evt_long"
    assert deleted[-1]["item_id"] == turn[-1]["response"]["output"][0]["id"]
    codes = [e["error"]["code"] for e in errors]
    assert codes == ["item_retrieve_invalid_item_id", "item_delete_invalid_item_id", "item_truncate_invalid_item_id"]
    assert [e["error"]["event_id"] for e in errors[:2]] == ["evt_retrieve", "evt_delete"]
    assert not problems(turn + truncated + too_long + deleted + errors)


def test_a_bad_session_update_is_an_error_event_and_the_socket_stays_open(server):
    async def go():
        client = AsyncOpenAI(base_url=server.url, api_key="sk-test")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.recv()
            await conn.send({"type": "session.update", "event_id": "evt_bad",
                             "session": {"type": "realtime", "output_modalities": ["video"]}})
            error = await conn.recv()
            await conn.session.update(session={"type": "realtime", "instructions": "Still here."})
            updated = await conn.recv()
            return error, updated

    error, updated = run(go())
    assert error.type == "error" and error.error.type == "invalid_request_error"
    assert error.error.param == "session.output_modalities[0]" and error.error.event_id == "evt_bad"
    assert "video" in error.error.message
    assert updated.type == "session.updated" and updated.session.instructions == "Still here."


def test_non_json_unknown_and_malformed_events_are_error_events(server):
    async def go():
        async with await ready(server) as ws:
            out = []
            for frame in ("not json", json.dumps([1, 2]), json.dumps({"event_id": "e1"}),
                          json.dumps({"type": "conversation.nope", "event_id": "e2"}),
                          json.dumps({"type": "input_audio_buffer.append", "audio": "%%%not base64"}),
                          json.dumps({"type": "conversation.item.create"})):
                await ws.send(frame)
                out += await until(ws, "error")
            await send(ws, type="conversation.item.create", item=user_text("still open?"))
            out += await until(ws, "conversation.item.done")
            return out

    events = run(go())
    errors = [e["error"] for e in events if e["type"] == "error"]
    assert [e["code"] for e in errors] == ["invalid_json", "invalid_json", "missing_required_parameter", "invalid_value",
                                           "invalid_value", "missing_required_parameter"]
    assert errors[3]["param"] == "type" and errors[3]["event_id"] == "e2" and "'session.update'" in errors[3]["message"]
    assert errors[4]["param"] == "audio" and errors[5]["param"] == "item"
    assert events[-1]["type"] == "conversation.item.done"
    assert not problems(events)


def test_out_of_band_response_and_input_items(server):
    async def go():
        async with await ready(server) as ws:
            await send(ws, type="response.create", response={
                "conversation": "none", "output_modalities": ["text"], "metadata": {"purpose": "classify"},
                "input": [user_text("Classify this.")]})
            return await until(ws, "response.done")

    events = run(go())
    assert "conversation.item.added" not in types(events)
    response = events[-1]["response"]
    assert response["conversation_id"] is None and response["metadata"] == {"purpose": "classify"}
    assert response["output_modalities"] == ["text"]
    assert not problems(events)


def test_one_active_response_at_a_time(server):
    async def go():
        async with await ready(server, headers=PACED) as ws:
            await send(ws, type="response.create")
            await until(ws, "response.created")
            await send(ws, type="response.create", event_id="evt_second")
            return await until(ws, "error")

    events = run(go())
    assert events[-1]["error"]["code"] == "conversation_already_has_active_response"


def test_transcription_sessions_and_azure_urls(server):
    async def go():
        ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/v1/realtime?intent=transcription",
                                      additional_headers={"Authorization": "Bearer sk-test"})
        async with ws:
            created = await until(ws, "session.created")
            await send(ws, type="input_audio_buffer.append", audio=b64(silence(300) + tone(600) + silence(400)))
            await send(ws, type="session.update", session={"type": "transcription", "audio": {
                "input": {"transcription": {"model": "gpt-4o-transcribe"}}}})
            await until(ws, "session.updated")
            await send(ws, type="input_audio_buffer.append", audio=b64(tone(600) + silence(400)))
            transcribed = await until(ws, "conversation.item.input_audio_transcription.completed")
        azure = await websockets.connect(
            f"ws://127.0.0.1:{server.port}/openai/realtime?api-version=2025-08-28&deployment=gpt-realtime",
            additional_headers={"api-key": "azure-key"})
        async with azure:
            azure_created = await until(azure, "session.created")
        return created, transcribed, azure_created

    created, transcribed, azure_created = run(go())
    assert created[0]["session"]["type"] == "transcription"
    assert "response.created" not in types(transcribed)
    assert azure_created[0]["session"]["model"] == "gpt-realtime"
    assert not problems(created + transcribed + azure_created)


def test_the_beta_header_gets_the_ga_notice_and_a_close(server):
    async def go():
        ws = await connect(server, headers={"OpenAI-Beta": "realtime=v1"})
        event = json.loads(await ws.recv())
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
        return event, ws.close_code

    event, code = run(go())
    assert event["type"] == "error" and "Beta" in event["error"]["message"] and "GA" in event["error"]["message"]
    assert code == 1000


def test_the_url_needs_exactly_one_target(server):
    async def go(query):
        with pytest.raises(websockets.InvalidStatus) as info:
            await websockets.connect(f"ws://127.0.0.1:{server.port}/v1/realtime?{query}")
        return info.value.response.status_code, json.loads(info.value.response.body)

    status, body = run(go(""))
    assert status == 400 and "exactly one" in body["error"]["message"]
    status, _ = run(go("model=gpt-realtime&call_id=rtc_x"))
    assert status == 400


def test_unknown_models_get_an_error_event(server):
    async def go():
        ws = await connect(server, query="model=no-such-model")
        event = json.loads(await ws.recv())
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
        return event

    assert run(go())["error"]["code"] == "model_not_found"


def test_a_plain_get_is_refused(http):
    answer = http.get("/v1/realtime?model=gpt-realtime")
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "websocket_required"


# --- keys ----------------------------------------------------------------------------------------------


def test_auth_ephemeral_keys_and_the_browser_subprotocol(make_server):
    running = make_server(require_auth=True, api_keys=["sk-good"])

    async def refused(**options):
        with pytest.raises(websockets.InvalidStatus) as info:
            await websockets.connect(f"ws://127.0.0.1:{running.port}/v1/realtime?model=gpt-realtime", **options)
        return info.value.response.status_code

    async def go():
        client = AsyncOpenAI(base_url=running.url, api_key="sk-good")
        secret = await client.realtime.client_secrets.create(
            expires_after={"anchor": "created_at", "seconds": 60},
            session={"type": "realtime", "model": "gpt-realtime", "instructions": "From the secret."})
        assert secret.value.startswith("ek_") and secret.session.instructions == "From the secret."
        ephemeral = AsyncOpenAI(base_url=running.url, api_key=secret.value)
        async with ephemeral.realtime.connect(model="gpt-realtime") as conn:
            created = await conn.recv()
        browser = await websockets.connect(f"ws://127.0.0.1:{running.port}/v1/realtime?model=gpt-realtime",
                                           subprotocols=["realtime", "openai-insecure-api-key.sk-good"])
        async with browser:
            assert browser.subprotocol == "realtime"
            await until(browser, "session.created")
        statuses = [await refused(), await refused(additional_headers={"Authorization": "Bearer sk-bad"})]
        running.runtime.clock.advance(61)
        statuses.append(await refused(additional_headers={"Authorization": f"Bearer {secret.value}"}))
        return created, statuses

    created, statuses = run(go())
    assert created.session.instructions == "From the secret."
    assert statuses == [401, 401, 401]


def test_client_secret_lifetimes(client):
    import time

    secret = client.realtime.client_secrets.create()
    assert secret.expires_at - secret.session.expires_at == 0
    assert abs(secret.expires_at - (time.time() + 600)) < 60  # a Unix time, ten minutes on
    for seconds, code in ((5, "integer_below_min_value"), (7201, "integer_above_max_value")):
        with pytest.raises(Exception) as info:
            client.realtime.client_secrets.create(expires_after={"anchor": "created_at", "seconds": seconds})
        assert info.value.status_code == 400 and info.value.code == code


# --- calls (WebRTC and SIP) ----------------------------------------------------------------------------------

OFFER = ("v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nt=0 0\r\nm=audio 55983 UDP/TLS/RTP/SAVPF 96 0 8\r\n"
         "a=rtpmap:96 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\nm=application 57304 UDP/DTLS/SCTP webrtc-datachannel\r\n")


def test_calls_create_accept_hangup_refer_reject_and_the_sideband_socket(server, client, http):
    answer = client.realtime.calls.create(sdp=OFFER, session={"type": "realtime", "model": "gpt-realtime",
                                                              "instructions": "Answer in two words."})
    sdp = answer.text
    assert sdp.startswith("v=0\r\n") and "m=audio 9 UDP/TLS/RTP/SAVPF 96 0 8" in sdp and "m=application 9" in sdp
    raw = http.post("/v1/realtime/calls", content=OFFER, headers={"content-type": "application/sdp",
                                                                   "authorization": "Bearer sk-test"})
    assert raw.status_code == 201 and raw.headers["location"].startswith("/v1/realtime/calls/rtc_")
    call_id = raw.headers["location"].rsplit("/", 1)[1]
    assert http.post("/v1/realtime/calls", content="hello", headers={"content-type": "application/sdp"}).status_code == 400
    client.realtime.calls.accept(call_id, type="realtime", model="gpt-realtime", instructions="Sideband.")

    async def sideband():
        ws = await connect(server, query=f"call_id={call_id}")
        async with ws:
            await send(ws, type="conversation.item.create", item=user_text("Hi"))
            await send(ws, type="response.create")
            return await until(ws, "output_audio_buffer.stopped")

    events = run(sideband())
    assert events[0]["type"] == "conversation.item.added"  # no session.created: the call made the session
    assert "output_audio_buffer.started" in types(events) and "response.output_audio.delta" not in types(events)
    assert not problems(events)
    client.realtime.calls.refer(call_id, target_uri="tel:+14155550123")
    client.realtime.calls.reject("rtc_incoming_sip", status_code=486)
    client.realtime.calls.hangup(call_id)


# --- fixtures ------------------------------------------------------------------------------------------------

FIXTURES = """
- name: weather in words
  match: {endpoint: realtime, message: "weather"}
  response: {content: "It is sunny in Lisbon."}
- name: tool call
  match: {endpoint: realtime, message: "^call the tool$", body: {output_modalities: [text]}}
  response: {tool_calls: [{name: get_weather, arguments: {city: Oslo}}]}
- name: recorded events
  match: {endpoint: realtime, message: "replay"}
  response:
    stream:
      - {type: response.created, event_id: event_1, response: {object: realtime.response, id: resp_1, status: in_progress, output: []}}
      - data: {type: response.done, event_id: event_2, response: {object: realtime.response, id: resp_1, status: completed, output: []}}
        delay_ms: 20
"""


def test_fixtures_reply_with_text_tool_calls_or_recorded_events(make_server, tmp_path):
    (tmp_path / "realtime.yaml").write_text(FIXTURES)
    running = make_server(fixtures=[tmp_path])

    async def turn(ws, text, modalities=("text",)):
        await send(ws, type="conversation.item.create", item=user_text(text))
        await send(ws, type="response.create", response={"output_modalities": list(modalities)})
        return await until(ws, "response.done")

    async def go():
        ws = await connect(running)
        async with ws:
            await until(ws, "session.created")
            return [await turn(ws, "How is the weather?", ("audio",)), await turn(ws, "call the tool"),
                    await turn(ws, "please replay")]

    spoken, called, replayed = run(go())
    assert spoken[-1]["response"]["output"][0]["content"][0]["transcript"] == "It is sunny in Lisbon."
    assert json.loads(called[-1]["response"]["output"][0]["arguments"]) == {"city": "Oslo"}
    assert [e["event_id"] for e in replayed[-2:]] == ["event_1", "event_2"]


# --- faults, journal, verdict ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 429, 503])
def test_faults_refuse_the_upgrade(server, status):
    async def go():
        with pytest.raises(websockets.InvalidStatus) as info:
            await connect(server, headers={"X-Mock-Fault": str(status)})
        return info.value.response

    response = run(go())
    assert response.status_code == status
    assert "error" in json.loads(response.body)


@pytest.mark.parametrize("fault, code", [("stream_cut; after_chunks=3", 1011),
                                         ("stream_cut; after_chunks=3; close_code=4000", 4000),
                                         ("stream_cut; after_chunks=3; close=true", 1006),
                                         ("stall; after_chunks=2; hold_ms=50", 1011)])
def test_faults_close_the_socket_after_n_events(server, fault, code):
    async def go():
        ws = await connect(server, headers={"X-Mock-Fault": fault})
        got = []
        await send(ws, type="conversation.item.create", item=user_text("Hello"))
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                got.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
        return got, ws.close_code

    got, close_code = run(go())
    assert close_code == code
    assert len(got) == (3 if "after_chunks=3" in fault else 2)


def test_faults_mid_response_and_error_events(server):
    async def cut():
        ws = await connect(server, headers={"X-Mock-Fault": "stream_cut; mid_response=true; after_chunks=4"})
        got = []
        await send(ws, type="conversation.item.create", item=user_text("Hello"))
        await send(ws, type="response.create")
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                got.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
        return got, ws.close_code

    async def error():
        ws = await connect(server, headers={"X-Mock-Fault": "stream_error; mid_response=true; code=rate_limit_exceeded"})
        async with ws:
            await send(ws, type="response.create")
            return await until(ws, "response.done")

    got, code = run(cut())
    assert code == 1011 and types(got)[-4] == "response.created" and "response.done" not in types(got)
    events = run(error())
    at = types(events).index("error")
    assert types(events)[at - 1] == "response.created" and events[at]["error"]["code"] == "rate_limit_exceeded"
    assert events[-1]["type"] == "response.done"
    assert not problems(events)


def test_admin_rules_journal_and_verdict(make_server):
    running = make_server()
    running.add_rule(match={"endpoint": "realtime"}, fault={"type": "stream_cut", "after_chunks": 1}, times=2)

    async def session():
        ws = await connect(running)
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed:
            return ws.close_code

    async def go():
        first = await session()
        await asyncio.sleep(0.15)
        second = await session()  # reconnected with backoff, cut again
        await asyncio.sleep(0.3)
        ws = await connect(running)  # never cut: the rule fired twice
        async with ws:
            await until(ws, "session.created")
        return first, second

    assert run(go()) == (1011, 1011)
    entries = [e for e in running.journal() if e["operation"] == "realtime.connect"]
    assert [e["outcome"] for e in entries] == ["cut", "cut", "ok"]
    assert entries[0]["session"]["close_code"] == 1011 and entries[0]["session"]["out"] == {"session.created": 1}
    assert entries[0]["fault"].startswith("stream_cut")
    verdict = running.verdict()
    assert verdict["realtime_sessions"] == 3
    assert not [f for f in verdict["findings"] if f["kind"].startswith("realtime")]


def test_the_verdict_sees_a_client_that_never_reconnects(make_server):
    running = make_server()

    async def go():
        ws = await connect(running, headers={"X-Mock-Fault": "stream_cut; after_chunks=1; close=true"})
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), 5)

    run(go())
    kinds = [f["kind"] for f in running.verdict()["findings"]]
    assert kinds == ["realtime_not_reconnected"]


def test_a_latency_fault_delays_the_upgrade(server):
    import time

    async def go():
        began = time.perf_counter()
        ws = await connect(server, headers={"X-Mock-Fault": "latency; delay_ms=200"})
        async with ws:
            await until(ws, "session.created")
        return time.perf_counter() - began

    assert run(go()) >= 0.2


def test_strict_fixtures_refuse_an_unmatched_response_with_an_error_event(make_server):
    running = make_server(strict_fixtures=True)

    async def go():
        ws = await connect(running)
        async with ws:
            await until(ws, "session.created")
            await send(ws, type="response.create", event_id="evt_strict")
            return await until(ws, "error")

    error = run(go())[-1]["error"]
    assert error["code"] == "fixture_not_found" and error["event_id"] == "evt_strict"


def test_items_are_placed_where_asked_and_retrieve_returns_what_was_created(server):
    async def go():
        async with await ready(server, NO_VAD) as ws:
            await send(ws, type="conversation.item.create", item={**user_text("second"), "id": "item_second"})
            await send(ws, type="conversation.item.create", item={**user_text("first"), "id": "item_first"},
                       previous_item_id="root")
            await send(ws, type="conversation.item.create", item={**user_text("middle"), "id": "item_middle"},
                       previous_item_id="item_first")
            await send(ws, type="conversation.item.create", item=user_text("nowhere"), previous_item_id="item_nope",
                       event_id="evt_nowhere")
            placed = await until(ws, "error")
            await send(ws, type="input_audio_buffer.append", audio=b64(tone(300)))
            await send(ws, type="input_audio_buffer.commit")
            committed = await until(ws, "conversation.item.done")
            await send(ws, type="conversation.item.retrieve", item_id=committed[0]["item_id"])
            retrieved = await until(ws, "conversation.item.retrieved")
            return placed, committed, retrieved

    placed, committed, retrieved = run(go())
    added = [(e["item"]["id"], e["previous_item_id"]) for e in placed if e["type"] == "conversation.item.added"]
    assert added == [("item_second", None), ("item_first", None), ("item_middle", "item_first")]
    assert placed[-1]["error"]["param"] == "previous_item_id" and placed[-1]["error"]["event_id"] == "evt_nowhere"
    assert committed[0]["previous_item_id"] == "item_second"  # appended after the last item
    audio = retrieved[-1]["item"]["content"][0]["audio"]
    assert base64.b64decode(audio) == tone(300)  # retrieve carries the committed audio itself
    assert "audio" not in committed[-1]["item"]["content"][0]  # the other events do not
    assert not problems(placed + committed + retrieved)


def test_vad_without_create_response_and_per_response_overrides(server):
    async def go():
        async with await ready(server) as ws:
            await send(ws, type="session.update", session={
                "type": "realtime", "tools": [WEATHER], "instructions": "Session instructions.",
                "audio": {"input": {"turn_detection": {"type": "server_vad", "create_response": False}}}})
            updated = await until(ws, "session.updated")
            await send(ws, type="input_audio_buffer.append", audio=b64(tone(400) + silence(400)))
            heard = await until(ws, "conversation.item.done")
            await send(ws, type="response.create", response={"output_modalities": ["text"], "tool_choice": "none",
                                                             "instructions": "Answer in French.", "max_output_tokens": 50})
            answered = await until(ws, "response.done")
            return updated, heard, answered

    updated, heard, answered = run(go())
    session = updated[-1]["session"]
    assert session["tools"][0]["name"] == "get_weather" and session["audio"]["input"]["turn_detection"]["create_response"] is False
    assert session["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 200  # defaults filled in
    assert "response.created" not in types(heard)
    response = answered[-1]["response"]
    assert response["output"][0]["type"] == "message" and response["max_output_tokens"] == 50
    assert response["output_modalities"] == ["text"]
    assert not problems(updated + heard + answered)


def test_output_audio_buffer_clear_cuts_the_spoken_answer(server):
    async def go():
        async with await ready(server, headers=PACED) as ws:
            await send(ws, type="response.create")
            await until(ws, "response.output_audio.delta")
            await send(ws, type="output_audio_buffer.clear")
            return await until(ws, "response.done")

    events = run(go())
    assert "output_audio_buffer.cleared" in types(events)
    assert events[-1]["response"]["status"] == "cancelled"
    assert not problems(events)


def test_the_sdk_sees_a_refused_upgrade_and_the_verdict_a_client_that_gave_up(make_server):
    running = make_server()

    async def go():
        client = AsyncOpenAI(base_url=running.url, api_key="sk-test")
        with pytest.raises(websockets.InvalidStatus) as info:
            async with client.realtime.connect(model="gpt-realtime", extra_headers={"X-Mock-Fault": "503"}):
                pass
        return info.value.response.status_code

    assert run(go()) == 503
    entry = running.journal()[-1]
    assert (entry["operation"], entry["status"], entry["outcome"]) == ("realtime.connect", 503, "error")
    assert [f["kind"] for f in running.verdict()["findings"]] == ["realtime_not_reconnected"]


# --- generated client events ---------------------------------------------------------------------

CLIENT_EVENTS = ["session.update", "input_audio_buffer.append", "input_audio_buffer.commit", "input_audio_buffer.clear",
                 "conversation.item.create", "conversation.item.retrieve", "conversation.item.delete",
                 "conversation.item.truncate", "response.create", "response.cancel", "output_audio_buffer.clear"]


def test_generated_client_events_never_end_the_session_and_every_answer_meets_the_contract(server):
    """Schema-valid client events of every type, in any order (the kit's generator, from
    the SDK's union): the socket stays open, each event is answered or refused with an
    `error` event, and every server event validates. (Run by hand with 3,000 sequences:
    this found `output_audio_buffer.cleared` without a response and custom voices echoed
    against the SDK's response type.)"""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from mockserver.kit.fuzz import event_strategy

    async def session(events: list[dict]) -> list[dict]:
        ws = await ready(server, max_size=None, max_queue=None)
        async with ws:
            for event in events:
                await send(ws, **event)
            await send(ws, type="conversation.item.retrieve", item_id="item_probe", event_id="probe")
            seen: list[dict] = []
            while not (seen and seen[-1]["type"] == "error" and seen[-1]["error"].get("event_id") == "probe"):
                seen.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            return seen

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.sampled_from(CLIENT_EVENTS).flatmap(lambda kind: event_strategy("realtime.client.event", kind)),
                    min_size=1, max_size=6))
    def sequences(events):
        assert not problems(run(session(events)))

    sequences()


def test_clearing_output_audio_before_any_response_is_an_error_event(server):
    async def go():
        ws = await ready(server)
        async with ws:
            await send(ws, type="output_audio_buffer.clear", event_id="clear_1")
            return await until(ws, "error")

    error = run(go())[-1]["error"]
    assert error["code"] == "output_audio_buffer_clear_not_active" and error["event_id"] == "clear_1"


def test_an_upgrade_request_websockets_cannot_parse_gets_a_400_not_a_hang(server):
    """A request line over websockets' 8 KB (httptools takes 64 KB): uvicorn's protocol left
    the client waiting for its own timeout; it gets the 400 for malformed HTTP now."""
    import socket

    head = (f"GET /v1/realtime?model={'a' * 20000} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(head.encode())
        answer = conn.recv(200)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request") and answer.endswith(b"Invalid HTTP request received.")


def test_a_20_mb_text_item_is_counted_without_holding_up_other_clients(server):
    """An item's (or instructions') tokens are counted where they arrive: a long string is
    counted in a worker thread first (on the loop, 20 MB held other clients for 0.8 s)."""
    text = "The quick brown fox jumps over the lazy dog. " * (20 * 2**20 // 45)

    async def go():
        ws = await ready(server, {"output_modalities": ["text"]}, max_size=None, max_queue=None)
        async with ws:
            await send(ws, type="conversation.item.create", item=user_text(text))
            slowest = await slowest_small_request(server, 15)
            await until(ws, "conversation.item.done", timeout=60)
            await send(ws, type="response.create")
            done = (await until(ws, "response.done", timeout=60))[-1]
            return done, slowest

    done, slowest = run(go())
    assert done["response"]["usage"]["input_token_details"]["text_tokens"] > 4_000_000
    assert slowest < 0.4, f"a small request waited {slowest:.2f}s behind the item"


def test_rate_limits_from_the_config_count_responses_and_refuse_with_an_error_event(make_server):
    """The config's buckets (per key and model, shared with the HTTP API) count each response
    by its prompt and output budget; `rate_limits.updated` reports them; with `enforce`, a
    response they cannot hold is the HTTP API's 429 wording as an `error` event."""
    from mockserver.config import RateLimit

    # 600 tokens a minute refill 10 a second: a turn's ~120 (the default instructions, the
    # question) show, whatever the pace of the machine.
    running = make_server(rate_limits={"gpt-realtime": RateLimit(requests_per_minute=2, tokens_per_minute=600)},
                          enforce_rate_limits=True)

    async def go():
        ws = await ready(running)
        async with ws:
            spoken = []
            for n in range(2):
                await send(ws, type="conversation.item.create", item=user_text(f"Question {n}?"))
                await send(ws, type="response.create")
                spoken.append(await until(ws, "rate_limits.updated"))
            await send(ws, type="response.create", event_id="third")
            refused = (await until(ws, "error"))[-1]
            await send(ws, type="conversation.item.create", item=user_text("Still there?"))
            still = await until(ws, "conversation.item.done")
            return spoken, refused, still

    spoken, refused, still = run(go())
    first, second = (turn[-1]["rate_limits"][0] for turn in spoken)
    assert first["name"] == "tokens" and first["limit"] == 600
    assert second["remaining"] < first["remaining"] < 600 - 50
    error = refused["error"]
    assert error["code"] == "rate_limit_exceeded" and error["event_id"] == "third"
    assert error["message"].startswith("Rate limit reached for gpt-realtime in organization org-mockserver on "
                                       "requests per min (RPM): Limit 2, Used 2, Requested 1.")
    assert still[-1]["type"] == "conversation.item.done"  # the socket stays open
    assert not problems([turn[-1] for turn in spoken] + [refused])
