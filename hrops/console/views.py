"""How a request looks in the console: the preview an approver decides on, the case timeline
(stages, approval chains, changes, legacy pushes with their evidence, history), analytics answers,
policy answers with their citations, and policy cases as the asker and HR ops see them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hrops.console.html import View, badge, e, form, hidden, num, section, table
from hrops.request_service import AnyState, approval_chains
from hrops.settings import Settings
from tools.analytics.ask import Asked
from tools.analytics.chart import to_svg
from tools.knowledge.answer import Citation, PolicyAnswer
from tools.knowledge.cases import Case
from tools.privacy.receipts import Receipt, counted
from tools.store.identity import Principal
from workflows.bulk_change.messages import BulkState
from workflows.comp_research.messages import CompResearchState
from workflows.legacy_sync.messages import RESOLVER_ROLES, Action, LegacySyncState
from workflows.onboarding.messages import OnboardingState
from workflows.record_change.messages import LegacyPush, RequestState

# The way forward of each kind of request; a closed stage off this path (rejected, expired, ...)
# is shown after the last stage the request reached.
PATHS: dict[type, tuple[str, ...]] = {
    RequestState: ("checking", "awaiting_approval", "scheduled", "applying", "syncing", "completed"),
    OnboardingState: (
        "checking",
        "awaiting_approval",
        "creating",
        "provisioning",
        "planning",
        "awaiting_plan_approval",
        "enrolling",
        "ready",
        "completed",
    ),
    CompResearchState: ("researching", "awaiting_approval", "publishing", "published"),
    BulkState: ("starting", "running", "completed"),
}
_SYSTEM = re.compile(r"^[A-Za-z0-9_-]+$")


def kind_of(state: AnyState) -> str:
    return str(getattr(state, "kind", None) or "comp_research")


# -- what an approver decides on ---------------------------------------------------------------


def preview(v: View, state: AnyState) -> str:
    """The changes of a request: the record diff, the offer or plan, the drafted range."""
    w = v.w
    if isinstance(state, RequestState):
        out = ""
        if state.summary is not None:
            # Written by a model: said so, so nobody reads it as the product's decision.
            out += (
                f'<p class="summary">{e(state.summary.zh if v.lang == "zh" else state.summary.en)}'
                f' <span class="meta">({e(v.w["by_model"])})</span></p>'
            )
        check = state.check
        if check is not None and check.diff:
            who = check.employee.display_name if check.employee else state.employee_id
            out += f"<p>{e(w['employee'])}: {e(who)} ({e(state.employee_id)}) · {e(state.effective_on)}</p>"
            out += table(
                [e(w["field"]), e(w["before"]), e(w["after"])],
                [
                    [e(d.field), e(d.before or "–"), f"<strong>{e(d.after or '–')}</strong>"]
                    for d in check.diff
                ],
                "diff",
            )
            out += "".join(f'<p class="also">{e(w["also"])}: {e(x)}</p>' for x in check.side_effects)
        if state.corrected is not None:
            out += f"<p class='also'>corrected by the approver: {e(state.corrected.details.model_dump_json())}</p>"
        return out or "<p>–</p>"
    if isinstance(state, OnboardingState):
        if state.stage == "awaiting_plan_approval" and state.plan is not None:
            return _plan(v, state)
        return _offer(v, state)
    if isinstance(state, CompResearchState):
        return _range(v, state)
    if isinstance(state, BulkState):
        counts = ", ".join(f"{k}: {n}" for k, n in state.counts().items())
        return f"<p>{e(state.source)} · {e(w['rows'])}: {len(state.rows)} ({e(counts)})</p>"
    return "<p>–</p>"


def _offer(v: View, st: OnboardingState) -> str:
    w, o, check = v.w, st.offer, st.check
    manager = f"{check.manager_name} ({o.manager_id})" if check and check.manager_name else o.manager_id
    unit = f"{check.org_unit_name} ({o.org_unit})" if check and check.org_unit_name else o.org_unit
    rows = [
        ("name", o.display_name),
        ("title", o.title),
        ("org_unit", unit),
        ("manager", manager),
        ("location", o.location),
        ("level", o.level),
        ("start_date", o.start_date),
        ("pay", f"{o.amount:,.0f} {o.currency} ({o.frequency})"),
    ]
    if st.corrected is not None:
        before = st.hire.model_dump()
        changed = [k for k, val in st.corrected.model_dump().items() if before.get(k) != val]
        rows.append(("corrected", ", ".join(changed)))
    out = f"<h3>{e(w['offer'])}</h3>" + table([], [[e(k), e(val)] for k, val in rows], "kv")
    if check is not None:
        out += "".join(f'<p class="also">{e(n)}</p>' for n in check.notes)
    return out


def _plan(v: View, st: OnboardingState) -> str:
    p = st.plan
    assert p is not None
    rows = [
        ("30 days", "; ".join(p.goals_30)),
        ("60 days", "; ".join(p.goals_60)),
        ("90 days", "; ".join(p.goals_90)),
        ("courses", ", ".join(p.courses)),
        ("buddy", p.buddy_id or "–"),
    ]
    return f"<h3>{e(v.w['plan'])} · {e(st.employee_id)}</h3>" + table(
        [], [[e(k), e(val)] for k, val in rows], "kv"
    )


def _range(v: View, st: CompResearchState) -> str:
    q, d = st.question, st.draft
    out = f"<p>{e(q.title)} · {e(q.level or '')} {e(q.location or '')} · {e(q.currency)}</p>"
    if d is None:
        return out
    m = d.match
    out += f"<p>SOC {e(m.soc_code)} {e(m.soc_title)} ({m.confidence:.0%})</p>"
    r = st.published_range or d.recommended
    if r is not None:
        out += f"<h3>{e(v.w['range'])}</h3>" + table(
            ["min", "mid", "max", ""],
            [[num(r.minimum), f"<strong>{num(r.midpoint)}</strong>", num(r.maximum), e(r.currency)]],
            "diff",
        )
        out += f'<p class="also">{e(r.basis)}</p>'
    out += "".join(f'<p class="also">{e(c)}</p>' for c in d.critique)
    return out


def decision_forms(v: View, request_id: str, back: str) -> str:
    """One-click Approve, and Reject with its (required) reason."""
    w = v.w
    base = f"/console/requests/{request_id}/decision"
    approve = form(
        v,
        base,
        hidden("verdict", "approve")
        + hidden("back", back)
        + f'<button class="ok">{e(w["approve"])}</button>',
        "decide",
    )
    reject = form(
        v,
        base,
        hidden("verdict", "reject")
        + hidden("back", back)
        + f'<input name="reason" required maxlength="500" placeholder="{e(w["reason"])}" aria-label="{e(w["reason"])}">'
        + f'<button class="bad">{e(w["reject"])}</button>',
        "decide",
    )
    return f'<div class="decisions">{approve}{reject}</div>'


# -- the case timeline -------------------------------------------------------------------------


# The stage in which a kind of request pushes into legacy systems (its child workflows).
LEGACY_STAGE = {RequestState: "syncing", OnboardingState: "provisioning"}


def stages(v: View, state: AnyState, legacy_stages: list[str] | None = None) -> str:
    """The way forward with the stages passed, the current one, and a closed stage off the path
    (rejected, cancelled, ...) after them. The legacy-sync stage names its pushes' stages."""
    path = PATHS.get(type(state), ())
    now = str(state.stage)
    reached = path.index(now) if now in path else -1
    pushes = getattr(state, "legacy", [])
    live = legacy_stages or [p.stage or "running" for p in pushes]
    items = []
    for i, s in enumerate(path):
        cls = "done" if i < reached or (i == reached == len(path) - 1) else "now" if i == reached else ""
        label = s.replace("_", " ")
        if pushes and s == LEGACY_STAGE.get(type(state)):
            label += " · " + ", ".join(f"{p.system}: {st}" for p, st in zip(pushes, live, strict=True))
        items.append(f'<li class="{cls}">{e(label)}</li>')
    if reached < 0:
        items.append(f'<li class="now off">{e(now.replace("_", " "))}</li>')
    return f'<ol class="stages">{"".join(items)}</ol>'


