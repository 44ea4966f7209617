"""The one gate every model call passes: redaction, egress receipt, audit entry, review sample.

Before a call leaves, every text the model would receive (prompts, earlier answers, tool results,
retry messages, dynamic instructions) is masked by the endpoint's policy (tools/privacy); the
answer is re-filled before any code sees it. After the call, one receipt says what left, one
audit entry names it, and the output is offered to the compliance review queue (tools/review,
sampled by its rules). The offline model runs in this process: nothing is masked because nothing
leaves, and the receipt says so.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from pydantic_ai import RunContext
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings
from sqlalchemy import select
from sqlalchemy.orm import Session

from hrops.settings import Settings, get_settings
from tools.privacy import receipts
from tools.privacy.lexicon import lexicon_for
from tools.privacy.policy import LOCAL, allowed_for
from tools.privacy.redaction import Redactor, current_hints
from tools.review.queue import offer_model_output
from tools.store.db import session_scope
from tools.store.models import RequestRecord


def _mask_value(value: Any, r: Redactor) -> Any:
    if isinstance(value, str):
        return r.mask(value)
    if isinstance(value, list):
        return [_mask_value(v, r) for v in value]
    if isinstance(value, dict):
        return {k: _mask_value(v, r) for k, v in value.items()}
    return value


def _mask_request_part(part: Any, r: Redactor) -> Any:
    if isinstance(part, (SystemPromptPart, RetryPromptPart, ToolReturnPart)):
        return replace(part, content=_mask_value(part.content, r))
    if isinstance(part, UserPromptPart):
        if not isinstance(part.content, str) and not all(isinstance(c, str) for c in part.content):
            # Images and files cannot be searched for personal values: they do not pass the gate.
            raise ValueError("only text prompts may go to a remote model (the gate cannot read files)")
        return replace(part, content=_mask_value(part.content, r))
    return part


def _mask_response_part(part: Any, r: Redactor) -> Any:
    if isinstance(part, (TextPart, ThinkingPart)):
        return replace(part, content=r.mask(part.content))
    if isinstance(part, ToolCallPart):
        return replace(part, args=_mask_value(part.args, r))
    return part


def mask_messages(messages: list[ModelMessage], r: Redactor, *, instructions: bool) -> list[ModelMessage]:
    """The messages with every text masked; a request's copy of the instructions only when some
    of them are dynamic (see `mask_parameters`)."""
    out: list[ModelMessage] = []
    for m in messages:
        if isinstance(m, ModelRequest):
            out.append(
                replace(
                    m,
                    parts=[_mask_request_part(p, r) for p in m.parts],
                    instructions=r.mask(m.instructions)
                    if m.instructions and instructions
                    else m.instructions,
                )
            )
        else:
            out.append(replace(m, parts=[_mask_response_part(p, r) for p in m.parts]))
    return out


def refill_response(response: ModelResponse, r: Redactor) -> ModelResponse:
    parts = []
    for p in response.parts:
        if isinstance(p, (TextPart, ThinkingPart)):
            p = replace(p, content=r.refill(p.content))
        elif isinstance(p, ToolCallPart):
            p = replace(p, args=r.refill(p.args))
        parts.append(p)
    return replace(response, parts=parts)


def mask_parameters(params: ModelRequestParameters, r: Redactor) -> ModelRequestParameters:
    """Instructions travel beside the messages. An agent's own (static) instructions are constants
    written here and go as they are (their examples must read as examples); dynamic ones are masked."""
    if not params.instruction_parts:
        return params
    parts = [replace(p, content=r.mask(p.content)) if p.dynamic else p for p in params.instruction_parts]
    return replace(params, instruction_parts=parts)


def sent_text(messages: list[ModelMessage], params: ModelRequestParameters) -> str:
    """The words the endpoint receives, in order (our output schemas go too: they hold no data)."""
    # Providers send the instruction parts when there are any, else the request's own copy.
    pieces = [f"[instructions] {p.content}" for p in params.instruction_parts or []]
    for m in messages:
        if isinstance(m, ModelRequest) and m.instructions and not params.instruction_parts:
            pieces.append(f"[instructions] {m.instructions}")
        for p in m.parts:
            content = getattr(p, "content", None) if not isinstance(p, ToolCallPart) else p.args_as_json_str()
            if content is not None:
                pieces.append(f"[{p.part_kind}] {_as_text(content)}")
    return "\n".join(pieces)


def _as_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)) and all(isinstance(c, str) for c in content):
        return "\n".join(content)
    return json.dumps(content, ensure_ascii=False, default=str)


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


def _prompt_of(messages: list[ModelMessage]) -> str:
    """The agent's own prompt (the last text a caller gave it), unmasked: reviewers read it as used."""
    for m in reversed(messages):
        for p in reversed(m.parts):
            if isinstance(p, UserPromptPart):
                return _as_text(p.content)
    return ""


