"""The analytics reader: with a model configured, the model turns a data question into the typed
query (its JSON schema lists exactly the catalogue's metrics and dimensions). It never writes SQL,
never sees HR data (only the question and the filter values that exist), and the offline parser
reads the same question beside it: when they differ, the answer says how the question was read.
Offline, this agent is the parser itself."""

from __future__ import annotations

from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo

from agents.models import build_model, prompt_json
from hrops.settings import Settings
from tools.analytics.parser import parse
from tools.analytics.query import AnalyticsQuery

AGENT_NAME = "analytics_reader"

INSTRUCTIONS = (
    "You turn one question about HR or learning data, in English or Chinese, into the typed query "
    "given by the output schema. Use only the metrics, dimensions and filter values the schema and the "
    "prompt list. Periods relative to today use `relative`. 'My team', 'our unit', '我们单位' mean the "
    "asker's own organisation: leave org_unit empty. If the question cannot be expressed exactly, do "
    "not approximate it: answer with text saying what is missing."
)


class ReaderPrompt(BaseModel):
    question: str
    values: dict[str, list[str]]


def read_offline(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    p = prompt_json(messages, ReaderPrompt)
    parsed = parse(p.question, p.values)
    if parsed.query is None:
        return ModelResponse(parts=[TextPart(parsed.reason or "cannot read the question")])
    return ModelResponse(
        parts=[ToolCallPart(info.output_tools[0].name, parsed.query.model_dump(mode="json"))]
    )


def reader(settings: Settings) -> Agent[None, AnalyticsQuery | str]:
    """Built per call: the model is whatever the settings name now."""
    return Agent(
        build_model(AGENT_NAME, read_offline, settings),
        name=AGENT_NAME,
        output_type=[AnalyticsQuery, str],
        instructions=INSTRUCTIONS,
    )


async def read(question: str, values: dict[str, list[str]], settings: Settings) -> AnalyticsQuery | None:
    """The model's reading, or None when it says the question cannot be expressed."""
    result = await reader(settings).run(ReaderPrompt(question=question, values=values).model_dump_json())
    return result.output if isinstance(result.output, AnalyticsQuery) else None
