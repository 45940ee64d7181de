"""Deterministic answers: prose, JSON valid against a schema, and the ids around them."""

from .instance import instance
from .pattern import from_pattern
from .text import paragraph, sentence, words

__all__ = ["from_pattern", "instance", "paragraph", "sentence", "words"]
