"""YAML loading that remembers where every value came from.

Config and fixture files are written by hand, so a mistake in them must be reported
as `file:line: problem`, never as a traceback and never skipped. Mappings load as
`YamlMap` (a dict that knows the line of each key) and sequences as `YamlList`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SourceError(Exception):
    """A problem in a user's file, located by path and line."""

    def __init__(self, path: str | Path, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {problem}")


class YamlMap(dict):
    """A mapping with the line it starts on and the line of each key."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line) if hasattr(self, "key_lines") else self.line


class YamlList(list):
    line: int = 0


class _Loader(_Base):  # type: ignore[misc, valid-type]
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode):
    data = YamlMap()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from None
        if key in data:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1


def _construct_seq(loader: _Loader, node: yaml.SequenceNode):
    data = YamlList()
    data.line = node.start_mark.line + 1
    yield data
    data.extend(loader.construct_object(child, deep=True) for child in node.value)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


class Reader:
    """Checks a loaded file (or a JSON request body) and fails with its line, when it has one."""

    def __init__(self, source: str | Path) -> None:
        self.source = source

    def fail(self, where: Any, key: Any, problem: str) -> None:
        raise SourceError(self.source, line_of(where, key), problem)

    def mapping(self, value: Any, what: str, parent: Any = None, key: Any = None) -> dict:
        if not isinstance(value, dict):
            self.fail(parent if parent is not None else value, key, f"{what} must be a mapping")
        return value

    def keys(self, value: dict, allowed: set[str], what: str) -> None:
        for key in value:
            if key not in allowed:
                self.fail(value, key, f"unknown key {key!r} in {what}; expected one of: {', '.join(sorted(allowed))}")

    def number(self, value: dict, key: str, minimum: float = 0, default: float = 0, integer: bool = False) -> Any:
        number = value.get(key, default)
        if integer and isinstance(number, float) and number.is_integer():
            number = int(number)  # any integer may arrive as an integral float (`2.0`)
        kind = int if integer else (int, float)
        if isinstance(number, bool) or not isinstance(number, kind) or number < minimum:
            self.fail(value, key, f"{key!r} must be {'an integer' if integer else 'a number'} >= {minimum}")
        return number


def plain(value: Any) -> Any:
    """Loaded YAML as plain dicts and lists (the line bookkeeping stays behind)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def load_documents(path: str | Path) -> list[Any]:
    """Every YAML document in a file, or `SourceError` naming the line that broke."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(path, None, f"cannot read file: {exc}") from None
    try:
        return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None and context_mark.line + 1 != line:
            problem += f" ({context} at line {context_mark.line + 1})"
        raise SourceError(path, line, f"invalid YAML: {problem}") from None


def load_one(path: str | Path) -> Any:
    docs = load_documents(path)
    if len(docs) > 1:
        raise SourceError(path, None, "expected one YAML document, found several")
    return docs[0] if docs else None


def load_plain(path: str | Path) -> Any:
    """A generated file (contracts): plain dicts and lists, C-speed, no line bookkeeping."""
    try:
        with open(path, "rb") as handle:
            return yaml.load(handle, Loader=_Base)
    except (OSError, yaml.YAMLError) as exc:
        raise SourceError(path, None, f"cannot load: {exc}") from None


def line_of(value: Any, key: Any = None) -> int | None:
    """The line of `value` (or of `key` inside it), when it was loaded from YAML."""
    if isinstance(value, YamlMap):
        return value.line_of(key) if key is not None else value.line
    return getattr(value, "line", None)