def approvals(v: View, state: AnyState) -> str:
    w, out = v.w, ""
    for chain in approval_chains(state):
        rows = []
        for step in chain.steps:
            people = ", ".join(f"{a.display_name} ({a.username})" for a in step.approvers)
            if step.decision is not None:
                d = step.decision
                verdict = f"{d.verdict.past} · {d.approver} · {d.decided_at:%Y-%m-%d %H:%M} UTC"
                if d.on_behalf_of:
                    verdict += f" (for {d.on_behalf_of})"
                if d.reason:
                    verdict += f": {d.reason}"
                if d.edits:
                    verdict += f" (edited {', '.join(sorted(d.edits))})"
            elif step.expired:
                verdict = "expired"
            else:
                verdict = w["waiting"] if step.waiting else w["not_yet"]
            rows.append([e(step.step), e(people), e(verdict)])
        caption = f"<p class='also'>{e(chain.rule)}: {e(chain.why)}</p>"
        if chain.auto_approved_at:
            caption += (
                f"<p class='also'>approved by the rule at {chain.auto_approved_at:%Y-%m-%d %H:%M} UTC</p>"
            )
        out += caption + table([e(w["step"]), e(w["approvers"]), e(w["decision"])], rows, "chain")
    return section(w["approval_chain"], out or "<p>–</p>")


