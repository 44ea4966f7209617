"""`hrops audit verify`, `audit export --employee ID`, `audit trail REQ-n`: the tamper-evident log.

`verify` reads only hashes and ids, so like `hrops db upgrade` it needs store access and no user.
`export` and `trail` show what was done to people's data: HR ops or admins (`--as`), and an export
leaves an audit entry of its own."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from hrops.cli.common import acting_user, console, err_console, fail, store_url

audit_app = typer.Typer(help="The tamper-evident audit log: verify it, follow a request, export a person.")

AS_HELP = "Act as this user (username or employee id); default HROPS_USER"
READERS = ("hr_ops", "admin")  # who may read what was done to people's data
CSV_COLUMNS = (
    "position",
    "at",
    "step",
    "action",
    "actor",
    "entity_type",
    "entity_id",
    "request_id",
    "workflow_id",
    "tool",
    "details",
    "event_key",
    "prev_hash",
    "hash",
)


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


# -- verify ----------------------------------------------------------------------------------------


@audit_app.command("verify")
def verify(
    anchor: str | None = typer.Option(
        None,
        "--anchor",
        help="A last hash printed by an earlier verify (or an export's chain.last_hash), kept outside "
        "the database: it must still be in the chain, so nothing was cut off the end or rewritten",
    ),
) -> None:
    """Recompute every hash of the audit log; list each edited or missing entry (exit code 1)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from sqlalchemy import func, select

    from tools.store import audit
    from tools.store.db import session_scope
    from tools.store.models import AuditEntry

    anchor = anchor.strip().lower() if anchor is not None else None
    if anchor is not None and not (len(anchor) == 64 and all(c in "0123456789abcdef" for c in anchor)):
        fail(f"--anchor {anchor!r} is not a hash: give the 64 hex digits a verify printed as the last hash")
    with session_scope(store_url()) as s:
        total = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
        bar = Progress(
            TextColumn("verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
            disable=not err_console.is_terminal,  # a bar on a terminal only; piped output stays clean
        )
        with bar:
            task = bar.add_task("verify", total=total)
            report = audit.check_chain(
                s, anchor=anchor, progress=lambda n: bar.update(task, completed=n), every=2000
            )
    last = f"last entry #{report.last_id}, hash {report.last_hash}" if report.last_id else "the log is empty"
    if report.ok:
        anchored = "; the anchor is in the chain" if anchor else ""
        console.print(
            f"audit log OK: {report.entries} entries checked, {last}{anchored}",
            highlight=False,
            soft_wrap=True,
        )
        return
    table = Table("entry", "what is wrong", title="audit log problems")
    for p in report.problems:
        table.add_row("-" if p.entry_id is None else str(p.entry_id), p.problem)
    console.print(table)
    err_console.print(
        f"[bold red]audit log NOT intact:[/] {len(report.problems)} problem(s) in {report.entries} entries "
        f"({last}). The entries listed were edited or follow removed entries; compare with a backup.",
        highlight=False,
    )
    raise typer.Exit(1)


# -- trail -----------------------------------------------------------------------------------------


def _what(step: str, details: dict[str, Any]) -> str:
    """The details a reader follows the link by, shortly (ids, field names, counts: no values)."""
    d = dict(details)
    if step == "chat message":
        head = f"{d.pop('channel', '?')} message {d.pop('chat_message', '?')}"
        d.pop("chat_thread", None)
        return head + (f"; {_pairs(d)}" if d else "")
    return _pairs(d)


def _pairs(d: dict[str, Any]) -> str:
    shown = []
    for k, v in d.items():
        if v in (None, [], {}, ""):
            continue
        value = ",".join(map(str, v)) if isinstance(v, list) else v
        shown.append(f"{k}={value}")
    text = ", ".join(shown)
    return text if len(text) <= 300 else text[:299] + "…"


@audit_app.command("trail")
def trail(
    request_id: str = typer.Argument(..., help="The request, e.g. REQ-12"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    json_out: bool = typer.Option(False, "--json", help="Every entry in full, with its hashes"),
) -> None:
    """One request's chain in order: chat message, submission, model calls, approvals, record changes."""
    from sqlalchemy import select

    from tools.store.audit_trails import normal_request_id, request_trail
    from tools.store.db import session_scope
    from tools.store.models import REQUEST_PREFIX, RequestRecord

    label = normal_request_id(request_id)
    if not label.removeprefix(REQUEST_PREFIX).isdigit():
        fail(f"{request_id!r} is not a request id; they look like REQ-12")
    url = store_url()
    acting_user("read the audit trail", *READERS, as_user=as_user)
    with session_scope(url) as s:
        rows = request_trail(s, label)
        known = s.scalar(
            select(RequestRecord.number).where(
                RequestRecord.number == int(label.removeprefix(REQUEST_PREFIX))
            )
        )
    if not rows:
        if known is None:
            fail(f"no request {label}; `hrops requests show` and `hrops approvals list` show requests")
        fail(
            f"{label} has no audit entries yet: its workflow has not recorded anything (is a worker running?)"
        )
    if json_out:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], indent=2, ensure_ascii=False))
        return
    table = Table(title=f"{label} audit trail")
    for name in ("#", "at (UTC)", "link", "action", "actor"):
        table.add_column(name, no_wrap=True)
    table.add_column("what", ratio=1)  # the details get the room that is left
    table.add_column("hash", no_wrap=True)
    for r in rows:
        table.add_row(
            str(r.position),
            r.at[:19].replace("T", " "),
            r.step,
            r.action,
            r.actor,
            (f"tool {r.tool}: " if r.tool else "") + _what(r.step, r.details),
            r.hash[:12],
        )
    console.print(table)
    console.print(
        f"{len(rows)} entries; `hrops audit verify` checks their hashes against the whole chain",
        highlight=False,
    )


