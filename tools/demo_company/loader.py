"""Write the generated company into the store: idempotent, audited, bulk inserts in chunks."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection, func, insert, select, update

from tools.demo_company import learning, time_off
from tools.demo_company.catalogue import pay_bands
from tools.demo_company.company import Company, generate, manager_of, title_of
from tools.demo_company.handbook import seed_handbook
from tools.store import audit
from tools.store.db import advance_sequences, engine_for, migrate, reset_schema, session_scope
from tools.store.models import (
    Compensation,
    Course,
    Employee,
    EmployeeAddress,
    JobAssignment,
    LeaveRecord,
    OrgUnit,
    PayBand,
    Role,
    StoreMeta,
    User,
    UserRole,
)
from tools.store.passwords import hash_password

Progress = Callable[[str, int, int], None]
CHUNK = 20_000
META_KEY = "seed"
# Columns of a learning record, in the order of learning.Row
LEARNING_COLUMNS = (
    "employee_id",
    "course_id",
    "enrolled_on",
    "due_on",
    "completed_on",
    "hours",
    "score",
    "status",
)
# Every active demo user signs in to the web console with this (documented in the README). The
# demo company is fictional; a real store gets passwords from `hrops users password USER` only.
DEMO_PASSWORD = "hrops-demo"


class SeedOptions(BaseModel):
    employees: int = Field(2000, description="Active headcount on as_of; leavers of the history come on top")
    seed: int = 42
    learning_per_employee: float = Field(
        24.0, ge=0, description="Learning records per active employee, on average"
    )
    as_of: date
    years: int = Field(3, ge=1, le=10)


class SeedReport(BaseModel):
    already_seeded: bool = False
    employees: int
    active: int
    leavers: int
    org_units: int
    job_assignments: int
    compensation_rows: int
    addresses: int
    courses: int
    learning_records: int
    leave_records: int = 0  # annual leave taken last and this year (time_off.py)
    policy_documents: int = 0  # the handbook's documents (versions), see handbook.py
    users: int
    seconds: float
    demo_accounts: dict[str, str]


class StoreNotEmpty(Exception):
    pass


def seeded_options(url: str) -> SeedOptions | None:
    """How the store was seeded, if it was."""
    migrate(url)
    with session_scope(url) as s:
        meta = s.get(StoreMeta, META_KEY)
        return SeedOptions.model_validate(meta.value["options"]) if meta else None


def demo_passwords(url: str) -> int:
    """Give the demo password to the active users of a seeded demo company who have none (a company
    seeded before the console had passwords). Returns how many; 0 for a store that is not the demo."""
    with session_scope(url, write=True) as s:
        if s.get(StoreMeta, META_KEY) is None:
            return 0
        missing = User.active.is_(True) & User.password_hash.is_(None)
        n = s.scalar(select(func.count()).select_from(User).where(missing)) or 0
        if n:
            s.execute(update(User).where(missing).values(password_hash=hash_password(DEMO_PASSWORD)))
        return n


def seed_store(
    url: str,
    options: SeedOptions,
    *,
    reset: bool = False,
    progress: Progress | None = None,
    actor: str = "admin",
) -> SeedReport:
    """Fill the store with the demo company. The same options again: nothing written."""
    started = time.monotonic()
    migrate(url)
    if reset:
        reset_schema(url)
        with session_scope(url, write=True) as s:
            audit.append(
                s, audit.AuditEvent(actor=actor, action="store.reset", details={"by": "hrops seed --reset"})
            )
    else:
        _refuse_if_occupied(url, options)
        with session_scope(url) as s:
            meta = s.get(StoreMeta, META_KEY)
        if meta is not None:
            # A company seeded before the handbook shipped gets it now; otherwise nothing changes.
            with session_scope(url, write=True) as s:
                documents = len(seed_handbook(s, actor))
            return SeedReport.model_validate(
                {**meta.value["report"], "already_seeded": True, "policy_documents": documents}
            )

    tick = progress or (lambda *_: None)
    tick("generating people", 0, 1)
    company = generate(options.employees, options.seed, options.as_of, options.years)
    tick("generating people", 1, 1)
    with engine_for(url).begin() as conn:  # everything but learning in one transaction
        counts = _write_company(conn, company, tick)
        counts["leave_records"] = _insert(conn, LeaveRecord, time_off.rows(company, options.seed))
        accounts = _write_users(conn, company, options.seed)
        advance_sequences(conn)  # units and courses came with their ids
    counts["learning_records"] = _write_learning(url, company, options, tick)
    tick("policy handbook", 0, 1)
    with session_scope(url, write=True) as s:
        counts["policy_documents"] = len(seed_handbook(s, actor))
    tick("policy handbook", 1, 1)
    _index_handbook(url, tick)
    report = SeedReport(
        employees=len(company.people),
        active=sum(1 for p in company.people if p.termination is None),
        leavers=sum(1 for p in company.people if p.termination is not None),
        users=len(company.people) + 1,
        seconds=round(time.monotonic() - started, 2),
        demo_accounts=accounts,
        **counts,
    )
    with session_scope(url, write=True) as s:
        # Written last: a store without this row was not seeded completely and needs --reset.
        s.add(
            StoreMeta(
                key=META_KEY,
                value={"options": options.model_dump(mode="json"), "report": report.model_dump(mode="json")},
            )
        )
        audit.append(
            s,
            audit.AuditEvent(
                actor=actor,
                action="store.seeded",
                details={
                    "options": options.model_dump(mode="json"),
                    "counts": report.model_dump(include=set(counts) | {"employees", "users"}),
                },
            ),
        )
    return report


def _index_handbook(url: str, tick: Progress) -> None:
    """The handbook's embeddings now (with the default local model, about 15 s), so the first policy
    question does not wait for them; nothing when embeddings are off."""
    from hrops.settings import get_settings
    from tools.knowledge import embeddings

    settings = get_settings()
    if not settings.embedding_model:
        return
    tick("policy search index", 0, 1)
    with session_scope(url) as s:
        embeddings.embed_sections(s, settings)
    tick("policy search index", 1, 1)


def _refuse_if_occupied(url: str, options: SeedOptions) -> None:
    with session_scope(url) as s:
        meta = s.get(StoreMeta, META_KEY)
        employees = s.scalar(select(func.count()).select_from(Employee)) or 0
    if meta is not None:
        have = SeedOptions.model_validate(meta.value["options"])
        if have == options:
            return
        raise StoreNotEmpty(
            f"the store already holds a demo company seeded with --employees {have.employees} --seed {have.seed} "
            f"--learning-per-employee {have.learning_per_employee:g} --as-of {have.as_of}; run `hrops seed --reset ...` "
            "to replace it (this deletes all HR data and the audit log)"
        )
    if employees:
        raise StoreNotEmpty(
            f"the store already holds {employees:,} employees that were not seeded (imported or partly seeded); "
            "run `hrops seed --reset ...` to replace them (this deletes all HR data and the audit log)"
        )


def _chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _insert(conn: Connection, table: Any, rows: Iterable[dict[str, Any]]) -> int:
    n = 0
    for chunk in _chunks(rows):
        conn.execute(insert(table), chunk)
        n += len(chunk)
    return n


def _write_company(conn: Connection, company: Company, tick: Progress) -> dict[str, int]:
    created = datetime.now(UTC)
    units = company.units
    tick("org units", 0, len(units))
    _insert(
        conn,
        OrgUnit,
        (
            {
                "id": u.id,
                "code": u.code,
                "name": u.name,
                "name_zh": u.name_zh,
                "kind": u.kind,
                "parent_id": u.parent.id if u.parent else None,
                "path": u.path,
                "depth": u.depth,
                "head_employee_id": u.head.id if u.head else None,
            }
            for u in units
        ),
    )
    people = company.people
    tick("employees", 0, len(people))
    _insert(
        conn,
        Employee,
        (
            {
                "id": p.id,
                "given_name": p.given,
                "family_name": p.family,
                "display_name": p.display,
                "work_email": f"{p.username}@acme.example",
                "personal_email": p.personal_email,
                "phone": p.phone,
                "birth_date": p.birth,
                "gender": p.gender,
                "national_id": p.national_id,
                "hire_date": p.hire,
                "termination_date": p.termination,
                "leaver_type": p.leaver_type,
                "leaver_reason": p.leaver_reason,
                "status": "terminated" if p.termination else "active",
                "source": "demo",
                "created_at": created,
            }
            for p in people
        ),
    )
    tick("employees", len(people), len(people))

    def jobs() -> Iterator[dict[str, Any]]:
        for p in people:
            for i, seg in enumerate(p.segments):
                nxt = p.segments[i + 1].start if i + 1 < len(p.segments) else p.termination
                boss = manager_of(p, seg.unit)
                yield {
                    "employee_id": p.id,
                    "title": title_of(p, seg),
                    "level": seg.level,
                    "job_family": seg.unit.division.family if seg.unit.division else "Executive",
                    "org_unit_id": seg.unit.id,
                    "manager_id": boss.id if boss else None,
                    "location": (seg.unit.location.city if seg.unit.location else "Shanghai"),
                    "fte": Decimal("1.00"),
                    "valid_from": seg.start,
                    "valid_to": nxt,
                    "change_reason": seg.reason,
                }

    def pay() -> Iterator[dict[str, Any]]:
        for p in people:
            for i, row in enumerate(p.pay):
                nxt = p.pay[i + 1].start if i + 1 < len(p.pay) else p.termination
                yield {
                    "employee_id": p.id,
                    "base_amount": Decimal(str(row.amount)),
                    "currency": row.currency,
                    "frequency": "annual",
                    "valid_from": row.start,
                    "valid_to": nxt,
                    "change_reason": row.reason,
                }

    def homes() -> Iterator[dict[str, Any]]:
        for p in people:
            for i, h in enumerate(p.homes):
                nxt = p.homes[i + 1].start if i + 1 < len(p.homes) else p.termination
                yield {
                    "employee_id": p.id,
                    "line1": h.line1,
                    "city": h.city,
                    "postcode": h.postcode,
                    "country": h.country,
                    "valid_from": h.start,
                    "valid_to": nxt,
                }

    tick("history", 0, 3)
    counts = {"org_units": len(units), "job_assignments": _insert(conn, JobAssignment, jobs())}
    tick("history", 1, 3)
    counts["compensation_rows"] = _insert(conn, Compensation, pay())
    tick("history", 2, 3)
    counts["addresses"] = _insert(conn, EmployeeAddress, homes())
    tick("history", 3, 3)
    counts["pay_bands"] = _insert(conn, PayBand, pay_bands(company.start))
    from tools.demo_company.catalogue import COURSES

    counts["courses"] = _insert(
        conn,
        Course,
        (
            {
                "id": c.id,
                "title": c.title,
                "title_zh": c.title_zh,
                "category": c.category,
                "hours": Decimal(str(c.hours)),
                "mandatory": c.mandatory,
                "delivery": c.delivery,
            }
            for c in COURSES
        ),
    )
    return counts


def _write_users(conn: Connection, company: Company, seed: int) -> dict[str, str]:
    """A user per employee (leavers inactive), `admin`, and HR roles from the HR division."""
    # One hash for all (a scrypt hash per user would cost a minute for a big company; the password
    # is public anyway), salted from the seed so the same seed gives the same store. Leavers get none.
    salt = hashlib.sha256(f"hrops demo {seed}".encode()).digest()[:16]
    demo_hash = hash_password(DEMO_PASSWORD, salt=salt)
    _insert(
        conn,
        User,
        [
            {
                "username": "admin",
                "employee_id": None,
                "display_name": "Administrator",
                "active": True,
                "password_hash": demo_hash,
            },
            *(
                {
                    "username": p.username,
                    "employee_id": p.id,
                    "display_name": p.display,
                    "active": p.termination is None,
                    "password_hash": demo_hash if p.termination is None else None,
                }
                for p in company.people
            ),
        ],
    )
    hr = [
        p
        for p in company.people
        if p.termination is None
        and p.head_of is None
        and p.segments[-1].unit.division
        and p.segments[-1].unit.division.code == "HR"
    ]

    def from_dept(word: str, k: int, skip: set[str]) -> list[str]:
        preferred = [
            p.username for p in hr if word in (p.segments[-1].unit.name or "") and p.username not in skip
        ]
        others = [p.username for p in hr if p.username not in skip and p.username not in preferred]
        return (preferred + others)[:k]

    ops = from_dept("HR Operations", 3, set())
    comp = from_dept("Compensation", 2, set(ops))
    divisions = [u for u in company.units if u.kind == "division"]
    hrbps = from_dept("Talent", len(divisions), set(ops) | set(comp)) or ops
    grants = [{"username": "admin", "role": Role.ADMIN, "org_unit_id": None}]
    grants += [{"username": u, "role": Role.HR_OPS, "org_unit_id": None} for u in ops]
    grants += [{"username": u, "role": Role.COMP_ANALYST, "org_unit_id": None} for u in comp]
    accounts = {"admin": "admin"}
    if ops:
        accounts["hr_ops"] = ops[0]
    if comp:
        accounts["comp_analyst"] = comp[0]
    for i, div in enumerate(divisions):
        user = hrbps[i % len(hrbps)]
        grants.append({"username": user, "role": Role.HRBP, "org_unit_id": div.id})
        accounts[f"hrbp:{div.code}"] = user
    _insert(conn, UserRole, grants)
    return accounts


def _write_learning(url: str, company: Company, options: SeedOptions, tick: Progress) -> int:
    """Chunked transactions: millions of rows must not make one giant write-ahead log."""
    expected = round(options.learning_per_employee * options.employees)
    engine = engine_for(url)
    sqlite = engine.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    sql = f"INSERT INTO learning_records ({', '.join(LEARNING_COLUMNS)}) VALUES ({', '.join([mark] * 8)})"

    def wire(row: learning.Row) -> tuple:
        e, c, enrolled, due, done, hours, score, status = row  # SQLite stores dates as ISO text
        return (
            e,
            c,
            enrolled.isoformat(),
            due.isoformat() if due else None,
            done.isoformat() if done else None,
            hours,
            score,
            status,
        )

    written = 0
    tick("learning records", 0, expected)
    raw = engine.raw_connection()  # DB-API level: executemany on plain tuples is several times faster
    try:
        cur = raw.cursor()
        if sqlite:
            # Rows reference generated employees and courses only; per-row FK checks would double the time.
            cur.execute("PRAGMA foreign_keys=OFF")
        for chunk in _chunks(learning.rows(company, options.seed, options.learning_per_employee), 50_000):
            if sqlite:
                cur.execute("BEGIN IMMEDIATE")
                cur.executemany(sql, [wire(r) for r in chunk])
            elif hasattr(cur, "copy"):
                # psycopg 3: COPY streams the rows; executemany made a round trip per row
                with cur.copy(f"COPY learning_records ({', '.join(LEARNING_COLUMNS)}) FROM STDIN") as copy:
                    for r in chunk:
                        copy.write_row(r)
            else:
                cur.executemany(sql, chunk)
            raw.commit()
            written += len(chunk)
            tick("learning records", written, max(expected, written))
    finally:
        if sqlite:
            raw.cursor().execute("PRAGMA foreign_keys=ON")
        raw.close()
    tick("learning records", written, written)
    return written
