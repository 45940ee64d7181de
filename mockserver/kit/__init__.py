"""The contract kit: one suite that judges the fake, any OpenAI-compatible server and any
client library against the same schemas (`contracts/`, read through `mockserver.contracts`).

    operations.py   the operations, their contracts and routes; the OpenAPI document built from contracts/
    audit.py        an ASGI wrapper keeping every answer, and the check of answers against the contracts
    sse.py          SSE frames parsed and judged (chat: data + [DONE]; Responses: event = type, sequence)
    running.py      the fake on a free port in a thread (uvicorn with the fake's own protocol)
    server.py       `mockserver contract server`: generated cases (Schemathesis) and scenarios against a URL
    scenarios.py    the hand-written scenario and lifecycle checks generation misses
    report.py       results: the terminal summary, JUnit XML, the HTML matrix, JSON
    strict.py       an ASGI wrapper validating every request a client sends (violations kept and named in a header)
    fuzz.py         response fuzzing: Hypothesis strategies from the response contracts, an ASGI wrapper answering them
    client.py       `mockserver contract client -- COMMAND`: the fake started, the command run, its calls judged
    drift.py        `mockserver contract drift`: the SDK's types, recorded traffic and the fake's answers, per field
    compare.py      the comparison table of the server suite against other servers (README)
    pytest_plugin.py  the `openai_mock` fixture, markers and options (entry point `pytest11`)

The kit is a user of the core, never on the request path: it reads `contracts/`, the
fixture format, the journal and the store through their public interfaces.
"""
