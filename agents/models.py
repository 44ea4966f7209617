"""Which model an agent runs on, chosen by HROPS_MODEL, and the audit of every model call.

`offline` (the default) is deterministic code behind the agent interface (a pydantic-ai
`FunctionModel` per agent): nothing leaves the machine. `test` is pydantic-ai's TestModel.
Anything else is a pydantic-ai model name (`openai:gpt-4o`, `ollama:qwen2.5`, ...); with
HROPS_MODEL_BASE_URL it talks to any OpenAI-compatible endpoint (vLLM, DeepSeek, Qwen).
The model is fixed when an agent is built (at worker start): Temporal workflows cannot swap it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlparse

from pydantic import BaseModel
from pydantic_ai.messages import ModelMessage, ModelResponse, UserPromptPart
from pydantic_ai.models import Model, ModelRequestParameters, infer_model
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings
from sqlalchemy import select
from sqlalchemy.orm import Session

from hrops.settings import Settings, get_settings
from tools.store import audit
from tools.store.db import session_scope
from tools.store.models import RequestRecord

M = TypeVar("M", bound=BaseModel)

OfflineFn = Callable[[list[ModelMessage], AgentInfo], ModelResponse]

OFFLINE = "offline"


def endpoint_of(settings: Settings) -> str:
    """Where model calls go, without credentials: 'local' for the offline model."""
    if settings.model == OFFLINE:
        return "local"
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


class AuditedModel(WrapperModel):
    """Writes one audit entry per model call: agent, model, endpoint, tokens, and whether
    anything left the machine. Runs where the call runs (inside the model activity)."""

    def __init__(self, wrapped: Model, *, agent_name: str, settings: Settings) -> None:
        super().__init__(wrapped)
        self.agent_name = agent_name
        self.endpoint = endpoint_of(settings)

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        from temporalio import activity

        response = await super().request(messages, model_settings, model_request_parameters)
        info = activity.info() if activity.in_activity() else None
        # Off the event loop: the model activity is async, the store is not.
        await asyncio.to_thread(
            self._audit, response, info.workflow_id if info else None, info.workflow_run_id if info else None
        )
        return response

    def _audit(self, response: ModelResponse, workflow_id: str | None, run_id: str | None) -> None:
        # The store is looked up per call: one worker process serves one store, tests many.
        with session_scope(get_settings().db_url, write=True) as session:
            record = (
                session.scalar(select(RequestRecord).where(RequestRecord.run_id == run_id))
                if run_id
                else None
            )
            audit.append(
                session,
                audit.AuditEvent(
                    actor=f"agent:{self.agent_name}",
                    action="model.call",
                    workflow_id=workflow_id,
                    request_id=record.label if record else None,
                    details={
                        "model": self.wrapped.model_name,
                        "endpoint": self.endpoint,
                        "egress": self.endpoint != "local",
                        "input_tokens": response.usage.input_tokens,
                        "output_tokens": response.usage.output_tokens,
                    },
                ),
            )


def _request_of(session: Session, workflow_id: str | None, run_id: str | None) -> RequestRecord | None:
    """The request a workflow run serves. Its number is allocated before the run starts; the run id
    is filled in just after, so a call early in the run finds it by workflow id (the newest number)."""
    if not workflow_id:
        return None
    return session.scalar(select(RequestRecord).where(RequestRecord.run_id == run_id)) or session.scalar(
        select(RequestRecord)
        .where(RequestRecord.workflow_id == workflow_id, RequestRecord.run_id.is_(None))
        .order_by(RequestRecord.number.desc())
        .limit(1)
    )


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
    return AuditedModel(base, agent_name=agent_name, settings=settings)