def outcome(v: View, state: AnyState) -> str:
    """What the request did so far: records, account, equipment, courses, readiness, the report."""
    w, rows = v.w, []
    if isinstance(state, RequestState) and state.applied is not None:
        a = state.applied
        rows.append(("applied", f"{a.table} · {a.effective_on}"))
    if isinstance(state, OnboardingState):
        if state.employee_id:
            rows.append((w["employee"], state.employee_id))
        if state.account:
            rows.append((w["account"], f"{state.account.username} · {state.account.email}"))
        if state.equipment:
            eq = state.equipment
            rows.append((w["equipment"], f"#{eq.request_number}: {', '.join(eq.items)} by {eq.needed_by}"))
        if state.enrolled:
            rows.append((w["enrolled"], ", ".join(state.enrolled)))
        if state.readiness:
            rows.append((w["readiness"], state.readiness.summary()))
    if isinstance(state, CompResearchState) and state.published is not None:
        rows.append((w["published"], f"/console/comp/{state.request_id}/report"))
    if isinstance(state, BulkState):
        rows += [(r.request_id, f"{r.kind} · {r.stage}") for r in state.rows[:200]]
    if not rows:
        return ""
    cells = []
    for k, val in rows:
        shown = f'<a href="{e(val)}">{e(w["report"])}</a>' if str(val).startswith("/console/") else e(val)
        cells.append([e(k), shown])
    return table([], cells, "kv")