# -- export ----------------------------------------------------------------------------------------


def _csv(export: Any) -> str:
    out = io.StringIO()
    s = export.summary
    out.write(
        f"# audit export for {export.employee_id} by {export.exported_by} at {export.exported_at.isoformat()}\n"
    )
    out.write(f"# {s.entries} entries, {s.requests} requests, {s.approvals} approval decisions\n")
    out.write(f"# per action: {', '.join(f'{a}={n}' for a, n in s.per_action.items()) or '-'}\n")
    out.write(f"# requests: {', '.join(r.request_id for r in export.requests) or '-'}\n")
    out.write(f"# chain at export: {export.chain.entries} entries, last hash {export.chain.last_hash}\n")
    out.write(f"# verify: {export.how_to_verify}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in export.entries:
        row = e.model_dump(mode="json")
        row["details"] = json.dumps(row["details"], sort_keys=True, ensure_ascii=False)
        writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
    return out.getvalue()


@audit_app.command("export")
def export(
    employee: str = typer.Option(..., "--employee", help="Whose data, e.g. E100123"),
    out: Path | None = typer.Option(None, "--out", help="Write to this file (default: standard output)"),
    fmt: Format = typer.Option(
        Format.JSON, "--format", help="json (summary, requests, approvals, entries) or csv (entries)"
    ),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Everything done to one person's data, in time order, with chain positions and hashes.

    JSON: a summary (counts per action), the requests about them, the approvals decided on them and
    every entry; CSV: the entries, the summary in # lines above them."""
    from tools.store import audit
    from tools.store.audit_trails import UnknownEmployee, employee_export
    from tools.store.db import session_scope

    url = store_url()
    actor = acting_user("export the audit log", *READERS, as_user=as_user)
    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        fail(f"--out {out}: give a file in an existing folder")
    with session_scope(url) as s:
        try:
            found = employee_export(s, employee, exported_by=actor, now=datetime.now(UTC))
        except UnknownEmployee as e:
            fail(str(e))
    text = found.model_dump_json(indent=2) + "\n" if fmt is Format.JSON else _csv(found)
    partial = None
    if out is not None:  # written aside, renamed once the export is audited: only an audited file appears
        fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial")
        partial = Path(name)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    try:
        with session_scope(url, write=True) as s:
            audit.append(
                s,
                audit.AuditEvent(
                    actor=actor,
                    action="audit.exported",
                    entity_type="employee",
                    entity_id=found.employee_id,
                    details={
                        "format": fmt.value,
                        "entries": found.summary.entries,
                        "requests": found.summary.requests,
                        "to": "file" if out else "stdout",
                    },
                ),
            )
    except BaseException:
        if partial is not None:
            partial.unlink(missing_ok=True)
        raise
    if out is None:
        typer.echo(text, nl=False)
        return
    assert partial is not None
    partial.replace(out)
    console.print(
        f"wrote {found.summary.entries} audit entries about {found.employee_id} "
        f"({found.summary.requests} requests, {found.summary.approvals} approval decisions) to {out}",
        highlight=False,
    )
