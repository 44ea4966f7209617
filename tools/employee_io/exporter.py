"""Export employees as of a date to a formatted workbook, one row each with the assignment in force.

Columns are the import's field names (so the file imports again without a mapping) and appear only
when their classification is included: internal always, personal and sensitive (pay, gender,
national id) on request. The export is audited.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tools.employee_io.errors import ExportError, did_you_mean
from tools.employee_io.targets import TARGETS, Group, Kind, Target
from tools.store import queries
from tools.store.audit import AuditEvent, append
from tools.store.classification import Classification
from tools.store.db import session_scope
from tools.store.models import Compensation, Employee, EmployeeAddress, EmployeeStatus, JobAssignment, OrgUnit
from tools.xlsx import HEADER_FILL, HEADER_FONT

ALWAYS = frozenset({Classification.PUBLIC, Classification.INTERNAL})
NUMBER_FORMATS = {"fte": "0.00", "base_amount": "#,##0.00"}
DATE_FORMAT = "yyyy-mm-dd"
WIDTH_SAMPLE = 300  # rows looked at to size columns


class ExportReport(BaseModel):
    path: str
    rows: int
    columns: list[str]
    as_of: date
    include: list[Classification]  # every class present in the file
    org_code: str | None = None


def columns_for(include: set[Classification]) -> list[Target]:
    allowed = ALWAYS | include
    return [t for t in TARGETS.values() if t.classification in allowed]


def _latest_by_employee(rows: Any) -> dict[str, Any]:
    """One in-force row per employee; if ranges overlap (a data error) the latest start wins."""
    best: dict[str, Any] = {}
    for row in rows:
        have = best.get(row.employee_id)
        if have is None or row.valid_from > have.valid_from:
            best[row.employee_id] = row
    return best


def _gather(s: Session, as_of: date, unit: OrgUnit | None, groups: set[Group]) -> list[dict[str, Any]]:
    stmt = (
        select(Employee, JobAssignment, OrgUnit)
        .join(JobAssignment, JobAssignment.employee_id == Employee.id)
        .join(OrgUnit, OrgUnit.id == JobAssignment.org_unit_id)
        .where(
            *queries.in_force(JobAssignment, as_of),
            Employee.hire_date <= as_of,
            or_(Employee.termination_date.is_(None), Employee.termination_date > as_of),
        )
        .order_by(Employee.id, JobAssignment.valid_from)
    )
    if unit is not None:
        stmt = stmt.where(OrgUnit.path.startswith(unit.path, autoescape=True))
    people: dict[str, tuple[Employee, JobAssignment, OrgUnit]] = {}
    for emp, job, org in s.execute(stmt):
        people[emp.id] = (emp, job, org)  # ordered by start: the latest assignment wins
    pay = homes = {}
    if Group.PAY in groups:
        pay = _latest_by_employee(
            s.scalars(select(Compensation).where(*queries.in_force(Compensation, as_of)))
        )
    if Group.ADDRESS in groups:
        homes = _latest_by_employee(
            s.scalars(select(EmployeeAddress).where(*queries.in_force(EmployeeAddress, as_of)))
        )
    out = []
    for eid, (emp, job, org) in people.items():
        sources = {Group.PERSON: emp, Group.JOB: job, Group.PAY: pay.get(eid), Group.ADDRESS: homes.get(eid)}
        out.append({"sources": sources, "org": org})
    return out


def _value(target: Target, item: dict[str, Any], as_of: date) -> Any:
    if target.name == "org_unit_code":
        return item["org"].code
    if target.name == "org_unit_name":
        return item["org"].name
    if target.name == "status":
        return EmployeeStatus.ACTIVE.value  # only people employed on the as-of date are exported
    row = item["sources"][target.group]
    value = getattr(row, target.attr) if row is not None else None
    return None if value == "" else value  # imports store missing names as ""


def _cell(ws: WriteOnlyWorksheet, target: Target, value: Any) -> Any:
    if value is None:
        return None
    if target.kind is Kind.DATE:
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if target.kind is Kind.NUMBER:
        cell = WriteOnlyCell(ws, value=float(value))
        cell.number_format = NUMBER_FORMATS.get(target.name, "General")
        return cell
    return value


def _widths(targets: list[Target], rows: list[list[Any]]) -> list[float]:
    widths = []
    for i, t in enumerate(targets):
        longest = len(t.name) + 3  # room for the filter button
        for row in rows[:WIDTH_SAMPLE]:
            value = row[i]
            longest = max(
                longest, 11 if isinstance(value, date) else len(str(value)) if value is not None else 0
            )
        widths.append(min(max(longest + 1, 8), 50))
    return widths


def _employees_sheet(wb: Workbook, targets: list[Target], rows: list[list[Any]]) -> None:
    ws = wb.create_sheet("Employees")
    # Layout (widths, frozen header) goes before the first row in a write-only sheet.
    for i, width in enumerate(_widths(targets, rows), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    header = []
    for t in targets:
        cell = WriteOnlyCell(ws, value=t.name)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        header.append(cell)
    ws.append(header)
    for row in rows:
        ws.append([_cell(ws, t, v) for t, v in zip(targets, row, strict=True)])
    ws.auto_filter.ref = f"A1:{get_column_letter(len(targets))}{len(rows) + 1}"


def _about_sheet(wb: Workbook, facts: list[tuple[str, Any]]) -> None:
    ws = wb.create_sheet("About")
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 70
    for label, value in facts:
        name = WriteOnlyCell(ws, value=label)
        name.font = Font(bold=True)
        cell = WriteOnlyCell(ws, value=value)
        if isinstance(value, date):
            cell.number_format = DATE_FORMAT
            cell.alignment = Alignment(horizontal="left")
        ws.append([name, cell])


def export_employees(
    url: str,
    out_path: str | Path,
    *,
    as_of: date,
    actor: str,
    include: set[Classification] | frozenset[Classification] = frozenset(),
    org_code: str | None = None,
) -> ExportReport:
    """Write everyone employed on `as_of` (in `org_code`'s subtree when given) to an .xlsx file."""
    out = Path(out_path)
    if out.suffix.lower() != ".xlsx":
        raise ExportError(f"export to an .xlsx file, not {out.name!r}")
    if not out.parent.is_dir():
        raise ExportError(f"folder {str(out.parent)!r} does not exist")
    targets = columns_for(set(include))
    classes = sorted(ALWAYS | set(include), key=list(Classification).index)
    with session_scope(url) as s:
        unit = None
        if org_code is not None:
            unit = queries.org_by_code(s, org_code)
            if unit is None:
                codes = list(s.scalars(select(OrgUnit.code)))
                raise ExportError(f"no org unit with code {org_code!r}{did_you_mean(org_code, codes)}")
        items = _gather(s, as_of, unit, {t.group for t in targets})
        org_label = f"{unit.code} {unit.name} (and every unit below it)" if unit else "whole organisation"
    rows = [[_value(t, item, as_of) for t in targets] for item in items]

    wb = Workbook(write_only=True)
    _employees_sheet(wb, targets, rows)
    _about_sheet(
        wb,
        [
            ("As of", as_of),
            ("Organisation", org_label),
            ("Classes included", ", ".join(c.value for c in classes)),
            ("Employees", len(rows)),
            ("Who", "everyone employed on the as-of date, with the assignment in force that day"),
            ("Generated at", datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")),
            ("Generated by", actor),
            ("Handling", "treat this file as its most sensitive class: " + classes[-1].value),
        ],
    )
    partial = out.with_name(f".{out.name}.partial")
    try:
        wb.save(partial)
        with session_scope(url, write=True) as s:
            append(
                s,
                AuditEvent(
                    actor=actor,
                    action="employees.exported",
                    entity_type="export",
                    entity_id=out.name[:60],
                    details={
                        "count": len(rows),
                        "classes": [c.value for c in classes],
                        "org": org_code,
                        "as_of": as_of.isoformat(),
                        "columns": [t.name for t in targets],
                    },
                ),
            )
        partial.replace(out)  # after the audit entry committed: only an audited export appears
    finally:
        partial.unlink(missing_ok=True)
    return ExportReport(
        path=str(out),
        rows=len(rows),
        columns=[t.name for t in targets],
        as_of=as_of,
        include=classes,
        org_code=org_code,
    )