def evidence_files(settings: Settings, push: LegacySyncState) -> list[tuple[str, Path]]:
    """The screenshots of a push, from the evidence folders its state names (its last failure's,
    then its result's), in step order. Only files listed in those folders' own index are served."""
    if not _SYSTEM.match(push.system):
        return []
    root = (settings.evidence_dir / push.system).resolve()
    folders: list[str] = []
    if push.task is not None and push.task.screenshot:
        folders.append(str(Path(push.task.screenshot).parent))
    if push.result is not None and push.result.evidence:
        folders.append(push.result.evidence)
    out: list[tuple[str, Path]] = []
    for rel in dict.fromkeys(folders):
        folder = (root / rel).resolve()
        if not folder.is_relative_to(root) or folder == root:
            continue
        try:
            steps = json.loads((folder / "evidence.json").read_text(encoding="utf-8"))["steps"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        for step in steps:
            name = step.get("screenshot") if isinstance(step, dict) else None
            if not name or Path(name).name != name:
                continue
            path = folder / name
            if path.is_file() and path.stat().st_size > 0:
                out.append((str(step.get("step", name)), path))
    return out


def legacy(
    v: View,
    settings: Settings,
    request_id: str,
    pushes: list[LegacyPush],
    states: list[LegacySyncState | str],
) -> str:
    """Each legacy push: its stage, result or open task (with Retry / Cancel for HR ops), history
    and the screenshots the browser took."""
    w = v.w
    if not pushes:
        return section(w["legacy"], f"<p>{e(w['legacy_none'])}</p>")
    out = ""
    for i, (push, st) in enumerate(zip(pushes, states, strict=True)):
        head = f"<h3>{e(push.system)} · {e(push.form)} {badge(push.stage or 'running')}</h3>"
        if isinstance(st, str):  # the push did not answer
            out += head + f"<p class='bad'>{e(st)}</p>"
            continue
        head = f"<h3>{e(st.system)} · {e(st.form)} {badge(st.stage.value)}</h3>"
        body = ""
        if st.result is not None:
            r = st.result
            body += (
                f"<p>{e(r.outcome.replace('_', ' '))} · {e(r.reference)} · {len(r.verified)} fields read back"
                f" · {r.attempts} attempt(s) · {r.seconds:.1f} s</p>"
            )
        if st.task is not None:
            t = st.task
            body += f'<div class="task"><strong>{e(w["task"])}</strong> ({e(t.kind)}{", " + e(t.page) if t.page else ""}): {e(t.message)}'
            if v.who is not None and v.who.has(*RESOLVER_ROLES) and st.stage.waiting_for_person:
                buttons = "".join(
                    f'<button name="action" value="{a.value}" class="{"ok" if a is Action.RETRY else "bad"}">'
                    f"{e(label)}</button>"
                    for a, label in ((Action.RETRY, w["retry"]), (Action.CANCEL, w["cancel_push"]))
                    if a in t.actions
                )
                body += form(
                    v,
                    f"/console/requests/{request_id}/legacy/{i}",
                    f'<input name="note" maxlength="300" placeholder="{e(w["note"])}" aria-label="{e(w["note"])}">'
                    + buttons,
                    "resolve",
                )
            body += "</div>"
        shots = evidence_files(settings, st)
        if shots:
            figs = "".join(
                f'<figure><a href="/console/requests/{e(request_id)}/evidence/{i}/{j}" target="_blank">'
                f'<img loading="lazy" src="/console/requests/{e(request_id)}/evidence/{i}/{j}" alt="{e(step)}"></a>'
                f"<figcaption>{e(step)}</figcaption></figure>"
                for j, (step, _) in enumerate(shots)
            )
            body += f'<h4>{e(w["evidence"])}</h4><div class="shots">{figs}</div>'
        else:
            body += f'<p class="also">{e(w["no_evidence"])}</p>'
        body += events(st.history)
        out += f'<div class="push">{head}{body}</div>'
    return section(w["legacy"], out)


def events(history: list[Any]) -> str:
    items = "".join(f"<li><time>{ev.at:%Y-%m-%d %H:%M:%S}</time> {e(ev.text)}</li>" for ev in history)
    return f'<ol class="history">{items}</ol>'


def timeline(
    v: View,
    settings: Settings,
    state: AnyState,
    pushes: list[LegacyPush],
    push_states: list[LegacySyncState | str],
    may_decide: bool,
    calls: list[Receipt],
) -> str:
    w = v.w
    rid = state.request_id
    head = (
        f'<p class="meta">{e(kind_of(state).replace("_", " "))} · {badge(str(state.stage))} · '
        f"{e(w['requested_by'])} {e(state.requested_by)} · {state.requested_at:%Y-%m-%d %H:%M} UTC</p>"
    )
    live = [
        st.stage.value if isinstance(st, LegacySyncState) else (p.stage or "running")
        for p, st in zip(pushes, push_states, strict=True)
    ]
    body = head + section(w["stages"], stages(v, state, live))
    changes = preview(v, state)
    if may_decide:
        changes += decision_forms(v, rid, f"/console/requests/{rid}")
    body += section(w["changes"], changes + outcome(v, state))
    body += approvals(v, state)
    if isinstance(state, RequestState | OnboardingState):
        body += legacy(v, settings, rid, pushes, push_states)
    problems = getattr(state, "problems", [])
    if problems:
        body += section(
            w["problems"], "<ul>" + "".join(f"<li>{e(p)}</li>" for p in problems) + "</ul>", "bad"
        )
    body += model_calls(v, calls)
    body += section(w["history"], events(state.history))
    return body


def model_calls(v: View, calls: list[Receipt]) -> str:
    """One line per model call: the agent, where it went and which classes were masked or sent."""
    if not calls:
        return ""
    w = v.w
    items = "".join(
        f"<li><time>{r.at:%Y-%m-%d %H:%M:%S}</time> {e(r.agent)} · "
        + (
            e(w["nothing_left"])
            if not r.egress
            else f"{r.bytes_sent} B → {e(r.endpoint)} · {e(w['masked'])}: {e(counted(r.masked) or '-')} · "
            f"{e(w['sent'])}: {e(counted(r.sent) or '-')}"
        )
        + "</li>"
        for r in calls
    )
    return section(w["model_calls"], f'<ol class="history">{items}</ol>')


# -- analytics ---------------------------------------------------------------------------------


def answer(v: View, asked: Asked) -> str:
    w = v.w
    cls = "refused" if asked.refused else "answer"
    out = f'<div class="{cls}"><p>{e(asked.text)}</p></div>'
    a = asked.answer
    if a is None:
        return out
    out += f'<p class="also">{e(w["scope"])}: {e(a.scope_zh if v.lang == "zh" and a.scope_zh else a.scope)} · {e(a.provenance)}</p>'
    if asked.chart is not None:
        out += section(w["chart"], f'<div class="chart">{to_svg(asked.chart)}</div>')
    metrics = [m.value for m in a.query.metrics]
    groups = list(dict.fromkeys(k for r in a.rows for k in r.groups))
    periods = len({r.period for r in a.rows}) > 1
    head = ([e(w["period"])] if periods else []) + [e(g) for g in groups] + [e(m) for m in metrics]
    head.append(e(w["people"]))
    rows = []
    for r in a.rows:
        cells = [e(r.period)] if periods else []
        cells += [e(r.groups.get(g, "")) for g in groups]
        cells += ["suppressed" if r.suppressed else num(r.values.get(m)) for m in metrics]
        cells.append(num(r.people))
        rows.append(cells)
    out += section(w["table"], table(head, rows, "data"))
    out += "".join(f'<p class="also">{e(n)}</p>' for n in a.notes)
    return out


def inbox_item(v: View, item: Any, state: AnyState | None, who: Principal) -> str:
    """One waiting request in My approvals: what it is, its preview, the decision forms."""
    rid = item.request_id
    head = (
        f'<h2><a href="/console/requests/{e(rid)}">{e(rid)}</a> · {e(item.kind.replace("_", " "))} '
        f"{badge(item.stage)}</h2>"
    )
    meta = f'<p class="meta">{e(v.w["requested_by"])} {e(getattr(state, "requested_by", "?"))}'
    if item.started_at:
        meta += f" · {item.started_at:%Y-%m-%d %H:%M} UTC"
    meta += "</p>"
    body = preview(v, state) if state is not None else ""
    return f'<section class="card item">{head}{meta}{body}{decision_forms(v, rid, "/console/approvals")}</section>'


# -- policy questions and cases ----------------------------------------------------------------


def citation(v: View, c: Citation) -> str:
    """The quote as it stands in the policy, and where it stands: title, section, version, date."""
    w = v.w
    source = (
        f"{e(c.title)} · {e(w['section_label'])} “{e(c.heading)}” · {e(w['version'])} {c.version} · "
        f"{e(w['in_force_from'])} {c.effective_from.isoformat()} · <code>{e(c.ref)}</code>"
    )
    return f'<figure class="cite"><blockquote>{e(c.quote)}</blockquote><figcaption>{source}</figcaption></figure>'


def policy_answer(v: View, a: PolicyAnswer) -> str:
    """An answer (quotes with their citations; HR's saved answer; the asker's own figures; a model's
    grounded text with the quotes under it) or the hand-off with the case it opened."""
    w = v.w
    if a.status == "handed_off":
        case = f"<p><strong>{e(w['handed_to_hr'].format(case=a.case_id))}</strong></p>" if a.case_id else ""
        return f'<div class="handoff" role="status"><p>{e(a.text)}</p>{case}</div>'
    cites = "".join(citation(v, c) for c in a.citations)
    if a.written_by == "quotes" and a.citations and a.correction is None:
        return f'<div class="answer">{cites}</div>'  # the text is these quotes: shown once, as quotes
    note = ""
    if a.written_by == "your record":
        note = f'<p class="also">{e(w["from_your_record"])}</p>'
    elif a.written_by != "quotes":
        note = f'<p class="also">{e(w["written_by_model"].format(model=a.written_by))}</p>'
    sources = f"<h3>{e(w['sources'])}</h3>{cites}" if cites else ""
    return f'<div class="answer"><p class="text">{e(a.text)}</p>{note}{sources}</div>'


def _status(v: View, c: Case) -> str:
    if c.status == "answered":
        return f'<span class="badge stage-completed">{e(v.w["answered_cases"])}</span>'
    return f'<span class="badge stage-waiting">{e(v.w["waiting_for_hr"])}</span>'


def my_questions(v: View, mine: list[Case]) -> str:
    """The asker's own cases, newest first, with HR's answer once there is one. A sensitive
    question is folded away (the page may be on a shared screen) but one click opens it."""
    w = v.w
    if not mine:
        return f'<p class="empty">{e(w["no_questions"])}</p>'
    items = []
    for c in mine:
        question = (
            f'<details><summary>{e(w["confidential"])}</summary><p class="text">{e(c.question)}</p></details>'
            if c.reason == "sensitive"
            else f'<p class="text">{e(c.question)}</p>'
        )
        answer = ""
        if c.status == "answered":
            answer = (
                f'<div class="hr-answer"><b>{e(w["hr_answer"])}</b> <span class="meta">'
                f"({e(c.answered_by)}, {e((c.answered_at or '')[:10])})</span>"
                f'<p class="text">{e(c.answer)}</p></div>'
            )
        items.append(
            f'<li><p class="meta">{e(c.case_id)} · {c.asked_on.isoformat()} {_status(v, c)}</p>{question}{answer}</li>'
        )
    return f'<p class="also">{e(w["my_questions_note"])}</p><ol class="questions">{"".join(items)}</ol>'


def _reason(v: View, c: Case) -> str:
    why = v.w.get(f"reason_{c.reason}", c.reason.replace("_", " "))
    return f"{why} ({c.category})" if c.category else why


def case_list(v: View, found: list[Case], status: str) -> str:
    """Open (or answered) cases for HR ops, oldest first. A sensitive question stays off the list,
    as in `hrops cases list`: it is read on the case's own page."""
    w = v.w
    tabs = " · ".join(
        f"<strong>{e(w[key])}</strong>"
        if s == status
        else f'<a href="/console/cases?status={s}">{e(w[key])}</a>'
        for s, key in (("open", "open_cases"), ("answered", "answered_cases"))
    )
    out = f'<p class="also">{e(w["cases_intro"])}</p><p class="tabs">{tabs}</p>'
    if not found:
        return out + f'<p class="empty">{e(w["no_cases"])}</p>'
    rows = []
    for c in found:
        question = w["sensitive_listed"] if c.reason == "sensitive" else c.question[:120]
        row = [
            f'<a href="/console/cases/{e(c.case_id)}">{e(c.case_id)}</a>',
            e(c.asker),
            c.asked_on.isoformat(),
            e(_reason(v, c)),
            e(question),
        ]
        if status == "answered":
            row.append(e(c.answered_by))
        rows.append(row)
    head = [e(w["case"]), e(w["asked_by"]), e(w["asked_on"]), e(w["why_handed"]), e(w["question"])]
    if status == "answered":
        head.append(e(w["answered_by"]))
    return out + table(head, rows, "data cases")


SAVE_SCOPES = ("location", "country", "everyone")


def cited_refs(c: Case) -> list[str]:
    """The sections the search found for a case, as doc#anchor (what a correction may cite)."""
    return list(dict.fromkeys(r.rsplit("@", 1)[0] for r in c.retrieved))[:10]


def case_page(v: View, c: Case, typed: str = "") -> str:
    """One case: the question, why it came to HR, what was found, the draft, and the answer or the
    form to answer it (with saving it as a correction; not for one's own question)."""
    w = v.w
    head = (
        f'<p class="meta">{e(w["asked_by"])} {e(c.asker)} · {c.asked_on.isoformat()} · {e(c.language)} '
        f"{_status(v, c)}</p>"
    )
    body = head + section(w["question"], f'<p class="text">{e(c.question)}</p>')
    why = f"<p>{e(_reason(v, c))}</p>" + (f'<p class="also">{e(c.triage_why)}</p>' if c.triage_why else "")
    body += section(w["why_handed"], why)
    found = (
        "<ul>" + "".join(f"<li><code>{e(r)}</code></li>" for r in c.retrieved) + "</ul>"
        if c.retrieved
        else f'<p class="also">{e(w["found_none"])}</p>'
    )
    body += section(w["found"], found)
    if c.draft:
        body += section(w["draft"], f'<p class="text">{e(c.draft)}</p>')
    if c.status == "answered":
        saved = f" · {e(w['saved_correction'].format(n=c.correction_id))}" if c.correction_id else ""
        body += section(
            w["hr_answer"],
            f'<p class="meta">{e(w["answered_by"])} {e(c.answered_by)} · {e(c.answered_at)}{saved}</p>'
            f'<p class="text">{e(c.answer)}</p>',
        )
        return body
    if v.who is not None and c.asker == v.who.username:
        return body + section(w["your_answer"], f'<p class="also">{e(w["own_question"])}</p>')
    return body + section(w["your_answer"], answer_form(v, c, typed))


def answer_form(v: View, c: Case, typed: str) -> str:
    w = v.w
    inner = (
        f'<textarea name="text" required maxlength="10000" rows="6" aria-label="{e(w["your_answer"])}">'
        f"{e(typed)}</textarea>"
    )
    if c.reason == "sensitive":
        inner += f'<p class="also">{e(w["cannot_save"])}</p>'
    else:
        choices = [("", w["save_none"])] + [(s, w[f"save_{s}"]) for s in SAVE_SCOPES]
        radios = "".join(
            f'<label><input type="radio" name="save_as" value="{s}"{" checked" if not s else ""}> {e(label)}</label>'
            for s, label in choices
        )
        inner += (
            f'<fieldset><legend>{e(w["save_as"])}</legend>{radios}<p class="also">{e(w["save_note"])}</p>'
        )
        refs = cited_refs(c)
        if refs:
            boxes = "".join(
                f'<label><input type="checkbox" name="cite-{i}" value="{e(r)}"> <code>{e(r)}</code></label>'
                for i, r in enumerate(refs)
            )
            inner += f'<p class="cites">{e(w["cites"])}: {boxes}</p>'
        inner += "</fieldset>"
    inner += f'<button class="ok">{e(w["send_answer"])}</button>'
    return form(v, f"/console/cases/{c.case_id}/answer", inner, "answer-case")
