"""The RPA engine against the stand-in legacy system in a real Chromium: wizard, update form,
awkward values, expired sessions, validation errors, evidence and audit."""

from __future__ import annotations

import itertools
import json
import time
from datetime import date

import pytest
from sqlalchemy import select

from hrops.settings import get_settings
from tests.legacy_fixtures import SYSTEM, Sim, active_employees, set_employee
from tools.legacy.engine import PushResult
from tools.legacy.errors import LoginFailed, ValidationRejected
from tools.legacy.push import PushRequest, push
from tools.store.db import session_scope
from tools.store.models import AuditEntry, EmployeeAddress

_runs = itertools.count(1)


async def _push(pool, employee_id: str, form: str = "new_hire", **kw) -> PushResult:  # noqa: ANN001
    req = PushRequest(
        system=SYSTEM,
        form=form,
        employee_id=employee_id,
        actor="admin",
        workflow_id=f"test-{employee_id}",
        evidence_folder=f"test-{employee_id}-{form}-{next(_runs)}",
    )
    return await push(req, pool=pool, **kw)


def _row(sim: Sim, empno: str) -> dict:
    rows = [r for r in sim.rows() if r["empno"] == empno]
    assert len(rows) == 1, f"{len(rows)} rows for {empno}"
    return rows[0]


async def test_new_hire_wizard_entered_read_back_and_evidenced(sim: Sim, demo: str, browser_pool) -> None:  # noqa: ANN001
    eid = active_employees(demo, 1)[0]
    result = await _push(browser_pool, eid)

    assert result.outcome == "entered" and result.reference.startswith("HR-")
    row = _row(sim, eid[1:].rjust(6, "0"))
    assert row["ref"] == result.reference
    from tools.legacy.record import load_employee

    with session_scope(demo) as s:
        rec = load_employee(s, eid, date(2026, 11, 23))
    assert rec is not None
    assert (row["surname"], row["given"]) == (rec.family_name, rec.given_name)
    assert row["dob"] == f"{rec.birth_date:%d/%m/%Y}"
    assert row["start_dt"] == f"{rec.hire_date:%d/%m/%Y}"
    assert row["pos"].startswith(row["dept"] + "-")  # the XHR-filled dropdown was used
    assert row["salary"] == f"{rec.base_amount:.2f}" and row["ccy"] == rec.currency  # inside the iframe
    assert len(result.verified) >= 15

    # Evidence: a screenshot and the HTML of each step, named by step, indexed, linked from the audit log.
    folder = get_settings().evidence_dir / SYSTEM / result.evidence
    index = json.loads((folder / "evidence.json").read_text())
    steps = [s["step"] for s in index["steps"]]
    assert steps[:1] == ["find"] and "pay-filled" in steps and steps[-2:] == ["confirm-saved", "read-back"]
    assert all((folder / s["screenshot"]).stat().st_size > 1000 for s in index["steps"])
    assert any(".frame" in h for s in index["steps"] for h in s["html"])  # the iframe's own HTML
    everything = " ".join(p.name for p in folder.iterdir()) + "".join(
        p.read_text(errors="ignore") for p in folder.glob("*.html")
    )
    assert sim.password not in everything and rec.national_id not in " ".join(
        p.name for p in folder.iterdir()
    )
    with session_scope(demo) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "legacy.entered")).one()
    assert entry.entity_id == eid and entry.details["reference"] == result.reference
    assert entry.details["evidence"] == f"{SYSTEM}/{result.evidence}"

    # Pushing again types nothing: the search finds it, the read-back proves it.
    again = await _push(browser_pool, eid)
    assert (again.outcome, again.reference) == ("already_present", result.reference)
    assert sim.stats()["create"] == 1


async def test_update_forms_change_only_what_changed(sim: Sim, demo: str, browser_pool) -> None:  # noqa: ANN001
    eid = active_employees(demo, 2)[1]
    created = await _push(browser_pool, eid)
    with session_scope(demo, write=True) as s:
        home = s.scalars(select(EmployeeAddress).where(EmployeeAddress.employee_id == eid)).first()
        assert home is not None
        home.line1, home.city, home.postcode = "Flat 4, 21 Old Street", "London", "EC1V 9HL"

    first = await _push(browser_pool, eid, "address_update")
    assert (first.outcome, first.reference) == ("updated", created.reference)
    row = _row(sim, eid[1:].rjust(6, "0"))
    assert (row["addr1"], row["city"], row["postcode"]) == ("Flat 4, 21 Old Street", "London", "EC1V 9HL")
    assert (await _push(browser_pool, eid, "address_update")).outcome == "unchanged"
    assert sim.stats()["update"] == 1

    names = await _push(browser_pool, eid, "employee_update")
    assert names.outcome == "unchanged"  # entered by the wizard with the same names and job


