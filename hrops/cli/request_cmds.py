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


@request_app.command("address-change")
def address_change(
    employee_id: str = typer.Argument(..., help="Employee id, e.g. E100042"),
    line1: str = typer.Option(..., "--line1", help="Street and number"),
    city: str = typer.Option(..., "--city"),
    country: str = typer.Option(..., "--country", help="ISO 3166-1 alpha-2, e.g. CN, SG, GB, US"),
    postcode: str | None = typer.Option(None, "--postcode"),
    line2: str | None = typer.Option(None, "--line2"),
    region: str | None = typer.Option(None, "--region"),
    effective: str | None = typer.Option(None, "--effective", help="YYYY-MM-DD; default today"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Request a home address change; the employee's manager approves it."""
    from hrops import request_service as svc
    from tools.hr.schemas import PostalAddress

    try:
        address = PostalAddress(
            line1=line1, line2=line2, city=city, region=region, postcode=postcode, country=country
        )
    except ValidationError as e:
        fail(
            "bad address: "
            + "; ".join(f"{'.'.join(map(str, x['loc'])) or 'address'}: {x['msg']}" for x in e.errors())
        )
    try:
        on = date.fromisoformat(effective) if effective else None
    except ValueError:
        fail(f"--effective {effective!r} is not a date; use YYYY-MM-DD")
    sub = _run(svc.submit_address_change, _who(as_user), employee_id, address, on)
    if not sub.created:
        console.print(
            f"{sub.request_id} is already pending for {employee_id.upper()} with this address (nothing new started)"
        )
        return
    console.print(f"[green]{sub.request_id}[/] started ({sub.workflow_id})", highlight=False)
    if sub.check and sub.check.employee:
        e = sub.check.employee
        console.print(
            f"  {e.employee_id} {e.display_name}, {e.title or ''} · {e.org_unit_name or ''}", highlight=False
        )
        before = sub.check.current.one_line() if sub.check.current else "(none)"
        console.print(
            f"  from: {before}\n  to:   {address.one_line()}\n  from {sub.check.effective_on}",
            highlight=False,
        )
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
    from workflows.address_change.messages import RequestState

    state = _run(svc.show, request_id)
    if not isinstance(state, RequestState):
        console.print(
            f"{state.request_id}: {state.status} (stage {state.stage}); no worker answered, so only this summary"
        )
        return
    lines = [f"[bold]{state.request_id}[/] {state.kind} for {state.employee_id}: [bold]{state.stage}[/]"]
    if state.employee:
        lines.append(
            f"{state.employee.display_name}, {state.employee.title or ''} · {state.employee.org_unit_name or ''}"
        )
    lines.append(
        f"requested by {state.requested_by} at {state.requested_at:%Y-%m-%d %H:%M} UTC, effective {state.effective_on}"
    )
    lines.append(f"from: {state.current.one_line() if state.current else '(none)'}")
    lines.append(f"to:   {state.proposed.one_line()}")
    if state.summary:
        lines += [f"summary: {state.summary.en}", f"摘要: {state.summary.zh}"]
    if state.corrected:
        lines.append(f"corrected by the approvers: {state.corrected.one_line()}")
    if state.approval:
        a = state.approval
        lines.append(f"approval ({a.rule}): {a.why}")
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
    if state.applied:
        lines.append(f"applied: address record #{state.applied.record_id} from {state.applied.effective_on}")
    for p in state.problems:
        lines.append(f"[red]problem:[/] {p}")
    lines.append("history:")
    lines += [f"  {e.at:%Y-%m-%d %H:%M:%S} {e.text}" for e in state.history]
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
