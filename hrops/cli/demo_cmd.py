"""`hrops demo`: the product's main job on its embedded defaults, narrated step by step.

Starts the stack, seeds the demo company, runs an address change through manager approval,
pushes the newest hires into the stand-in legacy HR system, onboards two new hires (one in
Chinese) through the offer and plan approvals to their readiness report, applies a transfer and
undoes it, and prints where to look. Safe to run again: the stack and the company are reused, and each run
picks an employee who has not had a demo request yet.
"""

from __future__ import annotations

import asyncio
from datetime import date

import typer
from rich.rule import Rule
from sqlalchemy import select

from hrops.cli import legacy_cmds, request_cmds, runtime_cmds
from hrops.cli.common import console, fail, settings

DEMO_EMPLOYEES = 2000
DEMO_SEED = 42
# New hires of the last two weeks (and future starters) go into the legacy stand-in.
DEMO_NEW_HIRE_DAYS = 14
LEGACY_SYSTEM = "classic_hris"
# A real-looking address in the same city, so the change is a plausible move.
NEW_HOMES = {
    "Shanghai": dict(line1="Room 1203, 500 Shibo Avenue", city="Shanghai", postcode="200126", country="CN"),
    "Beijing": dict(
        line1="Unit 8-2-501, 27 Zhongguancun Street", city="Beijing", postcode="100080", country="CN"
    ),
    "Shenzhen": dict(
        line1="Flat 1806, 9 Keyuan South Road", city="Shenzhen", postcode="518057", country="CN"
    ),
    "Singapore": dict(line1="#12-04, 8 Marina View", city="Singapore", postcode="018960", country="SG"),
    "London": dict(line1="Flat 4, 21 Old Street", city="London", postcode="EC1V 9HL", country="GB"),
    "New York": dict(line1="Apt 5C, 310 W 23rd Street", city="New York", postcode="10011", country="US"),
}


def register(app: typer.Typer) -> None:
    app.command()(demo)


def _step(title: str, command: str | None = None) -> None:
    console.print(Rule(f"[bold]{title}"))
    if command:
        console.print(f"[dim]$[/] [cyan]{command}[/]", highlight=False)


def _pick_employee(url: str, today: date) -> tuple[str, str]:
    """An active employee in a city we have an address for, with a manager who has an account
    and no earlier demo request. Returns (employee id, city)."""
    from tools.store import queries
    from tools.store.db import session_scope
    from tools.store.identity import user_for_employee
    from tools.store.models import Employee, EmployeeStatus, JobAssignment, RequestRecord

    with session_scope(url) as s:
        done = set(s.scalars(select(RequestRecord.subject_employee_id)))
        rows = s.execute(
            select(Employee.id, JobAssignment.location, JobAssignment.manager_id)
            .join(JobAssignment, JobAssignment.employee_id == Employee.id)
            .where(
                Employee.status == EmployeeStatus.ACTIVE,
                JobAssignment.manager_id.is_not(None),
                JobAssignment.location.in_(list(NEW_HOMES)),
                *queries.in_force(JobAssignment, today),
            )
            .order_by(Employee.id)
        )
        for employee_id, city, manager_id in rows:
            if employee_id not in done and user_for_employee(s, manager_id) is not None:
                return employee_id, city
    fail("every demo employee already has a request; reset the demo with `hrops seed --reset`")


