"""One realtime session: its config, its conversation, its input audio, and the 11 client
events that change them.

Client events are handled one at a time, in order. A response is run to its end before
the next event is read, unless it is paced (a fixture's delays, a latency fault): then it
runs beside the reader, so `response.cancel`, and speech under server VAD with
`interrupt_response`, can cut it short. Either way the order of server events is fixed by
the client's events, as the recordings show (a `function_call_output` sent while a
response is finishing is added after that response's `response.done`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..api.common import fixture_not_found
from ..errors import OpenAIError
from ..ids import rng_for
from ..prompt_cache import BLOCK, MINIMUM
from ..synth import text as prose
from ..tokens import OFF_LOOP_BYTES, off_loop
from . import audio, respond, wire
from .events import BadEvent

if TYPE_CHECKING:
    from ..runtime import Runtime

MIN_COMMIT_MS = 100  # the real API refuses to commit less (its public error message, below)


class Session:
    def __init__(self, runtime: "Runtime", send: Callable, kind: str, model: str | None, seed: bytes,
                 header: Callable[[str], str | None], sideband: bool = False, config: dict | None = None) -> None:
        self.runtime = runtime
        self.send_event = send
        self.rng = rng_for(seed, runtime.config.seed, "realtime-session")
        self.ids = wire.Ids(self.rng)
        self.operation = "realtime.connect"
        self.header = header
        self.sideband = sideband
        self.config = config or wire.default_session(kind, self.ids.make("sess_"), model)
        self.conversation_id = self.ids.make("conv_")
        self.items: OrderedDict[str, dict] = OrderedDict()
        self.buffer = bytearray()  # input audio not yet committed
        self.vad = self._vad()
        self.speech_item: str | None = None  # the item id announced by `speech_started`
        self.heard: dict[str, int] = {}  # input audio item -> its audio tokens
        self.spoken: dict[str, int] = {}  # assistant audio item -> its duration, ms
        self.audio_of: dict[str, bytes] = {}  # committed input audio, for `conversation.item.retrieve`
        self.active: respond.Plan | None = None  # the response in the conversation, if one is in progress
        self.last_response: str | None = None  # the newest response's id, in progress or not
        self.long_counts: dict[str, int] = {}  # token counts of long strings, made off the loop
        self.tasks: set[asyncio.Task] = set()
        self.fixture: str | None = None
        self.used = 0  # tokens, for `rate_limits.updated`
        self.api_key = ""  # the key the socket was opened with (socket.py): rate limits are per key and model
        self.last_prompt = 0  # the previous response's prompt tokens (cached)
        self.tokens: dict[str, int] = {}  # item id -> its prompt tokens, as counted (account)
        self.conversation_tokens = 0  # the conversation's prompt tokens, kept as items come and go
        self.paced = False  # set by the connection: a latency fault paces every event
        self.counter = runtime.tokenizer
        self.exchange: Any = None  # the upgrade request (socket.py), for `--strict-fixtures`' message

    # --- helpers the response builder uses ----------------------------------------------

    def event(self, kind: str, **fields: Any) -> dict:
        return {"type": kind, "event_id": self.ids.event(), **fields}

    def last_id(self) -> str | None:
        return next(reversed(self.items), None) if self.items else None

    def count(self, text: str) -> int:
        if not text:
            return 0
        if len(text) >= OFF_LOOP_BYTES:
            found = self.long_counts.get(text)
            if found is not None:
                return found
        return self.counter.count(text)

    async def count_long_strings(self, event: Any) -> None:
        """Count the event's strings of OFF_LOOP_BYTES or more in a worker thread, before the
        event is handled, so `count` finds them (instructions or an item's text of 20 MB
        took the loop for a second); the last few are kept, for the responses that reread them."""
        for text in _long_strings(event):
            if text not in self.long_counts:
                self.long_counts[text] = await asyncio.to_thread(self.counter.count, text)
                while len(self.long_counts) > LONG_COUNTS_KEPT:
                    self.long_counts.pop(next(iter(self.long_counts)))

    def item_tokens(self, item: dict) -> int:
        """An item's prompt tokens: its text and 4 of framing."""
        return self.count(wire.item_text(item)) + 4

    def account(self, item: dict) -> None:
        """Count a finished item of the conversation into `conversation_tokens`, once: a long
        session does not count its whole conversation again at every turn."""
        tokens = self.tokens[item["id"]] = self.item_tokens(item)
        self.conversation_tokens += tokens

    def unaccount(self, item_id: str) -> None:
        self.conversation_tokens -= self.tokens.pop(item_id, 0)

    def cached(self, prompt_tokens: int) -> int:
        """Prompt tokens served from the cache: what the previous response of this session
        already read, in blocks once there are enough (the prompt cache's rule, prompt_cache.py)."""
        shared, self.last_prompt = min(prompt_tokens, self.last_prompt), prompt_tokens
        return MINIMUM + (shared - MINIMUM) // BLOCK * BLOCK if shared >= MINIMUM else 0

    def spend(self) -> list[dict]:
        """`rate_limits.updated`'s entry: the config's bucket for this key and model when it
        sets one (shared with the HTTP API), else the recorded limit less this session's use."""
        limits, model = self.runtime.rate_limits, self.config.get("model") or ""
        left = limits.tokens_left(self.api_key, model) if limits.configured(model) else None
        if left is not None:
            limit, remaining, reset = left
            return wire.rate_limits(remaining, limit, reset)
        return wire.rate_limits(wire.TOKENS_PER_MINUTE - self.used)

    def take_rate_limit(self, plan: respond.Plan, event_id: str | None) -> None:
        """Count a response against the config's rate limits, as the HTTP API counts a request
        (its prompt and its output budget): with `enforce`, one the buckets cannot hold is
        refused with the HTTP API's 429 wording (ratelimit.py) as an `error` event, and the
        socket stays open."""
        limits, model = self.runtime.rate_limits, self.config.get("model") or ""
        if not limits.configured(model):
            return
        prompt = plan.prompt_tokens if plan.prompt_tokens is not None else self.conversation_tokens
        budget = plan.max_output if isinstance(plan.max_output, int) else 0
        try:
            limits.consume(self.api_key, model, prompt + self.count(plan.instructions) + budget)
        except OpenAIError as err:
            raise BadEvent(err.message, code=err.code, type=err.type or "tokens", event_id=event_id) from None

    async def emit(self, kind: str, **fields: Any) -> None:
        await self.send_event(self.event(kind, **fields))

    # --- the client's events --------------------------------------------------------------

    async def handle(self, event: dict) -> None:
        handler = getattr(self, "on_" + event["type"].replace(".", "_"))
        await handler(event)

    async def on_session_update(self, event: dict) -> None:
        update = event["session"]
        self.config = wire.merge_session(self.config, update)
        self.vad = self._vad(keep=self.vad)
        await self.emit("session.updated", session=self.config)

    async def on_input_audio_buffer_append(self, event: dict) -> None:
        try:
            raw = base64.b64decode(event["audio"], validate=True)
        except (binascii.Error, ValueError):
            raise BadEvent("Invalid 'audio': expected base64-encoded audio bytes.", code="invalid_value",
                           param="audio", event_id=event.get("event_id")) from None
        self.buffer += raw
        detection = wire.turn_detection(self.config)
        if detection is None:
            return
        fmt = wire.input_format(self.config)
        # An append may hold 15 MiB of audio (minutes of it): judged in a worker thread then.
        turns = await off_loop(len(raw), lambda: self.vad.feed(audio.samples(raw, fmt), audio.rate_of(fmt)))
        for what, at_ms in turns:
            if what == "started":
                self.speech_item = self.ids.make("item_")
                await self.emit("input_audio_buffer.speech_started", audio_start_ms=at_ms, item_id=self.speech_item)
                if detection.get("interrupt_response", True) and self.active is not None:
                    self.active.cancelled = "turn_detected"
            else:
                item_id = self.speech_item or self.ids.make("item_")
                await self.emit("input_audio_buffer.speech_stopped", audio_end_ms=at_ms, item_id=item_id)
                await self._commit(item_id, event.get("event_id"))
                if detection.get("create_response", True) and self.config.get("type") == "realtime":
                    await self.respond({})  # a transcription session only transcribes

    async def on_input_audio_buffer_commit(self, event: dict) -> None:
        fmt = wire.input_format(self.config)
        have = len(self.buffer) / audio.bytes_per_ms(fmt)
        if have < MIN_COMMIT_MS:  # the SDK's docstring: "an error if the input audio buffer is empty"
            # Publicly reported wording (openai-realtime-api-beta#70, the community forum).
            raise BadEvent(f"Error committing input audio buffer: buffer too small. Expected at least {MIN_COMMIT_MS}ms "
                           f"of audio, but buffer only has {have:.2f}ms of audio.",
                           code="input_audio_buffer_commit_empty", event_id=event.get("event_id"))
        await self._commit(self.ids.make("item_"), event.get("event_id"))

    async def on_input_audio_buffer_clear(self, event: dict) -> None:
        self._consume()
        await self.emit("input_audio_buffer.cleared")

    async def on_output_audio_buffer_clear(self, event: dict) -> None:
        if self.active is not None:
            self.active.cancelled = "client_cancelled"
        response_id = self.active.id if self.active is not None else self.last_response
        if response_id is None:
            # The SDK's types: `cleared` names the response whose audio it cut (a string), so
            # with no response yet there is nothing to clear. Our wording, as cancel's.
            raise BadEvent("Clearing the output audio buffer failed: no response has been created yet.",
                           code="output_audio_buffer_clear_not_active", event_id=event.get("event_id"))
        await self.emit("output_audio_buffer.cleared", response_id=response_id)

    async def on_conversation_item_create(self, event: dict) -> None:
        item = event["item"]
        item_id = item.get("id") or self.ids.make("item_")
        previous = event.get("previous_item_id")
        if previous not in (None, "root") and previous not in self.items:
            # The SDK's docstring: "If the ID cannot be found, an error will be returned and the item will not be added."
            raise BadEvent(f"Previous item with id '{previous}' does not exist.", code="item_not_found",
                           param="previous_item_id", event_id=event.get("event_id"))
        kept = wire.normalise_item(item, item_id)
        await self._add(kept, previous)

    async def on_conversation_item_retrieve(self, event: dict) -> None:
        item = self._item(event, "retrieve")
        raw = self.audio_of.get(item["id"])
        if raw is not None:  # retrieve, unlike the other events, carries the input audio itself
            item = {**item, "content": [{**item["content"][0], "audio": base64.b64encode(raw).decode()}]}
        await self.emit("conversation.item.retrieved", item=item)

    async def on_conversation_item_delete(self, event: dict) -> None:
        item = self._item(event, "delete")
        del self.items[item["id"]]
        self.audio_of.pop(item["id"], None)
        self.unaccount(item["id"])
        await self.emit("conversation.item.deleted", item_id=item["id"])

    async def on_conversation_item_truncate(self, event: dict) -> None:
        item = self._item(event, "truncate")
        event_id = event.get("event_id")
        if item.get("role") != "assistant" or item["id"] not in self.spoken:
            # The SDK's docstring: the event truncates "a previous assistant message's audio".
            raise BadEvent("Only assistant messages with audio can be truncated.", code="invalid_value",
                           param="item_id", event_id=event_id)
        if event["content_index"] != 0:
            raise BadEvent(f"Invalid 'content_index': the item has no content part {event['content_index']}.",
                           code="invalid_value", param="content_index", event_id=event_id)
        length = self.spoken[item["id"]]
        if event["audio_end_ms"] > length:  # the SDK's docstring: "the server will respond with an error"
            raise BadEvent(f"Audio content of {length}ms is already shorter than {event['audio_end_ms']}ms",
                           code="invalid_value", param="audio_end_ms", event_id=event_id)
        self.spoken[item["id"]] = event["audio_end_ms"]
        for part in item.get("content") or []:  # the real API drops the transcript of what was cut
            if part.get("type") == "output_audio":
                part["transcript"] = ""
        self.unaccount(item["id"])
        self.account(item)
        await self.emit("conversation.item.truncated", item_id=item["id"], content_index=0,
                        audio_end_ms=event["audio_end_ms"])

    async def on_response_create(self, event: dict) -> None:
        params = event.get("response") or {}
        if params.get("conversation", "auto") != "none" and self.active is not None:
            # Publicly reported wording (community forum, openai-agents-python#1121).
            raise BadEvent(f"Conversation already has an active response in progress: {self.active.id}. Wait until "
                           "the response is finished before creating a new one.",
                           code="conversation_already_has_active_response", event_id=event.get("event_id"))
        await self.respond(params, event.get("event_id"))

    async def on_response_cancel(self, event: dict) -> None:
        wanted = event.get("response_id")
        if self.active is None or (wanted and wanted != self.active.id):
            # Publicly reported wording (openai-realtime-console issues, the community forum).
            raise BadEvent("Cancellation failed: no active response found", code="response_cancel_not_active",
                           event_id=event.get("event_id"))
        self.active.cancelled = "client_cancelled"

    # --- responses ---------------------------------------------------------------------------

    async def respond(self, params: dict, event_id: str | None = None) -> None:
        plan = respond.plan(self, params)
        self.take_rate_limit(plan, event_id)
        probe = respond.probe(self, plan)
        hit = self.runtime.fixtures.find(probe)
        if hit is None and self.runtime.config.strict_fixtures and self.exchange is not None:
            refused = fixture_not_found(self.exchange, probe)  # `--strict-fixtures`, as for HTTP (api/common.py)
            raise BadEvent(refused.message, code=refused.code, event_id=event_id)
        if hit is not None:
            self.fixture = hit.fixture.name
        if plan.conversation:
            self.active = plan
        self.last_response = plan.id
        steps = respond.events(self, plan, hit.response if hit is not None else None)
        if self.paced or (hit is not None and paced(hit.response)):
            task = asyncio.ensure_future(self._run(plan, steps))
            self.tasks.add(task)
            task.add_done_callback(self._ended)
        else:
            await self._run(plan, steps)

    def _ended(self, task: asyncio.Task) -> None:
        """A paced response's task is over: a socket closed under it (a fault, the client) ends it quietly."""
        self.tasks.discard(task)
        if not task.cancelled():
            task.exception()

    async def _run(self, plan: respond.Plan, steps) -> None:
        try:
            for event, delay in steps:
                if delay > 0:
                    await asyncio.sleep(delay)
                await self.send_event(event)
                if event["type"] == "response.done":
                    self.used += (event["response"].get("usage") or {}).get("total_tokens", 0)
                    if self.active is plan:
                        self.active = None
        finally:
            if self.active is plan:
                self.active = None

    # --- audio and items ------------------------------------------------------------------------

    def _vad(self, keep: audio.Vad | None = None) -> audio.Vad:
        detection = wire.turn_detection(self.config) or {}
        vad = audio.Vad(threshold=float(detection.get("threshold", 0.5) if detection.get("type") == "server_vad" else 0.5),
                        prefix_padding_ms=int(detection.get("prefix_padding_ms", 300) or 0),
                        silence_duration_ms=int(detection.get("silence_duration_ms", 200) or 200))
        if keep is not None:
            vad.position_ms, vad.speaking, vad.silence_ms, vad.pending = keep.position_ms, keep.speaking, keep.silence_ms, keep.pending
        return vad

    def _consume(self) -> bytes:
        raw, self.buffer = bytes(self.buffer), bytearray()
        return raw

    async def _commit(self, item_id: str, event_id: str | None) -> None:
        raw = self._consume()
        fmt = wire.input_format(self.config)
        ms = len(raw) / audio.bytes_per_ms(fmt)
        previous = self.last_id()
        await self.emit("input_audio_buffer.committed", previous_item_id=previous, item_id=item_id)
        item = {"id": item_id, "type": "message", "status": "completed", "role": "user",
                "content": [{"type": "input_audio", "transcript": None}]}
        self.heard[item_id] = max(1, round(ms / 1000 * audio.INPUT_TOKENS_PER_SECOND))
        await self._add(item, previous, audio_bytes=raw)
        transcription = wire.transcription(self.config)
        if transcription is not None:
            await self._transcribe(item, raw, ms)

    async def _transcribe(self, item: dict, raw: bytes, ms: float) -> None:
        """What the user said, deterministically (seeded by the audio): deltas, then completed."""
        transcript = prose.sentence(rng_for(raw[:4096], len(raw), self.runtime.config.seed, "transcript"))
        words = transcript.split(" ")
        for index, word in enumerate(words):
            delta = word if index == 0 else " " + word
            await self.emit("conversation.item.input_audio_transcription.delta", item_id=item["id"], content_index=0,
                            delta=delta, obfuscation=wire.obfuscation(self.rng, delta))
        item["content"][0]["transcript"] = transcript
        if item["id"] in self.items:
            self.unaccount(item["id"])
            self.account(item)
        await self.emit("conversation.item.input_audio_transcription.completed", item_id=item["id"], content_index=0,
                        transcript=transcript, usage={"type": "duration", "seconds": max(1, round(ms / 1000))})

    async def _add(self, item: dict, previous: str | None, audio_bytes: bytes | None = None) -> None:
        """Into the conversation: after `previous` (the last item when None, the start for "root")."""
        last = self.last_id()
        if previous is None or previous == last:
            previous = last
            self.items[item["id"]] = item
        else:
            items = list(self.items.items())
            index = 0 if previous == "root" else [k for k, _ in items].index(previous) + 1
            items.insert(index, (item["id"], item))
            self.items = OrderedDict(items)
            previous = None if previous == "root" else previous
        if audio_bytes is not None:
            self.audio_of[item["id"]] = audio_bytes
        self.account(item)
        shown = wire.public_item(item)
        await self.emit("conversation.item.added", previous_item_id=previous, item=shown)
        await self.emit("conversation.item.done", previous_item_id=previous, item=shown)

    def _item(self, event: dict, action: str) -> dict:
        item = self.items.get(event["item_id"])
        if item is None:  # the SDK's docstrings (retrieve, delete): "the server will respond with an error"
            # The real API's codes name the action: item_retrieve_invalid_item_id, item_delete_..., item_truncate_...
            raise BadEvent(f"Error {action.rstrip('e')}ing item: the item with id '{event['item_id']}' does not exist.",
                           code=f"item_{action}_invalid_item_id", param="item_id", event_id=event.get("event_id"))
        return item

    def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()


def paced(fixture: Any) -> bool:
    """A fixture whose events wait (`chunk_delay_ms`, `first_chunk_delay_ms`, a frame's `delay_ms`)."""
    return bool(fixture.chunk_delay or fixture.first_chunk_delay or (fixture.frames and any(f.delay for f in fixture.frames)))


LONG_COUNTS_KEPT = 8


def _long_strings(value: Any) -> Iterator[str]:
    """The strings of OFF_LOOP_BYTES or more anywhere in a client event (audio aside: it is
    decoded, never counted)."""
    if isinstance(value, str):
        if len(value) >= OFF_LOOP_BYTES:
            yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "audio":
                yield from _long_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _long_strings(item)
