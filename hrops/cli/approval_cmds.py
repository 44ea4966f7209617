"""`hrops rules explain`, `hrops delegate`, `hrops delegations`: who approves what, and stand-ins."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import typer
from rich.table import Table

from hrops.cli.common import console, fail, settings
from hrops.cli.request_cmds import AS_HELP, _who

rules_app = typer.Typer(help="Approval rules: who approves which change.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
    app.command()(delegate)
    app.command()(delegations)
    app.command()(notifications)


@rules_app.command("explain")
def explain(
    change: str = typer.Argument(
        ...,
        help="address_change, job_title, transfer, manager_change, salary_change, termination, onboarding",
    ),
    employee: str = typer.Option(..., "--employee", help="Whose change, e.g. E100123"),
    requested_by: str | None = typer.Option(None, "--requested-by", help="Username of the requester"),
    new_manager: str | None = typer.Option(None, "--new-manager", help="Transfers: the new manager's id"),
    increase: Decimal | None = typer.Option(None, "--increase", help="Salary: the rise in percent, e.g. 12"),
    outside_band: bool | None = typer.Option(
        None, "--outside-band/--inside-band", help="Salary: new pay outside the band"
    ),
) -> None:
    """Which approval rule applies to a change, why, and who decides each step."""
    from hrops import approval_service as svc
    from hrops.request_service import RequestError
    from tools.approvals.rules import ChangeType, in_words

    try:
        kind = ChangeType(change.replace("-", "_"))
    except ValueError:
        fail(f"unknown change {change!r}; one of: {', '.join(c.value for c in ChangeType)}")
    if kind in (ChangeType.TRANSFER, ChangeType.MANAGER_CHANGE) and not new_manager:
        fail(f"a {kind.value} needs --new-manager (the employee id of the manager after the change)")
    try:
        plan = svc.explain(
            kind,
            employee,
            requested_by=requested_by,
            new_manager_id=new_manager,
            increase_percent=increase,
            outside_pay_band=outside_band,
        )
    except RequestError as e:
        fail(str(e))
    console.print(
        f"[bold]{kind.value}[/] for {employee.upper()} (level {plan.level or 'unknown'})", highlight=False
    )
    console.print(f"rule [bold]{plan.rule}[/]: {plan.why}", highlight=False)
    for line in plan.considered:
        console.print(f"  [dim]{line}[/]", highlight=False)
    if not plan.steps:
        console.print("no approvers: the rule approves this change automatically")
        return
    table = Table("step", "who decides", "how they were chosen")
    for i, step in enumerate(plan.steps, 1):
        table.add_row(f"{i}. {step.step.value}", ", ".join(a.username for a in step.approvers), step.how)
    console.print(table)
    t = plan.timers
    console.print(
        f"each step: a reminder after {in_words(t.remind_after)}, the approvers' managers added after "
        f"{in_words(t.escalate_after)}, closed unanswered after {in_words(t.close_after)}",
        highlight=False,
    )


def delegate(
    from_user: str = typer.Option(..., "--from", help="Who is away (username)"),
    to_user: str = typer.Option(..., "--to", help="Who decides for them (username)"),
    until: str = typer.Option(..., "--until", help="Last day, YYYY-MM-DD"),
    starts_on: str | None = typer.Option(None, "--from-date", help="First day (default today)"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """While someone is away, let another person decide their approvals (pending ones too)."""
    from hrops import approval_service as svc
    from hrops.request_service import RequestError
    from hrops.temporal_client import TemporalUnavailable, connect

    def day(text: str, flag: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            fail(f"{flag} {text!r} is not a date like 2026-12-24")

    who = _who(as_user)
    last, first = day(until, "--until"), day(starts_on, "--from-date") if starts_on else None

    async def main() -> svc.Delegated:
        return await svc.delegate(await connect(settings()), who, from_user, to_user, last, first)

    try:
        done = asyncio.run(main())
    except (RequestError, TemporalUnavailable) as e:
        fail(str(e))
    d = done.delegation
    console.print(
        f"{d.to_username} decides for {d.from_username} from {d.starts_on} to {d.until}"
        + ("" if d.created else " (this delegation existed already)"),
        highlight=False,
    )
    if done.handed_over:
        console.print(f"handed over at once: {', '.join(done.handed_over)}", highlight=False)


def delegations(
    user: str | None = typer.Option(None, "--user", help="Only those from or to this user"),
) -> None:
    """Delegations in force now or later."""
    from hrops import approval_service as svc

    rows = svc.list_delegations(user)
    if not rows:
        console.print("no delegations")
        return
    table = Table("from", "to", "first day", "last day", "made by")
    for d in rows:
        table.add_row(d.from_username, d.to_username, str(d.starts_on), str(d.until), d.created_by)
    console.print(table)


def notifications(
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    limit: int = typer.Option(20, help="How many, newest first"),
) -> None:
    """Messages queued for you (approval requests, reminders, escalations), newest first."""
    from hrops.settings import get_settings
    from tools.notify.outbox import for_user
    from tools.store.db import session_scope

    who = _who(as_user)
    with session_scope(get_settings().db_url) as session:
        rows = [(n.created_at, n.kind, n.subject, n.body) for n in for_user(session, who.username, limit)]
    if not rows:
        console.print(f"no messages for {who.username}")
        return
    for at, kind, subject, body in rows:
        console.print(
            f"[dim]{at:%Y-%m-%d %H:%M}[/] [bold]{subject}[/] [dim]({kind})[/]\n  {body}", highlight=False
        )