def _output_of(response: ModelResponse) -> dict[str, Any] | str:
    for p in response.parts:
        if isinstance(p, ToolCallPart):
            return p.args_as_dict()
    return "".join(p.content for p in response.parts if isinstance(p, TextPart))


class GatedModel(WrapperModel):
    """Masks what leaves, re-fills what comes back, and leaves a receipt and an audit entry."""

    def __init__(self, wrapped: Model, *, agent_name: str, endpoint: str, settings: Settings) -> None:
        super().__init__(wrapped)
        self.agent_name = agent_name
        self.endpoint = endpoint
        self.allowed = allowed_for(endpoint, settings.model_may_see)

    def _redactor(self) -> Redactor:
        url = get_settings().db_url  # looked up per call: one worker serves one store, tests many
        with session_scope(url) as session:
            return Redactor(lexicon_for(session, url), self.allowed, current_hints())

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        from temporalio import activity

        if self.endpoint == LOCAL:
            redactor, outgoing = None, messages
        else:
            redactor = await asyncio.to_thread(self._redactor)
            dynamic = any(p.dynamic for p in model_request_parameters.instruction_parts or [])
            outgoing = mask_messages(messages, redactor, instructions=dynamic)
            model_request_parameters = mask_parameters(model_request_parameters, redactor)
        response = await super().request(outgoing, model_settings, model_request_parameters)
        if redactor is not None:
            response = refill_response(response, redactor)
        info = activity.info() if activity.in_activity() else None
        # Off the event loop: the model activity is async, the store is not.
        await asyncio.to_thread(
            self._receipt,
            sent_text(outgoing, model_request_parameters),
            _prompt_of(messages),
            redactor,
            response,
            info.workflow_id if info else None,
            info.workflow_run_id if info else None,
        )
        return response

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncIterator[StreamedResponse]:
        # A stream's parts cannot be re-filled before code reads them: no agent of ours streams.
        raise NotImplementedError("model calls are not streamed: the redaction gate re-fills whole answers")
        yield  # pragma: no cover

    def _receipt(
        self,
        text: str,
        prompt: str,
        redactor: Redactor | None,
        response: ModelResponse,
        workflow_id: str | None,
        run_id: str | None,
    ) -> None:
        left = redactor is not None
        with session_scope(get_settings().db_url, write=True) as session:
            record = _request_of(session, workflow_id, run_id)
            receipt = receipts.record_call(
                session,
                agent=self.agent_name,
                model=self.wrapped.model_name,
                endpoint=self.endpoint,
                egress=left,
                text=text,
                allowed=self.allowed,
                masked=redactor.masked if redactor else {},
                sent=redactor.sent if redactor else {},
                input_tokens=response.usage.input_tokens,
                output_tokens=response.usage.output_tokens,
                request_id=record.label if record else None,
                workflow_id=workflow_id,
            )
            # Sampled for compliance review (tools/review): what the agent was asked and wrote, as used.
            offer_model_output(
                session,
                agent=self.agent_name,
                request_id=record.label if record else None,
                workflow_id=workflow_id,
                source=f"receipt:{receipt.id}",
                prompt=prompt,
                output=_output_of(response),
                endpoint=self.endpoint,
            )
