"""Realtime audio: the three formats (`audio/pcm` 24 kHz, `audio/pcmu`, `audio/pcma` 8 kHz
G.711), the spoken answer, and server VAD.

Speech is told from silence by energy alone, so a test decides where speech is: zeros are
silence, a tone (or any loud samples) is speech. Windows of 20 ms are judged one by one,
and a window is speech when its RMS is over `level(threshold)`, so the same bytes give the
same `speech_started` / `speech_stopped` at the same `audio_*_ms`, every run. The sound
of an answer is the chat family's (`chat/audio.py`: a tone burst per word), written in the
session's output format.
"""

from __future__ import annotations

import math
from array import array
from operator import mul
from dataclasses import dataclass, field

from ..chat import audio as spoken

PCM_RATE = 24_000
G711_RATE = 8_000
WINDOW_MS = 20
INPUT_TOKENS_PER_SECOND = 10  # recorded: 27 audio tokens for a 2.8 s user turn
_LITTLE = array("h", [1]).tobytes() == b"\x01\x00"


def rate_of(fmt: dict) -> int:
    return PCM_RATE if fmt.get("type", "audio/pcm") == "audio/pcm" else G711_RATE


def bytes_per_ms(fmt: dict) -> float:
    """pcm is 16-bit at 24 kHz (48 bytes a ms); G.711 is a byte a sample at 8 kHz (8 a ms)."""
    return 48.0 if fmt.get("type", "audio/pcm") == "audio/pcm" else 8.0


# --- G.711 -------------------------------------------------------------------------------

def _ulaw_to_linear(byte: int) -> int:
    byte = ~byte & 0xFF
    sign, exponent, mantissa = byte & 0x80, (byte >> 4) & 0x07, byte & 0x0F
    sample = ((mantissa << 3) + 0x84) << exponent
    sample -= 0x84
    return -sample if sign else sample


def _alaw_to_linear(byte: int) -> int:
    byte ^= 0x55
    sign, exponent, mantissa = byte & 0x80, (byte >> 4) & 0x07, byte & 0x0F
    sample = (mantissa << 4) + 8
    if exponent:
        sample = (sample + 0x100) << (exponent - 1)
    return sample if sign else -sample


def _linear_to_ulaw(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    sample = min(abs(sample), 32635) + 0x84
    exponent = max(0, sample.bit_length() - 8)
    exponent = min(exponent, 7)
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _linear_to_alaw(sample: int) -> int:
    sign = 0x80 if sample >= 0 else 0
    sample = min(abs(sample), 32767)
    if sample < 256:
        exponent, mantissa = 0, sample >> 4
    else:
        exponent = min(7, sample.bit_length() - 8)
        mantissa = (sample >> (exponent + 3)) & 0x0F
    return (sign | (exponent << 4) | mantissa) ^ 0x55


ULAW_DECODE = [_ulaw_to_linear(b) for b in range(256)]
ALAW_DECODE = [_alaw_to_linear(b) for b in range(256)]


def _byte_table(decode, shift: int) -> bytes:
    """A `bytes.translate` table giving one byte (low or high) of each code's 16-bit sample."""
    return bytes(((decode[code] & 0xFFFF) >> shift) & 0xFF for code in range(256))


# G.711 decoded at C speed: each code's sample's low and high bytes by `translate`, interleaved.
_G711_BYTES = {kind: (_byte_table(table, 0), _byte_table(table, 8))
               for kind, table in (("audio/pcmu", ULAW_DECODE), ("audio/pcma", ALAW_DECODE))}


def samples(raw: bytes, fmt: dict) -> array:
    """The linear samples of `raw` in the session's input format, as 16-bit integers."""
    kind = fmt.get("type", "audio/pcm")
    tables = _G711_BYTES.get(kind)
    if tables is not None:
        pcm = bytearray(2 * len(raw))
        pcm[0::2], pcm[1::2] = raw.translate(tables[0]), raw.translate(tables[1])
        values = array("h", bytes(pcm))
    else:
        values = array("h", raw[: len(raw) // 2 * 2])
    if not _LITTLE:
        values.byteswap()
    return values


_ENCODED: dict[tuple[str, int], bytes] = {}


def encode(pcm24: bytes, fmt: dict) -> bytes:
    """24 kHz PCM16 as the output format asks: as is, or every third sample in G.711."""
    kind = fmt.get("type", "audio/pcm")
    if kind == "audio/pcm":
        return pcm24
    values = array("h", pcm24)[::3]
    table = _linear_to_ulaw if kind == "audio/pcmu" else _linear_to_alaw
    return bytes(table(v) for v in values)


def speech(transcript: str, fmt: dict) -> bytes:
    """The spoken transcript in the output format (a tone burst per word, as in chat),
    remembered by word count: every answer of n words sounds the same."""
    words = max(1, round(spoken.seconds_for(transcript) / spoken.WORD_SECONDS))
    key = (fmt.get("type", "audio/pcm"), words)
    found = _ENCODED.get(key)
    if found is None:
        found = _ENCODED[key] = encode(spoken.pcm(transcript), fmt)
    return found


def pieces(transcript: str, fmt: dict) -> list[bytes]:
    """The audio in one piece per word (0.4 s each), so each transcript delta has its audio."""
    raw = speech(transcript, fmt)
    size = int(spoken.WORD_SECONDS * 1000 * bytes_per_ms(fmt))
    return [raw[i:i + size] for i in range(0, len(raw), size)]


def output_tokens(transcript: str) -> int:
    return spoken.output_tokens(transcript)


def duration_ms(transcript: str) -> int:
    return int(spoken.seconds_for(transcript) * 1000)


# --- server VAD ------------------------------------------------------------------------------

def level(threshold: float) -> float:
    """The RMS over which a window is speech: 82 at the default threshold 0.5 (of 32,768),
    so line noise (tens) is silence and any voice or test tone (thousands) is speech."""
    return 32768 * max(0.0, min(1.0, threshold)) ** 2 * 0.01


@dataclass
class Vad:
    """Turn detection over the appended audio: `feed` returns what happened, in order:
    ("started", audio_start_ms) and ("stopped", audio_end_ms)."""

    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 200
    speaking: bool = False
    position_ms: float = 0.0  # audio seen so far, in ms
    silence_ms: float = 0.0
    pending: array = field(default_factory=lambda: array("h"))  # samples of a window not yet full

    def feed(self, values, rate: int) -> list[tuple[str, int]]:
        window = rate * WINDOW_MS // 1000
        events: list[tuple[str, int]] = []
        gate = level(self.threshold)
        buffered = self.pending + values if self.pending else values
        start = 0
        total = len(buffered)
        while total - start >= window:
            chunk = buffered[start:start + window]
            start += window
            rms = math.sqrt(sum(map(mul, chunk, chunk)) / window)
            if rms > gate:
                if not self.speaking:
                    self.speaking = True
                    events.append(("started", max(0, int(self.position_ms) - self.prefix_padding_ms)))
                self.silence_ms = 0.0
            elif self.speaking:
                self.silence_ms += WINDOW_MS
                if self.silence_ms >= self.silence_duration_ms:
                    self.speaking = False
                    self.silence_ms = 0.0
                    events.append(("stopped", int(self.position_ms + WINDOW_MS)))
            self.position_ms += WINDOW_MS
        self.pending = buffered[start:]
        return events
