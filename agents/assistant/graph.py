"""The chat assistant: one langgraph graph, one checkpointed thread per conversation.

    message -> route -> intake -> (request) collect -> ask one missing field | confirm -> dispatch
                                 (data question) analytics · (policy question) the policy assistant
                                 (decision) decide · (status) · (help)
                                 (refuse / unknown) a refusal with the reason; nothing starts

A message is read by the offline reader, or with a model configured by the model through the gate
(agents/gate.py: names, addresses and amounts masked) with the offline reading beside it; where
the two differ the confirmation says so. A thread remembers the request being filled in, the field asked for and whether a confirmation is
awaited, so "next Monday" answers the question before it. Everything that acts goes through the
product's services (the same checks, roles and idempotency as the CLI and the API): the same
request confirmed twice returns the one already running. Runtime dependencies (the Temporal client,
the settings) come in the run's config, never in the checkpointed state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, StateGraph
from pydantic import BaseModel

from agents.assistant import people
from agents.assistant.intake import REQUIRED, Intake, Intent, RequestKind, read, read_answer
from agents.assistant.intake_agent import read_message
from agents.assistant.ports import Refusal, Services
from agents.assistant.requests import PERSON_FIELDS, build
from agents.models import OFFLINE
from hrops.clock import today
from hrops.settings import get_settings
from tools.store.db import session_scope
from tools.store.identity import Principal

YES = re.compile(
    r"^\s*(yes|y|ok|okay|confirm|go|sure|do it|是|是的|好|好的|确认|可以|对)\s*[.!。！]?\s*$", re.I
)
NO = re.compile(r"^\s*(no|n|cancel|stop|nope|不|不要|取消|算了|否)\s*[.!。！]?\s*$", re.I)
QUESTIONS = {
    "employee": ("Who is it for (name or employee id)?", "是哪位员工(姓名或工号)?"),
    "effective_on": (
        "From which day (e.g. 2026-12-01 or next Monday)?",
        "从哪天生效(如 2026-12-01 或下周一)?",
    ),
    "line1": ("What is the new street address?", "新的街道地址是什么?"),
    "city": ("Which city?", "哪个城市?"),
    "country": ("Which country (e.g. CN, SG, GB)?", "哪个国家(如 CN、SG、GB)?"),
    "new_title": ("What is the new job title?", "新的职位名称是什么?"),
    "org_unit": ("Which department (code, e.g. ENG-DATA)?", "调到哪个部门(部门代码,如 ENG-DATA)?"),
    "manager": ("Who is the manager (name or employee id)?", "直属经理是谁(姓名或工号)?"),
    "amount": ("What is the new base pay (a yearly amount)?", "新的基本工资是多少(年薪)?"),
    "currency": ("In which currency (e.g. CNY, USD)?", "什么币种(如 CNY、USD)?"),
    "reason_code": (
        "Why does the employment end (resignation, retirement, end of contract, dismissal, ...)?",
        "离职原因是什么(辞职、退休、合同到期、辞退……)?",
    ),
    "given_name": ("What is the new hire's given name (in Latin letters)?", "新员工的名(拼音)是什么?"),
    "family_name": ("And the family name (in Latin letters)?", "姓(拼音)是什么?"),
    "title": ("Which job title?", "什么职位?"),
    "location": ("Where will they work (e.g. Shanghai)?", "工作地点在哪里(如上海)?"),
    "start_date": ("What is the first day?", "哪天入职?"),
    "reason": ("Why is it rejected (the requester sees the reason)?", "驳回原因是什么(申请人会看到)?"),
}
HELP = (
    "I can start HR requests (address, job title, transfer, manager, salary, termination, onboarding, "
    "market research), answer data questions about your organisation and questions about HR policy, "
    'record approvals ("approve REQ-12", "reject REQ-12 because ...") and tell you where a request '
    'stands. Try: "Wang Fang moved to 2 Jinke Road, Shanghai from next Monday" or "attrition in my org last quarter".',
    "我可以发起人事申请(地址、职位、调动、汇报关系、调薪、离职、入职、市场薪酬调研),回答你所在组织的数据问题和人事制度问题,"
    "记录审批(“批准 REQ-12”、“驳回 REQ-12 原因:……”),并查询申请进度。例如:“王芳下周一起地址改为上海市浦东新区金科路2号”"
    "或“这个月我们单位的学习数据如何?”",
)


class Outcome(BaseModel):
    """What happened, for `hrops chat --json` and the channels: typed, beside the reply text."""

    intent: str
    kind: str | None = None
    fields: dict[str, str] = {}
    missing: list[str] = []
    asked: str | None = None
    awaiting_confirmation: bool = False
    started: str | None = None  # the request id started (or already running for the same request)
    created: bool = False
    decided: str | None = None
    refused: str | None = None
    case_id: str | None = None  # a policy question handed to HR ops: the case it opened (KB-3)


class Reply(BaseModel):
    text: str
    outcome: Outcome


class State(TypedDict, total=False):
    message: str
    intake: dict[str, Any]  # the last message read (Intake as a dict)
    pending: dict[str, Any] | None  # {"intent": ..., "kind": ..., "fields": {...}, "decision": {...}}
    asked: str | None  # the field the last reply asked for
    confirm: bool  # a summary was shown: yes starts it, no drops it
    reply: dict[str, Any]


@dataclass(frozen=True)
class Deps:
    who: Principal
    services: Services


def _deps(config: RunnableConfig) -> Deps:
    return config["configurable"]["deps"]


def _say(lang: str, en: str, zh: str) -> str:
    return zh if lang == "zh" else en


def _reply(text: str, outcome: Outcome, **state: Any) -> State:
    return {"reply": Reply(text=text, outcome=outcome).model_dump(), **state}  # type: ignore[typeddict-item]


# -- nodes -------------------------------------------------------------------------------------------


async def route(state: State, config: RunnableConfig) -> State:
    """Answer what the thread was waiting for, or read the message afresh."""
    message, pending = state["message"], state.get("pending")
    lang = (pending or {}).get("language", "zh" if re.search(r"[\u4e00-\u9fff]", message) else "en")
    if pending and (state.get("confirm") or state.get("asked")) and NO.match(message):
        return _reply(
            _say(lang, "Dropped; nothing was started.", "已取消,没有发起任何申请。"),
            Outcome(intent="cancelled", kind=pending.get("kind")),
            pending=None,
            asked=None,
            confirm=False,
        )
    if pending and state.get("confirm"):
        if YES.match(message):
            return {"intake": {}, "asked": None}
        return _aside(read(message, today()), state) or await _fresh(state, config)
    if pending and (asked := state.get("asked")):
        whole = read(message, today())
        if whole.intent is Intent.REQUEST and whole.kind and len(whole.fields) > 1:
            return await _fresh(state, config)  # a whole new request instead of an answer
        if asked != "reason" and (aside := _aside(whole, state)):
            return aside
        if asked == "reason":
            pending = {**pending, "decision": {**pending["decision"], "reason": message.strip()}}
            return {"pending": pending, "asked": None, "intake": {}}
        got = read_answer(asked, message, today(), kind=RequestKind(pending["kind"]))
        if got.problems or got.value is None:
            why = "; ".join(got.problems) or _say(lang, "I could not read that", "没有读懂")
            return _reply(
                f"{why}. {_question(asked, lang)}", _outcome(pending, asked), pending=pending, asked=asked
            )
        pending = {**pending, "fields": {**pending["fields"], **got.fields, asked: got.value}}
        return {"pending": pending, "asked": None, "intake": {}}
    return await _fresh(state, config)


def _aside(whole: Intake, state: State) -> State | None:
    """A policy question in the middle of a request ("how much notice do I need?" before confirming a
    termination): answered, and the request kept where it was, the same question asked again."""
    if whole.intent is not Intent.POLICY_QUESTION:
        return None
    return {"intake": whole.model_dump(mode="json")}


async def _read(message: str, deps: Deps) -> tuple[Intake, list[str]]:
    """The offline reader's reading; with a model configured, the model's (through the gate), held
    to what the message says, with where the two differ. A message the offline reader cannot place,
    or takes for a policy question, that tells a sensitive matter or asks for a person in words no
    pattern knows (triage by meaning) is a policy question for HR ops, never "not understood", and
    is not read by a model."""
    settings = get_settings()
    offline = read(message, today())
    checked = (Intent.UNKNOWN,) if settings.model == OFFLINE else (Intent.UNKNOWN, Intent.POLICY_QUESTION)
    if offline.intent in checked and await deps.services.needs_a_person(message):
        return offline.model_copy(update={"intent": Intent.POLICY_QUESTION, "question": message.strip()}), []
    if settings.model == OFFLINE:
        return offline, []
    reading = await read_message(message, today(), settings, offline=offline)
    return reading.intake, reading.differences


async def _fresh(state: State, config: RunnableConfig) -> State:
    intake, differences = await _read(state["message"], _deps(config))
    pending = None
    if intake.intent is Intent.REQUEST and intake.kind:
        pending = {
            "intent": "request",
            "kind": intake.kind.value,
            "fields": dict(intake.fields),
            "language": intake.language,
            "differences": differences,
        }
    elif intake.intent is Intent.DECISION and intake.decision:
        pending = {
            "intent": "decision",
            "decision": intake.decision.model_dump(),
            "language": intake.language,
        }
    return {"intake": intake.model_dump(mode="json"), "pending": pending, "asked": None, "confirm": False}


def _after_route(state: State) -> str:
    if state.get("reply") and not state.get("intake") and state.get("pending") is None:
        return "done"
    if (state.get("intake") or {}).get("intent") == Intent.POLICY_QUESTION.value:
        return "answer"  # also in the middle of a request, which stays pending
    pending = state.get("pending")
    if pending and state.get("confirm") and not state.get("intake"):
        return "dispatch"
    if pending and pending["intent"] == "request":
        return "collect"
    if pending and pending["intent"] == "decision":
        return "decide"
    return "answer"


async def collect(state: State, config: RunnableConfig) -> State:
    """People resolved, problems said, the first missing field asked, or the summary to confirm."""
    deps, pending = _deps(config), dict(state["pending"] or {})
    lang, kind = pending["language"], RequestKind(pending["kind"])
    intake = Intake.model_validate(state["intake"]) if state.get("intake") else None
    if intake and intake.problems:
        return _reply(
            _say(lang, "I cannot start that: ", "无法发起:") + "; ".join(intake.problems),
            Outcome(
                intent="invalid",
                kind=kind.value,
                fields=pending["fields"],
                refused="; ".join(intake.problems),
            ),
            pending=None,
        )
    fields = dict(pending["fields"])
    for name in PERSON_FIELDS:
        said = fields.get(name)
        if said and not re.fullmatch(r"E\d+", said):
            with session_scope(deps.services.db_url) as s:
                found = people.find(s, said, today())
            if found.person is None:
                fields.pop(name)
                pending["fields"] = fields
                options = "; ".join(f"{p.employee_id} ({p.name}, {p.unit})" for p in found.choices)
                text = (found.problem or "") + (f": {options}. " if options else ". ") + _question(name, lang)
                return _reply(text, _outcome(pending, name), pending=pending, asked=name)
            fields[name] = found.person.employee_id
    pending["fields"] = fields
    missing = [f for f in REQUIRED[kind] if not fields.get(f)]
    if missing:
        return _reply(
            _question(missing[0], lang),
            _outcome(pending, missing[0], missing),
            pending=pending,
            asked=missing[0],
        )
    built = build(kind, fields)
    if built.problems:
        return _reply(
            _say(lang, "That is not a valid request: ", "申请内容无效:") + "; ".join(built.problems),
            Outcome(intent="invalid", kind=kind.value, fields=fields, refused="; ".join(built.problems)),
            pending=None,
        )
    summary, problems = deps.services.preview(kind, built.request)
    if problems:
        return _reply(
            _say(lang, "I cannot start that: ", "无法发起:") + "; ".join(problems),
            Outcome(intent="refused", kind=kind.value, fields=fields, refused="; ".join(problems)),
            pending=None,
        )
    if pending.get("differences"):  # the model read it; the built-in reader differs: say so before "yes"
        summary += "\n" + _say(
            lang, "Read by the model; the built-in reader differs on: ", "由模型理解;内置解析结果不同:"
        )
        summary += "; ".join(pending["differences"])
    text = summary + "\n" + _say(lang, "Start it? (yes / no)", "确认发起吗?(是 / 否)")
    outcome = _outcome(pending, None)
    outcome.awaiting_confirmation = True
    return _reply(text, outcome, pending=pending, confirm=True)


async def dispatch(state: State, config: RunnableConfig) -> State:
    deps, pending = _deps(config), state["pending"] or {}
    kind, lang = RequestKind(pending["kind"]), pending["language"]
    built = build(kind, pending["fields"])
    try:
        sub = await deps.services.start(kind, built.request)
    except Refusal as e:
        return _reply(
            _say(lang, "Not started: ", "未发起:") + str(e),
            Outcome(intent="refused", kind=kind.value, fields=pending["fields"], refused=str(e)),
            pending=None,
            confirm=False,
        )
    text = (
        _say(lang, f"Started {sub.request_id}. ", f"已发起 {sub.request_id}。")
        if sub.created
        else _say(
            lang, f"{sub.request_id} is already under way for this. ", f"该申请已在处理中:{sub.request_id}。"
        )
    ) + _say(lang, f"Follow it with: where is {sub.request_id}?", f"查询进度:{sub.request_id} 进度")
    outcome = Outcome(
        intent="request",
        kind=kind.value,
        fields=pending["fields"],
        started=sub.request_id,
        created=sub.created,
    )
    return _reply(text, outcome, pending=None, confirm=False)


async def decide(state: State, config: RunnableConfig) -> State:
    deps, pending = _deps(config), state["pending"] or {}
    d, lang = pending["decision"], pending["language"]
    if not d.get("request_id"):
        return _reply(
            _say(lang, "Which request (e.g. REQ-12)?", "哪个申请(如 REQ-12)?"),
            Outcome(intent="decision", missing=["request_id"]),
            pending=None,
        )
    if d.get("verdict") == "reject" and not d.get("reason"):
        return _reply(
            _question("reason", lang),
            Outcome(intent="decision", missing=["reason"], asked="reason"),
            pending=pending,
            asked="reason",
        )
    approve = d.get("verdict") == "approve"
    try:
        past = await deps.services.decide(d["request_id"], approve, d.get("reason"))
    except Refusal as e:
        return _reply(str(e), Outcome(intent="decision", refused=str(e)), pending=None)
    text = _say(
        lang,
        f"{d['request_id']}: {past}, recorded.",
        f"{d['request_id']}:已{'批准' if approve else '驳回'}并记录。",
    )
    return _reply(text, Outcome(intent="decision", decided=d["request_id"]), pending=None)


async def answer(state: State, config: RunnableConfig) -> State:
    """Data and policy questions, status, help, refusals and what was not understood."""
    deps = _deps(config)
    intake = Intake.model_validate(state["intake"])
    lang = intake.language
    if intake.intent is Intent.DATA_QUESTION:
        text, refused = await deps.services.ask(intake.question or state["message"])
        return _reply(text, Outcome(intent="data_question", refused=text if refused else None), pending=None)
    if intake.intent is Intent.POLICY_QUESTION:
        got = await deps.services.policy(intake.question or state["message"])
        text = got.text
        if got.case_id:  # handed to HR ops: the case to follow, answered here or in the console
            text += "\n" + _say(lang, f"Your question is case {got.case_id}.", f"问题编号 {got.case_id}。")
        outcome = Outcome(intent="policy_question", case_id=got.case_id)
        if pending := state.get("pending"):  # asked in the middle of a request: back to it
            outcome.kind, outcome.asked = pending.get("kind"), state.get("asked")
            outcome.awaiting_confirmation = bool(state.get("confirm"))
            if outcome.asked:
                text += (
                    "\n\n"
                    + _say(lang, "Back to your request: ", "回到您的申请:")
                    + _question(outcome.asked, lang)
                )
            elif outcome.awaiting_confirmation:
                text += "\n\n" + _say(
                    lang,
                    "Your request is still waiting: start it? (yes / no)",
                    "您的申请仍待确认:确认发起吗?(是 / 否)",
                )
        return _reply(text, outcome)  # the thread's pending request, if any, is kept as it was
    if intake.intent is Intent.STATUS and intake.status:
        return _reply(await _status(deps, intake, lang), Outcome(intent="status"), pending=None)
    if intake.intent is Intent.HELP:
        return _reply(HELP[1] if lang == "zh" else HELP[0], Outcome(intent="help"), pending=None)
    if intake.intent is Intent.REFUSE:
        text = _say(lang, "I won't do that: ", "无法执行:") + (intake.refusal or "")
        return _reply(text, Outcome(intent="refuse", refused=intake.refusal), pending=None)
    near = "; ".join(f'"{n}"' for n in intake.nearest)
    text = (
        _say(lang, "I did not understand that", "我没有理解这条消息")
        + (intake.clarify and f": {intake.clarify}" or "")
        + (_say(lang, f". You could say: {near}", f"。可以这样说:{near}") if near else ".")
    )
    return _reply(text, Outcome(intent="unknown", refused="not understood"), pending=None)


async def _status(deps: Deps, intake: Intake, lang: str) -> str:
    st = intake.status
    assert st is not None
    ids = [st.request_id] if st.request_id else []
    if not ids and st.employee:
        with session_scope(deps.services.db_url) as s:
            found = people.find(s, st.employee, today())
        if found.person is None:
            return found.problem or ""
        ids = deps.services.requests_for(found.person.employee_id)[-3:]
        if not ids:
            return _say(lang, f"No requests for {found.person.name}.", f"{found.person.name} 没有申请。")
    lines = []
    for rid in ids:
        try:
            lines.append(await deps.services.status(rid))
        except Refusal as e:
            lines.append(str(e))
    return "\n".join(lines)


def _question(field: str, lang: str) -> str:
    en, zh = QUESTIONS.get(field, (f"What is the {field.replace('_', ' ')}?", f"请提供{field}。"))
    return zh if lang == "zh" else en


def _outcome(pending: dict[str, Any], asked: str | None, missing: list[str] | None = None) -> Outcome:
    return Outcome(
        intent="request",
        kind=pending.get("kind"),
        fields=pending.get("fields", {}),
        missing=missing or ([asked] if asked else []),
        asked=asked,
    )


def build_graph(checkpointer: Any = None):  # noqa: ANN201 - a compiled langgraph graph
    g = StateGraph(State)
    g.add_node("route", route)
    g.add_node("collect", collect)
    g.add_node("dispatch", dispatch)
    g.add_node("decide", decide)
    g.add_node("answer", answer)
    g.set_entry_point("route")
    g.add_conditional_edges(
        "route",
        _after_route,
        {"done": END, "collect": "collect", "dispatch": "dispatch", "decide": "decide", "answer": "answer"},
    )
    for node in ("collect", "dispatch", "decide", "answer"):
        g.add_edge(node, END)
    return g.compile(checkpointer=checkpointer)


async def respond(graph: Any, deps: Deps, thread: str, message: str) -> Reply:
    """One message of one thread (the thread id scopes the memory to that conversation and user)."""
    config: RunnableConfig = {"configurable": {"thread_id": f"{deps.who.username}:{thread}", "deps": deps}}
    out = await graph.ainvoke({"message": message, "reply": {}, "intake": {}}, config)
    return Reply.model_validate(out["reply"])
