"""Approval chains from the rules, end to end on a real Temporal dev server: several steps, four
eyes, approve with edits, delegation (before a request and while it waits), `hrops rules explain`."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hrops import approval_service as approvals
from hrops import request_service as svc
from hrops.cli import app
from hrops.settings import reset_settings
from tests.test_record_change_workflow import NEW_HOME, _pending_for
from tools.approvals import rules as approval_rules
from tools.store.db import session_scope
from tools.store.models import AuditEntry, EmployeeAddress, Notification, Role, UserRole
from workflows.approvals import Verdict

TWO_STEPS = approval_rules.SHIPPED.read_text().replace(
    "    when: {change: address_change}\n    chain: [manager]",
    "    when: {change: address_change}\n    chain: [manager, hr_ops, comp_analyst]",
)


@pytest.fixture
def two_step_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(TWO_STEPS)
    monkeypatch.setenv("HROPS_APPROVAL_RULES", str(path))
    reset_settings()


async def test_each_step_decides_in_turn_with_four_eyes_and_a_correction(
    temporal_env, main_worker, company: str, two_step_rules: None
) -> None:
    client = temporal_env.client
    with session_scope(company, write=True) as s:
        # Amy holds two roles of the chain: she may decide one of its steps only. Wang Fang, whose
        # address it is, holds one too: she never decides her own change.
        for who in ("amy.hughes", "chen.jing", "wang.fang"):
            s.add(UserRole(username=who, role=Role.COMP_ANALYST))
    sub = await svc.submit_address_change(client, svc.principal("admin"), "E1003", NEW_HOME)
    state = await svc.wait_for_stage(client, sub.request_id, {"awaiting_approval"})
    assert [s.step for s in state.approval.steps] == ["manager", "hr_ops", "comp_analyst"]
    assert [a.username for a in state.approval.steps[2].approvers] == ["amy.hughes", "chen.jing"]
    assert await _pending_for(client, "li.wei", sub.request_id) == [sub.request_id]

    li = svc.principal("li.wei")
    for edits, refusal in [
        ({"postcode": "ABC"}, "the edit is not valid: "),  # not a Chinese postcode
        ({"employee_id": "E1004"}, "employee_id cannot be edited here"),
        ({}, "needs at least one edit"),
    ]:
        with pytest.raises(svc.RequestError, match=refusal):
            await svc.decide(client, sub.request_id, li, Verdict.APPROVE_WITH_EDITS, None, None, edits)
    first = await svc.decide(
        client, sub.request_id, li, Verdict.APPROVE_WITH_EDITS, None, None, {"postcode": "201204"}
    )
    assert first.step == "manager" and first.edits == {"postcode": "201204"}

    # Step 2 goes to HR ops; the manager is done, Amy decides it.
    assert await _pending_for(client, "amy.hughes", sub.request_id) == [sub.request_id]
    with pytest.raises(svc.RequestError, match="li.wei already decided the manager step"):
        await svc.decide(client, sub.request_id, li, Verdict.APPROVE)
    await svc.decide(client, sub.request_id, svc.principal("amy.hughes"), Verdict.APPROVE)
    # Step 3 (comp_analyst): Amy holds that role too, but four eyes means someone else.
    assert await _pending_for(client, "chen.jing", sub.request_id) == [sub.request_id]
    with pytest.raises(svc.RequestError, match="amy.hughes already decided the hr_ops step"):
        await svc.decide(client, sub.request_id, svc.principal("amy.hughes"), Verdict.APPROVE)
    await svc.decide(client, sub.request_id, svc.principal("chen.jing"), Verdict.APPROVE)

    state = await svc.wait_for_stage(client, sub.request_id, {"completed"})
    assert state.corrected is not None and state.corrected.details.address.postcode == "201204"
    assert (
        state.change.details.address.postcode == NEW_HOME.postcode
    )  # the original stays beside the correction
    with session_scope(company) as s:
        applied = s.scalars(select(EmployeeAddress).where(EmployeeAddress.request_id == sub.request_id)).one()
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.request_id == sub.request_id).order_by(AuditEntry.id)
        ).all()
        told = s.execute(
            select(Notification.kind, Notification.recipient).where(Notification.request_id == sub.request_id)
        ).all()
    assert applied.postcode == "201204" and applied.line1 == NEW_HOME.line1
    decided = [(e.action, e.actor, e.details["step"]) for e in entries if e.action.startswith("request.app")]
    assert decided == [
        ("request.approved_with_edits", "li.wei", "manager"),
        ("request.approved", "amy.hughes", "hr_ops"),
        ("request.approved", "chen.jing", "comp_analyst"),
    ]
    edited = next(e for e in entries if e.action == "request.approved_with_edits")
    assert edited.details["edited_fields"] == ["postcode"] and "201204" not in str(edited.details)
    asked = {who for kind, who in told if kind == "approval_requested"}
    assert sorted(asked) == ["amy.hughes", "chen.jing", "li.wei"]  # each step's people were asked
    # Once applied, the requester and the employee hear about it.
    assert sorted(who for kind, who in told if kind == "change_applied") == ["admin", "wang.fang"]


async def test_a_delegate_decides_for_an_absent_approver(temporal_env, main_worker, company: str) -> None:
    client = temporal_env.client
    amy = svc.principal("amy.hughes")
    sub = await svc.submit_address_change(client, amy, "E1003", NEW_HOME)
    await _pending_for(client, "li.wei", sub.request_id)

    # Li Wei goes on leave while the request waits: Chen Jing may decide it at once.
    with pytest.raises(svc.RequestError, match="may delegate only their own approvals"):
        await approvals.delegate(client, svc.principal("wang.fang"), "li.wei", "chen.jing", date(2026, 12, 4))
    with pytest.raises(svc.RequestError, match="is in the past"):
        await approvals.delegate(client, svc.principal("li.wei"), "li.wei", "chen.jing", date(2026, 11, 1))
    done = await approvals.delegate(client, svc.principal("li.wei"), "li.wei", "chen.jing", date(2026, 12, 4))
    assert done.delegation.created and done.handed_over == [sub.request_id]
    again = await approvals.delegate(
        client, svc.principal("li.wei"), "li.wei", "chen.jing", date(2026, 12, 4)
    )
    assert not again.delegation.created  # the same delegation twice is one delegation

    record = await svc.decide(client, sub.request_id, svc.principal("chen.jing"), Verdict.APPROVE)
    assert (record.approver, record.on_behalf_of) == ("chen.jing", "li.wei")
    state = await svc.wait_for_stage(client, sub.request_id, {"completed"})
    assert any("chen.jing stands in for li.wei" in e.text for e in state.history)  # added while waiting

    # A request made during the leave starts with the delegate already on its step.
    other = NEW_HOME.model_copy(update={"line1": "2 Jinke Road"})
    later = await svc.submit_address_change(client, amy, "E1003", other, date(2026, 11, 30))
    state = await svc.wait_for_stage(client, later.request_id, {"awaiting_approval"})
    for _ in range(50):
        state = await svc.show(client, later.request_id)
        if "chen.jing" in state.approval.pending_usernames:
            break
        await asyncio.sleep(0.1)
    assert state.approval.pending_usernames == ["li.wei", "chen.jing"]
    with session_scope(company) as s:
        assert s.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "approvals.delegated")
        ).all() == ["approvals.delegated"]


def test_rules_explain_says_which_rule_and_who(company: str) -> None:
    runner = CliRunner()
    out = runner.invoke(
        app, ["rules", "explain", "address_change", "--employee", "E1003"], env={"COLUMNS": "160"}
    )
    assert out.exit_code == 0, out.output
    assert (
        "rule address_change" in out.output
        and "li.wei" in out.output
        and "the employee's manager" in out.output
    )
    out = runner.invoke(app, ["rules", "explain", "transfer", "--employee", "E1003"])
    assert out.exit_code == 1 and "needs --new-manager" in str(out.exception)
    out = runner.invoke(app, ["rules", "explain", "payroll", "--employee", "E1003"])
    assert out.exit_code == 1 and "unknown change 'payroll'" in str(out.exception)


def test_rules_file_mistakes_are_named(tmp_path: Path) -> None:
    broken = (
        approval_rules.SHIPPED.read_text()
        .replace("    when: {change: onboarding}", "    when: {change: onboarding, level_at_least: senior}")
        .replace("chain: [hr_ops]", "chain: [hr_ops, hr_ops, cfo]")
    )
    with pytest.raises(approval_rules.RulesError) as e:
        approval_rules.parse(broken, "rules.yaml")
    text = str(e.value)
    assert "rules[9] (onboarding).when: level_at_least: 'senior' is not a level like L7" in text
    assert "rules[9] (onboarding).chain[2]: 'cfo' is not known" in text
    with pytest.raises(approval_rules.RulesError, match="no rule without conditions for: onboarding"):
        approval_rules.parse(
            approval_rules.SHIPPED.read_text().replace(
                "    when: {change: onboarding}", "    when: {change: onboarding, level_at_least: L3}"
            )
        )
