"""Bulk record changes from a spreadsheet: read, validate every row (nothing starts while any row
is wrong, unless asked to start the good ones), then one parent workflow with a child per row.

The sheet has a header row. Columns (any order, case-insensitive): `employee_id`, `change`
(address_change, job_title, transfer, manager_change, salary_change, termination), `effective_on`
(a date; empty: today), and the change's own columns: `title`; `org_unit`, `manager_id`,
`location`; `amount`, `currency`, `frequency`; `reason`; `line1`, `line2`, `city`, `region`,
`postcode`, `country`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from pydantic import BaseModel, ValidationError
from temporalio.client import Client

from hrops import request_service as svc
from hrops.clock import today
from hrops.settings import Settings, get_settings
from tools.hr.approvers import change_plan_query
from tools.hr.changes import ADDRESS_FIELDS, ChangeCheck, RecordChange
from tools.registry import ToolError, registry
from tools.store.identity import Principal
from workflows.bulk_change.messages import KIND, BulkRequest, BulkState
from workflows.bulk_change.workflow import BulkChangeWorkflow
from workflows.record_change.messages import GROUP, ChangeRequest, workflow_id_for

DETAIL_COLUMNS = {
    "job_title": ("title",),
    "transfer": ("org_unit", "manager_id", "location"),
    "manager_change": ("manager_id",),
    "salary_change": ("amount", "currency", "frequency"),
    "termination": ("reason",),
}
KNOWN = {
    "employee_id",
    "change",
    "effective_on",
    *ADDRESS_FIELDS,
    *(c for cols in DETAIL_COLUMNS.values() for c in cols),
}
MAX_ROWS = 5000


class RowReport(BaseModel):
    row: int
    employee_id: str
    change: str
    ok: bool
    problems: list[str] = []
    rule: str | None = None  # the approval rule the row will follow
    approvers: list[str] = []  # the first step's people
    change_model: RecordChange | None = None


class BulkReport(BaseModel):
    source: str
    rows: list[RowReport]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def valid(self) -> list[RowReport]:
        return [r for r in self.rows if r.ok]


class BulkSubmitted(BaseModel):
    request_id: str
    workflow_id: str
    rows: int


def _cell(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    text = str(v).strip()
    return text or None


def read_rows(path: Path) -> list[tuple[int, dict[str, str | None]]]:
    """(row number, column -> text) for every non-empty row; raises RequestError on a bad file."""
    if not path.exists():
        raise svc.RequestError(f"no file {path}")
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - openpyxl raises many kinds for a file that is not xlsx
        raise svc.RequestError(f"{path} is not a readable .xlsx file ({type(e).__name__})") from None
    sheet = book.active
    rows = sheet.iter_rows(values_only=True)
    header = [(_cell(h) or "").lower() for h in next(rows, ())]
    if unknown := sorted({h for h in header if h and h not in KNOWN}):
        raise svc.RequestError(f"unknown column(s) {', '.join(unknown)}; known: {', '.join(sorted(KNOWN))}")
    for need in ("employee_id", "change"):
        if need not in header:
            raise svc.RequestError(f"the header row needs a column {need!r}")
    out = []
    for n, values in enumerate(rows, start=2):
        cells = {h: _cell(v) for h, v in zip(header, values, strict=False) if h}
        if any(cells.values()):
            out.append((n, cells))
    book.close()
    if len(out) > MAX_ROWS:
        raise svc.RequestError(f"{len(out)} rows: split the file into parts of at most {MAX_ROWS}")
    if not out:
        raise svc.RequestError(f"{path} has no rows below the header")
    return out


def _change(cells: dict[str, str | None]) -> RecordChange:
    kind = (cells.get("change") or "").strip().lower()
    if kind == "address_change":
        details: dict[str, Any] = {"kind": kind, "address": {f: cells.get(f) for f in ADDRESS_FIELDS}}
    else:
        details = {"kind": kind, **{c: cells.get(c) for c in DETAIL_COLUMNS.get(kind, ())}}
        if kind == "salary_change" and details.get("frequency") is None:
            details.pop("frequency")
    effective = cells.get("effective_on")
    return RecordChange(
        employee_id=cells.get("employee_id") or "",
        details=details,
        effective_on=date.fromisoformat(effective) if effective else today(),
    )


def _validate_row(requester: Principal, n: int, cells: dict[str, str | None]) -> RowReport:
    report = RowReport(
        row=n,
        employee_id=(cells.get("employee_id") or "").upper(),
        change=cells.get("change") or "",
        ok=False,
    )
    try:
        change = _change(cells)
    except ValidationError as e:
        report.problems = [f"{'.'.join(map(str, x['loc'][-1:])) or 'value'}: {x['msg']}" for x in e.errors()]
        return report
    except ValueError:
        report.problems = [f"effective_on {cells.get('effective_on')!r} is not a date (YYYY-MM-DD)"]
        return report
    ctx = svc.tool_context(requester)
    check: ChangeCheck = registry.call("employee.check_change", ctx, change)
    if not check.ok:
        report.problems = check.problems
        return report
    try:
        plan = registry.call(
            "approvals.plan",
            ctx,
            change_plan_query(change, check, requester.username),
        )
    except ToolError as e:
        report.problems = [str(e)]
        return report
    report.ok, report.rule, report.change_model = True, plan.rule, change
    report.approvers = [a.username for a in plan.steps[0].approvers] if plan.steps else ["(automatic)"]
    return report


async def validate(
    client: Client, requester: Principal, path: Path, tick: Callable[[int, int], None] | None = None
) -> BulkReport:
    """Every row checked as if requested alone, plus: one change per record in the file, and no
    request already pending for that record. Writes nothing."""
    rows = read_rows(path)
    reports: list[RowReport] = []
    for i, (n, cells) in enumerate(rows, 1):
        reports.append(await asyncio.to_thread(_validate_row, requester, n, cells))
        if tick:
            tick(i, len(rows))
    seen: dict[str, int] = {}
    for r in reports:
        if not r.ok or r.change_model is None:
            continue
        wid = workflow_id_for(r.change_model.employee_id, r.change_model.kind)
        if wid in seen:
            r.ok, r.problems = (
                False,
                [
                    f"row {seen[wid]} already changes the {GROUP[r.change_model.kind]} record of {r.employee_id}"
                ],
            )
            continue
        seen[wid] = r.row
        if (pending := await svc.running_request(client, wid)) is not None:
            r.ok, r.problems = (
                False,
                [f"{pending.request_id} ({pending.kind.value}) is pending for this record"],
            )
    return BulkReport(source=path.name, rows=reports)


async def submit(
    client: Client, requester: Principal, report: BulkReport, settings: Settings | None = None
) -> BulkSubmitted:
    """Start the batch for the report's valid rows (the caller decides whether invalid rows stop it)."""
    settings = settings or get_settings()
    rows = report.valid
    if not rows:
        raise svc.RequestError("no valid row to start")
    numbers = await asyncio.to_thread(
        svc.allocate_many,
        settings,
        [
            (r.change_model.kind.value, r.employee_id, workflow_id_for(r.employee_id, r.change_model.kind))
            for r in rows
        ],
        requester.username,
    )
    children = [
        ChangeRequest(
            request_id=f"{svc.PREFIX}{num}",
            change=r.change_model,
            requested_by=requester.username,
            requester_roles=requester.roles,
        )
        for num, r in zip(numbers, rows, strict=True)
    ]
    batch_id = f"bulk-{numbers[0]}-{numbers[-1]}"
    request_id, _ = await svc.start_once(
        client,
        settings,
        kind=KIND,
        subject="",
        workflow_id=batch_id,
        requester=requester,
        run=BulkChangeWorkflow.run,
        make_input=lambda rid: BulkRequest(
            request_id=rid,
            source=report.source,
            requested_by=requester.username,
            rows=[r.row for r in rows],
            children=children,
            workflow_ids=[workflow_id_for(r.employee_id, r.change_model.kind) for r in rows],
        ),
    )
    return BulkSubmitted(request_id=request_id, workflow_id=batch_id, rows=len(rows))


async def progress(
    client: Client, request_id: str, settings: Settings | None = None
) -> tuple[BulkState, dict[str, str]]:
    """The batch's state and each row's live stage (one visibility query on the batch)."""
    state = await svc.show(client, request_id, settings)
    if not isinstance(state, BulkState):
        raise svc.RequestError(f"{request_id} is not a bulk request")
    live = {i.request_id: i.stage async for i in svc.in_batch(client, state.request_id, state.requested_at)}
    return state, live
