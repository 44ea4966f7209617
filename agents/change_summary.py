"""The approval summary writer: turns the facts of a request into a short bilingual summary
for the approver. It sees ids, job facts and which fields change, never the personal values
(the approver reads those in the diff the workflow shows next to the summary)."""

from __future__ import annotations

import json
from datetime import timedelta

from pydantic_ai import Agent
from pydantic_ai.durable_exec.temporal import TemporalDurability
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo
from temporalio.workflow import ActivityConfig

from agents.models import build_model, prompt_json
from agents.summary_models import ApprovalSummary, ChangeFacts

AGENT_NAME = "change_summary"  # part of Temporal activity names: do not rename


INSTRUCTIONS = (
    "You write the summary an approver reads before deciding an HR request. Use only the facts "
    "given as JSON. Two short sentences in English (`en`) and the same in Simplified Chinese (`zh`): "
    "what changes for whom and from when, who asked and who approves under which rule. "
    "Do not invent facts, values or advice."
)

_FIELD_EN = {
    "line1": "street",
    "line2": "address line 2",
    "region": "region",
    "org_unit": "department",
    "base_pay": "base pay",
}
_FIELD_ZH = {
    "title": "职位名称",
    "org_unit": "部门",
    "manager": "上级",
    "location": "工作地点",
    "base_pay": "基本工资",
    "status": "在职状态",
    "reason": "离职原因",
    "line1": "街道地址",
    "line2": "地址第二行",
    "city": "城市",
    "region": "省/州",
    "postcode": "邮编",
    "country": "国家",
}
_KIND = {
    "address_change": ("Home address change", "住址变更"),
    "job_title": ("Job title change", "职位名称变更"),
    "transfer": ("Department transfer", "调岗(部门调动)"),
    "manager_change": ("Manager change", "汇报上级变更"),
    "salary_change": ("Salary change", "薪资调整"),
    "termination": ("Termination", "离职"),
}


def facts_prompt(facts: ChangeFacts) -> str:
    return json.dumps(facts.model_dump(mode="json"), ensure_ascii=False)


def write_offline(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Deterministic template writer: the offline model for this agent."""
    f = prompt_json(messages, ChangeFacts)
    kind_en, kind_zh = _KIND.get(f.kind, (f.kind.replace("_", " ").capitalize(), f.kind))
    who = ", ".join(x for x in (f.title, f.org_unit) if x)
    fields_en = ", ".join(_FIELD_EN.get(x, x) for x in f.changed_fields) or "no fields"
    fields_zh = "、".join(_FIELD_ZH.get(x, x) for x in f.changed_fields) or "无字段"
    approvers = ", ".join(f.approvers)
    summary = ApprovalSummary(
        en=(
            f"{kind_en} for {f.employee_id}{f' ({who})' if who else ''}, effective {f.effective_on:%d %b %Y}: "
            f"{fields_en} change. Requested by {f.requested_by}; {approvers} to approve ({f.rule})."
        ),
        zh=(
            f"{f.employee_id}{f'({who})' if who else ''}的{kind_zh},自{f.effective_on:%Y年%m月%d日}起生效:"
            f"变更{fields_zh}。由 {f.requested_by} 提交,待 {approvers} 审批。"
        ),
    )
    return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, summary.model_dump())])


summary_agent = Agent(
    build_model(AGENT_NAME, write_offline),
    name=AGENT_NAME,
    output_type=ApprovalSummary,
    instructions=INSTRUCTIONS,
    capabilities=[
        TemporalDurability(activity_config=ActivityConfig(start_to_close_timeout=timedelta(seconds=60)))
    ],
)
