"""`hrops request`, `approvals`, `approve`, `reject`, `requests`: the approval workflow from the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

import typer
from pydantic import ValidationError
from rich.panel import Panel
from rich.table import Table

from hrops.cli.common import console, fail, settings

T = TypeVar("T")

request_app = typer.Typer(
    help="Start a request (it runs as a durable workflow with approvals).", no_args_is_help=True
)
approvals_app = typer.Typer(help="Approvals waiting for someone.", no_args_is_help=True)
requests_app = typer.Typer(help="Look up requests.", no_args_is_help=True)

AS_HELP = "Act as this user (username or employee id); default HROPS_USER"


def register(app: typer.Typer) -> None:
    app.add_typer(request_app, name="request")
    app.add_typer(approvals_app, name="approvals")
    app.add_typer(requests_app, name="requests")
    app.command()(approve)
    app.command()(reject)
    app.command()(cancel)
    app.command()(undo)


def _run(make: Callable[..., Awaitable[T]], *args: object) -> T:
    """Connect, call the service, turn refusals into one-line errors."""
    from hrops import request_service as svc
    from hrops.temporal_client import TemporalUnavailable, connect

    async def main() -> T:
        client = await connect(settings())
        return await make(client, *args)

    try:
        return asyncio.run(main())
    except (svc.RequestError, TemporalUnavailable) as e:
        fail(str(e))


def _who(as_user: str | None):  # noqa: ANN202
    from hrops import request_service as svc

    try:
        return svc.principal(as_user or settings().user)
    except svc.RequestError as e:
        fail(str(e))


def _effective(effective: str | None) -> date | None:
    try:
        return date.fromisoformat(effective) if effective else None
    except ValueError:
        fail(f"--effective {effective!r} is not a date; use YYYY-MM-DD (e.g. 2026-12-01)")


def _submit(employee_id: str, details: dict, effective: str | None, as_user: str | None) -> None:
    """Validate the change locally (clear errors, nothing started), submit it, show the preview."""
    from hrops import request_service as svc
    from hrops.clock import today
    from tools.hr.changes import RecordChange

    on = _effective(effective) or today()
    try:
        change = RecordChange(employee_id=employee_id, details=details, effective_on=on)
    except ValidationError as e:
        fail(
            "bad request: "
            + "; ".join(f"{'.'.join(map(str, x['loc'][-1:])) or 'value'}: {x['msg']}" for x in e.errors())
        )
    sub = _run(svc.submit_change, _who(as_user), change)
    what = change.kind.value.replace("_", " ")
    if not sub.created:
        console.print(
            f"{sub.request_id} is already pending for {change.employee_id} with this {what} (nothing new started)"
        )
        return
    console.print(f"[green]{sub.request_id}[/] started ({sub.workflow_id})", highlight=False)
    if sub.check and sub.check.employee:
        e = sub.check.employee
        console.print(
            f"  {e.employee_id} {e.display_name}, {e.title or ''} · {e.org_unit_name or ''}", highlight=False
        )
        for line in _preview_lines(sub.check, on):
            console.print("  " + line, highlight=False)
    console.print(f"  follow it: hrops requests show {sub.request_id}")


def _preview_lines(check, on: date) -> list[str]:  # noqa: ANN001 - tools.hr.changes.ChangeCheck
    lines = [f"{d.field}: {d.before or '(none)'} -> {d.after or '(none)'}" for d in check.diff]
    lines += [f"also: {s}" for s in check.side_effects]
    return [*lines, f"effective {on}"]


EFFECTIVE_HELP = "YYYY-MM-DD, first day in force; default today"


@request_app.command("address-change")
def address_change(
    employee_id: str = typer.Argument(..., help="Employee id, e.g. E100042"),
    line1: str = typer.Option(..., "--line1", help="Street and number"),
    city: str = typer.Option(..., "--city"),
    country: str = typer.Option(..., "--country", help="ISO 3166-1 alpha-2, e.g. CN, SG, GB, US"),
    postcode: str | None = typer.Option(None, "--postcode"),
    line2: str | None = typer.Option(None, "--line2"),
    region: str | None = typer.Option(None, "--region"),
    effective: str | None = typer.Option(None, "--effective", help=EFFECTIVE_HELP),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Request a home address change; the employee's manager approves it."""
    address = dict(line1=line1, line2=line2, city=city, region=region, postcode=postcode, country=country)
    _submit(employee_id, {"kind": "address_change", "address": address}, effective, as_user)


