"""Re-running an agent on a stored prompt, for the evaluation cases made from reviewers' corrections
(`tools.review.evals.run_cases`). Each agent is built fresh with the model the settings name (or the
offline one), exactly as its workflow builds it, so the run goes through the same audited wrapper."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel
from pydantic_ai import Agent

from agents import analytics_reader, change_summary, form_mapper, onboarding_plan, policy_answer
from agents.assistant import intake_agent
from agents.models import build_model
from hrops.settings import Settings
from tools.onboarding.schemas import OnboardingPlan
from tools.review.evals import NoReplay, Replay
from tools.review.models import EvalCase, Output

_AGENTS: dict[str, Callable[[Settings], Agent]] = {
    change_summary.AGENT_NAME: lambda s: Agent(
        build_model(change_summary.AGENT_NAME, change_summary.write_offline, s),
        name=change_summary.AGENT_NAME,
        output_type=change_summary.ApprovalSummary,
        instructions=change_summary.INSTRUCTIONS,
    ),
    onboarding_plan.AGENT_NAME: lambda s: Agent(
        build_model(onboarding_plan.AGENT_NAME, onboarding_plan.write_offline, s),
        name=onboarding_plan.AGENT_NAME,
        output_type=OnboardingPlan,
        instructions=onboarding_plan.INSTRUCTIONS,
    ),
    form_mapper.AGENT_NAME: lambda s: Agent(
        build_model(form_mapper.AGENT_NAME, form_mapper.map_offline, s),
        name=form_mapper.AGENT_NAME,
        output_type=form_mapper.Picks,
        instructions=form_mapper.INSTRUCTIONS,
    ),
    analytics_reader.AGENT_NAME: analytics_reader.reader,
    intake_agent.AGENT_NAME: lambda s: intake_agent.reader(s),
    policy_answer.AGENT_NAME: policy_answer.writer,
}


def replayable() -> list[str]:
    return sorted(_AGENTS)


def replayer(settings: Settings) -> Replay:
    """The `replay` for run_cases, on the model `settings` name (`model="offline"`: the offline one)."""

    async def replay(case: EvalCase) -> Output:
        build = _AGENTS.get(case.agent)
        if build is None:
            raise NoReplay(f"no replay for agent {case.agent!r}; known: {', '.join(replayable())}")
        out = (await build(settings).run(case.prompt)).output
        return out.model_dump(mode="json") if isinstance(out, BaseModel) else str(out)

    return replay
