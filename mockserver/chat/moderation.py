"""Moderation results for `moderation: {"model": ...}` on chat completions.

The real API moderates the request's input and the answer's output and reports both: in
a stream as one chunk after the usage chunk, `choices: []` and `moderation: {"input":
..., "output": ...}`, each `{"type": "moderation_results", "model", "results": [...]}`
(test_openai/test_openai_moderation_stream#0). The fake flags nothing: every category
false, with small scores drawn from the text, so the same text scores the same.
"""

from __future__ import annotations

from typing import Any

from ..ids import rng_for
from ..matching import text_of

CATEGORIES = (
    "harassment", "harassment/threatening", "sexual", "hate", "hate/threatening", "illicit", "illicit/violent",
    "self-harm/intent", "self-harm/instructions", "self-harm", "sexual/minors", "violence", "violence/graphic",
)


def results(body: dict, choices: list) -> dict:
    model = str((body.get("moderation") or {}).get("model") or "omni-moderation-latest")
    prompt = " ".join(text_of(m.get("content")) for m in body.get("messages") or [] if isinstance(m, dict))
    answer = " ".join((c.content or (c.audio or {}).get("transcript") or "") for c in choices)
    return {"input": _results(model, prompt), "output": _results(model, answer)}


def _results(model: str, text: str) -> dict[str, Any]:
    rng = rng_for(text, "moderation")
    scores = {name: round(rng.uniform(1e-7, 5e-4), 12) for name in CATEGORIES}
    result = {
        "type": "moderation_result",
        "model": model,
        "flagged": False,
        "categories": {name: False for name in CATEGORIES},
        "category_scores": scores,
        "category_applied_input_types": {name: ["text"] for name in CATEGORIES},
    }
    return {"type": "moderation_results", "model": model, "results": [result]}
