"""Which requests a fixture or a fault rule applies to: criteria, their parsing, matching.

Fixtures and fault rules state the same kinds of conditions (endpoint, model, a regex
on the last user message, headers, a sub-tree of the body, the method) and mean the
same by them, so they share this one implementation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from .yamlio import Reader, plain

MATCH_KEYS = {"endpoint", "model", "message", "conversation", "body", "headers", "method", "batch"}
# The header every line of a batch carries when the batch runner sends it through the
# operation table (batches/lines.py): the batch's id. `match: {batch: true}` is any batch
# line, `batch: false` only live requests, `batch: batch_...` the lines of that batch.
BATCH_HEADER = "x-mock-batch"
# An anchored regex with no metacharacters: an exact text, which the fixture index can key on.
_LITERAL = re.compile(r"^\^((?:[^\\.^$*+?()\[\]{}|]|\\.)*)\$$")


@dataclass(slots=True)
class Probe:
    """What a family tells the matchers about a request."""

    operation: str
    model: str | None
    body: Any
    message: str | None  # the last user message's text
    header: Callable[[str], str | None]
    method: str = "POST"

    def transcript(self) -> str:
        """Every message of the conversation, one per line: chat `messages`, or a
        Responses `input` (which, chained, holds the earlier turns too)."""
        return transcript_of(self.body)


@dataclass
class Criteria:
    operation: str | None = None  # None: any operation
    models: tuple[str, ...] = ()
    message: re.Pattern | None = None
    exact_message: str | None = None
    conversation: re.Pattern | None = None  # searched in every message, earlier turns included
    headers: dict[str, str] = field(default_factory=dict)
    body: dict | None = None
    methods: tuple[str, ...] = ()
    batch: bool | str | None = None  # None: any request; True/False: batch lines or not; a batch id

    @property
    def specificity(self) -> int:
        """One point per constraint: model, message (two for an exact one), header, body leaf."""
        return (
            (1 if self.models else 0)
            + (2 if self.exact_message is not None else 1 if self.message else 0)
            + (1 if self.conversation else 0)
            + len(self.headers)
            + (_leaves(self.body) if self.body is not None else 0)
            + (1 if self.methods else 0)
            + (1 if self.batch is not None else 0)
        )

    def mismatches(self, probe: Probe, first_only: bool = False, owner: str = "fixture") -> list[str]:
        """Why the criteria do not hold for `probe` (empty when they do)."""
        reasons: list[str] = []
        if self.operation is not None and probe.operation != self.operation:
            reasons.append(f"it is for {self.operation}, not {probe.operation}")
            if first_only:
                return reasons
        if self.methods and probe.method not in self.methods:
            reasons.append(f"method is {probe.method}, the {owner} wants {' or '.join(self.methods)}")
            if first_only:
                return reasons
        if self.models and probe.model not in self.models:
            reasons.append(f"model is {probe.model!r}, the {owner} wants {' or '.join(map(repr, self.models))}")
            if first_only:
                return reasons
        if self.message is not None:
            text = probe.message or ""
            ok = text == self.exact_message if self.exact_message is not None else self.message.search(text)
            if not ok:
                reasons.append(f"the last user message {_short(text)!r} does not match /{self.message.pattern}/")
                if first_only:
                    return reasons
        if self.conversation is not None and not self.conversation.search(probe.transcript()):
            reasons.append(f"no message of the conversation matches /{self.conversation.pattern}/")
            if first_only:
                return reasons
        if self.batch is not None:
            tag = probe.header(BATCH_HEADER)
            if self.batch is True and tag is None:
                reasons.append("it is not a line of a batch")
            elif self.batch is False and tag is not None:
                reasons.append(f"it is a line of {tag}")
            elif isinstance(self.batch, str) and tag != self.batch:
                reasons.append(f"it is not a line of {self.batch}" + (f" (but of {tag})" if tag else ""))
            if reasons and first_only:
                return reasons
        for name, value in self.headers.items():
            got = probe.header(name)
            if got != value:
                reasons.append(f"header {name} is {got!r}, the {owner} wants {value!r}")
                if first_only:
                    return reasons
        if self.body is not None:
            where = subtree_mismatch(self.body, probe.body, "body")
            if where:
                reasons.append(where)
        return reasons


def text_of(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", "")) for part in content
            if isinstance(part, dict) and part.get("type") in ("text", "input_text", "output_text")
        )
    return ""


def transcript_of(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    items = body.get("messages")
    if items is None:
        items = body.get("input")
        if isinstance(items, str):
            return items
    if not isinstance(items, list):
        return ""
    return "\n".join(text_of(item.get("content") if "content" in item else item.get("output"))
                     for item in items if isinstance(item, dict))


def last_user_text(body: Any) -> str | None:
    """The text a request's user said last: chat `messages`, or a Responses `input`."""
    if not isinstance(body, dict):
        return None
    items = body.get("messages")
    if items is None:
        items = body.get("input")
        if isinstance(items, str):
            return items
    if isinstance(items, list):
        for item in reversed(items):
            if isinstance(item, dict) and item.get("role") == "user":
                return text_of(item.get("content"))
    return None


