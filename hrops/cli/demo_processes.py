"""The demo's processes after the address change: two onboardings (one in Chinese) through both
approvals to their readiness report, and a transfer applied, pushed to the legacy system and undone."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import date, timedelta

from sqlalchemy import select

from hrops.cli import onboard_cmds, request_cmds
from hrops.cli.common import console
from hrops.cli.demo_cmd import DEMO_NEW_HIRE_DAYS, _step

# Two offers: an English name in an overseas team and a Chinese name in a Shanghai team.
HIRES = (
    {
        "given": "Emily",
        "family": "Carter",
        "local": None,
        "title": "Data Analyst",
        "cities": ("London", "Singapore", "New York"),
        "birth": "1997-04-18",
        "gender": "female",
        "id": "QQ123456C",  # the UK's sample NI prefix: never issued
    },
    {
        "given": "Lei",
        "family": "Zhang",
        "local": "张磊",
        "title": "数据工程师 Data Engineer",
        "cities": ("Shanghai", "Beijing", "Shenzhen"),
        "birth": "1995-09-02",
        "gender": "male",
        "id": "999999199509021234",  # region 999999 does not exist
    },
)
START_IN = timedelta(days=7)


def approve_waiting(
    cfg,
    request_id: str,
    waiting: tuple[str, ...] = ("awaiting_approval",),
    until: tuple[str, ...] = ("completed", "failed", "ready", "cancelled", "rejected", "invalid"),
) -> None:  # noqa: ANN001
    """Each waiting approver approves in turn (as people would from their inbox)."""
    from hrops import request_service as svc
    from hrops.temporal_client import connect

    async def next_state():  # noqa: ANN202
        client = await connect(cfg)
        return await svc.wait_for_stage(client, request_id, {*waiting, *until}, timeout=180)

    while True:  # each approval is its own CLI call, as people would make it
        state = asyncio.run(next_state())
        if state.stage in until:
            return
        pending = state.approval.pending_usernames if state.approval else []
        if pending:
            console.print(f"[dim]$[/] [cyan]hrops approve {request_id} --as {pending[0]}[/]", highlight=False)
            request_cmds.approve(request_id, edit=[], reason=None, as_user=pending[0])
        else:
            time.sleep(0.2)


def _team_in(
    url: str, cities: tuple[str, ...], day: date, skip: set[int]
) -> tuple[str, str, str, str, str] | None:
    """A team in one of the cities whose head has an account: (code, head id, city, currency, L3 band mid)."""
    from tools.store import queries
    from tools.store.db import session_scope
    from tools.store.identity import user_for_employee
    from tools.store.models import JobAssignment, OrgUnit, PayBand

    with session_scope(url) as s:
        for unit in s.scalars(select(OrgUnit).where(OrgUnit.kind == "team").order_by(OrgUnit.code)):
            head = unit.head_employee_id
            job = queries.current(s, JobAssignment, head, day) if head else None
            if (
                unit.id in skip
                or job is None
                or job.location not in cities
                or user_for_employee(s, head) is None
            ):
                continue
            band = s.scalar(select(PayBand).where(PayBand.level == "L3", PayBand.location == job.location))
            if band is not None:
                skip.add(unit.id)
                return unit.code, head, job.location, band.currency, f"{band.mid_amount:.0f}"
    return None


def onboard_two(cfg, ops_user: str, n: int) -> int:  # noqa: ANN001 - Settings
    """Two new hires through offer approval, provisioning, the plan and enrolments. Returns the next step number."""
    from hrops.clock import today

    day, used = today(), set()
    started = []
    for hire in HIRES:
        team = _team_in(cfg.db_url, hire["cities"], day, used)
        if team is None:
            console.print(
                f"skipped onboarding {hire['given']}: no team in {', '.join(hire['cities'])} with a head who has an account"
            )
            continue
        code, head, city, currency, amount = team
        start = (day + START_IN).isoformat()
        local = f" --local-name {hire['local']}" if hire["local"] else ""
        _step(
            f"{n}. HR ops onboards {hire['local'] or hire['given'] + ' ' + hire['family']}: the offer goes to another HR ops user",
            f'hrops onboard --given {hire["given"]} --family {hire["family"]}{local} --title "{hire["title"]}" '
            f"--department {code} --manager {head} --location {city} --start {start} --amount {amount} "
            f"--currency {currency} --birth-date {hire['birth']} --gender {hire['gender']} "
            f"--national-id {hire['id']} --as {ops_user}",
        )
        request_id = onboard_cmds.onboard(
            given=hire["given"],
            family=hire["family"],
            local_name=hire["local"],
            title=hire["title"],
            department=code,
            manager=head,
            location=city,
            start=start,
            amount=amount,
            currency=currency,
            level="L3",
            email=None,
            birth_date=hire["birth"],
            gender=hire["gender"],
            national_id=hire["id"],
            as_user=ops_user,
        )
        started.append(request_id)
        n += 1
    for request_id in started:
        _step(f"{n}. Another HR ops user approves the offer; the manager approves the onboarding plan")
        approve_waiting(cfg, request_id, waiting=("awaiting_approval", "awaiting_plan_approval"))
        _step(
            f"{n + 1}. Records, account, equipment, legacy entry, plan, enrolments, welcome: ready for day 1",
            f"hrops requests show {request_id}",
        )
        request_cmds.requests_show(request_id)
        onboard_cmds.readiness(request_id)
        n += 2
    return n


def _transfer_target(url: str, day: date) -> tuple[str, str] | None:
    """A new hire (already in the legacy system) and a team in another division whose head has an
    account: (employee id, org unit code)."""
    from hrops import legacy_service
    from tools.store import queries
    from tools.store.db import session_scope
    from tools.store.identity import user_for_employee
    from tools.store.models import Employee, JobAssignment, OrgUnit, RequestRecord

    done = set()
    with session_scope(url) as s:
        done = set(s.scalars(select(RequestRecord.subject_employee_id)))
        for employee_id in legacy_service.new_hires(DEMO_NEW_HIRE_DAYS, day):
            employee = s.get(Employee, employee_id)
            job = queries.current(s, JobAssignment, employee_id, day)
            if (
                employee_id in done
                or job is None
                or not queries.employed_on(employee, day)
                or job.valid_from >= day
            ):
                continue
            division = s.get(OrgUnit, job.org_unit_id).path.split("/")[2]
            for unit in s.scalars(select(OrgUnit).where(OrgUnit.kind == "team").order_by(OrgUnit.code)):
                head = unit.head_employee_id
                if unit.path.split("/")[2] != division and head and user_for_employee(s, head) is not None:
                    return employee_id, unit.code
    return None


def transfer_and_undo(cfg, ops_user: str, n: int) -> int:  # noqa: ANN001 - Settings
    """A transfer through both managers and the HRBP, applied and pushed to the legacy system,
    then undone through the same approvals."""
    from hrops import request_service as svc
    from hrops.clock import today

    target = _transfer_target(cfg.db_url, today())
    if target is None:
        console.print("skipped the transfer: no new hire left without a demo request (`hrops seed --reset`)")
        return n
    employee_id, unit = target
    _step(
        f"{n}. HR ops moves a recent hire to another department",
        f"hrops request transfer {employee_id} --to {unit} --as {ops_user}",
    )
    request_cmds.transfer(employee_id, unit, None, None, None, ops_user)
    request_id = svc.requests_for(employee_id)[-1]

    approve_waiting(cfg, request_id)
    _step(
        f"{n + 1}. Applied, and the legacy record updated by a child workflow",
        f"hrops requests show {request_id}",
    )
    request_cmds.requests_show(request_id)
    _step(
        f"{n + 2}. ...and undone: the compensating change takes the same approvals",
        f"hrops undo {request_id} --as {ops_user}",
    )
    request_cmds.undo(request_id, ops_user)
    undo_id = svc.requests_for(employee_id)[-1]
    approve_waiting(cfg, undo_id)
    request_cmds.requests_show(undo_id)
    return n + 3


# Five questions, English and Chinese, asked by two managers: each answer covers their own unit only.
QUESTIONS = (
    (0, "headcount by department"),
    (0, "这个月我们单位的学习数据如何?"),
    (0, "attrition in my org last quarter vs the same quarter last year"),
    (1, "各部门的在职人数"),
    (1, "which location has the most hires last year"),
)


def ask_as_two_managers(cfg, n: int) -> int:  # noqa: ANN001 - Settings
    """Data questions in both languages, scoped to each asker's organisation. Returns the next step number."""
    import typer
    from sqlalchemy import select

    from hrops.cli import ask_cmd
    from tools.store.db import session_scope
    from tools.store.models import OrgUnit, User

    with session_scope(cfg.db_url) as s:
        managers = [
            (u.username, unit.name)
            for unit in s.scalars(select(OrgUnit).where(OrgUnit.kind == "division").order_by(OrgUnit.code))
            if (u := s.scalar(select(User).where(User.employee_id == unit.head_employee_id, User.active)))
        ][:2]
    if len(managers) < 2:
        console.print("skipped the data questions: fewer than two division heads with accounts")
        return n
    for who, question in QUESTIONS:
        user, unit = managers[who]
        _step(f"{n}. {user} (head of {unit}) asks", f'hrops ask "{question}" --as {user}')
        with contextlib.suppress(typer.Exit):  # a refusal is printed with its reason
            ask_cmd.ask(question, as_user=user, json_out=False, xlsx=None, chart=None)
        n += 1
    return n


