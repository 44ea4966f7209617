"""The form-mapper agent: which control on a changed legacy page is which mapped field.

It sees the page's controls (labels, names, ids, types, option codes: never values typed into
them) and the fields no selector found, with what they used to be called. Offline, the matcher is
label/name similarity plus input type (`tools.legacy.drift.match_offline`); a configured model
proposes instead. Either way the picks are checked against the page before use, and a person
approves the resulting mapping before it is saved.
"""

from __future__ import annotations

import json

from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo

from agents.models import build_model
from tools.legacy.drift import PageSurvey, Pick, match_offline

AGENT_NAME = "form_mapper"  # part of audit and activity names: do not rename


class Picks(BaseModel):
    picks: list[Pick]


INSTRUCTIONS = (
    "A legacy web form changed and some mapped fields are no longer found. The JSON lists, per page, "
    "the controls now on the page (index, kind, label, name, id) and the missing fields with hints "
    "(their old labels, names and ids). For each missing field choose the index of the control that "
    "holds the same information and has the same kind, with a score from 0 to 1 and a short reason. "
    "Use control: null when no control fits. Never use one control for two fields."
)


def _surveys(messages: list[ModelMessage]) -> list[PageSurvey]:
    for message in reversed(messages):
        for part in getattr(message, "parts", []):
            if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                return [PageSurvey.model_validate(s) for s in json.loads(part.content)]
    raise ValueError("the form mapper needs the page surveys as JSON")


def map_offline(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    picks = Picks(picks=match_offline(_surveys(messages)))
    return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, picks.model_dump())])


def _agent() -> Agent[None, Picks]:
    return Agent(
        build_model(AGENT_NAME, map_offline), name=AGENT_NAME, output_type=Picks, instructions=INSTRUCTIONS
    )


async def match_pages(surveys: list[PageSurvey]) -> list[Pick]:
    """Run inside an activity (not a workflow): the model call is audited by the model wrapper."""
    prompt = json.dumps([s.model_dump() for s in surveys], ensure_ascii=False)
    return (await _agent().run(prompt)).output.picks