def parse_criteria(
    r: Reader, match: dict, resolve_endpoint: Callable[[str], str | None], default_endpoint: str | None
) -> Criteria:
    """The `match:` part of a fixture or a fault rule."""
    r.keys(match, MATCH_KEYS, "'match'")
    criteria = Criteria()
    endpoint = match.get("endpoint", default_endpoint)
    if endpoint is not None:
        criteria.operation = resolve_endpoint(endpoint) if isinstance(endpoint, str) else None
        if criteria.operation is None:
            r.fail(match, "endpoint", f"unknown endpoint {endpoint!r}; use an operation id such as "
                                      "'chat.completions' or a path such as '/v1/embeddings'")
    models = match.get("model")
    if models is not None:
        models = [models] if isinstance(models, str) else models
        if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
            r.fail(match, "model", "'model' must be a string or a list of strings")
        criteria.models = tuple(models)
    methods = match.get("method")
    if methods is not None:
        methods = [methods] if isinstance(methods, str) else methods
        if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
            r.fail(match, "method", "'method' must be a string or a list of strings")
        criteria.methods = tuple(m.upper() for m in methods)
    if "message" in match:
        criteria.message = _regex(r, match, "message")
        literal = _LITERAL.match(criteria.message.pattern)
        if literal:
            criteria.exact_message = re.sub(r"\\(.)", r"\1", literal.group(1))
    if "conversation" in match:
        criteria.conversation = _regex(r, match, "conversation")
    if "body" in match:
        criteria.body = plain(r.mapping(match["body"], "'body'", match, "body"))
    if "batch" in match:
        batch = match["batch"]
        if not isinstance(batch, (bool, str)) or batch == "":
            r.fail(match, "batch", "'batch' must be true (any batch line), false (no batch line) or a batch id")
        criteria.batch = batch
    if "headers" in match:
        headers = r.mapping(match["headers"], "'headers'", match, "headers")
        criteria.headers = {str(k).lower(): str(v) for k, v in headers.items()}
    return criteria


def _regex(r: Reader, match: dict, key: str) -> re.Pattern:
    pattern = match[key]
    if not isinstance(pattern, str):
        r.fail(match, key, f"'{key}' must be a regular expression (a string)")
    try:
        return re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:  # `a{99999999999}` overflows, not re.error
        r.fail(match, key, f"'{key}' is not a valid regular expression: {exc}")
        raise  # r.fail raises; this keeps the type checker sure


def subtree_mismatch(pattern: Any, value: Any, path: str) -> str | None:
    """Where `value` departs from `pattern`: mappings match on the keys the pattern names,
    lists element by element (same length), anything else by equality."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return f"{path} is not an object"
        for key, sub in pattern.items():
            if key not in value:
                return f"{path}.{key} is missing"
            where = subtree_mismatch(sub, value[key], f"{path}.{key}")
            if where:
                return where
        return None
    if isinstance(pattern, list):
        if not isinstance(value, list) or len(value) != len(pattern):
            return f"{path} has {len(value) if isinstance(value, list) else 'no'} items, the fixture wants {len(pattern)}"
        for index, (sub, item) in enumerate(zip(pattern, value)):
            where = subtree_mismatch(sub, item, f"{path}[{index}]")
            if where:
                return where
        return None
    if type(pattern) is not type(value) and not (_number(pattern) and _number(value)) or pattern != value:
        return f"{path} is {_short(value)!r}, the fixture wants {_short(pattern)!r}"
    return None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _short(value: Any, limit: int = 60) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def _leaves(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_leaves(v) for v in value.values()) or 1
    if isinstance(value, list):
        return sum(_leaves(v) for v in value) or 1
    return 1
