"""The onboarding agent: writes a new hire's 30-60-90 day plan and welcome message from the facts
the tools gathered (role, team, courses it may choose from, buddy candidates). Offline it fills
templates; with a model configured, the model writes it. Either way the workflow keeps only
courses and a buddy from the lists it was given: a model cannot invent them."""

from __future__ import annotations

from datetime import timedelta

from pydantic_ai import Agent
from pydantic_ai.durable_exec.temporal import TemporalDurability
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo
from temporalio.workflow import ActivityConfig

from agents.models import build_model, prompt_json
from tools.onboarding.schemas import OnboardingPlan, PlanInputs

AGENT_NAME = "onboarding_plan"  # part of Temporal activity names: do not rename

INSTRUCTIONS = (
    "You write a new hire's onboarding plan from the facts given as JSON. goals_30, goals_60 and "
    "goals_90 are two to four short, concrete goals each for the role and team. `courses` must "
    "include every mandatory course and may add role courses, all from the ids given. `buddy_id` "
    "is one of the buddies given, or null when none is given. welcome_en and welcome_zh are a short "
    "welcome in English and Simplified Chinese naming the team and the start date. No other facts."
)


def plan_prompt(inputs: PlanInputs) -> str:
    return inputs.model_dump_json()


def write_offline(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Deterministic templates: the offline model for this agent."""
    f = prompt_json(messages, PlanInputs)
    mandatory = ", ".join(f.course_titles.get(c, c) for c in f.mandatory_courses) or "the mandatory courses"
    plan = OnboardingPlan(
        goals_30=[
            f"Finish the mandatory courses ({mandatory})",
            f"Meet everyone in {f.team} and your buddy; set up your tools",
            f"Agree the first deliverable as {f.title} with your manager",
        ],
        goals_60=[
            "Deliver the first piece of work with review from the team",
            "Complete the role courses in your plan",
        ],
        goals_90=[
            f"Work independently as {f.title} on the team's regular tasks",
            "Agree goals for the rest of the year with your manager",
        ],
        courses=[*f.mandatory_courses, *f.role_courses],
        buddy_id=f.buddies[0] if f.buddies else None,
        welcome_en=f"Welcome to {f.team} in {f.location}! We look forward to seeing you on {f.start_date:%d %B %Y}.",
        welcome_zh=f"欢迎加入{f.location}的{f.team}!期待{f.start_date:%Y年%m月%d日}与你见面。",
    )
    return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, plan.model_dump())])


onboarding_agent = Agent(
    build_model(AGENT_NAME, write_offline),
    name=AGENT_NAME,
    output_type=OnboardingPlan,
    instructions=INSTRUCTIONS,
    capabilities=[
        TemporalDurability(activity_config=ActivityConfig(start_to_close_timeout=timedelta(seconds=120)))
    ],
)


def keep_known(plan: OnboardingPlan, inputs: PlanInputs) -> tuple[OnboardingPlan, list[str]]:
    """The plan with only courses and a buddy from the inputs; mandatory courses always in.
    Returns what was dropped or added, for the history."""
    allowed = {*inputs.mandatory_courses, *inputs.role_courses}
    dropped = [c for c in plan.courses if c not in allowed]
    courses = list(dict.fromkeys([*inputs.mandatory_courses, *(c for c in plan.courses if c in allowed)]))
    notes = [f"dropped unknown course {c}" for c in dropped]
    buddy = (
        plan.buddy_id if plan.buddy_id in inputs.buddies else (inputs.buddies[0] if inputs.buddies else None)
    )
    if plan.buddy_id and buddy != plan.buddy_id:
        notes.append(f"buddy {plan.buddy_id} is not a candidate: {buddy or 'none'} instead")
    return plan.model_copy(update={"courses": courses, "buddy_id": buddy}), notes
