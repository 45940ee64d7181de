"""Chat completions: create (plain and streamed) and the stored-completion endpoints.

    handler.py  POST /v1/chat/completions: model rules, then a fixture or a synthesized answer
    rules.py    what the real API refuses beyond the contract (per model, across fields, length)
    plan.py     what a completion says: choices, tool calls, logprobs, usage
    wire.py     the chat wire format: a completion as a body or as chunks (and Azure's shape)
    stored.py   completions kept with `store: true`: list, retrieve, update, delete, messages
"""

from . import handler, stored

OPERATIONS = [*handler.OPERATIONS, *stored.OPERATIONS]
