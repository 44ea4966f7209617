"""Checks against the store, inside the import's write transaction: existing employees (unchanged
or refused), e-mails, org units (matched, or planned for creation), managers and reporting loops."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hrops.clock import today
from tools.employee_io.errors import ImportFileError, did_you_mean, listing
from tools.employee_io.mapping import EmployeeMapping, ParentUnit
from tools.employee_io.records import EmployeeRecord, ParsedRow, RowError
from tools.employee_io.targets import TARGETS, Group
from tools.employee_io.transforms import as_text
from tools.store import queries
from tools.store.models import Compensation, Employee, EmployeeAddress, EmployeeFact, JobAssignment, OrgUnit

CHUNK = 500  # ids per IN (...) query


@dataclass
class NewUnit:
    code: str
    name: str


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _first_rows(session: Session, model: Any, ids: list[str]) -> dict[str, Any]:
    """The earliest effective-dated row per employee: the one an import created."""
    first: dict[str, Any] = {}
    for chunk in _chunks(ids):
        stmt = (
            select(model)
            .where(model.employee_id.in_(chunk))
            .order_by(model.employee_id, model.valid_from, model.id)
        )
        for row in session.scalars(stmt):
            first.setdefault(row.employee_id, row)
    return first


def _rows_in_force(session: Session, model: Any, ids: list[str], day: date) -> dict[str, Any]:
    """The row in force on `day` per employee: what a current export shows."""
    rows: dict[str, Any] = {}
    for chunk in _chunks(ids):
        stmt = select(model).where(model.employee_id.in_(chunk), *queries.in_force(model, day))
        for row in session.scalars(stmt):
            rows[row.employee_id] = row
    return rows


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _same(have: Any, want: Any, fold: bool = False) -> bool:
    if have in (None, "") or want in (None, ""):
        return have in (None, "") and want in (None, "")
    if isinstance(have, Decimal | int | float) and isinstance(want, Decimal | int | float):
        return Decimal(str(have)) == Decimal(str(want))
    return _norm(str(have)) == _norm(str(want)) if fold else have == want


def _differences(
    record: EmployeeRecord, mapping: EmployeeMapping, stored: dict[Group, Any], org: OrgUnit | None
) -> list[str]:
    diffs = []
    for name in mapping.fields:
        target = TARGETS[name]
        if name in ("org_unit_code", "org_unit_name"):
            have = (org.code if name == "org_unit_code" else org.name) if org else None
        else:
            row = stored.get(target.group)
            have = getattr(row, target.attr) if row is not None else None
        want = record.name_for_display if name == "display_name" else getattr(record, name)
        if not _same(have, want, fold=name == "org_unit_name"):
            diffs.append(name)
    return diffs


class Planner:
    """Decides, inside the write transaction, which rows create, which are unchanged, which fail."""

    def __init__(self, session: Session, mapping: EmployeeMapping, rows: list[ParsedRow]) -> None:
        self.s, self.mapping, self.rows = session, mapping, rows
        self.org_for: dict[int, OrgUnit | NewUnit] = {}
        self.new_units: dict[str, NewUnit] = {}
        self.parent: OrgUnit | None = None
        self.parent_above: OrgUnit | None = None
        self.new_facts: list[tuple[ParsedRow, str, Decimal]] = []

    def fail(self, row: ParsedRow, field_name: str | None, message: str) -> None:
        row.errors.append(
            RowError(row=row.number, column=self.mapping.where(field_name), field=field_name, message=message)
        )

    def planned_unit_codes(self) -> list[str]:
        """Codes of the units this import creates: the parent when it is missing, then the new ones."""
        if not self.new_units or self.mapping.org_units.parent is None:
            return []
        missing_parent = [] if self.parent else [self.mapping.org_units.parent.code]
        return missing_parent + [u.code for u in self.new_units.values()]

    def candidates(self) -> list[ParsedRow]:
        return [r for r in self.rows if r.good]

    def run(self) -> None:
        self._duplicates("employee_id", lambda r: r.employee_id)
        self._duplicates("work_email", lambda r: r.record.work_email if r.record else None)
        self._existing()
        self._emails_in_store()
        self._org_units()
        self._managers()

    def check_facts(self, as_of: date) -> None:
        """The rows' facts not stored yet for this day (an earlier import may predate the mapping's
        `facts:`). A stored one with another value fails its row: it changes through HR, not a re-import."""
        wanted = [(r, name, v) for r in self.candidates() for name, v in r.facts.items()]
        stored: dict[tuple[str, str], Decimal] = {}
        for chunk in _chunks(sorted({r.employee_id for r, _, _ in wanted if r.existing and r.employee_id})):
            stmt = select(EmployeeFact).where(
                EmployeeFact.employee_id.in_(chunk), EmployeeFact.as_of == as_of
            )
            stored.update({(f.employee_id, f.name): f.value for f in self.s.scalars(stmt)})
        for row, name, value in wanted:
            have = stored.get((row.employee_id or "", name))
            if have is None:
                self.new_facts.append((row, name, value))
            elif not _same(have, value):
                self.fail(
                    row,
                    name,
                    f"{row.employee_id} already has {name} {as_text(have)} as of {as_of}, "
                    f"the file says {as_text(value)}; "
                    "changes go through record-change requests",
                )

    def _duplicates(self, field_name: str, key: Callable[[ParsedRow], str | None]) -> None:
        seen: dict[str, list[ParsedRow]] = defaultdict(list)
        for row in self.rows:
            if (value := key(row)) is not None:
                seen[value.casefold()].append(row)
        label = "employee id" if field_name == "employee_id" else field_name
        for same in seen.values():
            if len(same) > 1:
                for row in same:
                    others = ", ".join(str(o.number) for o in same if o is not row)
                    value = key(row)
                    self.fail(
                        row, field_name, f"{field_name}: duplicate {label} {value}: also in row {others}"
                    )

    def _existing(self) -> None:
        by_id = {r.employee_id: r for r in self.candidates() if r.employee_id}
        ids = list(by_id)
        employees = {}
        for chunk in _chunks(ids):
            employees.update(
                {e.id: e for e in self.s.scalars(select(Employee).where(Employee.id.in_(chunk)))}
            )
        if not employees:
            return
        found = list(employees)
        # Unchanged means: the file matches what an import created (the same file again) or what is
        # in force today (a current export of this store).
        views = [
            {m: pick(self.s, m, found) for m in (JobAssignment, Compensation, EmployeeAddress)}
            for pick in (_first_rows, lambda s, m, ids: _rows_in_force(s, m, ids, today()))
        ]
        orgs = {u.id: u for u in self.s.scalars(select(OrgUnit))}
        for eid, emp in employees.items():
            row = by_id[eid]
            assert row.record is not None
            attempts = []
            for view in views:
                job = view[JobAssignment].get(eid)
                stored = {
                    Group.PERSON: emp,
                    Group.JOB: job,
                    Group.PAY: view[Compensation].get(eid),
                    Group.ADDRESS: view[EmployeeAddress].get(eid),
                }
                attempts.append(
                    _differences(row.record, self.mapping, stored, orgs.get(job.org_unit_id) if job else None)
                )
            diffs = min(attempts, key=len)
            if diffs:
                self.fail(
                    row,
                    "employee_id",
                    f"{eid} already exists with different data in: {', '.join(diffs)}; "
                    "changes go through record-change requests",
                )
            row.existing = True

    def _emails_in_store(self) -> None:
        by_email = {
            r.record.work_email: r
            for r in self.candidates()
            if r.record and r.record.work_email and not r.existing
        }
        for chunk in _chunks(list(by_email)):
            for eid, email in self.s.execute(
                select(Employee.id, Employee.work_email).where(Employee.work_email.in_(chunk))
            ):
                row = by_email[email]
                if eid != row.employee_id:
                    self.fail(row, "work_email", f"work_email: {email} already belongs to {eid}")

    # org units -------------------------------------------------------------------------------------

    def _resolve_parent(self, spec: ParentUnit) -> None:
        self.parent = queries.org_by_code(self.s, spec.code)
        if self.parent is not None:
            return
        if spec.under:
            self.parent_above = queries.org_by_code(self.s, spec.under)
            if self.parent_above is None:
                raise ImportFileError(
                    f"org_units.parent.under: there is no org unit with code {spec.under!r}"
                )
            return
        roots = list(
            self.s.scalars(select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.code))
        )
        if len(roots) > 1:
            raise ImportFileError(
                f"org unit {spec.code!r} does not exist and the store has several top units "
                f"({listing(u.code for u in roots)}): set org_units.parent.under to the one it belongs under"
            )
        self.parent_above = roots[0] if roots else None

    def _org_units(self) -> None:
        policy, by_code = self.mapping.org_units, self.mapping.match_org_by == "code"
        if policy.parent is not None:
            self._resolve_parent(policy.parent)
        units = list(self.s.scalars(select(OrgUnit)))
        codes = {u.code: u for u in units}
        if policy.parent is None:
            scope = units  # names are looked up across the whole tree
        elif self.parent is None:
            scope = []  # the parent is still to be created: nothing is under it yet
        else:
            scope = [u for u in units if u.path.startswith(self.parent.path)]
        names: dict[str, list[OrgUnit]] = defaultdict(list)
        for u in scope:
            names[_norm(u.name)].append(u)
        field_name = "org_unit_code" if by_code else "org_unit_name"
        for row in self.candidates():
            if row.existing:
                continue
            rec = row.record
            assert rec is not None
            value = rec.org_unit_code if by_code else rec.org_unit_name
            if value is None:  # cross_check reported it
                continue
            found = ([codes[value]] if value in codes else []) if by_code else names.get(_norm(value), [])
            if len(found) == 1:
                self.org_for[row.number] = found[0]
            elif found:
                self.fail(
                    row,
                    field_name,
                    f"{field_name}: {value!r} matches several org units "
                    f"({', '.join(u.code for u in found)}); map org_unit_code instead",
                )
            elif policy.unknown == "create":
                key = value if by_code else _norm(value)
                if key not in self.new_units:
                    name = (rec.org_unit_name or value) if by_code else value
                    self.new_units[key] = NewUnit(code=value if by_code else "", name=name)
                self.org_for[row.number] = self.new_units[key]
            else:
                known = [u.code for u in units] if by_code else sorted({u.name for u in scope})
                within = f" under {self.parent.code}" if by_code is False and self.parent else ""
                self.fail(
                    row,
                    field_name,
                    f"{field_name}: unknown org unit {value!r}{did_you_mean(value, known)}"
                    f"{within}; known: {listing(known, 15) or 'none'} (or set org_units.unknown: create)",
                )

    # managers --------------------------------------------------------------------------------------

    def _managers(self) -> None:
        in_file: dict[str, ParsedRow] = {}
        for row in self.rows:
            if row.employee_id:
                in_file.setdefault(row.employee_id, row)
        wanted = sorted(
            {
                r.record.manager_id
                for r in self.candidates()
                if r.record and r.record.manager_id and r.record.manager_id not in in_file
            }
        )
        in_store: set[str] = set()
        for chunk in _chunks(wanted):
            in_store.update(self.s.scalars(select(Employee.id).where(Employee.id.in_(chunk))))
        for row in self.candidates():
            m = row.record.manager_id if row.record else None
            if m is None or row.existing:
                continue
            if m == row.employee_id:
                self.fail(row, "manager_id", "manager_id: an employee cannot be their own manager")
            elif m not in in_file and m not in in_store:
                self.fail(row, "manager_id", f"manager_id: manager {m} not found in the store or the file")
        self._loops(in_file)
        changed = True
        while changed:  # a row whose manager's row fails cannot be written either (unless already stored)
            changed = False
            for row in self.candidates():
                m = row.record.manager_id if row.record else None
                if m in in_file and not in_file[m].good and not in_file[m].existing and not row.existing:
                    boss = in_file[m]
                    self.fail(
                        row,
                        "manager_id",
                        f"manager_id: manager {m} (row {boss.number}) is not imported: "
                        f"row {boss.number} has errors",
                    )
                    changed = True

    def _loops(self, in_file: dict[str, ParsedRow]) -> None:
        reported: set[str] = set()
        for row in self.candidates():
            start = row.employee_id
            assert start is not None and row.record is not None
            chain, m = [start], row.record.manager_id
            while m in in_file and m not in chain and (boss := in_file[m].record) is not None:
                chain.append(m)
                m = boss.manager_id
            if m == start and len(chain) > 1 and start not in reported:
                loop = " → ".join([*chain, start])
                for eid in chain:
                    self.fail(in_file[eid], "manager_id", f"manager_id: the reporting line loops: {loop}")
                reported.update(chain)


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", ascii_name)
    return "-".join(words).upper() if words else "U" + hashlib.sha1(name.encode()).hexdigest()[:6].upper()


def assign_unit_codes(planner: Planner, parent_code: str) -> None:
    """Codes for units created by name: PARENT-NAME-IN-CAPITALS, unique, at most 40 characters."""
    taken = set(planner.s.scalars(select(OrgUnit.code)))
    for unit in planner.new_units.values():
        if unit.code:
            continue
        base = f"{parent_code}-{_slug(unit.name)}"[:40].rstrip("-")
        code, n = base, 2
        while code in taken:
            code = f"{base[:37]}-{n}"
            n += 1
        unit.code = code
        taken.add(code)