def demo(employees: int = typer.Option(DEMO_EMPLOYEES, help="Size of the demo company")) -> None:
    """Start the stack, seed the demo company, then run an address change, a legacy push, two onboardings
    and a transfer with its undo, each through its approvals, and ask data questions as two managers."""
    from hrops import request_service as svc
    from hrops.clock import today
    from hrops.temporal_client import connect
    from tools.demo_company import SeedOptions, StoreNotEmpty, seed_store, seeded_options
    from tools.demo_company.loader import DEMO_PASSWORD, demo_passwords

    cfg = settings()
    _step("1. Start the stack", "hrops up")
    runtime_cmds.up()

    _step("2. Seed the demo company", f"hrops seed --employees {employees} --seed {DEMO_SEED}")
    have = seeded_options(cfg.db_url)
    # A company seeded by an earlier demo run (maybe on an earlier day) is reused as it is.
    options = (
        have
        if have and (have.employees, have.seed) == (employees, DEMO_SEED)
        else SeedOptions(employees=employees, seed=DEMO_SEED, as_of=today())
    )
    try:
        report = seed_store(cfg.db_url, options, actor=cfg.user)
    except StoreNotEmpty as e:
        fail(f"{e} (the demo needs its own company; run `hrops seed --reset` first)")
    console.print(
        ("already seeded: " if report.already_seeded else "seeded: ")
        + f"{report.employees:,} employees ({report.active:,} active), {report.org_units} org units, "
        f"{report.learning_records:,} learning records",
        highlight=False,
    )
    ops_user = report.demo_accounts.get("hr_ops", "admin")
    demo_passwords(cfg.db_url)  # a company seeded before the web console had passwords

    employee_id, city = _pick_employee(cfg.db_url, today())
    home = NEW_HOMES[city]
    _step(
        "3. HR ops requests a home address change",
        f'hrops request address-change {employee_id} --line1 "{home["line1"]}" --city "{city}" '
        f'--postcode "{home["postcode"]}" --country {home["country"]} --as {ops_user}',
    )
    request_cmds.address_change(
        employee_id, home["line1"], city, home["country"], home["postcode"], None, None, None, ops_user
    )
    request_id = svc.requests_for(employee_id)[-1]

    async def waiting() -> list[str]:
        client = await connect(cfg)
        state = await svc.wait_for_stage(client, request_id, {"awaiting_approval"}, timeout=60)
        # The inbox is a visibility query, which trails the workflow by a moment.
        for _ in range(50):
            if any(
                i.request_id == request_id
                for i in await svc.inbox(client, svc.principal(state.approval.pending_usernames[0]))
            ):
                break
            await asyncio.sleep(0.1)
        return state.approval.pending_usernames

    approver = asyncio.run(waiting())[0]
    _step("4. The manager sees it in their approvals", f"hrops approvals list --as {approver}")
    request_cmds.approvals_list(approver)
    _step(
        "5. ...and approves it (a Temporal Update, validated before it is recorded)",
        f"hrops approve {request_id} --as {approver}",
    )
    request_cmds.approve(request_id, edit=[], reason=None, as_user=approver)

    async def completed() -> None:
        client = await connect(cfg)
        await svc.wait_for_stage(client, request_id, {"completed", "failed"}, timeout=60)

    asyncio.run(completed())
    _step("6. Applied as an effective-dated record with an audit entry", f"hrops requests show {request_id}")
    request_cmds.requests_show(request_id)

    _step(
        "7. The newest hires are typed into the legacy HR system, once each, read back, with evidence",
        f"hrops legacy push --all-new --days {DEMO_NEW_HIRE_DAYS} --system {LEGACY_SYSTEM} --as {ops_user}",
    )
    if cfg.legacy_sim_port or LEGACY_SYSTEM in cfg.legacy_urls:
        legacy_cmds.push(
            None,
            LEGACY_SYSTEM,
            "new_hire",
            all_new=True,
            days=DEMO_NEW_HIRE_DAYS,
            as_user=ops_user,
            wait=True,
        )
    else:
        console.print("skipped: the stand-in is switched off (HROPS_LEGACY_SIM_PORT=0)")

    from hrops.cli import demo_policy, demo_processes

    step = demo_processes.onboard_two(cfg, ops_user, 8)
    step = demo_processes.transfer_and_undo(cfg, ops_user, step)
    step = demo_processes.ask_as_two_managers(cfg, step)
    step = demo_policy.ask_policy_questions(cfg, ops_user, step)
    step = demo_processes.research_two_titles(cfg, ops_user, step)
    demo_processes.show_the_trust_layer(ops_user, request_id, step)

    _step("Where to look")
    ui = (
        f"http://{cfg.temporal_host}:{cfg.temporal_ui_port}"
        if cfg.embedded_temporal and cfg.temporal_ui_port
        else None
    )
    for line in [
        f"Temporal UI (workflow history):  {ui}" if ui else f"Temporal:  {cfg.temporal_target}",
        f"HTTP API:                        {cfg.api_url}/docs  (token: hrops token create {approver})",
        f"Web console:                     {cfg.api_url}/console  (sign in as {ops_user} or {approver}; every demo user's password: {DEMO_PASSWORD})",
        f"HR store:                        {cfg.db_url}",
        f"Legacy HR system (stand-in):     http://{cfg.api_host}:{cfg.legacy_sim_port}  (login in {cfg.credentials_file})",
        f"RPA evidence (screenshots, HTML): {cfg.evidence_dir / LEGACY_SYSTEM}",
        f"Logs:                            {cfg.var_dir / 'log'}",
        f"Try:                             hrops requests list · hrops tools list · hrops approvals list --as {approver}",
        "Stop everything:                 hrops down   (requests survive: `hrops up` brings them back)",
    ]:
        console.print(line, highlight=False)
