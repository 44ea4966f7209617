"""LegacySyncWorkflow end to end: real Temporal dev server, real Chromium, the stand-in system.

Faults lose nothing and duplicate nothing; a validation error waits for a person and resumes;
a redesigned page gets a mapping proposal that a person approves; the batch CLI summarises.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections import Counter

from sqlalchemy import select

from hrops import legacy_service as svc
from hrops.settings import get_settings
from tests.legacy_fixtures import SYSTEM, Sim, active_employees, set_employee
from tools.legacy import catalog
from tools.store.db import session_scope
from tools.store.models import AuditEntry, Role
from workflows.legacy_sync.messages import Action, Stage


async def _push(client, employee_ids: list[str], who: str = "admin", evidence: bool = True):  # noqa: ANN001, ANN202
    started = await svc.start(client, SYSTEM, "new_hire", employee_ids, svc.principal(who), evidence=evidence)
    return [s.workflow_id for s in started]


async def test_fifty_records_with_twenty_percent_faults_are_entered_exactly_once(
    legacy_workers,
    sim: Sim,
    demo: str,  # noqa: ANN001
) -> None:
    # The stand-in's own duplicate check is off: only our search-before-create prevents duplicates.
    sim.configure(
        fault_500_rate=0.10, expire_rate=0.05, slow_rate=0.05, slow_seconds=0.3, detect_duplicates=False
    )
    ids = active_employees(demo, 50)
    assert len(ids) == 50
    wids = await _push(
        legacy_workers, ids, evidence=False
    )  # evidence is covered elsewhere; this is about faults
    states = await svc.settle_many(legacy_workers, wids, timeout=400)

    assert [s.stage for s in states] == [Stage.COMPLETED] * 50, [s.history[-1].text for s in states]
    rows = sim.rows()
    assert Counter(r["empno"] for r in rows) == Counter(e[1:].rjust(6, "0") for e in ids)  # once each
    assert all(len(s.result.verified) >= 15 for s in states)  # every record read back equal
    stats = sim.stats()
    faults = stats["fault_500_before"] + stats["fault_500_after"] + stats["expired"] + stats["slow"]
    assert faults >= 50, stats  # the faults really happened
    recovered = sum(sum(s.result.recovered.values()) for s in states)
    assert recovered > 0


async def test_validation_error_waits_for_a_person_who_fixes_the_data_and_retries(
    legacy_workers,
    sim: Sim,
    demo: str,  # noqa: ANN001
) -> None:
    eid = active_employees(demo, 1)[0]
    set_employee(demo, eid, family_name="Wolfeschlegelsteinhausenbergerdorff-Smithson")
    [wid] = await _push(legacy_workers, [eid])
    st = await svc.settled(legacy_workers, wid, timeout=120)
    assert st.stage is Stage.NEEDS_ATTENTION
    assert st.task is not None and st.task.kind == "validation"
    assert st.task.message == "Family name: at most 40 characters" and st.task.page == "personal"
    assert (get_settings().evidence_dir / SYSTEM / st.task.screenshot).exists()
    assert [t.workflow_id for t in await svc.tasks(legacy_workers)] == [wid] or await _eventually_listed(
        legacy_workers, wid
    )

    # Someone without the right role cannot resolve it; a plain employee is refused by the validator.
    employee = active_employees(demo, 10)[9]
    try:
        await svc.resolve(legacy_workers, wid, Action.RETRY, svc.principal(employee))
        raise AssertionError("an employee resolved a legacy task")
    except svc.RequestError as e:
        assert "may not resolve" in str(e)

    set_employee(demo, eid, family_name="Smithson")
    await svc.resolve(legacy_workers, wid, Action.RETRY, svc.principal("admin"), note="shortened the name")
    st = await svc.settled(legacy_workers, wid, timeout=120)
    assert st.stage is Stage.COMPLETED and st.result is not None and st.result.outcome == "entered"
    assert [r["surname"] for r in sim.rows()] == ["Smithson"]
    assert st.pushes == 2 and "shortened the name" in " ".join(e.text for e in st.history)


async def _eventually_listed(client, wid: str) -> bool:  # noqa: ANN001
    for _ in range(50):  # visibility trails the workflow by a moment
        if wid in [t.workflow_id for t in await svc.tasks(client)]:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_layout_v2_gets_a_mapping_proposal_that_a_person_approves(
    legacy_workers,
    sim: Sim,
    demo: str,  # noqa: ANN001
) -> None:
    sim.configure(layout="v2")
    first, second = active_employees(demo, 2)
    [wid] = await _push(legacy_workers, [first])
    st = await svc.settled(legacy_workers, wid, timeout=180)
    assert st.stage is Stage.MAPPING_REVIEW, [e.text for e in st.history]
    assert st.task is not None and st.task.kind == "field_not_found"
    proposal = st.proposal
    assert proposal is not None and proposal.version == 2 and proposal.unmatched == []
    changed = {(c.page, c.key): c.after for c in proposal.changes}
    assert changed[("personal", "family_name")][0] == "label='Last name'"
    assert changed[("job", "location")][0] == "label='Site'"
    assert changed[("pay", "salary")][0] == "label='Yearly salary'"  # inside the iframe
    assert changed[("confirm", "submit")][0] == "role=button[Create record]"
    assert "+version: 2" in proposal.diff.replace(" ", "") or "version: 2" in proposal.diff
    assert sim.rows() == []  # surveying the form created nothing
    assert not (catalog.approved_dir() / SYSTEM).exists()  # nothing saved before approval

    # Roles come from the HR store, not from the caller: a forged "admin" does not get the mapping
    # saved; the proposal stays open for someone who may approve it.
    employee = svc.principal(active_employees(demo, 10)[9])
    forged = employee.model_copy(update={"roles": frozenset({Role.ADMIN})})
    st = await svc.resolve(legacy_workers, wid, Action.APPROVE_MAPPING, forged)
    st = await svc.settled(legacy_workers, wid, timeout=60)
    assert st.stage is Stage.MAPPING_REVIEW and st.task is not None
    assert "may not approve legacy mappings" in st.task.message
    assert not (catalog.approved_dir() / SYSTEM).exists()

    await svc.resolve(legacy_workers, wid, Action.APPROVE_MAPPING, svc.principal("admin"))
    st = await svc.settled(legacy_workers, wid, timeout=180)
    assert st.stage is Stage.COMPLETED and st.result is not None and st.result.outcome == "entered"
    assert catalog.form(SYSTEM, "new_hire").form.version == 2
    with session_scope(demo) as s:
        approved = s.scalars(select(AuditEntry).where(AuditEntry.action == "legacy.mapping_approved")).one()
    assert approved.actor == "admin" and approved.details["version"] == 2

    # The new version keeps the old selectors as fallbacks: it works on the old layout too.
    sim.configure(layout="v1")
    [wid2] = await _push(legacy_workers, [second])
    st2 = await svc.settled(legacy_workers, wid2, timeout=120)
    assert st2.stage is Stage.COMPLETED and len(sim.rows()) == 2


async def test_batch_cli_pushes_the_newest_hires_with_a_summary(
    legacy_workers, sim: Sim, demo: str, temporal_env
) -> None:  # noqa: ANN001
    env = {**os.environ, "HROPS_TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host}
    cmd = [sys.executable, "-m", "hrops", "legacy", "push", "--all-new", "--days", "200", "--system", SYSTEM]
    newest = svc.new_hires(200)
    assert 3 <= len(newest) <= 20

    def run() -> str:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    out = await asyncio.to_thread(run)
    assert re.search(rf"│ entered\s+│ {len(newest)}\s+│", out), out  # the summary's count
    assert "evidence:" in out
    assert len(sim.rows()) == len(newest)

    again = await asyncio.to_thread(run)
    assert re.search(rf"│ already present \(not entered again\)\s+│ {len(newest)}\s+│", again), again
    assert len(sim.rows()) == len(newest)


async def test_pushing_needs_hr_ops_and_a_known_employee(legacy_workers, demo: str) -> None:  # noqa: ANN001
    employee = active_employees(demo, 1)[0]
    for who, ids, message in [
        (employee, [employee], "may not push"),
        ("admin", ["E999999"], "no employee E999999"),
    ]:
        try:
            await svc.start(legacy_workers, SYSTEM, "new_hire", ids, svc.principal(who))
            raise AssertionError("started")
        except svc.RequestError as e:
            assert message in str(e)
    try:
        await svc.start(legacy_workers, SYSTEM, "payroll", [employee], svc.principal("admin"))
        raise AssertionError("started")
    except svc.RequestError as e:
        assert "no form 'payroll'" in str(e) and "new_hire" in str(e)


async def test_a_decided_task_takes_no_second_decision_and_a_terminated_push_settles_as_failed(
    legacy_workers,
    sim: Sim,
    demo: str,  # noqa: ANN001
) -> None:
    first, second = active_employees(demo, 2)
    for eid in (first, second):
        set_employee(demo, eid, family_name="Wolfeschlegelsteinhausenbergerdorff-Smithson")
    wids = await _push(legacy_workers, [first, second])
    states = await svc.settle_many(legacy_workers, wids, timeout=120)
    assert [s.stage for s in states] == [Stage.NEEDS_ATTENTION] * 2

    cancelled = await svc.resolve(legacy_workers, wids[0], Action.CANCEL, svc.principal("admin"))
    assert cancelled.stage is Stage.CANCELLED and cancelled.task is None
    try:  # the canceller was told "cancelled": nobody can turn that into a push afterwards
        await svc.resolve(legacy_workers, wids[0], Action.RETRY, svc.principal("admin"))
        raise AssertionError("a cancelled push took a retry")
    except svc.RequestError as e:
        assert "no open task" in str(e) or "nothing to resolve" in str(e)

    # Someone terminates a push in Temporal: following it ends instead of waiting forever.
    await legacy_workers.get_workflow_handle(wids[1]).terminate("stopped by an operator")
    [ended] = await svc.settle_many(legacy_workers, [wids[1]], timeout=30)
    assert ended.stage is Stage.FAILED and "terminated" in ended.history[-1].text
    assert sim.rows() == []
