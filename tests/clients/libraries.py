"""Each client library, pointed at the fake through its own base-URL setting, making one call
of each kind: chat completions and Responses, plain and streamed. `tests/test_kit_clients.py`
runs them under strict request checking and response fuzzing.

A call returns normally, or raises. The library raising its own error (an error status as
its API error; an answer it refuses, such as one without choices, as its declared exception)
is `graceful`; anything else raised on a schema-valid answer (IndexError, AttributeError,
KeyError, TypeError, a bare ValueError, pydantic's ValidationError) is a crash, and a finding.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Callable

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # litellm would fetch its price list at import
MODEL = "gpt-4o-mini"
KEY = "sk-mockserver-clients"
MODES = ("chat", "chat-stream", "responses", "responses-stream")


@dataclass
class Library:
    name: str  # the package on PyPI
    calls: dict[str, Callable[[str], object]]  # mode -> call(base_url)
    graceful: Callable[[BaseException], bool]  # an exception that is the library refusing an error answer


def _openai_errors(exc: BaseException) -> bool:
    import openai

    return isinstance(exc, openai.APIError)


# --- openai (the official Python SDK) -------------------------------------------------------

def _openai(url: str):
    from openai import OpenAI

    return OpenAI(base_url=url, api_key=KEY, max_retries=0)


def openai_chat(url):
    return _openai(url).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Say hi"}]).model_dump()


def openai_chat_stream(url):
    return [c.model_dump() for c in _openai(url).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hi"}], stream=True, stream_options={"include_usage": True})]


def openai_responses(url):
    response = _openai(url).responses.create(model=MODEL, input="Say hi")
    return response.output_text


def openai_responses_stream(url):
    return [e.type for e in _openai(url).responses.create(model=MODEL, input="Say hi", stream=True)]


# --- langchain-openai ------------------------------------------------------------------------------

def _langchain(url: str, responses: bool):
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model=MODEL, base_url=url, api_key=KEY, max_retries=0, use_responses_api=responses)


def langchain_chat(url):
    return _langchain(url, False).invoke("Say hi").content


def langchain_chat_stream(url):
    return [chunk.content for chunk in _langchain(url, False).stream("Say hi")]


def langchain_responses(url):
    return _langchain(url, True).invoke("Say hi").content


def langchain_responses_stream(url):
    return [chunk.content for chunk in _langchain(url, True).stream("Say hi")]


# --- openai-agents ----------------------------------------------------------------------------------

def _agent(url: str, responses: bool):
    from agents import Agent, OpenAIChatCompletionsModel, OpenAIResponsesModel, set_tracing_disabled
    from openai import AsyncOpenAI

    set_tracing_disabled(True)  # the SDK would export traces to OpenAI
    client = AsyncOpenAI(base_url=url, api_key=KEY, max_retries=0)
    model = (OpenAIResponsesModel if responses else OpenAIChatCompletionsModel)(model=MODEL, openai_client=client)
    return Agent(name="kit", instructions="Be brief.", model=model)


def _agents_run(url, responses):
    from agents import Runner

    return Runner.run_sync(_agent(url, responses), "Say hi").final_output


def _agents_stream(url, responses):
    from agents import Runner

    async def run():
        result = Runner.run_streamed(_agent(url, responses), "Say hi")
        return [event.type async for event in result.stream_events()]

    return asyncio.run(run())


def _agents_graceful(exc: BaseException) -> bool:
    from agents.exceptions import AgentsException

    return _openai_errors(exc) or isinstance(exc, AgentsException)


# --- pydantic-ai --------------------------------------------------------------------------------------

def _pydantic_agent(url: str, responses: bool):
    from pydantic_ai import Agent
    from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
    from pydantic_ai.providers.openai import OpenAIProvider
    from openai import AsyncOpenAI

    provider = OpenAIProvider(openai_client=AsyncOpenAI(base_url=url, api_key=KEY, max_retries=0))
    model = (OpenAIResponsesModel if responses else OpenAIChatModel)(MODEL, provider=provider)
    return Agent(model, instructions="Be brief.")


def _pydantic_run(url, responses):
    return _pydantic_agent(url, responses).run_sync("Say hi").output


def _pydantic_stream(url, responses):
    async def run():
        async with _pydantic_agent(url, responses).run_stream("Say hi") as result:
            return [text async for text in result.stream_text(delta=True)]

    return asyncio.run(run())


def _pydantic_graceful(exc: BaseException) -> bool:
    from pydantic_ai.exceptions import AgentRunError

    return _openai_errors(exc) or isinstance(exc, AgentRunError)


# --- litellm ------------------------------------------------------------------------------------------

def litellm_chat(url):
    import litellm

    return litellm.completion(model=f"openai/{MODEL}", messages=[{"role": "user", "content": "Say hi"}],
                              api_base=url, api_key=KEY, num_retries=0, max_retries=0).model_dump()


def litellm_chat_stream(url):
    import litellm

    return [c.model_dump() for c in litellm.completion(model=f"openai/{MODEL}", messages=[{"role": "user", "content": "Say hi"}],
                                                      api_base=url, api_key=KEY, stream=True, num_retries=0, max_retries=0)]


def litellm_responses(url):
    import litellm

    return litellm.responses(model=f"openai/{MODEL}", input="Say hi", api_base=url, api_key=KEY, num_retries=0, max_retries=0)


def litellm_responses_stream(url):
    import litellm

    return [getattr(e, "type", None) for e in litellm.responses(model=f"openai/{MODEL}", input="Say hi", api_base=url,
                                                                api_key=KEY, stream=True, num_retries=0, max_retries=0)]


def _litellm_graceful(exc: BaseException) -> bool:
    import litellm

    return _openai_errors(exc) or isinstance(exc, litellm.exceptions.APIError) or (
        isinstance(exc, Exception) and type(exc).__module__.startswith("litellm.exceptions") and getattr(exc, "status_code", 0) >= 400)


LIBRARIES = {
    "openai": Library("openai", {"chat": openai_chat, "chat-stream": openai_chat_stream, "responses": openai_responses,
                                 "responses-stream": openai_responses_stream}, _openai_errors),
    "langchain-openai": Library("langchain-openai", {"chat": langchain_chat, "chat-stream": langchain_chat_stream,
                                                     "responses": langchain_responses, "responses-stream": langchain_responses_stream},
                                _openai_errors),
    "openai-agents": Library("openai-agents", {"chat": lambda u: _agents_run(u, False), "chat-stream": lambda u: _agents_stream(u, False),
                                               "responses": lambda u: _agents_run(u, True),
                                               "responses-stream": lambda u: _agents_stream(u, True)}, _agents_graceful),
    "pydantic-ai-slim": Library("pydantic-ai-slim", {"chat": lambda u: _pydantic_run(u, False), "chat-stream": lambda u: _pydantic_stream(u, False),
                                                     "responses": lambda u: _pydantic_run(u, True),
                                                     "responses-stream": lambda u: _pydantic_stream(u, True)}, _pydantic_graceful),
    "litellm": Library("litellm", {"chat": litellm_chat, "chat-stream": litellm_chat_stream, "responses": litellm_responses,
                                   "responses-stream": litellm_responses_stream}, _litellm_graceful),
}
