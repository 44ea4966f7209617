"""A tiny, hand-made company for focused tests (the seeded demo company is tested separately).

Root (CEO Chen Jing, E1001)
├── Platform team ENG-PLAT (head Li Wei, E1002)
│   ├── Wang Fang (E1003)
│   └── Tom Baker (E1004, left last year)
└── Data team ENG-DATA (headed by the CEO, nobody else yet)
HR ops: Amy Hughes (E1005, role hr_ops), admin: `admin`. Pay band L5 Shanghai: 240k-300k-360k CNY.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from tools.store.db import advance_sequences, session_scope
from tools.store.models import (
    Compensation,
    Employee,
    EmployeeAddress,
    JobAssignment,
    OrgUnit,
    PayBand,
    Role,
    User,
    UserRole,
)

PEOPLE = [
    # id, given, family, display, username, title, org, manager
    ("E1001", "Jing", "Chen", "陈静", "chen.jing", "Chief Executive Officer", 1, None),
    ("E1002", "Wei", "Li", "李伟", "li.wei", "Engineering Manager", 2, "E1001"),
    ("E1003", "Fang", "Wang", "王芳", "wang.fang", "Data Engineer", 2, "E1002"),
    ("E1004", "Tom", "Baker", "Tom Baker", "tom.baker", "Data Engineer", 2, "E1002"),
    ("E1005", "Amy", "Hughes", "Amy Hughes", "amy.hughes", "HR Operations Specialist", 1, "E1001"),
]
HIRED = date(2020, 3, 1)
LEFT = date(2025, 6, 30)


def build(url: str) -> None:
    with session_scope(url, write=True) as s:
        s.add_all(
            [
                OrgUnit(
                    id=1,
                    code="ROOT",
                    name="Acme",
                    name_zh="艾克美",
                    kind="company",
                    parent_id=None,
                    path="/1/",
                    depth=0,
                    head_employee_id="E1001",
                ),
                OrgUnit(
                    id=3,
                    code="ENG-DATA",
                    name="Data",
                    name_zh="数据组",
                    kind="team",
                    parent_id=1,
                    path="/1/3/",
                    depth=1,
                    head_employee_id="E1001",
                ),
                OrgUnit(
                    id=2,
                    code="ENG-PLAT",
                    name="Platform",
                    name_zh="平台组",
                    kind="team",
                    parent_id=1,
                    path="/1/2/",
                    depth=1,
                    head_employee_id="E1002",
                ),
            ]
        )
        for eid, given, family, display, username, title, org, manager in PEOPLE:
            left = LEFT if eid == "E1004" else None
            s.add(
                Employee(
                    id=eid,
                    given_name=given,
                    family_name=family,
                    display_name=display,
                    work_email=f"{username}@acme.example",
                    hire_date=HIRED,
                    termination_date=left,
                    status="terminated" if left else "active",
                    leaver_type="voluntary" if left else None,
                    created_at=datetime(2020, 3, 1, tzinfo=UTC),
                )
            )
            s.flush()
            s.add(
                JobAssignment(
                    employee_id=eid,
                    title=title,
                    job_family="Engineering",
                    level="L5",
                    org_unit_id=org,
                    manager_id=manager,
                    location="Shanghai",
                    valid_from=HIRED,
                    valid_to=left,
                    change_reason="hire",
                )
            )
            s.add(
                Compensation(
                    employee_id=eid,
                    base_amount=300000,
                    currency="CNY",
                    frequency="annual",
                    valid_from=HIRED,
                    valid_to=left,
                    change_reason="hire",
                )
            )
            s.add(
                EmployeeAddress(
                    employee_id=eid,
                    line1="88 Century Avenue",
                    city="Shanghai",
                    postcode="200120",
                    country="CN",
                    valid_from=HIRED,
                    valid_to=left,
                )
            )
            s.add(User(username=username, employee_id=eid, display_name=display))
        s.add(User(username="admin", employee_id=None, display_name="Administrator"))
        s.flush()
        s.add_all(
            [UserRole(username="admin", role=Role.ADMIN), UserRole(username="amy.hughes", role=Role.HR_OPS)]
        )
        s.add(
            PayBand(
                level="L5",
                location="Shanghai",
                currency="CNY",
                frequency="annual",
                min_amount=240000,
                mid_amount=300000,
                max_amount=360000,
                valid_from=date(2020, 1, 1),
            )
        )
        s.flush()
        advance_sequences(s)  # the units above came with their ids, as a seeded store's do
