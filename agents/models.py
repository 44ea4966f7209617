"""Which model an agent runs on, chosen by HROPS_MODEL; every one is wrapped in the gate
(agents/gate.py) that masks what leaves, keeps a receipt and audits the call.

`offline` (the default) is deterministic code behind the agent interface (a pydantic-ai
`FunctionModel` per agent): nothing leaves the machine. `test` is pydantic-ai's TestModel.
Anything else is a pydantic-ai model name (`openai:gpt-4o`, `ollama:qwen2.5`, ...); with
HROPS_MODEL_BASE_URL it talks to any OpenAI-compatible endpoint (vLLM, DeepSeek, Qwen).
The model is fixed when an agent is built (at worker start): Temporal workflows cannot swap it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlparse

from pydantic import BaseModel
from pydantic_ai.messages import ModelMessage, ModelResponse, UserPromptPart
from pydantic_ai.models import Model, infer_model
from pydantic_ai.models.function import AgentInfo, FunctionModel

from agents.gate import GatedModel
from hrops.settings import Settings, get_settings
from tools.privacy.policy import LOCAL

M = TypeVar("M", bound=BaseModel)

OfflineFn = Callable[[list[ModelMessage], AgentInfo], ModelResponse]

OFFLINE = "offline"


def endpoint_of(settings: Settings) -> str:
    """Where model calls go, without credentials: 'local' for the offline model."""
    if settings.model == OFFLINE:
        return LOCAL
    if settings.model_base_url:
        return urlparse(settings.model_base_url).netloc or settings.model_base_url
    return settings.model.split(":", 1)[0]


def _remote_model(settings: Settings) -> Model:
    if settings.model_base_url or settings.model.startswith("openai:"):
        from openai import AsyncOpenAI
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        name = settings.model.split(":", 1)[1] if ":" in settings.model else settings.model
        key = settings.model_api_key.get_secret_value() if settings.model_api_key else "not-needed"
        # Temporal retries the model activity; the client must not retry underneath it.
        client = AsyncOpenAI(base_url=settings.model_base_url, api_key=key, max_retries=0)
        return OpenAIChatModel(name, provider=OpenAIProvider(openai_client=client))
    return infer_model(settings.model)


def prompt_json(messages: list[ModelMessage], model: type[M]) -> M:
    """The typed facts an agent was given as its JSON prompt (what an offline writer works from)."""
    for message in reversed(messages):
        for part in getattr(message, "parts", []):
            if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                return model.model_validate_json(part.content)
    raise ValueError(f"the offline writer needs {model.__name__} as a JSON prompt")


def build_model(agent_name: str, offline: OfflineFn, settings: Settings | None = None) -> Model:
    settings = settings or get_settings()
    if settings.model == OFFLINE:
        base: Model = FunctionModel(offline, model_name=f"offline-{agent_name}")
    elif settings.model == "test":
        base = infer_model("test")
    else:
        base = _remote_model(settings)
    return GatedModel(base, agent_name=agent_name, endpoint=endpoint_of(settings), settings=settings)
