"""Server-sent events: framing, and the one writer every streaming family uses.

Chat streams are bare `data:` frames ending in `data: [DONE]`; Responses streams carry
an `event:` line per frame and no `[DONE]`. A stream with no pacing goes out in a
single write (the client cannot tell, and it is several times faster); a paced stream
is written frame by frame with its delays.
"""

from __future__ import annotations

import random
import string
from typing import TYPE_CHECKING

from .wire import ClientGone

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
    """The whole stream: in one write when unpaced, else frame by frame with its delays
    (each through `ex.wait`: bounded, and over as soon as the client goes)."""
    await ex.start(reply.status, reply.content_type, reply.headers, None, reply.profile)
    frames = reply.frames
    if isinstance(frames, list) and not reply.delays:
        await ex.send_body(b"".join(frames), False)
        return
    await send_frames(ex, frames, reply.delays)
    await ex.send_body(b"", False)


async def send_frames(ex: "Exchange", frames, delays: list[float] | None) -> None:
    """Frames one by one, each after its delay; raises ClientGone when the client leaves."""
    delays = delays or ()
    index = 0
    if isinstance(frames, list):
        for index, data in enumerate(frames):
            if index < len(delays) and delays[index] > 0 and await ex.wait(delays[index]):
                raise ClientGone()
            await ex.send_body(data, True)
    else:
        async for data in frames:
            if index < len(delays) and delays[index] > 0 and await ex.wait(delays[index]):
                raise ClientGone()
            index += 1
            await ex.send_body(data, True)