def research_two_titles(cfg, ops_user: str, n: int) -> int:  # noqa: ANN001 - Settings
    """Market research for an English and a Chinese title; a comp analyst approves the first with an
    edit and the workbook is written. Returns the next step number."""
    from hrops import comp_service
    from hrops.cli import comp_cmds
    from tools.store.db import session_scope
    from tools.store.models import Role, UserRole

    with session_scope(cfg.db_url) as s:
        analyst = s.scalar(
            select(UserRole.username).where(UserRole.role == Role.COMP_ANALYST, UserRole.username != ops_user)
        )
    if analyst is None:
        console.print("skipped the market research: no compensation analyst in the demo company")
        return n
    asked = []
    for title, level in (("Senior Data Scientist", None), ("人力资源专员", "L4")):
        flags = f" --level {level}" if level else ""
        _step(
            f"{n}. {ops_user} asks for the market for {title} in Shanghai, in CNY",
            f'hrops comp research "{title}"{flags} --location Shanghai --currency CNY --as {ops_user}',
        )
        asked.append(comp_cmds.research(title, level, "Shanghai", "CNY", None, ops_user, False))
        n += 1
    first = asked[0]
    _step(
        f"{n}. The compensation analyst approves the first range (rounding the minimum) and it is published",
        f"hrops approve {first} --edit minimum=<rounded> --as {analyst}",
    )
    state = request_cmds._run(comp_service.wait_for_draft, first)
    if state.stage == "awaiting_approval" and state.draft and state.draft.recommended:
        rounded = f"{state.draft.recommended.minimum // 10_000 * 10_000:.0f}"
        request_cmds.approve(first, [f"minimum={rounded}"], "rounded to 10,000", analyst)
    else:  # a second demo run the same day: the research was approved and published already
        console.print(f"{first} is {state.stage} already")

    done = request_cmds._run(comp_service.wait_for_published, first)
    if done.published:
        console.print(f"[green]workbook:[/] {done.published.workbook}", highlight=False)
        console.print(f"[green]report:[/]   {done.published.html}", highlight=False)
    else:
        console.print(f"not published: {done.stage} {'; '.join(done.problems)}")
    return n + 1


def show_the_trust_layer(ops_user: str, request_id: str, n: int) -> int:
    """What left the machine (nothing, offline), the trail of one request, and the audit verified."""
    from hrops.cli import audit_cmds, receipt_cmds

    _step(
        f"{n}. Every model call left a receipt: what was sent, and where",
        f"hrops receipts list --as {ops_user}",
    )
    receipt_cmds.list_receipts(None, False, None, ops_user)
    _step(
        f"{n + 1}. One request followed from submission to the record change",
        f"hrops audit trail {request_id} --as {ops_user}",
    )
    audit_cmds.trail(request_id, ops_user, False)
    _step(f"{n + 2}. The hash-chained audit log is intact", "hrops audit verify")
    audit_cmds.verify(None)
    return n + 3
