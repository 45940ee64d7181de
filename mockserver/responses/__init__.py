"""The Responses API and Conversations, sharing the state store.

    handler.py        /v1/responses: create, retrieve, delete, cancel, input items, compact, input tokens
    rules.py          what the real API refuses beyond the contract (model, schemas)
    plan.py           input items as the conversation the tokenizer and synthesizer read
    tools.py          the built-in tools, synthesized (web and file search, code, images)
    wire.py           the response object, its output items and its typed event stream
    conversations.py  /v1/conversations and their items
"""

from . import conversations, handler

OPERATIONS = [*handler.OPERATIONS, *conversations.OPERATIONS]