@request_app.command("job-title")
def job_title(
    employee_id: str = typer.Argument(..., help="Employee id, e.g. E100042"),
    title: str = typer.Option(..., "--title", help="The new job title"),
    effective: str | None = typer.Option(None, "--effective", help=EFFECTIVE_HELP),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Request a new job title."""
    _submit(employee_id, {"kind": "job_title", "title": title}, effective, as_user)


@request_app.command("transfer")
def transfer(
    employee_id: str = typer.Argument(..., help="Employee id, e.g. E100042"),
    to: str = typer.Option(..., "--to", help="Code of the department to move to, e.g. ENG-DATA"),
    manager: str | None = typer.Option(None, "--manager", help="New manager; default: the department's head"),
    location: str | None = typer.Option(None, "--location", help="New work location; default: unchanged"),
    effective: str | None = typer.Option(None, "--effective", help=EFFECTIVE_HELP),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Request a move to another department (both managers and the HRBP approve)."""
    details = {"kind": "transfer", "org_unit": to, "manager_id": manager, "location": location}
    _submit(employee_id, details, effective, as_user)


@request_app.command("manager-change")
def manager_change(
    employee_id: str = typer.Argument(..., help="Employee id, e.g. E100042"),
    manager: str = typer.Option(..., "--manager", help="Employee id of the new manager"),
    effective: str | None = typer.Option(None, "--effective", help=EFFECTIVE_HELP),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Request a new manager within the same department."""
    _submit(employee_id, {"kind": "manager_change", "manager_id": manager}, effective, as_user)


@request_app.command("salary-change")
def salary_change(
    employee_id: str = typer.Argument(..., help="Employee id, e.g. E100042"),
    amount: str = typer.Option(..., "--amount", help="New base pay, e.g. 330000"),
    currency: str = typer.Option(..., "--currency", help="ISO 4217, e.g. CNY, SGD, USD"),
    frequency: str = typer.Option("annual", "--frequency", help="annual, monthly or hourly"),
    effective: str | None = typer.Option(None, "--effective", help=EFFECTIVE_HELP),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Request a base pay change (the rules route large raises and pay outside the band further)."""
    details = {"kind": "salary_change", "amount": amount, "currency": currency, "frequency": frequency}
    _submit(employee_id, details, effective, as_user)


@request_app.command("termination")
def termination(
    employee_id: str = typer.Argument(..., help="Employee id, e.g. E100042"),
    reason: str = typer.Option(
        ...,
        "--reason",
        help="better_offer, career_change, relocation, personal, further_study, retirement, "
        "performance, redundancy, misconduct, contract_end",
    ),
    effective: str = typer.Option(..., "--effective", help="YYYY-MM-DD, the first day no longer employed"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Request the end of an employment (HRBP and HR ops approve)."""
    _submit(employee_id, {"kind": "termination", "reason": reason}, effective, as_user)


def cancel(
    request_id: str = typer.Argument(..., help="e.g. REQ-12"),
    reason: str = typer.Option(..., "--reason", help="Why (required; kept in the request's history)"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Withdraw a request that has not been applied yet (the requester or HR ops)."""
    from hrops import request_service as svc

    stage = _run(svc.cancel, request_id, _who(as_user), reason)
    console.print(f"{request_id.upper()}: cancelled (it was {stage})", highlight=False)


def undo(
    request_id: str = typer.Argument(..., help="e.g. REQ-12"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Undo an applied change: requests the compensating change, through the same approvals."""
    from hrops import request_service as svc

    sub = _run(svc.undo, request_id, _who(as_user))
    if not sub.created:
        console.print(f"{sub.request_id} already undoes {request_id.upper()} (nothing new started)")
        return
    console.print(f"[green]{sub.request_id}[/] started to undo {request_id.upper()} ({sub.workflow_id})")
    if sub.check:
        for line in _preview_lines(sub.check, sub.check.as_of or date.today()):
            console.print("  " + line, highlight=False)
    console.print(f"  follow it: hrops requests show {sub.request_id}")


@approvals_app.command("list")
def approvals_list(as_user: str | None = typer.Option(None, "--as", help=AS_HELP)) -> None:
    """Requests waiting for your decision (one visibility query)."""
    from hrops import request_service as svc

    who = _who(as_user)
    items = _run(svc.inbox, who)
    if not items:
        console.print(f"nothing waiting for {who.username}")
        return
    table = Table("request", "kind", "employee", "stage", "since")
    for i in items:
        table.add_row(
            i.request_id,
            i.kind,
            i.employee_id,
            i.stage,
            f"{i.started_at:%Y-%m-%d %H:%M}" if i.started_at else "",
        )
    console.print(table)


def _decide(
    request_id: str,
    verdict: str,
    reason: str | None,
    as_user: str | None,
    edits: dict[str, str] | None = None,
) -> None:
    from hrops import request_service as svc
    from workflows.approvals import Verdict

    record = _run(svc.decide, request_id, _who(as_user), Verdict(verdict), reason, None, edits)
    console.print(
        f"{request_id.upper()}: [bold]{record.verdict.past}[/] by {record.approver}"
        + (f" for {record.on_behalf_of}" if record.on_behalf_of else "")
        + f" at the {record.step} step (recorded)",
        highlight=False,
    )


def _edits(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep or not field.strip():
            fail(f"--edit takes field=value (e.g. --edit postcode=200120), not {pair!r}")
        out[field.strip()] = value
    return out


def approve(
    request_id: str = typer.Argument(..., help="e.g. REQ-12"),
    edit: list[str] = typer.Option(
        [], "--edit", help="Approve with a correction, field=value (repeatable); kept beside the original"
    ),
    reason: str | None = typer.Option(None, "--reason", help="A note for the requester (optional)"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Approve a request waiting for you (with --edit: approve your correction of it)."""
    edits = _edits(edit)
    _decide(request_id, "approve_with_edits" if edits else "approve", reason, as_user, edits)


def reject(
    request_id: str = typer.Argument(..., help="e.g. REQ-12"),
    reason: str = typer.Option(..., "--reason", help="Why (required; the requester sees it)"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Reject a request waiting for you, with a reason."""
    _decide(request_id, "reject", reason, as_user)


@requests_app.command("show")
def requests_show(request_id: str = typer.Argument(..., help="e.g. REQ-12")) -> None:
    """Where a request stands: stage, diff, summary, approval, history."""
    from hrops import request_service as svc
    from workflows.bulk_change.messages import BulkState
    from workflows.onboarding.messages import OnboardingState
    from workflows.record_change.messages import RequestState

    state = _run(svc.show, request_id)
    if isinstance(state, BulkState):
        from hrops import bulk_service
        from hrops.cli.bulk_cmds import show_bulk

        show_bulk(*_run(bulk_service.progress, request_id))
        return
    if isinstance(state, OnboardingState):
        from hrops.cli.onboard_cmds import show_onboarding

        show_onboarding(state)
        return
    if not isinstance(state, RequestState):
        console.print(
            f"{state.request_id}: {state.status} (stage {state.stage}); no worker answered, so only this summary"
        )
        return
    lines = [f"[bold]{state.request_id}[/] {state.kind} for {state.employee_id}: [bold]{state.stage}[/]"]
    if state.undoes:
        lines.append(f"undoes {state.undoes}")
    if state.employee:
        lines.append(
            f"{state.employee.display_name}, {state.employee.title or ''} · {state.employee.org_unit_name or ''}"
        )
    lines.append(
        f"requested by {state.requested_by} at {state.requested_at:%Y-%m-%d %H:%M} UTC, effective {state.effective_on}"
    )
    if state.check:
        lines += _preview_lines(state.check, state.final_change.effective_on)
    if state.summary:
        lines += [f"summary (by a model): {state.summary.en}", f"摘要(模型撰写): {state.summary.zh}"]
    if state.corrected:
        lines.append(
            f"corrected by the approvers: {state.corrected.details.model_dump(mode='json', exclude={'kind'})}"
        )
    if state.approval:
        lines += chain_lines(state.approval)
    if state.scheduled_for and not state.applied:
        lines.append(f"scheduled: applies at {state.scheduled_for:%Y-%m-%d %H:%M} UTC")
    if state.applied:
        a = state.applied
        lines.append(f"applied: {a.record} from {a.effective_on}")
    for push in state.legacy:
        lines.append(f"legacy {push.system} {push.form}: {push.stage or 'running'} ({push.workflow_id})")
    print_panel(lines, state.problems, state.history)


def chain_lines(a) -> list[str]:  # noqa: ANN001 - workflows.approvals.ApprovalChain
    """An approval chain: its rule, each step's people and decision."""
    lines = [f"approval ({a.rule}): {a.why}"]
    for i, step in enumerate(a.steps, 1):
        d = step.decision
        status = (
            f"{d.verdict.past} by {d.approver}" + (f" for {d.on_behalf_of}" if d.on_behalf_of else "")
            if d
            else "expired"
            if step.expired
            else "waiting"
            if step.waiting
            else "not yet"
        )
        lines.append(f"  {i}. {step.step}: {', '.join(step.usernames)}: {status}")
        if d and d.edits:
            lines.append(f"     edited: {', '.join(f'{k}={v}' for k, v in sorted(d.edits.items()))}")
        if d and d.reason:
            lines.append(f"     reason: {d.reason}")
    return lines


def print_panel(lines: list[str], problems: list[str], history: list) -> None:  # noqa: ANN001
    lines = [*lines, *(f"[red]problem:[/] {p}" for p in problems), "history:"]
    lines += [f"  {e.at:%Y-%m-%d %H:%M:%S} {e.text}" for e in history]
    console.print(Panel("\n".join(lines), expand=False), highlight=False)


@requests_app.command("list")
def requests_list(limit: int = typer.Option(20, help="How many, newest first")) -> None:
    """The latest requests of every kind and stage."""
    from hrops import request_service as svc

    items = _run(svc.recent, limit)
    table = Table("request", "kind", "employee", "stage", "started")
    for i in items:
        table.add_row(
            i.request_id,
            i.kind,
            i.employee_id,
            i.stage,
            f"{i.started_at:%Y-%m-%d %H:%M}" if i.started_at else "",
        )
    console.print(table)
