"""`hrops onboard` and `hrops readiness`: start an onboarding, see what is ready for day 1."""

from __future__ import annotations

from datetime import date

import typer
from pydantic import ValidationError
from rich.table import Table

from hrops.cli.common import console, fail
from hrops.cli.request_cmds import AS_HELP, _run, _who, chain_lines, print_panel

STATUS_STYLE = {
    "done": "green",
    "skipped": "dim",
    "pending": "yellow",
    "late": "red",
    "failed": "red",
    "undone": "dim",
}


def register(app: typer.Typer) -> None:
    app.command()(onboard)
    app.command()(readiness)


def onboard(
    given: str = typer.Option(..., "--given", help="Given name in Latin letters, e.g. Fang"),
    family: str = typer.Option(..., "--family", help="Family name in Latin letters, e.g. Wang"),
    local_name: str | None = typer.Option(
        None, "--local-name", help="The name as written locally, e.g. 王芳"
    ),
    title: str = typer.Option(..., "--title"),
    department: str = typer.Option(..., "--department", help="Org unit code, e.g. ENG-DATA"),
    manager: str = typer.Option(..., "--manager", help="Employee id of the manager"),
    location: str = typer.Option(..., "--location", help="Work location, e.g. Shanghai"),
    start: str = typer.Option(..., "--start", help="First day, YYYY-MM-DD"),
    amount: str = typer.Option(..., "--amount", help="Base pay, e.g. 360000"),
    currency: str = typer.Option(..., "--currency", help="ISO 4217, e.g. CNY"),
    level: str = typer.Option("L3", "--level", help="Level, e.g. L4"),
    email: str | None = typer.Option(None, "--email", help="Personal e-mail (optional)"),
    birth_date: str | None = typer.Option(
        None, "--birth-date", help="YYYY-MM-DD (personal data; legacy systems may need it)"
    ),
    gender: str | None = typer.Option(None, "--gender", help="female or male"),
    national_id: str | None = typer.Option(
        None, "--national-id", help="Personal data; legacy systems may need it"
    ),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> str:
    """Onboard a new hire: HR ops approve the offer, then records, account, equipment, legacy entry,
    a plan the manager approves, enrolments and a welcome; readiness is reported on day 1."""
    from hrops import onboarding_service as onb
    from tools.onboarding.schemas import NewHire

    try:
        first_day = date.fromisoformat(start)
    except ValueError:
        fail(f"--start {start!r} is not a date; use YYYY-MM-DD (e.g. 2026-12-07)")
    try:
        hire = NewHire(
            given_name=given,
            family_name=family,
            local_name=local_name,
            title=title,
            org_unit=department,
            manager_id=manager,
            location=location,
            level=level,
            start_date=first_day,
            amount=amount,
            currency=currency,
            personal_email=email,
            birth_date=birth_date,
            gender=gender,
            national_id=national_id,
        )
    except ValidationError as e:
        fail(
            "bad offer: "
            + "; ".join(f"{'.'.join(map(str, x['loc'])) or 'offer'}: {x['msg']}" for x in e.errors())
        )
    sub = _run(onb.submit_onboarding, _who(as_user), hire)
    if not sub.created:
        console.print(f"{sub.request_id} already onboards {hire.display_name} (nothing new started)")
        return sub.request_id
    console.print(f"[green]{sub.request_id}[/] started ({sub.workflow_id})", highlight=False)
    console.print(
        f"  {hire.display_name}, {hire.title} · {hire.org_unit}, from {hire.start_date}, reporting to {hire.manager_id}",
        highlight=False,
    )
    for note in sub.offer.notes if sub.offer else []:
        console.print(f"  also: {note}", highlight=False)
    console.print(f"  follow it: hrops requests show {sub.request_id}")
    return sub.request_id


def readiness(request_id: str = typer.Argument(..., help="The onboarding's request, e.g. REQ-12")) -> None:
    """Day-1 readiness of an onboarding: what is done, what is late and who owns it."""
    from hrops import onboarding_service as onb

    report = _run(onb.readiness, request_id)
    _readiness_table(report)


def _readiness_table(report) -> None:  # noqa: ANN001 - workflows.onboarding.messages.Readiness
    table = Table(
        "item", "owner", "due", "status", "detail", title=f"{report.request_id} day 1 {report.start_date}"
    )
    for i in report.items:
        style = STATUS_STYLE.get(i.status.value, "")
        table.add_row(i.item, i.owner, f"{i.due}", f"[{style}]{i.status.value}[/]", i.detail)
    console.print(table)
    console.print(report.summary(), highlight=False)


def show_onboarding(state) -> None:  # noqa: ANN001 - workflows.onboarding.messages.OnboardingState
    offer = state.offer
    lines = [
        f"[bold]{state.request_id}[/] onboarding of {offer.display_name}"
        + (f" ({state.employee_id})" if state.employee_id else "")
        + f": [bold]{state.stage}[/]",
        f"{offer.title} · {offer.org_unit} · {offer.location}, level {offer.level}, from {offer.start_date}, "
        f"manager {offer.manager_id}",
        f"requested by {state.requested_by} at {state.requested_at:%Y-%m-%d %H:%M} UTC",
    ]
    if state.corrected:
        changed = {
            k: v
            for k, v in state.corrected.model_dump(mode="json").items()
            if v != state.hire.model_dump(mode="json")[k]
        }
        lines.append(f"corrected by HR ops: {changed}")
    for chain in state.approvals:
        lines += chain_lines(chain)
    if state.account:
        lines.append(f"account: {state.account.username} <{state.account.email}>")
    if state.equipment:
        lines.append(
            f"equipment request #{state.equipment.request_number}: {', '.join(state.equipment.items)}"
        )
    for push in state.legacy:
        lines.append(f"legacy {push.system} {push.form}: {push.stage or 'running'} ({push.workflow_id})")
    if state.plan:
        p = state.plan
        lines += [
            "plan:",
            *(f"  30 days: {g}" for g in p.goals_30),
            *(f"  60 days: {g}" for g in p.goals_60),
            *(f"  90 days: {g}" for g in p.goals_90),
            f"  courses: {', '.join(p.courses) or 'none'}; buddy: {p.buddy_id or 'none'}",
            f"  welcome: {p.welcome_en}",
            f"  欢迎: {p.welcome_zh}",
        ]
    if state.undone:
        lines.append("withdrawn: " + "; ".join(state.undone))
    print_panel(lines, state.problems, state.history)
    if state.readiness:
        _readiness_table(state.readiness)