async def test_awkward_values_round_trip_exactly(sim: Sim, demo: str, browser_pool) -> None:  # noqa: ANN001
    eid = active_employees(demo, 3)[2]
    set_employee(
        demo,
        eid,
        family_name='O\'Brien "Bobby"',
        given_name="Seán-Zoë",
        display_name="欧布莱恩·肖恩",
        national_id="007 00 0042",
    )
    with session_scope(demo, write=True) as s:
        home = s.scalars(select(EmployeeAddress).where(EmployeeAddress.employee_id == eid)).first()
        assert home is not None
        home.line1 = (
            "上海市浦东新区世博大道500号 " + "Room 1203 <b>&amp;</b> 'East' " * 3
        )  # long, markup, quotes
        home.line1 = home.line1[:120]
        long_line = home.line1

    result = await _push(browser_pool, eid)
    await _push(browser_pool, eid, "address_update")
    row = _row(sim, eid[1:].rjust(6, "0"))
    assert row["surname"] == 'O\'Brien "Bobby"' and row["given"] == "Seán-Zoë"
    assert row["name_local"] == "欧布莱恩·肖恩" and row["natid"] == "007 00 0042"
    assert row["empno"].startswith("0") or len(row["empno"]) == 6
    assert row["addr1"] == long_line.strip()
    assert "local_name" in result.verified and "national_id" in result.verified


async def test_a_validation_error_stops_with_the_page_message_and_screenshot(
    sim: Sim, demo: str, browser_pool
) -> None:  # noqa: ANN001
    eid = active_employees(demo, 4)[3]
    set_employee(demo, eid, family_name="Wolfeschlegelsteinhausenbergerdorff-Smithson")  # 44 > 40
    with pytest.raises(ValidationRejected) as e:
        await _push(browser_pool, eid)
    assert e.value.messages == ["Family name: at most 40 characters"]
    assert e.value.page == "personal" and e.value.retryable is False
    assert (get_settings().evidence_dir / SYSTEM / e.value.screenshot).stat().st_size > 1000
    assert sim.rows() == []
    with session_scope(demo) as s:
        failed = s.scalars(select(AuditEntry).where(AuditEntry.action == "legacy.push_failed")).one()
    assert failed.details["error"] == "validation"


async def test_session_expiry_mid_wizard_logs_in_again_and_enters_once(
    sim: Sim, demo: str, browser_pool
) -> None:  # noqa: ANN001
    eid = active_employees(demo, 5)[4]
    sim.configure(session_ttl=1.0)
    slept = []

    def idle_on_pay_page(step: str) -> None:
        # A person-sized pause on the wizard's third page: the legacy session times out meanwhile.
        if step == "pay" and not slept:
            slept.append(step)
            time.sleep(1.5)

    result = await _push(browser_pool, eid, on_step=idle_on_pay_page)
    assert slept and result.outcome == "entered"
    assert result.recovered.get("session_expired", 0) >= 1
    assert len([r for r in sim.rows() if r["empno"] == eid[1:].rjust(6, "0")]) == 1


async def test_wrong_credentials_are_not_retried(sim: Sim, demo: str, browser_pool, monkeypatch) -> None:  # noqa: ANN001
    from hrops.settings import reset_settings

    monkeypatch.setenv("HROPS_LEGACY_CLASSIC_HRIS_PASSWORD", "not-the-password")
    reset_settings()
    browser_pool_slots_logged_out(browser_pool)
    with pytest.raises(LoginFailed) as e:
        await _push(browser_pool, active_employees(demo, 6)[5])
    assert "not-the-password" not in str(e.value) and e.value.retryable is False
    browser_pool_slots_logged_out(browser_pool)


def browser_pool_slots_logged_out(pool) -> None:  # noqa: ANN001
    """Forget the sessions the pool's contexts hold, so the next push logs in again."""
    if pool._free is not None:
        for slot in list(pool._free._queue):
            slot.logged_in.clear()
            slot.broken = False
