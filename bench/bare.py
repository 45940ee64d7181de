"""The yardstick: a bare Starlette app that answers each benchmark request with the exact
bytes the fake sent for it (captured by run.py): status, headers and body, on the same
server stack.

Whatever the fake does beyond reading a body and writing those bytes is what the ratio
measures. (The server writes each header through its own checks, so a faithful answer
with fifteen headers costs more to send than a bare one with three, whoever sends it.)
"""

from __future__ import annotations

import json
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

with open(os.environ["BENCH_CAPTURE"], encoding="utf-8") as handle:
    ITEMS = json.load(handle)
CAPTURED = {item["request"].encode(): item for item in ITEMS}
BY_SCENARIO = {item["scenario"]: item for item in ITEMS}


async def answer(request: Request) -> Response:
    body = await request.body()
    item = CAPTURED.get(body) or BY_SCENARIO[request.headers.get("x-bench", "")]
    return Response(item["body"].encode(), status_code=item["status"], headers=item["headers"])


app = Starlette(routes=[Route(path, answer, methods=["POST"]) for path in ("/v1/chat/completions", "/v1/responses")])
