"""Built-in tools, synthesized: the call items the real API puts before its message when
a request offers web_search, file_search, code_interpreter or image_generation, and the
citations the message then carries. Shapes and key order as recorded (see README,
"Responses API"); what `include` adds (sources, results, outputs) only when asked.

The policy: each built-in tool on offer is used once, in the order offered, unless
`tool_choice` is "none" or a function was called instead.
"""

from __future__ import annotations

import base64
import random
import struct
import zlib
from typing import Callable

from ..synth.text import sentence, words

BUILT_IN = ("web_search", "web_search_preview", "file_search", "code_interpreter", "image_generation")


def offered(body: dict) -> list[dict]:
    if body.get("tool_choice") == "none":
        return []
    return [tool for tool in body.get("tools") or [] if tool.get("type") in BUILT_IN]


def calls(tools: list[dict], body: dict, make_id: Callable[[str], str], rng: random.Random, query: str) -> list[dict]:
    include = set(body.get("include") or [])
    out = []
    for tool in tools:
        kind = tool["type"]
        if kind.startswith("web_search"):
            action: dict = {"type": "search", "query": query}
            if "web_search_call.action.sources" in include:
                action["queries"] = [query]
                action["sources"] = [{"type": "url", "url": url} for url, _ in _pages(query)]
            out.append({"id": make_id("ws"), "type": "web_search_call", "status": "completed", "action": action})
        elif kind == "file_search":
            results = None
            if "file_search_call.results" in include:
                results = [{"attributes": {}, "file_id": file_id, "filename": name, "score": score, "text": sentence(rng)}
                           for file_id, name, score in _files(tool)]
            out.append({"id": make_id("fs"), "type": "file_search_call", "status": "completed", "queries": [query],
                        "results": results})
        elif kind == "code_interpreter":
            code = f"result = {rng.randint(2, 99)} * {rng.randint(2, 99)}\nprint(result)"
            outputs = [{"type": "logs", "logs": str(eval_product(code))}] if "code_interpreter_call.outputs" in include else None
            out.append({"id": make_id("ci"), "type": "code_interpreter_call", "status": "completed", "code": code,
                        "container_id": f"cntr_{rng.getrandbits(192):048x}", "outputs": outputs})
        elif kind == "image_generation":
            size = tool.get("size") if tool.get("size") not in (None, "auto") else "1024x1024"
            out.append({"id": make_id("ig"), "type": "image_generation_call", "status": "completed",
                        "background": tool.get("background") or "opaque",
                        "output_format": tool.get("output_format") or "png",
                        "quality": tool.get("quality") if tool.get("quality") not in (None, "auto") else "medium",
                        "result": png_base64(rng), "revised_prompt": query, "size": size})
    return out


def eval_product(code: str) -> int:
    """What the synthesized snippet prints: `a * b`."""
    expression = code.split("=", 1)[1].split("\n", 1)[0]
    left, right = (int(part) for part in expression.split("*"))
    return left * right


def echo(tool: dict) -> dict:
    """A built-in tool as the real API echoes it, with its defaults filled in."""
    kind = tool.get("type")
    if kind == "file_search":
        return {"type": "file_search", "filters": tool.get("filters"), "max_num_results": tool.get("max_num_results", 20),
                "ranking_options": tool.get("ranking_options") or {"ranker": "auto", "score_threshold": 0.0},
                "vector_store_ids": tool.get("vector_store_ids") or []}
    if kind in ("web_search", "web_search_preview"):
        location = {"type": "approximate", "city": None, "country": "US", "region": None, "timezone": None}
        return {"type": kind, "filters": tool.get("filters"), "search_context_size": tool.get("search_context_size", "medium"),
                "user_location": {**location, **(tool.get("user_location") or {})}}
    return tool


def annotations(items: list[dict], text: str, rng: random.Random, body: dict) -> list[dict]:
    """Citations for what the tools found, over the answer's text (indexes in characters)."""
    out: list[dict] = []
    for item in items:
        if item["type"] == "web_search_call":
            for url, title in _pages(item["action"]["query"])[:2]:
                start = rng.randrange(0, max(1, len(text) // 2))
                out.append({"type": "url_citation", "end_index": min(len(text), start + 20), "start_index": start,
                            "title": title, "url": url})
        elif item["type"] == "file_search_call":
            tool = next((t for t in body.get("tools") or [] if t.get("type") == "file_search"), {})
            for file_id, name, _ in _files(tool)[:1]:
                out.append({"type": "file_citation", "file_id": file_id, "filename": name, "index": len(text)})
    return out


def _pages(query: str) -> list[tuple[str, str]]:
    """Search results that depend only on the query."""
    seed = random.Random(query)
    return [(f"https://example.{seed.choice(['com', 'org', 'net'])}/{words(seed, 1, 2).replace(' ', '-')}?utm_source=openai",
             sentence(seed, 5).rstrip(".!?")) for _ in range(3)]


def _files(tool: dict) -> list[tuple[str, str, float]]:
    """Files found, that depend only on the vector stores searched."""
    seed = random.Random(",".join(tool.get("vector_store_ids") or []))
    return [(f"file-{seed.getrandbits(128):032x}"[:27], f"{words(seed, 1, 2).replace(' ', '_')}.txt",
             round(seed.uniform(0.5, 0.99), 4)) for _ in range(2)]


def png_base64(rng: random.Random, side: int = 8) -> str:
    """A small, valid PNG (one colour, `side` pixels square), base64."""
    colour = bytes(rng.randrange(256) for _ in range(3))
    raw = b"".join(b"\x00" + colour * side for _ in range(side))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()
