"""Chat's newer answers, through the official SDK: audio output, moderation results, the
explicit prompt cache's writes, and audio models' usage details (shapes as recorded)."""

from __future__ import annotations

import base64
import io
import wave

from openai import OpenAI

SPEAK = {"model": "gpt-audio-1.5", "modalities": ["text", "audio"],
         "messages": [{"role": "user", "content": "Say hello in a sentence."}]}


def test_a_spoken_answer_is_valid_audio_with_its_transcript(client: OpenAI):
    completion = client.chat.completions.create(**SPEAK, audio={"voice": "ash", "format": "wav"})
    message = completion.choices[0].message
    assert message.content is None and message.audio is not None
    assert message.audio.id.startswith("audio_") and message.audio.transcript
    assert message.audio.expires_at == completion.created + 3600
    with wave.open(io.BytesIO(base64.b64decode(message.audio.data))) as sound:
        assert (sound.getframerate(), sound.getnchannels(), sound.getsampwidth()) == (24000, 1, 2)
        seconds = sound.getnframes() / sound.getframerate()
    assert 0.3 < seconds <= 30
    details = completion.usage.completion_tokens_details
    assert details.audio_tokens == round(seconds * 20) and details.text_tokens > 0
    assert completion.usage.completion_tokens == details.audio_tokens + details.text_tokens
    assert completion.usage.prompt_tokens_details.text_tokens == completion.usage.prompt_tokens


def test_mp3_and_pcm16_are_what_they_say(client: OpenAI):
    mp3 = client.chat.completions.create(**SPEAK, audio={"voice": "ash", "format": "mp3"})
    assert base64.b64decode(mp3.choices[0].message.audio.data)[:2] == b"\xff\xf3"  # MPEG-2 Layer III frames
    raw = client.chat.completions.create(**SPEAK, audio={"voice": "ash", "format": "pcm16"})
    data = base64.b64decode(raw.choices[0].message.audio.data)
    assert len(data) % 2 == 0 and not data.startswith(b"RIFF")


def test_a_spoken_stream_as_recorded(client: OpenAI):
    stream = client.chat.completions.create(**SPEAK, audio={"voice": "ash", "format": "pcm16"}, stream=True,
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    transcript, pieces, expires = "", [], None
    for chunk in chunks:
        for choice in chunk.choices or []:
            audio = choice.delta.audio
            if audio is None:
                continue
            transcript += audio.transcript or ""
            if audio.data:
                pieces.append(base64.b64decode(audio.data))
            expires = audio.expires_at or expires
    assert transcript and pieces and expires == chunks[0].created + 3600
    assert all(len(piece) == 19_200 for piece in pieces[:-1])
    assert any(not chunk.choices for chunk in chunks if chunk.usage is None)  # chunks without choices while it speaks
    usage_chunk = next(chunk for chunk in chunks if chunk.usage is not None)
    assert usage_chunk.usage.completion_tokens_details.audio_tokens > 0
    assert all(choice.finish_reason is None for chunk in chunks for choice in chunk.choices or [])


def test_moderation_results_follow_the_answer(client: OpenAI):
    body = {"model": "gpt-5", "messages": [{"role": "user", "content": "What is the capital of France?"}],
            "extra_body": {"moderation": {"model": "omni-moderation-latest"}}}
    chunks = list(client.chat.completions.create(**body, stream=True, stream_options={"include_usage": True}))
    last = chunks[-1].model_dump()
    assert last["choices"] == [] and last["usage"] is None and chunks[-2].usage is not None
    for side in ("input", "output"):
        results = last["moderation"][side]
        assert results["type"] == "moderation_results" and results["model"] == "omni-moderation-latest"
        assert results["results"][0]["flagged"] is False and len(results["results"][0]["categories"]) == 13
    plain = client.chat.completions.create(**body).model_dump()
    assert plain["moderation"]["input"]["results"][0]["type"] == "moderation_result"


def test_the_explicit_prompt_cache_reports_what_it_wrote(client: OpenAI):
    long = "Reference catalogue entry. " * 400
    body = {"model": "gpt-5.6", "prompt_cache_key": "audio-test-cache", "messages": [{"role": "user", "content": long}],
            "extra_body": {"prompt_cache_options": {"mode": "explicit", "ttl": "30m"}}}
    first = client.chat.completions.create(**body).usage.prompt_tokens_details.model_dump()
    second = client.chat.completions.create(**body).usage.prompt_tokens_details.model_dump()
    assert first["cache_write_tokens"] >= 1024 and first["cached_tokens"] == 0
    assert second["cache_write_tokens"] == 0 and second["cached_tokens"] == first["cache_write_tokens"]
    plain = client.chat.completions.create(model="gpt-5.6", messages=[{"role": "user", "content": "hi"}])
    assert "cache_write_tokens" not in plain.usage.prompt_tokens_details.model_dump(exclude_unset=True)


def test_audio_models_report_input_audio_apart(client: OpenAI):
    clip = base64.b64encode(b"\x00" * 4000).decode()
    completion = client.chat.completions.create(model="gpt-4o-audio-preview", messages=[{"role": "user", "content": [
        {"type": "text", "text": "Whose name is mentioned in the audio?"},
        {"type": "input_audio", "input_audio": {"data": clip, "format": "wav"}}]}])
    details = completion.usage.prompt_tokens_details
    assert details.audio_tokens == 100 and details.image_tokens == 0
    assert details.text_tokens == completion.usage.prompt_tokens - 100
    assert completion.usage.completion_tokens_details.text_tokens == completion.usage.completion_tokens
