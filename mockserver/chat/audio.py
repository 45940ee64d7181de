"""Audio output (`modalities: ["audio"]`): the spoken answer, its transcript, and what it costs.

The real API answers with `message.audio` (`id`, base64 `data`, `expires_at` an hour on,
`transcript`) and `content: null`; a stream sends the transcript first, then the audio in
pieces, then `expires_at` after the usage chunk (ChatTests/ChatWithBasicAudioOutput#0,
gpt-audio-1.5). The sound itself carries no meaning here: one soft tone burst per word of
the transcript, 24 kHz mono 16-bit, written in the format asked for, so a client can
decode, play, save and measure it.
"""

from __future__ import annotations

import math
import random
import struct
from array import array

SAMPLE_RATE = 24_000
WORD_SECONDS = 0.4  # about how long a spoken word takes, with its pause
MAX_SECONDS = 30.0  # the audio synthesized for one answer, however long its transcript
TOKENS_PER_SECOND = 20  # audio tokens per second of output (19 for 0.95 s, as recorded)
EXPIRES_AFTER = 3600  # seconds: `expires_at` is an hour after `created`, as recorded
STREAM_PIECE = 19_200  # bytes of PCM per streamed piece (25,600 base64 characters, as recorded)


def _burst() -> bytes:
    """One word: a 300 ms tone with soft edges, then 100 ms of silence (little-endian PCM16)."""
    samples = array("h")
    length = int(SAMPLE_RATE * 0.3)
    for n in range(length):
        edge = min(1.0, n / 600, (length - n) / 600)
        samples.append(int(2200 * edge * math.sin(2 * math.pi * 220 * n / SAMPLE_RATE)))
    samples.extend([0] * int(SAMPLE_RATE * 0.1))
    return samples.tobytes() if array("h", [1]).tobytes() == b"\x01\x00" else _swapped(samples)


def _swapped(samples: array) -> bytes:
    samples.byteswap()
    return samples.tobytes()


_WORD = _burst()


def seconds_for(transcript: str) -> float:
    return min(MAX_SECONDS, max(WORD_SECONDS, len(transcript.split()) * WORD_SECONDS))


def pcm(transcript: str) -> bytes:
    """The spoken transcript as raw PCM16: a burst per word, up to MAX_SECONDS."""
    words = max(1, round(seconds_for(transcript) / WORD_SECONDS))
    return _WORD * words


def encoded(transcript: str, fmt: str) -> bytes:
    """The audio in the format the request names. pcm16 is raw; wav has its RIFF header;
    mp3 is silent MPEG-2 Layer III frames of the same length. flac, opus and aac are
    answered as WAV (README: the fake does not encode those)."""
    raw = pcm(transcript)
    if fmt == "pcm16":
        return raw
    if fmt == "mp3":
        return _silent_mp3(len(raw) / 2 / SAMPLE_RATE)
    return _wav(raw)


def _wav(raw: bytes) -> bytes:
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(raw), b"WAVE", b"fmt ", 16, 1, 1, SAMPLE_RATE,
                         SAMPLE_RATE * 2, 2, 16, b"data", len(raw))
    return header + raw


# MPEG-2 Layer III, 32 kbit/s, 24 kHz, mono, no CRC: a 96-byte frame of 576 samples. With
# every side-info bit zero, a frame decodes as silence.
_MP3_FRAME = bytes([0xFF, 0xF3, 0x44, 0xC4]) + bytes(92)


def _silent_mp3(seconds: float) -> bytes:
    return _MP3_FRAME * max(1, math.ceil(seconds * SAMPLE_RATE / 576))


def audio_id(rng: random.Random) -> str:
    return f"audio_{rng.getrandbits(128):032x}"


def output_tokens(transcript: str) -> int:
    return round(seconds_for(transcript) * TOKENS_PER_SECOND)
