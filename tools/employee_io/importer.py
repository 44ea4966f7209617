"""Import employees from a spreadsheet.

1. Read and validate every row without touching the store (`_read`).
2. In one write transaction: check rows against the store (existing employees, org units,
   managers, e-mails), then write all new employees, or none when any row is bad (`skip_invalid`
   writes the good ones). One audit entry per employee plus a summary entry.
Re-importing a file creates nothing: an identical employee is "unchanged"; a different one is
refused, because changes to existing people go through record-change requests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import insert
from sqlalchemy.orm import Session

from hrops.clock import now
from tools.employee_io.errors import ImportFileError, did_you_mean, listing
from tools.employee_io.mapping import EmployeeMapping, SourceSpec
from tools.employee_io.planner import NewUnit, Planner, assign_unit_codes
from tools.employee_io.records import ADDRESS_FIELDS, EmployeeRecord, ParsedRow, RowError, cross_check
from tools.employee_io.sources import SourceRow, Table, open_table
from tools.employee_io.targets import TARGETS, fact_target
from tools.employee_io.transforms import FieldProblem, resolve
from tools.store import queries
from tools.store.audit import AuditEvent, append, append_many
from tools.store.db import session_scope
from tools.store.models import (
    Compensation,
    Employee,
    EmployeeAddress,
    EmployeeFact,
    JobAssignment,
    OrgUnit,
    StoreMeta,
)

Progress = Callable[[str, int, int | None], None]  # phase (reading, writing), done, total
META_PREFIX = queries.IMPORTS_PREFIX  # + the file's SHA-256: see `_remember`


class ImportReport(BaseModel):
    file: str
    sheet: str | None = None
    sha256: str
    mapping: str
    as_of: date
    rows: int  # data rows read (blank rows are not counted)
    created: int = 0  # employees written (in a dry run: that would be written)
    unchanged: int = 0  # already in the store with the same data
    skipped: int = 0  # rows left out because of errors (only with skip_invalid)
    errors: list[RowError] = []
    org_units_created: list[str] = []  # codes (in a dry run: that would be created)
    facts_added: int = 0  # employee facts written (new employees, or stored ones without them yet)
    written: bool = False
    dry_run: bool = False

    @property
    def rows_with_errors(self) -> list[int]:
        return sorted({e.row for e in self.errors})

    @property
    def ok(self) -> bool:
        return not self.errors


# --- reading ---------------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _check_columns(mapping: EmployeeMapping, table: Table) -> None:
    available = [c for c in table.columns if c]
    missing = [c for c in mapping.columns() if c not in available]
    if not missing:
        return
    hints = []
    for col in missing:
        users = [name for name, spec in mapping.fields.items() if col in spec.columns()]
        hint = did_you_mean(col, available)
        shorthand = [u for u in users if mapping.fields[u]._shorthand]
        if shorthand and not hint:
            hint = f" (for a constant write `{shorthand[0]}: {{value: {col}}}`)"
        hints.append(f"{col!r} (for {', '.join(users)}){hint}")
    raise ImportFileError(
        f"{table.where}: the mapping reads column(s) the file does not have: {'; '.join(hints)}. "
        f"The file's columns (row {mapping.source.header_row}): {listing(available)}"
    )


def _row_from(source: SourceRow, mapping: EmployeeMapping, as_of: date) -> ParsedRow:
    values: dict[str, Any] = {}
    errors: list[RowError] = []

    def problem(name: str | None, message: str) -> None:
        errors.append(
            RowError(
                row=source.number,
                column=mapping.where(name),
                field=name,
                message=f"{name}: {message}" if name else message,
            )
        )

    facts: dict[str, Any] = {}
    for name, spec, target, into in [
        *((n, s, TARGETS[n], values) for n, s in mapping.fields.items()),
        *((n, s, fact_target(n), facts) for n, s in mapping.facts.items()),
    ]:
        try:
            value = resolve(spec, target, source.values, as_of)
        except FieldProblem as e:
            problem(name, str(e))
            continue
        if value is None:
            if spec.required:
                problem(name, "missing required value")
            continue
        into[name] = value
    failed = {e.field for e in errors}
    record: EmployeeRecord | None = None
    try:
        record = EmployeeRecord.model_validate(values)
    except ValidationError as e:
        for err in e.errors():
            name = str(err["loc"][0]) if err["loc"] else None
            if name not in failed:
                problem(
                    name,
                    "missing required value"
                    if err["type"] == "missing"
                    else err["msg"].removeprefix("Value error, "),
                )
    if record is not None and errors:
        record = None  # a field could not be read: the rest would be checked against a guess
    if record is not None:
        for name, message in cross_check(record, as_of):
            problem(name, message)
    employee_id = (
        record.employee_id
        if record
        else (str(values["employee_id"]).upper() if "employee_id" in values else None)
    )
    return ParsedRow(source.number, employee_id, record, errors, facts=facts)


def _read(table: Table, mapping: EmployeeMapping, as_of: date, progress: Progress | None) -> list[ParsedRow]:
    rows: list[ParsedRow] = []
    for source in table.rows():
        rows.append(_row_from(source, mapping, as_of))
        if progress and len(rows) % 250 == 0:
            progress("reading", len(rows), table.estimated_rows)
    if progress:
        progress("reading", len(rows), len(rows))
    if not rows:
        raise ImportFileError(
            f"{table.where} has no data rows: the header is row {mapping.source.header_row} "
            "and nothing follows it"
        )
    return rows


# --- writing -----------------------------------------------------------------------------------------


def _create_unit(s: Session, code: str, name: str, kind: str, above: OrgUnit | None, actor: str) -> OrgUnit:
    unit = OrgUnit(
        code=code,
        name=name,
        kind=kind,
        parent_id=above.id if above else None,
        path="",
        depth=above.depth + 1 if above else 0,
    )
    s.add(unit)
    s.flush()  # the id is part of the path
    unit.path = f"{above.path if above else '/'}{unit.id}/"
    append(
        s,
        AuditEvent(
            actor=actor,
            action="org_unit.created",
            entity_type="org_unit",
            entity_id=code,
            details={"by": "employee import", "parent": above.code if above else None},
        ),
    )
    return unit


def _write(
    planner: Planner, new_rows: list[ParsedRow], report: ImportReport, actor: str, progress: Progress | None
) -> None:
    s, mapping = planner.s, planner.mapping
    made: dict[int, OrgUnit] = {}
    if planner.new_units:
        spec = mapping.org_units.parent
        assert spec is not None
        parent = planner.parent or _create_unit(
            s,
            spec.code,
            spec.name,
            spec.kind or ("division" if planner.parent_above else "company"),
            planner.parent_above,
            actor,
        )
        made = {
            id(u): _create_unit(s, u.code, u.name, mapping.org_units.kind, parent, actor)
            for u in planner.new_units.values()
        }
        report.org_units_created = planner.planned_unit_codes()

    def unit_of(row: ParsedRow) -> OrgUnit:
        unit = planner.org_for[row.number]
        return made[id(unit)] if isinstance(unit, NewUnit) else unit

    created_at = now()
    source = mapping.source_name
    records = [(row, row.record) for row in new_rows if row.record is not None]
    # Bulk inserts (executemany): ORM objects one by one cost more than everything else together.
    s.execute(
        insert(Employee),
        [
            dict(
                id=r.employee_id,
                given_name=r.given_name or "",
                family_name=r.family_name or "",
                display_name=r.name_for_display,
                work_email=r.work_email,
                personal_email=r.personal_email,
                phone=r.phone,
                birth_date=r.birth_date,
                gender=r.gender,
                national_id=r.national_id,
                hire_date=r.hire_date,
                termination_date=r.termination_date,
                status=r.status,
                leaver_type=r.leaver_type,
                leaver_reason=r.leaver_reason,
                source=source,
                created_at=created_at,
            )
            for _, r in records
        ],
    )  # employees first: assignments refer to managers among them
    jobs, pay, homes = [], [], []
    for row, r in records:
        dates = {"employee_id": r.employee_id, "valid_from": r.hire_date, "valid_to": r.termination_date}
        jobs.append(
            dict(
                title=r.title,
                job_family=r.job_family,
                level=r.level,
                org_unit_id=unit_of(row).id,
                manager_id=r.manager_id,
                location=r.location,
                fte=r.fte,
                change_reason="hire",
                **dates,
            )
        )
        if r.has_pay:
            pay.append(
                dict(
                    base_amount=r.base_amount,
                    currency=r.currency,
                    frequency=r.pay_frequency,
                    change_reason="hire",
                    **dates,
                )
            )
        if r.has_address:
            homes.append({**dates, **{f.removeprefix("address_"): getattr(r, f) for f in ADDRESS_FIELDS}})
    for model, values in ((JobAssignment, jobs), (Compensation, pay), (EmployeeAddress, homes)):
        if values:
            s.execute(insert(model), values)
    events = []
    for row, r in records:
        filled = sorted(f for f in TARGETS if f in r.model_fields_set and getattr(r, f) is not None)
        details = {"file": report.file, "row": row.number, "fields": filled}
        events.append(
            AuditEvent(
                actor=actor,
                action="employee.imported",
                entity_type="employee",
                entity_id=r.employee_id,
                details={**details, "facts": sorted(row.facts)} if row.facts else details,
            )
        )
    append_many(s, events)
    if progress:
        progress("writing", len(records), len(records))
    report.created = len(records)


def _write_facts(
    s: Session,
    facts: list[tuple[ParsedRow, str, Any]],
    mapping: EmployeeMapping,
    report: ImportReport,
    actor: str,
) -> None:
    """The mapping's facts as of the import's date; an audit entry for each stored employee given some
    (new employees' entries name them already)."""
    s.execute(
        insert(EmployeeFact),
        [
            dict(
                employee_id=row.employee_id,
                name=name,
                value=value,
                as_of=report.as_of,
                source=mapping.source_name,
            )
            for row, name, value in facts
        ],
    )
    added: dict[str, list[str]] = {}
    for row, name, _ in facts:
        if row.existing and row.employee_id:
            added.setdefault(row.employee_id, []).append(name)
    append_many(
        s,
        [
            AuditEvent(
                actor=actor,
                action="employee.facts_imported",
                entity_type="employee",
                entity_id=eid,
                details={"file": report.file, "facts": sorted(names), "as_of": report.as_of.isoformat()},
            )
            for eid, names in added.items()
        ],
    )
    report.facts_added = len(facts)


def _summary(report: ImportReport) -> dict[str, Any]:
    return {
        "file": report.file,
        "sha256": report.sha256,
        "sheet": report.sheet,
        "mapping": report.mapping,
        "as_of": report.as_of.isoformat(),
        "rows": report.rows,
        "created": report.created,
        "unchanged": report.unchanged,
        "skipped": report.skipped,
        "skipped_rows": report.rows_with_errors[:500],
        "org_units_created": report.org_units_created,
        "facts_added": report.facts_added,
    }


def _finish(s: Session, report: ImportReport, mapping: EmployeeMapping, actor: str) -> None:
    """The summary audit entry, and what store_meta keeps about the file."""
    append(
        s,
        AuditEvent(
            actor=actor,
            action="employees.import",
            entity_type="import",
            entity_id=report.sha256[:16],
            details=_summary(report),
        ),
    )
    _remember(s, report, mapping, actor)


def _remember(s: Session, report: ImportReport, mapping: EmployeeMapping, actor: str) -> None:
    """store_meta keeps each imported file's as-of date so a re-import derives the same dates, and
    what analytics needs to know about it: a snapshot (no event dates), where it landed, which
    fields are derived from the as-of date, which facts it brought."""
    key = META_PREFIX + report.sha256[:40]
    meta = s.get(StoreMeta, key)
    at = now().isoformat()
    about = {
        "source": mapping.source_name,
        "snapshot": mapping.snapshot,
        "landed_under": mapping.org_units.parent.code if mapping.org_units.parent else None,
        "derived": mapping.derived_fields,
        "facts": sorted(mapping.facts),
    }
    if meta is None:
        s.add(
            StoreMeta(
                key=key,
                value={
                    "file": report.file,
                    "sha256": report.sha256,
                    "as_of": report.as_of.isoformat(),
                    "mapping": report.mapping,
                    "actor": actor,
                    "first_imported_at": at,
                    "created": report.created,
                    **about,
                },
            )
        )
    else:
        meta.value = {
            **meta.value,
            **about,
            "last_imported_at": at,
            "created": meta.value.get("created", 0) + report.created,
        }


def previous_as_of(url: str, file_path: str | Path) -> date | None:
    """The as-of date this exact file (by SHA-256) was first imported with, if it was."""
    with session_scope(url) as s:
        meta = s.get(StoreMeta, META_PREFIX + file_sha256(Path(file_path))[:40])
        return date.fromisoformat(meta.value["as_of"]) if meta else None


# --- the public entry point ------------------------------------------------------------------------


def import_employees(
    url: str,
    file_path: str | Path,
    mapping: EmployeeMapping | None,
    *,
    as_of: date,
    actor: str,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate every row, then write all new employees in one transaction, or none if any row is bad
    (with `skip_invalid`, the good ones). `mapping=None`: the file's headers are the field names
    (e.g. an export). File-level problems raise `ImportFileError`; row problems are in the report."""
    path = Path(file_path)
    with open_table(path, mapping.source if mapping else SourceSpec()) as table:
        mapping = mapping or EmployeeMapping.for_columns(table.columns)
        _check_columns(mapping, table)
        rows = _read(table, mapping, as_of, progress)
        sheet = table.sheet
    report = ImportReport(
        file=path.name,
        sheet=sheet,
        sha256=file_sha256(path),
        mapping=mapping.label,
        as_of=as_of,
        rows=len(rows),
        dry_run=dry_run,
    )
    with session_scope(url, write=not dry_run) as session:
        planner = Planner(session, mapping, rows)
        planner.run()
        planner.check_facts(as_of)
        report.errors = sorted((e for r in rows for e in r.errors), key=lambda e: e.row)
        good = [r for r in rows if r.good]
        new_rows = [r for r in good if not r.existing]
        report.unchanged = len(good) - len(new_rows)
        if report.errors and not skip_invalid:
            return report
        report.skipped = len(report.rows_with_errors)
        needed = {id(planner.org_for[r.number]) for r in new_rows if r.number in planner.org_for}
        planner.new_units = {k: u for k, u in planner.new_units.items() if id(u) in needed}
        if planner.new_units:
            assert mapping.org_units.parent is not None
            assign_unit_codes(planner, mapping.org_units.parent.code)
        facts = [f for f in planner.new_facts if f[0].good]
        if dry_run or not (new_rows or facts):
            report.created = len(new_rows)
            report.org_units_created = planner.planned_unit_codes()
            report.facts_added = len(facts)
            return report
        if new_rows:
            _write(planner, new_rows, report, actor, progress)
        if facts:
            _write_facts(session, facts, mapping, report, actor)
        _finish(session, report, mapping, actor)
        report.written = True
    return report
