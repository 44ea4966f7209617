"""The fields of each form, per layout (v2 renamed labels, names and ids), and their validation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

DEPARTMENTS = {
    "D100": "Engineering",
    "D200": "Product",
    "D300": "Sales",
    "D400": "Marketing",
    "D500": "Operations",
    "D600": "Finance",
    "D700": "Human Resources",
    "D800": "Legal",
}
POSITION_TITLES = [
    "Associate",
    "Professional",
    "Senior professional",
    "Lead",
    "Manager",
    "Director",
    "Executive",
]
LOCATIONS = {
    "SHA": "Shanghai",
    "PEK": "Beijing",
    "SZX": "Shenzhen",
    "SIN": "Singapore",
    "LON": "London",
    "NYC": "New York",
}
GRADES = [f"G{n:02d}" for n in range(1, 10)]
CURRENCIES = ["CNY", "USD", "SGD", "GBP", "EUR"]
SEXES = {"M": "Male", "F": "Female", "X": "Not stated"}
EMPTYPES = {"FT": "Full-time", "PT": "Part-time", "CT": "Contractor"}


def positions(dept: str) -> list[tuple[str, str]]:
    return [(f"{dept}-{i:02d}", t) for i, t in enumerate(POSITION_TITLES, 1)] if dept in DEPARTMENTS else []


@dataclass(frozen=True)
class Field:
    key: str  # column in the store
    kind: str  # text, select, radio, checkbox
    v1: tuple[str, str, str]  # label (legend for radios), name, id
    v2: tuple[str, str, str]
    max_len: int | None = None
    required: bool = True
    placeholder: str | None = None

    def label(self, layout: str) -> str:
        return (self.v1 if layout == "v1" else self.v2)[0]

    def name(self, layout: str) -> str:
        return (self.v1 if layout == "v1" else self.v2)[1]

    def id(self, layout: str) -> str:
        return (self.v1 if layout == "v1" else self.v2)[2]


F = Field
FIELDS = {
    f.key: f
    for f in [
        F("empno", "text", ("Employee no.", "empno", "emp_no"), ("Staff number", "staff_no", "f1")),
        F("surname", "text", ("Family name", "surname", "fam_nm"), ("Last name", "lname", "f2"), 40),
        F("given", "text", ("Given name", "given", "gvn_nm"), ("First name(s)", "fname", "f3"), 40),
        F(
            "name_local",
            "text",
            ("Local-script name", "name_local", "nm_loc"),
            ("Name in local script", "local_nm", "f4"),
            40,
            False,
        ),
        F(
            "dob",
            "text",
            ("Date of birth (DD/MM/YYYY)", "dob", "dob_dt"),
            ("Birth date (DD/MM/YYYY)", "birth", "f5"),
            placeholder="DD/MM/YYYY",
        ),
        F("sex", "radio", ("Gender", "sex", ""), ("Sex", "gender", "")),
        F("natid", "text", ("National ID", "natid", "nat_id"), ("ID number", "idno", "f7"), 30),
        F("dept", "select", ("Department", "dept", "dept_sel"), ("Organisation unit", "org", "g1")),
        F("pos", "select", ("Position", "pos", "pos_sel"), ("Job", "job", "g2")),
        F(
            "start_dt",
            "text",
            ("Start date (DD/MM/YYYY)", "start_dt", "start_dt"),
            ("Commencement date (DD/MM/YYYY)", "commence", "g3"),
            placeholder="DD/MM/YYYY",
        ),
        F("emptype", "radio", ("Employment type", "emptype", ""), ("Contract type", "ctype", "")),
        F("loc", "select", ("Work location", "loc", "loc_sel"), ("Site", "site", "g5")),
        F(
            "ot_flag",
            "checkbox",
            ("Eligible for overtime", "ot_flag", "ot_chk"),
            ("Overtime eligible", "ot", "g6"),
            required=False,
        ),
        F("grade", "select", ("Pay grade", "grade", "grade_sel"), ("Band", "band", "h1")),
        F("salary", "text", ("Annual salary", "salary", "sal"), ("Yearly salary", "yearly_sal", "h2")),
        F("ccy", "select", ("Currency", "ccy", "ccy_sel"), ("Currency code", "cur", "h3")),
        F(
            "bank_acct",
            "text",
            ("Bank account no.", "bank_acct", "bank"),
            ("Account number", "acct_no", "h4"),
            34,
            False,
        ),
        F(
            "pension",
            "checkbox",
            ("Pension scheme member", "pension", "pens_chk"),
            ("Pension", "pens", "h5"),
            required=False,
        ),
        F(
            "addr1",
            "text",
            ("Address line 1", "addr1", "addr1"),
            ("Street address", "street", "u1"),
            120,
            False,
        ),
        F("city", "text", ("City", "city", "city"), ("Town/City", "town", "u2"), 60, False),
        F("postcode", "text", ("Postcode", "postcode", "pc"), ("Postal code", "postal", "u3"), 10, False),
    ]
}

STEPS = {
    "personal": ["empno", "surname", "given", "name_local", "dob", "sex", "natid"],
    "job": ["dept", "pos", "start_dt", "emptype", "loc", "ot_flag"],
    "pay": ["grade", "salary", "ccy", "bank_acct", "pension"],
}
UPDATE = ["surname", "given", "dept", "pos", "loc", "bank_acct", "addr1", "city", "postcode"]
# Labels of the read-only record page (the same in both layouts).
VIEW = [
    ("Employee no.", "empno"),
    ("Family name", "surname"),
    ("Given name", "given"),
    ("Local-script name", "name_local"),
    ("Date of birth", "dob"),
    ("Gender", "sex"),
    ("National ID", "natid"),
    ("Department", "dept"),
    ("Position", "pos"),
    ("Start date", "start_dt"),
    ("Employment type", "emptype"),
    ("Work location", "loc"),
    ("Eligible for overtime", "ot_flag"),
    ("Pay grade", "grade"),
    ("Annual salary", "salary"),
    ("Currency", "ccy"),
    ("Bank account no.", "bank_acct"),
    ("Pension scheme member", "pension"),
    ("Address line 1", "addr1"),
    ("City", "city"),
    ("Postcode", "postcode"),
]
BUTTONS = {
    "next": {"v1": "Next >", "v2": "Continue"},
    "submit": {"v1": "Submit", "v2": "Create record"},
    "save": {"v1": "Save", "v2": "Save changes"},
}


def read(form: dict[str, str], keys: list[str], layout: str) -> dict[str, str]:
    """Submitted values by store column; checkboxes become Y/N."""
    out = {}
    for key in keys:
        f = FIELDS[key]
        raw = form.get(f.name(layout))
        out[key] = ("Y" if raw else "N") if f.kind == "checkbox" else (raw or "").strip()
    return out


def _date(text: str) -> date | None:
    try:
        return (
            datetime.strptime(text, "%d/%m/%Y").date() if re.fullmatch(r"\d{2}/\d{2}/\d{4}", text) else None
        )
    except ValueError:
        return None


def validate(values: dict[str, str], layout: str) -> list[str]:
    """Messages as the system shows them: `<label>: <problem>`."""
    errors = []

    def bad(key: str, message: str) -> None:
        errors.append(f"{FIELDS[key].label(layout)}: {message}")

    for key, value in values.items():
        f = FIELDS[key]
        if f.kind == "checkbox":
            continue
        if not value:
            if f.required:
                bad(key, "required")
            continue
        if f.max_len and len(value) > f.max_len:
            bad(key, f"at most {f.max_len} characters")
        elif key == "empno" and not re.fullmatch(r"\d{6}", value):
            bad(key, "must be 6 digits")
        elif (
            key == "dob"
            and ((d := _date(value)) is None or d >= date.today())
            or key == "start_dt"
            and _date(value) is None
        ):
            bad(key, "use DD/MM/YYYY")
        elif key == "sex" and value not in SEXES or key == "emptype" and value not in EMPTYPES:
            bad(key, "choose one")
        elif (
            key == "dept"
            and value not in DEPARTMENTS
            or key == "loc"
            and value not in LOCATIONS
            or key == "grade"
            and value not in GRADES
            or key == "ccy"
            and value not in CURRENCIES
        ):
            bad(key, "unknown code")
        elif key == "salary" and (not re.fullmatch(r"\d+(\.\d{1,2})?", value) or float(value) <= 0):
            bad(key, "enter a number such as 250000.00")
    if "pos" in values and values.get("pos") and values["pos"] not in dict(positions(values.get("dept", ""))):
        bad("pos", "not a position of this department")
    return errors


def normalise(values: dict[str, str]) -> dict[str, str]:
    if values.get("salary"):
        values = {**values, "salary": f"{float(values['salary']):.2f}"}
    return values
