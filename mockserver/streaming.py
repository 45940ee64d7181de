"""Server-sent events: framing, and the one writer every streaming family uses.

Chat streams are bare `data:` frames ending in `data: [DONE]`; Responses streams carry
an `event:` line per frame and no `[DONE]`. A stream with no pacing goes out in a
single write (the client cannot tell, and it is several times faster); a paced stream
is written frame by frame with its delays.
"""

from __future__ import annotations

import asyncio
import random
import string
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .wire import Exchange, StreamReply

DONE = b"data: [DONE]\n\n"

# Byte -> letter or digit, so random bytes become padding in one C call.
_ALNUM = string.ascii_letters + string.digits
_TO_ALNUM = bytes(_ALNUM[b % len(_ALNUM)].encode()[0] for b in range(256))


def padding(rng: random.Random, length: int) -> bytes:
    """`length` random letters and digits: the `obfuscation` the real API pads stream
    events with (so their sizes do not reveal the tokens)."""
    return rng.randbytes(length).translate(_TO_ALNUM)


def frame(data: bytes, event: str | None = None) -> bytes:
    """One SSE frame around an already-serialised JSON payload."""
    if event is None:
        return b"data: " + data + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"


async def send_stream(ex: "Exchange", reply: "StreamReply") -> None:
    await ex.start(reply.status, reply.content_type, reply.headers, None, reply.profile)
    send = ex.send
    frames = reply.frames
    if isinstance(frames, list) and not reply.delays:
        await send({"type": "http.response.body", "body": b"".join(frames), "more_body": False})
        return
    delays = reply.delays or ()
    index = 0
    if isinstance(frames, list):
        for index, data in enumerate(frames):
            if index < len(delays) and delays[index] > 0:
                await asyncio.sleep(delays[index])
            await send({"type": "http.response.body", "body": data, "more_body": True})
    else:
        async for data in frames:
            if index < len(delays) and delays[index] > 0:
                await asyncio.sleep(delays[index])
            index += 1
            await send({"type": "http.response.body", "body": data, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
