"""Record change tools on the tiny company: validation, diff preview, effective-dated apply, undo."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.conftest import TODAY
from tools.hr.access import store
from tools.hr.changes import RecordChange
from tools.registry import ApprovalGrant, ToolContext, ToolDenied, ToolError, registry
from tools.store import queries
from tools.store.models import AuditEntry, Compensation, Employee, JobAssignment, Role, UserRole

HR = ToolContext(actor="amy.hughes", roles=frozenset({Role.HR_OPS}))


def _change(details: dict, employee: str = "E1003", on: date = TODAY, **kw) -> RecordChange:
    return RecordChange.model_validate(
        {"employee_id": employee, "details": details, "effective_on": on, **kw}
    )


def _apply(change: RecordChange, request_id: str, ctx: ToolContext = HR):
    grant = ApprovalGrant.for_args(
        change, request_id=request_id, approver="li.wei", decided_at="2026-11-23T10:00:00Z"
    )
    return registry.call(
        "employee.apply_change", ctx.model_copy(update={"request_id": request_id, "approval": grant}), change
    )


@pytest.mark.parametrize(
    ("details", "employee", "on", "problem"),
    [
        ({"kind": "job_title", "title": "Senior Data Engineer"}, "E9999", TODAY, "no employee E9999"),
        ({"kind": "job_title", "title": "Senior Data Engineer"}, "E1004", TODAY, "is not active"),
        ({"kind": "job_title", "title": "Data Engineer"}, "E1003", TODAY, "already the employee's job"),
        ({"kind": "job_title", "title": "Lead"}, "E1003", date(2026, 1, 1), "more than 31 days in the past"),
        ({"kind": "job_title", "title": "Lead"}, "E1003", date(2028, 1, 1), "more than a year ahead"),
        ({"kind": "transfer", "org_unit": "NOPE"}, "E1003", TODAY, "no department NOPE"),
        ({"kind": "transfer", "org_unit": "ENG-PLAT"}, "E1003", TODAY, "already in ENG-PLAT"),
        ({"kind": "manager_change", "manager_id": "E1003"}, "E1002", TODAY, "reporting loop"),
        ({"kind": "manager_change", "manager_id": "E1004"}, "E1003", TODAY, "not employed"),
        ({"kind": "manager_change", "manager_id": "E1003"}, "E1003", TODAY, "cannot manage themselves"),
        (
            {"kind": "salary_change", "amount": "300000", "currency": "CNY"},
            "E1003",
            TODAY,
            "already the employee's pay",
        ),
        ({"kind": "termination", "reason": "redundancy"}, "E1004", TODAY, "is not active"),
    ],
)
def test_a_bad_change_is_refused_with_the_reason_before_anything_is_written(
    company: str, details: dict, employee: str, on: date, problem: str
) -> None:
    check = registry.call("employee.check_change", HR, _change(details, employee, on))
    assert not check.ok and any(problem in p for p in check.problems), check.problems
    with pytest.raises(ToolError, match=problem):
        _apply(_change(details, employee, on), "REQ-1")
    with store() as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.request_id == "REQ-1")) is None


@pytest.mark.parametrize(
    ("details", "message"),
    [
        ({"kind": "salary_change", "amount": "-5", "currency": "CNY"}, "greater than 0"),
        ({"kind": "salary_change", "amount": "1000", "currency": "XYZ"}, "not a currency we pay in"),
        ({"kind": "termination", "reason": "bored"}, "Input should be"),
        ({"kind": "promotion"}, "does not match any of the expected tags"),
    ],
)
def test_malformed_changes_fail_validation_with_a_clear_message(details: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _change(details)


def test_salary_preview_shows_the_rise_and_the_band_position(company: str) -> None:
    inside = registry.call(
        "employee.check_change", HR, _change({"kind": "salary_change", "amount": "330000", "currency": "cny"})
    )
    assert (
        inside.ok
        and inside.diff[0].before == "300,000.00 CNY annual"
        and inside.diff[0].after == "330,000.00 CNY annual"
    )
    assert inside.routing.increase_percent == Decimal("10.00") and inside.routing.outside_pay_band is False
    assert any("75% of the range, compa-ratio 1.10" in s for s in inside.side_effects)
    outside = registry.call(
        "employee.check_change", HR, _change({"kind": "salary_change", "amount": "400000", "currency": "CNY"})
    )
    assert outside.routing.outside_pay_band is True and any(
        "OUTSIDE the band" in s for s in outside.side_effects
    )
    with store(write=True) as s:
        s.add(UserRole(username="chen.jing", role=Role.COMP_ANALYST))
    plan = registry.call(
        "approvals.plan",
        HR,
        {
            "change": "salary_change",
            "employee_id": "E1003",
            "requested_by": "admin",
            **outside.routing.model_dump(),
        },
    )
    # 33% and outside the band: HRBP (none here, so HR ops) and a compensation analyst.
    assert plan.rule == "salary_large_raise" and [s.approvers[0].username for s in plan.steps] == [
        "amy.hughes",
        "chen.jing",
    ]


def test_transfer_preview_names_the_new_manager_and_applies_as_a_new_job_row(company: str) -> None:
    change = _change({"kind": "transfer", "org_unit": "eng-data"})
    check = registry.call("employee.check_change", HR, change)
    assert check.ok, check.problems
    assert {d.field: (d.before, d.after) for d in check.diff} == {
        "org_unit": ("Platform (ENG-PLAT)", "Data (ENG-DATA)"),
        "manager": ("李伟 (E1002)", "陈静 (E1001)"),
    }
    assert check.routing.new_manager_id == "E1001" and "chen.jing" in check.notify
    done = _apply(change, "REQ-7")
    again = _apply(change, "REQ-7")
    assert (again.already_applied, again.record_id) == (True, done.record_id)
    with store() as s:
        jobs = s.scalars(
            select(JobAssignment)
            .where(JobAssignment.employee_id == "E1003")
            .order_by(JobAssignment.valid_from)
        ).all()
        assert [(j.org_unit_id, j.manager_id, j.valid_to) for j in jobs] == [
            (2, "E1002", TODAY),
            (3, "E1001", None),
        ]
        assert jobs[1].title == "Data Engineer" and jobs[1].request_id == "REQ-7"
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "employee.transferred"))
        assert entry.request_id == "REQ-7" and entry.details["fields"] == ["org_unit", "manager"]
        assert entry.details["approved_by"] == "li.wei"


def test_undo_on_the_same_day_rescinds_and_later_it_compensates(company: str) -> None:
    _apply(_change({"kind": "salary_change", "amount": "330000", "currency": "CNY"}), "REQ-8")
    undo = registry.call(
        "employee.compensating_change",
        HR,
        {"employee_id": "E1003", "request_id": "REQ-8", "kind": "salary_change"},
    )
    assert undo.undoes == "REQ-8" and undo.details.amount == Decimal("300000") and undo.effective_on == TODAY
    assert registry.call("employee.check_change", HR, undo).ok
    applied = _apply(undo, "REQ-9")
    assert applied.rescinded_same_day
    with store() as s:
        rows = s.scalars(select(Compensation).where(Compensation.employee_id == "E1003")).all()
        assert [(r.base_amount, r.valid_to, r.request_id) for r in rows] == [
            (Decimal("300000.00"), TODAY, None),
            (Decimal("300000.00"), None, "REQ-9"),
        ]
    with pytest.raises(ToolError, match="not been applied"):
        registry.call(
            "employee.compensating_change",
            HR,
            {"employee_id": "E1003", "request_id": "REQ-8", "kind": "salary_change"},
        )
    with pytest.raises(ToolError, match="cannot be undone by a record change"):
        registry.call(
            "employee.compensating_change",
            HR,
            {"employee_id": "E1003", "request_id": "REQ-8", "kind": "termination"},
        )


def test_termination_closes_the_records_and_sets_the_reason(company: str) -> None:
    change = _change({"kind": "termination", "reason": "redundancy"}, on=date(2026, 12, 31))
    check = registry.call("employee.check_change", HR, change)
    assert check.ok and check.diff[0].after == "terminated from 2026-12-31"
    _apply(change, "REQ-10")
    with store() as s:
        e = s.get(Employee, "E1003")
        assert (e.termination_date, e.leaver_type, e.leaver_reason) == (
            date(2026, 12, 31),
            "involuntary",
            "redundancy",
        )
        assert queries.current(s, JobAssignment, "E1003", date(2026, 12, 31)) is None
        assert queries.current(s, JobAssignment, "E1003", date(2026, 12, 30)) is not None
    # The manager of a team cannot be left without noticing their reports.
    boss = registry.call(
        "employee.check_change", HR, _change({"kind": "termination", "reason": "retirement"}, "E1002")
    )
    assert any("need a new manager" in s for s in boss.side_effects)


def test_who_may_request_which_change(company: str) -> None:
    wang = ToolContext(actor="wang.fang", roles=frozenset({Role.EMPLOYEE}), actor_employee_id="E1003")
    li = ToolContext(
        actor="li.wei", roles=frozenset({Role.EMPLOYEE, Role.MANAGER}), actor_employee_id="E1002"
    )
    raise_ = {"kind": "salary_change", "amount": "310000", "currency": "CNY"}
    assert "for themselves" in registry.call("employee.check_change", wang, _change(raise_)).problems[0]
    assert registry.call("employee.check_change", li, _change(raise_)).ok  # the manager may ask
    assert (
        "not in their organisation"
        in registry.call("employee.check_change", li, _change(raise_, "E1005")).problems[0]
    )
    with pytest.raises(ToolDenied):
        _apply(_change(raise_), "REQ-11", wang)
