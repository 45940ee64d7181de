"""The models the fake knows, and the rules the real API enforces for each.

Names come from the installed SDK's model literals (`contracts/models.yaml`, so the
list follows the SDK), from fine-tuned names over a known base, and from the config.
Rules come from `RULES`: the first pattern matching a model id gives its context
window, output limit, reasoning behaviour and accepted parameters, so a model the
SDK adds next month gets its family's rules without a code change.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from typing import Iterable

from .config import ModelEntry

EFFORTS_O = ("low", "medium", "high")
EFFORTS_GPT5 = ("minimal", "low", "medium", "high")
EFFORTS_GPT51 = ("none", "low", "medium", "high")
EFFORTS_GPT52 = ("none", "low", "medium", "high", "xhigh")


@dataclass(frozen=True)
class ModelSpec:
    id: str
    family: str = "chat"  # chat, responses, embedding, image, speech, transcription, ...
    owned_by: str = "system"
    created: int = 1_700_000_000
    context_window: int = 128_000
    max_output: int = 16_384
    reasoning: bool = False
    efforts: tuple[str, ...] = ()
    default_effort: str | None = None
    sampling_when_no_reasoning: bool = False  # temperature/top_p/logprobs allowed at effort "none"
    sampling: bool = True  # temperature/top_p/penalties/logprobs accepted at all
    verbosity: bool = False
    extended_cache: bool = False  # prompt_cache_retention: "24h"
    system_role: bool = True  # o1-mini and o1-preview take neither system nor developer messages
    encoding: str = "o200k_base"
    dimensions: int | None = None
    custom_dimensions: bool = True
    # What the recordings show: reasoning and special models send no `choices[].logprobs`
    # key at all, and gpt-5, gpt-4 and gpt-3.5 send `system_fingerprint: null`.
    logprobs_field: bool = True
    fingerprint: str | None = "fp"  # "fp": fp_ + 10 hex; None: null; "": empty string
    service_tier_field: bool = True  # the search models send no `service_tier`
    audio: bool = False  # speaks (`modalities: ["audio"]`) and reports text, image and audio tokens apart
    web_search: bool = False  # a chat search model: its answers cite the pages it read (`url_citation`)
    # What the Responses API echoes and writes for the model (recorded per model):
    reasoning_context: str = "current_turn"  # `reasoning.context` when not sent (a reasoning model's)
    phased: bool = False  # gpt-5.5 and later: `reasoning.mode`, a message `phase`, reasoning `content: []`
    always_encrypted: bool = False  # its reasoning items carry `encrypted_content` even unasked (gpt-5.6)
    default_top_p: float = 1.0
    default_cache_retention: str = "in_memory"  # `prompt_cache_retention` when not sent

    def accepts_sampling(self, effort: str | None) -> bool:
        if not self.reasoning:
            return self.sampling
        return self.sampling_when_no_reasoning and effort == "none"


_REASONING_O = dict(reasoning=True, context_window=200_000, max_output=100_000, efforts=EFFORTS_O, default_effort="medium",
                    logprobs_field=False)
_GPT5 = dict(reasoning=True, context_window=400_000, max_output=128_000, verbosity=True, logprobs_field=False, fingerprint=None)
_GPT5_NEWEST = dict(_GPT5, efforts=EFFORTS_GPT52, default_effort="medium", sampling_when_no_reasoning=True, extended_cache=True,
                   phased=True, default_top_p=0.98, default_cache_retention="24h")

# (pattern, rules): first match wins. Limits are the published ones for each family.
RULES: list[tuple[str, dict]] = [
    (r"^text-embedding-3-large", dict(family="embedding", dimensions=3072, context_window=8191, max_output=0, encoding="cl100k_base")),
    (r"^text-embedding-3-small", dict(family="embedding", dimensions=1536, context_window=8191, max_output=0, encoding="cl100k_base")),
    (r"^text-embedding-ada-002", dict(family="embedding", dimensions=1536, context_window=8191, max_output=0, encoding="cl100k_base", custom_dimensions=False)),
    (r"^o1-mini", dict(_REASONING_O, context_window=128_000, max_output=65_536, efforts=(), default_effort=None, system_role=False)),
    (r"^o1-preview", dict(_REASONING_O, context_window=128_000, max_output=32_768, efforts=(), default_effort=None, system_role=False)),
    (r"^o\d", _REASONING_O),
    (r"^codex-mini", dict(_REASONING_O, family="responses")),
    (r"^gpt-5(\.\d+)?-chat", dict(context_window=128_000, max_output=16_384, verbosity=True)),
    # gpt-5-pro reasons at `high` unless told (recorded: test_gpt5_pro).
    (r"^gpt-5-pro(-\d{4}-\d{2}-\d{2})?$", dict(_GPT5, efforts=EFFORTS_GPT5, default_effort="high", extended_cache=True)),
    (r"^gpt-5(-mini|-nano|-pro|-codex)?(-\d{4}-\d{2}-\d{2})?$", dict(_GPT5, efforts=EFFORTS_GPT5, default_effort="medium", extended_cache=True)),
    # gpt-5.1-codex-max brought `xhigh` (widely used through the Codex CLI, e.g. "gpt-5.1-codex-max
    # xhigh"); refusing it would be a false 400.
    (r"^gpt-5\.1-codex-max", dict(_GPT5, efforts=EFFORTS_GPT52, default_effort="medium", extended_cache=True)),
    (r"^gpt-5\.1", dict(_GPT5, efforts=EFFORTS_GPT51, default_effort="none", sampling_when_no_reasoning=True, extended_cache=True)),
    # gpt-5.5 and gpt-5.6 reason at `medium` unless told, echo `top_p: 0.98` and
    # `prompt_cache_retention: "24h"`, and write phases (recorded 2026-06 to 2026-08:
    # ResponsesWithPromptCache, test_openai_responses_phase_streamed_on_part_start,
    # ResponsesWithReasoning, test_openai_responses_prompt_cache_e2e); the gpt-5.6 family (and
    # what follows it) keeps reasoning across turns (`context: "all_turns"`, recorded; the
    # SDK's types say so) and seals its reasoning unasked (ResponsesWithReasoning).
    (r"^gpt-5\.5", dict(_GPT5_NEWEST)),
    (r"^gpt-(5\.([6-9]|\d\d)|6)", dict(_GPT5_NEWEST, reasoning_context="all_turns", always_encrypted=True)),
    # gpt-5.2 to 5.4: `top_p: 0.98` echoed (recorded for gpt-5.2: test_openai_include_raw_annotations_streaming).
    (r"^gpt-5\.\d+", dict(_GPT5, efforts=EFFORTS_GPT52, default_effort="none", sampling_when_no_reasoning=True, extended_cache=True,
                         default_top_p=0.98)),
    (r"^gpt-4\.1", dict(context_window=1_047_576, max_output=32_768, extended_cache=True)),
    (r"^gpt-4o(-mini)?-search", dict(sampling=False, logprobs_field=False, fingerprint="", service_tier_field=False, web_search=True)),
    (r"^(gpt-audio|gpt-4o(-mini)?-audio)", dict(family="chat", logprobs_field=False, audio=True)),
    (r"^(gpt-4o|chatgpt-4o|gpt-4o-mini)", dict(context_window=128_000, max_output=16_384)),
    (r"^gpt-4-32k", dict(context_window=32_768, max_output=8_192, encoding="cl100k_base")),
    (r"^gpt-4-(turbo|\d{4}-preview|vision)", dict(context_window=128_000, max_output=4_096, encoding="cl100k_base")),
    (r"^gpt-4", dict(context_window=8_192, max_output=8_192, encoding="cl100k_base", fingerprint=None)),
    (r"^gpt-3\.5-turbo-instruct", dict(family="completion", context_window=4_096, max_output=4_096, encoding="cl100k_base")),
    (r"^gpt-3\.5", dict(context_window=16_385, max_output=4_096, encoding="cl100k_base", fingerprint=None)),
    (r"^(davinci|babbage)-002", dict(family="completion", context_window=16_384, max_output=16_384, encoding="cl100k_base")),
]
_COMPILED = [(re.compile(pattern), rules) for pattern, rules in RULES]
# Aliases whose snapshot is not the latest dated one the SDK lists (recorded `model` values).
SNAPSHOTS = {
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-audio-preview": "gpt-4o-audio-preview-2024-12-17",
    "gpt-4": "gpt-4-0613",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
    "gpt-5.6": "gpt-5.6-sol",  # the alias the real API accepts, answering as its default variant (recorded 2026-08)
}
_FINE_TUNED = re.compile(r"^ft:(?P<base>[^:]+):(?P<org>[^:]*):(?P<suffix>[^:]*):(?P<job>[^:]+)$")
_DATED = re.compile(r"-(\d{4})-(\d{2})-(\d{2})$")


def rules_for(model_id: str, family: str = "chat") -> ModelSpec:
    spec = ModelSpec(id=model_id, family=family)
    for pattern, rules in _COMPILED:
        if pattern.search(model_id):
            spec = replace(spec, **rules)
            break
    dated = _DATED.search(model_id)
    if dated:
        year, month, day = map(int, dated.groups())
        spec = replace(spec, created=calendar.timegm((year, month, day, 0, 0, 0)))
    return spec


class Catalog:
    """Known models: lookups by id, including fine-tuned ids over a known base."""

    def __init__(self, names_by_family: dict[str, list[str]], extra: Iterable[ModelEntry] = ()) -> None:
        self.models: dict[str, ModelSpec] = {}
        self.deleted: set[str] = set()
        self._snapshots: dict[str, str] = {}
        for family, names in names_by_family.items():
            for name in names:
                if name not in self.models:
                    self.models[name] = rules_for(name, family)
        for alias, snapshot in SNAPSHOTS.items():  # an alias the SDK does not list is as good as its snapshot
            if alias not in self.models and snapshot in self.models:
                self.models[alias] = replace(self.models[snapshot], id=alias)
        for entry in extra:
            self.add(entry)

    def add(self, entry: ModelEntry) -> ModelSpec:
        base = self.get(entry.like) if entry.like else None
        if entry.like and base is None:
            raise LookupError(f"model {entry.id!r}: 'like' names an unknown model {entry.like!r}")
        spec = replace(base, id=entry.id) if base else rules_for(entry.id)
        changes = {
            "owned_by": entry.owned_by,
            "context_window": entry.context_window,
            "max_output": entry.max_output_tokens,
            "reasoning": entry.reasoning,
            "dimensions": entry.dimensions,
        }
        spec = replace(spec, **{k: v for k, v in changes.items() if v is not None})
        if entry.dimensions is not None:
            spec = replace(spec, family="embedding")
        self.models[entry.id] = spec
        return spec

    def get(self, model_id: str | None) -> ModelSpec | None:
        if not model_id or model_id in self.deleted:
            return None
        spec = self.models.get(model_id)
        if spec is not None:
            return spec
        tuned = _FINE_TUNED.match(model_id)
        if tuned:
            base = self.models.get(tuned["base"]) or self._dated_base(tuned["base"])
            if base is not None:
                return replace(base, id=model_id, owned_by=tuned["org"] or "user")
        return None

    def _dated_base(self, name: str) -> ModelSpec | None:
        """`gpt-4o-mini-2024-07-18` as a fine-tuning base, even if the SDK lists only the alias."""
        alias = _DATED.sub("", name)
        return rules_for(name, self.models[alias].family) if alias in self.models else None

    def snapshot(self, model_id: str) -> str:
        """The dated snapshot an alias answers as (`gpt-4o-mini` → `gpt-4o-mini-2024-07-18`),
        as the real API reports `model`; the latest one the SDK lists."""
        found = self._snapshots.get(model_id) or SNAPSHOTS.get(model_id)
        if found is None:
            dated = [m for m in self.models if m.startswith(model_id + "-") and _DATED.fullmatch(m[len(model_id):])]
            found = self._snapshots[model_id] = max(dated, key=lambda m: m[-10:]) if dated else model_id
        return found

    def listed(self) -> list[ModelSpec]:
        return [spec for model_id, spec in self.models.items() if model_id not in self.deleted]

    def lenient(self, model_id: str, family: str = "chat") -> ModelSpec:
        """Any name at all, with its family's rules (for `--lenient`)."""
        return self.get(model_id) or rules_for(model_id, family)
