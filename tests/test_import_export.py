"""Employee import (validated, all-or-nothing, idempotent, audited) and formatted export."""

from __future__ import annotations

import csv
import json
import subprocess
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from hrops.cli import app
from hrops.cli.common import CliError
from tests.conftest import REPO, SHARED_DATA, TODAY
from tools.employee_io import (
    ImportFileError,
    MappingError,
    export_employees,
    import_employees,
    load_mapping,
)
from tools.store.classification import Classification
from tools.store.db import session_scope
from tools.store.models import (
    AuditEntry,
    Compensation,
    Employee,
    EmployeeAddress,
    JobAssignment,
    OrgUnit,
)

runner = CliRunner()
IBM_CSV = SHARED_DATA / "ibm_hr_attrition" / "WA_Fn-UseC_-HR-Employee-Attrition.csv"
IBM_MAPPING = REPO / "examples" / "ibm_attrition" / "mapping.yaml"
WRITTEN = (Employee, JobAssignment, Compensation, EmployeeAddress, AuditEntry)

MAPPING = """\
version: 1
name: acme_hris
source: {sheet: Staff}
fields:
  employee_id: Emp No
  given_name: First Name
  family_name: Last Name
  work_email: Email
  birth_date: {column: DOB, date_format: "%d/%m/%Y"}
  hire_date: {column: Start Date, date_format: "%d/%m/%Y"}
  termination_date: {column: Leave Date, date_format: "%d/%m/%Y"}
  leaver_type: {column: Leaver Type, map: {Resigned: voluntary, Dismissed: involuntary}}
  title: Job Title
  job_family: Family
  level: Grade
  org_unit_code: Dept
  manager_id: Manager
  location: Office
  fte: FTE
  base_amount: Salary
  currency: Currency
  pay_frequency: {value: annual}
  address_line1: Street
  address_city: City
  address_postcode: Postcode
  address_country: {column: Country, default: CN}
"""
HEADER = [
    "Emp No",
    "First Name",
    "Last Name",
    "Email",
    "DOB",
    "Start Date",
    "Leave Date",
    "Leaver Type",
    "Job Title",
    "Family",
    "Grade",
    "Dept",
    "Manager",
    "Office",
    "FTE",
    "Salary",
    "Currency",
    "Street",
    "City",
    "Postcode",
    "Country",
]
PEOPLE = [  # E2003 left; E2002 reports to E2001 (in the same file)
    [
        "E2001",
        "Mei",
        "Zhang",
        "mei.zhang@acme.example",
        "14/02/1985",
        "01/03/2019",
        "",
        "",
        "Engineering Manager",
        "Engineering",
        "L6",
        "ENG",
        "",
        "Shanghai",
        "1",
        "480,000",
        "CNY",
        "1 Century Ave",
        "Shanghai",
        "200120",
        "",
    ],
    [
        "E2002",
        "Jun",
        "Liu",
        "jun.liu@acme.example",
        "03/07/1992",
        "15/06/2021",
        "",
        "",
        "Data Engineer",
        "Engineering",
        "L4",
        "ENG",
        "E2001",
        "Shanghai",
        "80%",
        "300000",
        "CNY",
        "8 Nanjing Rd",
        "Shanghai",
        "200001",
        "CN",
    ],
    [
        "E2003",
        "Ana",
        "Silva",
        "ana.silva@acme.example",
        "",
        "01/01/2020",
        "30/06/2025",
        "Resigned",
        "Analyst",
        "Finance",
        "L3",
        "ROOT",
        "",
        "Singapore",
        "1",
        "90000",
        "SGD",
        "1 Raffles Pl",
        "Singapore",
        "048616",
        "SG",
    ],
]


@pytest.fixture
def mapping_file(tmp_path: Path) -> Path:
    path = tmp_path / "acme.yaml"
    path.write_text(MAPPING)
    return path


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def write_xlsx(path: Path, rows: list[list[object]], header: list[str] = HEADER, above: int = 0) -> Path:
    """A workbook whose 'Staff' sheet is not the first one, with `above` title rows over the header."""
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    ws = wb.create_sheet("Staff")
    for i in range(above):
        ws.append([f"Acme HRIS export, title line {i + 1}"])
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def people(**changes: dict[str, str]) -> list[list[str]]:
    """PEOPLE with cells changed: people(E2002={"Salary": "-5"})."""
    rows = [list(r) for r in PEOPLE]
    for row in rows:
        for column, value in changes.get(row[0], {}).items():
            row[HEADER.index(column)] = value
    return rows


def counts(url: str) -> dict[str, int]:
    with session_scope(url) as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in WRITTEN}


def run_import(url: str, path: Path, mapping_file: Path, **kw: object):
    return import_employees(url, path, load_mapping(mapping_file), as_of=TODAY, actor="amy.hughes", **kw)


# --- valid files -------------------------------------------------------------------------------------


def test_csv_import_writes_effective_dated_records_and_audit(
    orgs: str, mapping_file: Path, tmp_path: Path
) -> None:
    report = run_import(orgs, write_csv(tmp_path / "staff.csv", PEOPLE), mapping_file)
    assert report.ok and report.written and report.created == 3
    with session_scope(orgs) as s:
        jun = s.get(Employee, "E2002")
        assert jun.display_name == "Jun Liu" and jun.hire_date == date(2021, 6, 15) and jun.status == "active"
        job = s.scalar(select(JobAssignment).where(JobAssignment.employee_id == "E2002"))
        assert (job.manager_id, job.fte, job.valid_from, job.valid_to) == (
            "E2001",
            Decimal("0.80"),
            jun.hire_date,
            None,
        )
        pay = s.scalar(select(Compensation).where(Compensation.employee_id == "E2001"))
        assert (pay.base_amount, pay.currency, pay.frequency) == (Decimal("480000"), "CNY", "annual")
        home = s.scalar(select(EmployeeAddress).where(EmployeeAddress.employee_id == "E2001"))
        assert home.country == "CN" and home.valid_from == date(2019, 3, 1)  # the mapping's default country

        ana = s.get(Employee, "E2003")
        assert (ana.status, ana.termination_date, ana.leaver_type) == (
            "terminated",
            date(2025, 6, 30),
            "voluntary",
        )
        for model in (JobAssignment, Compensation, EmployeeAddress):
            row = s.scalar(select(model).where(model.employee_id == "E2003"))
            assert row.valid_to == ana.termination_date  # closed on the leaving day

        audit = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        imported = [a for a in audit if a.action == "employee.imported"]
        assert sorted(a.entity_id for a in imported) == ["E2001", "E2002", "E2003"]
        assert imported[0].details["file"] == "staff.csv" and "hire_date" in imported[0].details["fields"]
        assert "Mei" not in json.dumps([a.details for a in audit])  # field names, never personal values
        summary = audit[-1]
        assert summary.action == "employees.import" and summary.details["created"] == 3
        assert len(summary.details["sha256"]) == 64


def test_xlsx_with_date_cells_header_below_titles_and_a_chosen_sheet(
    orgs: str, mapping_file: Path, tmp_path: Path
) -> None:
    rows: list[list[object]] = people()
    for row in rows:  # real Excel dates, not text
        for col in ("DOB", "Start Date", "Leave Date"):
            text = row[HEADER.index(col)]
            row[HEADER.index(col)] = date(int(text[6:]), int(text[3:5]), int(text[:2])) if text else None
    rows[1][HEADER.index("Salary")] = "lots"
    mapping_file.write_text(
        MAPPING.replace("source: {sheet: Staff}", "source: {sheet: Staff, header_row: 3}")
    )
    path = write_xlsx(tmp_path / "staff.xlsx", rows, above=2)

    report = run_import(orgs, path, mapping_file)
    assert not report.written and report.sheet == "Staff"
    [error] = report.errors
    assert (error.row, error.column) == (
        5,
        "Salary",
    )  # titles on rows 1-2, header on 3: the second person is row 5
    assert "not a number" in error.message

    rows[1][HEADER.index("Salary")] = 300000
    report = run_import(orgs, write_xlsx(tmp_path / "staff.xlsx", rows, above=2), mapping_file)
    assert report.created == 3
    with session_scope(orgs) as s:
        assert s.get(Employee, "E2003").termination_date == date(2025, 6, 30)


# --- bad rows: reported with row, column and reason; nothing written -----------------------------------


@pytest.mark.parametrize(
    ("changes", "row", "column", "reason"),
    [
        ({"E2002": {"Start Date": "31/02/2021"}}, 3, "Start Date", "expected DD/MM/YYYY"),
        ({"E2001": {"Salary": "-480000"}}, 2, "Salary", "more than 0"),
        ({"E2001": {"Salary": "12k"}}, 2, "Salary", "not a number"),
        ({"E2003": {"Currency": "XYZ"}}, 4, "Currency", "unknown currency 'XYZ'"),
        ({"E2003": {"Dept": "FINANCE"}}, 4, "Dept", "unknown org unit 'FINANCE'"),
        ({"E2002": {"Manager": "E9999"}}, 3, "Manager", "manager E9999 not found"),
        ({"E2002": {"FTE": "1.5"}}, 3, "FTE", "fte must be more than 0 and at most 1"),
        ({"E2001": {"Job Title": ""}}, 2, "Job Title", "missing required value"),
        ({"E2003": {"Leave Date": "01/01/2019"}}, 4, "Leave Date", "not after the hire date"),
        ({"E2003": {"Leaver Type": "Retired"}}, 4, "Leaver Type", "not in the map"),
        ({"E2002": {"Country": "XX"}}, 3, "Country", "ISO 3166-1"),
        ({"E2001": {"Manager": "E2001"}}, 2, "Manager", "cannot be their own manager"),
        ({"E2001": {"Manager": "E2002"}}, 2, "Manager", "reporting line loops: E2001 → E2002 → E2001"),
    ],
)
def test_a_bad_row_is_reported_and_nothing_is_written(
    orgs: str, mapping_file: Path, tmp_path: Path, changes: dict, row: int, column: str, reason: str
) -> None:
    report = run_import(orgs, write_csv(tmp_path / "staff.csv", people(**changes)), mapping_file)
    assert not report.written and report.created == 0
    assert any(e.row == row and e.column == column and reason in e.message for e in report.errors), (
        report.errors
    )
    assert set(counts(orgs).values()) == {0}


def test_duplicate_ids_name_both_rows(orgs: str, mapping_file: Path, tmp_path: Path) -> None:
    rows = people(E2003={"Emp No": "E2001", "Email": "other@acme.example"})
    report = run_import(orgs, write_csv(tmp_path / "staff.csv", rows), mapping_file)
    dupes = {e.row: e.message for e in report.errors if "duplicate" in e.message}
    assert set(dupes) == {2, 4} and "also in row 4" in dupes[2] and "also in row 2" in dupes[4]
    assert set(counts(orgs).values()) == {0}


def test_wrong_columns_name_missing_and_available(orgs: str, mapping_file: Path, tmp_path: Path) -> None:
    header = ["Start date" if h == "Start Date" else h for h in HEADER if h != "Salary"]
    rows = [[c for h, c in zip(HEADER, r, strict=True) if h != "Salary"] for r in PEOPLE]
    with pytest.raises(ImportFileError) as e:
        run_import(orgs, write_csv(tmp_path / "staff.csv", rows, header), mapping_file)
    msg = str(e.value)
    assert (
        "'Start Date'" in msg and "did you mean 'Start date'" in msg and "'Salary' (for base_amount)" in msg
    )
    assert "The file's columns" in msg and "Emp No" in msg
    assert set(counts(orgs).values()) == {0}


@pytest.mark.parametrize("kind", ["header only csv", "header only sheet", "empty sheet", "empty csv"])
def test_files_without_data_rows_are_refused(
    orgs: str, mapping_file: Path, tmp_path: Path, kind: str
) -> None:
    if kind == "header only csv":
        path = write_csv(tmp_path / "staff.csv", [["", ""]])  # a blank line is not a data row
    elif kind == "header only sheet":
        path = write_xlsx(tmp_path / "staff.xlsx", [])
    elif kind == "empty sheet":
        path = write_xlsx(tmp_path / "staff.xlsx", [], header=[])
    else:
        path = tmp_path / "staff.csv"
        path.write_text("")
    with pytest.raises(ImportFileError, match="no data rows|is empty"):
        run_import(orgs, path, mapping_file)


def test_unreadable_files_are_refused(orgs: str, mapping_file: Path, tmp_path: Path) -> None:
    (tmp_path / "staff.txt").write_text("hello")
    with pytest.raises(ImportFileError, match=r"use an Excel workbook \(.xlsx\) or a CSV"):
        run_import(orgs, tmp_path / "staff.txt", mapping_file)
    (tmp_path / "fake.xlsx").write_text("not a zip")
    with pytest.raises(ImportFileError, match="cannot read fake.xlsx as an Excel workbook"):
        run_import(orgs, tmp_path / "fake.xlsx", mapping_file)
    write_xlsx(tmp_path / "staff.xlsx", PEOPLE)
    mapping_file.write_text(MAPPING.replace("sheet: Staff", "sheet: staf"))
    with pytest.raises(
        ImportFileError, match="no sheet 'staf' \\(did you mean 'Staff'\\?\\); its sheets: Notes, Staff"
    ):
        run_import(orgs, tmp_path / "staff.xlsx", mapping_file)
    (tmp_path / "gbk.csv").write_bytes(",".join(HEADER).encode() + "\n张,三\n".encode("gbk"))
    with pytest.raises(ImportFileError, match="gb18030"):
        run_import(orgs, tmp_path / "gbk.csv", mapping_file)


# --- skip-invalid, idempotency, changed data --------------------------------------------------------------


def test_skip_invalid_writes_exactly_the_valid_rows(orgs: str, mapping_file: Path, tmp_path: Path) -> None:
    # E2001 is bad; E2002 reports to E2001, so it cannot be written either.
    path = write_csv(tmp_path / "staff.csv", people(E2001={"Currency": "RMB"}))
    report = run_import(orgs, path, mapping_file, skip_invalid=True)
    assert report.written and (report.created, report.skipped) == (1, 2)
    assert report.rows_with_errors == [2, 3]
    [cascade] = [e for e in report.errors if e.row == 3]
    assert "manager E2001 (row 2) is not imported" in cascade.message
    with session_scope(orgs) as s:
        assert list(s.scalars(select(Employee.id))) == ["E2003"]
        summary = s.scalar(select(AuditEntry).where(AuditEntry.action == "employees.import"))
        assert summary.details["skipped_rows"] == [2, 3]


def test_reimport_is_idempotent_and_changes_are_refused(
    orgs: str, mapping_file: Path, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "staff.csv", PEOPLE)
    run_import(orgs, path, mapping_file)
    before = counts(orgs)

    again = run_import(orgs, path, mapping_file)
    assert again.ok and (again.created, again.unchanged, again.written) == (0, 3, False)
    assert counts(orgs) == before

    changed = write_csv(
        tmp_path / "staff2.csv", people(E2002={"Job Title": "Staff Engineer", "Salary": "310000"})
    )
    report = run_import(orgs, changed, mapping_file, skip_invalid=True)
    [error] = report.errors
    assert (
        error.row == 3 and "E2002 already exists with different data in: title, base_amount" in error.message
    )
    assert "record-change requests" in error.message
    assert report.unchanged == 2 and counts(orgs) == before


def test_dry_run_reports_without_writing(orgs: str, mapping_file: Path, tmp_path: Path) -> None:
    report = run_import(orgs, write_csv(tmp_path / "staff.csv", PEOPLE), mapping_file, dry_run=True)
    assert report.ok and report.created == 3 and not report.written
    assert set(counts(orgs).values()) == {0}


def test_manager_in_store_and_parent_unit_under_existing_root(company: str, tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        MAPPING.replace(
            "source: {sheet: Staff}\n",
            "org_units:\n  unknown: create\n  parent: "
            "{code: ACQ, name: Acquired Co}\nsource: {sheet: Staff}\n",
        ).replace("org_unit_code: Dept", "org_unit_name: Dept")
    )
    rows = people(E2001={"Manager": "E1001"})  # the tiny company's CEO
    report = run_import(company, write_csv(tmp_path / "staff.csv", rows), mapping)
    assert report.ok and report.org_units_created[0] == "ACQ"
    with session_scope(company) as s:
        acq = s.scalar(select(OrgUnit).where(OrgUnit.code == "ACQ"))
        root = s.scalar(select(OrgUnit).where(OrgUnit.code == "ROOT"))
        assert acq.parent_id == root.id and acq.path == f"{root.path}{acq.id}/"
        # "ENG" exists nowhere under ACQ, so it is created there, not matched elsewhere
        eng = s.scalar(select(OrgUnit).where(OrgUnit.parent_id == acq.id, OrgUnit.name == "ENG"))
        assert eng.depth == acq.depth + 1
        assert (
            s.scalar(select(JobAssignment.manager_id).where(JobAssignment.employee_id == "E2001")) == "E1001"
        )


def test_empty_store_gets_the_parent_as_root_and_only_needed_units(store_url: str, tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        MAPPING.replace(
            "source: {sheet: Staff}\n",
            "org_units:\n  unknown: create\n  parent: {code: ACQ, name: Acquired Co}\n",
        ).replace("org_unit_code: Dept", "org_unit_name: Dept")
    )
    rows = people(E2003={"Currency": "XYZ", "Dept": "Finance"})  # the only person in Finance is invalid
    report = run_import(store_url, write_csv(tmp_path / "staff.csv", rows), mapping, skip_invalid=True)
    assert report.created == 2 and report.org_units_created == ["ACQ", "ACQ-ENG"]
    with session_scope(store_url) as s:
        acq = s.scalar(select(OrgUnit).where(OrgUnit.code == "ACQ"))
        assert (acq.parent_id, acq.depth, acq.path, acq.kind) == (None, 0, f"/{acq.id}/", "company")
        assert sorted(s.scalars(select(OrgUnit.name))) == ["Acquired Co", "ENG"]


# --- mapping errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("title: Job Title", "title: {colum: Job Title}"),
            "unknown key 'colum' in fields.title (did you mean 'column'?)",
        ),
        (("  level: Grade", "  levle: Grade"), "unknown employee field 'levle' (did you mean 'level'?)"),
        (
            ("name: acme_hris", "nmae: acme_hris"),
            "unknown key 'nmae' in the top level (did you mean 'name'?)",
        ),
        (("  location: Office\n", ""), "no mapping for location"),
        (("  currency: Currency\n", ""), "base_amount needs currency too"),
        (("version: 1", "version: 2"), "version"),
        (
            ("title: Job Title", "title: {column: Job Title, value: X}"),
            "give exactly one of column, template or value",
        ),
        (("level: Grade", "level: [Grade"), "not valid YAML at line"),
    ],
)
def test_mapping_mistakes_are_named(tmp_path: Path, edit: tuple[str, str], expected: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MAPPING.replace(*edit))
    with pytest.raises(MappingError) as e:
        load_mapping(path)
    assert expected in str(e.value)


def test_yes_and_no_stay_text_in_maps() -> None:
    mapping = load_mapping(IBM_MAPPING)
    assert mapping.fields["termination_date"].map == {"Yes": "as_of", "No": None}


# --- the IBM example ----------------------------------------------------------------------------------------


@pytest.mark.skipif(not IBM_CSV.is_file(), reason=f"IBM sample data not found at {IBM_CSV}")
def test_ibm_example_imports_every_row_and_exports(company: str, tmp_path: Path) -> None:
    with IBM_CSV.open(encoding="utf-8-sig", newline="") as f:
        source = list(csv.DictReader(f))
    leavers = sum(r["Attrition"] == "Yes" for r in source)
    departments = Counter(r["Department"] for r in source)

    report = import_employees(company, IBM_CSV, load_mapping(IBM_MAPPING), as_of=TODAY, actor="admin")
    assert report.ok and report.created == len(source)
    with session_scope(company) as s:
        status = Counter(s.scalars(select(Employee.status).where(Employee.id.like("IBM-%"))))
        assert status["terminated"] == leavers and status["active"] == len(source) - leavers
        ibm = s.scalar(select(OrgUnit).where(OrgUnit.code == "IBM"))
        assert s.get(OrgUnit, ibm.parent_id).code == "ROOT"  # the store had a root: IBM goes under it
        per_unit = Counter(
            s.scalars(
                select(OrgUnit.name)
                .join(JobAssignment, JobAssignment.org_unit_id == OrgUnit.id)
                .where(JobAssignment.employee_id.like("IBM-%"))
            )
        )
        assert per_unit == departments
        first = s.get(Employee, "IBM-1")
        row1 = source[0]
        assert first.display_name == f"IBM employee {row1['EmployeeNumber']}"
        years = (TODAY - first.hire_date).days / 365.25
        assert int(row1["YearsAtCompany"]) <= years < int(row1["YearsAtCompany"]) + 1

    again = import_employees(company, IBM_CSV, load_mapping(IBM_MAPPING), as_of=TODAY, actor="admin")
    assert (again.created, again.unchanged) == (0, len(source))

    out = tmp_path / "ibm.xlsx"
    sales = export_employees(company, out, as_of=TODAY, actor="admin", include=set(), org_code="IBM-SALES")
    active_sales = sum(r["Department"] == "Sales" and r["Attrition"] == "No" for r in source)
    assert sales.rows == active_sales


# --- export ----------------------------------------------------------------------------------------------


def test_export_round_trip(orgs: str, mapping_file: Path, tmp_path: Path) -> None:
    run_import(orgs, write_csv(tmp_path / "staff.csv", PEOPLE), mapping_file)
    plain = export_employees(
        orgs, tmp_path / "plain.xlsx", as_of=TODAY, actor="amy.hughes", include=set(), org_code=None
    )
    wb = openpyxl.load_workbook(plain.path)
    ws = wb["Employees"]
    header = [c.value for c in ws[1]]
    assert header[0] == "employee_id" and "org_unit_code" in header and "manager_id" in header
    assert not {"base_amount", "birth_date", "address_line1", "gender"} & set(header)
    assert ws.max_row == 3  # E2003 left before the as-of date
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}3"
    assert ws["A1"].font.bold and ws["A1"].fill.fgColor.rgb.endswith("1F4E78")
    hire = ws.cell(2, header.index("hire_date") + 1)
    assert hire.is_date and hire.value.date() == date(2019, 3, 1)
    about = dict(wb["About"].iter_rows(values_only=True))
    assert about["Employees"] == 2 and "personal" not in about["Classes included"]

    full = export_employees(
        orgs,
        tmp_path / "full.xlsx",
        as_of=TODAY,
        actor="amy.hughes",
        include={Classification.PERSONAL, Classification.SENSITIVE},
        org_code="ENG",
    )
    ws = openpyxl.load_workbook(full.path)["Employees"]
    header = [c.value for c in ws[1]]
    pay = ws.cell(2, header.index("base_amount") + 1)
    assert pay.data_type == "n" and pay.value == 480000 and "address_city" in header
    with session_scope(orgs) as s:
        exports = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "employees.exported")))
        assert [e.details["count"] for e in exports] == [2, 2] and exports[1].details["org"] == "ENG"

    # The export's headers are field names, so it imports again without a mapping: nothing changes.
    again = import_employees(orgs, full.path, None, as_of=TODAY, actor="amy.hughes")
    assert again.ok and (again.created, again.unchanged) == (0, 2)


def test_export_refuses_unknown_org_and_wrong_suffix(orgs: str, tmp_path: Path) -> None:
    from tools.employee_io import ExportError

    with pytest.raises(ExportError, match="no org unit with code 'EGN' \\(did you mean 'ENG'"):
        export_employees(orgs, tmp_path / "x.xlsx", as_of=TODAY, actor="a", include=set(), org_code="EGN")
    with pytest.raises(ExportError, match="export to an .xlsx file"):
        export_employees(orgs, tmp_path / "x.csv", as_of=TODAY, actor="a", include=set(), org_code=None)


# --- CLI --------------------------------------------------------------------------------------------------


def test_cli_import_and_export(orgs: str, mapping_file: Path, tmp_path: Path) -> None:
    bad = write_csv(tmp_path / "bad.csv", people(E2002={"Start Date": "2021-06-15"}))
    with pytest.raises(CliError, match="nothing imported: 1 of 3 rows have problems"):
        runner.invoke(app, ["import", "employees", str(bad), "-m", str(mapping_file)], catch_exceptions=False)
    assert set(counts(orgs).values()) == {0}

    result = runner.invoke(
        app,
        [
            "import",
            "employees",
            str(bad),
            "-m",
            str(mapping_file),
            "--skip-invalid",
            "--errors",
            str(tmp_path / "errors.csv"),
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "created 2, unchanged 0, skipped 1" in result.output and "skipped rows: 3" in result.output
    assert "expected DD/MM/YYYY" in (tmp_path / "errors.csv").read_text(encoding="utf-8-sig")

    result = runner.invoke(app, ["export", "employees", str(tmp_path / "out.xlsx"), "--include", "sensitive"])
    assert result.exit_code == 0 and "wrote 1 employee " in result.output  # E2002 skipped, E2003 has left
    with pytest.raises(CliError, match="unknown class 'pay'"):
        runner.invoke(
            app,
            ["export", "employees", str(tmp_path / "out.xlsx"), "--include", "pay"],
            catch_exceptions=False,
        )


def test_cli_refuses_users_without_the_role(company: str, mapping_file: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "staff.csv", PEOPLE)
    with pytest.raises(CliError, match="wang.fang may not import employees"):
        runner.invoke(
            app,
            ["import", "employees", str(path), "-m", str(mapping_file), "--as", "wang.fang"],
            catch_exceptions=False,
        )


def test_cli_exit_code_and_message_for_a_bad_file(store_url: str, mapping_file: Path, tmp_path: Path) -> None:
    (tmp_path / "staff.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    proc = subprocess.run(
        [
            str(REPO / ".venv" / "bin" / "hrops"),
            "import",
            "employees",
            "staff.xls",
            "--mapping",
            str(mapping_file),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    assert "old .xls format: save it as .xlsx" in proc.stderr


def test_a_current_export_reimports_unchanged_after_an_approved_change(company: str, tmp_path) -> None:
    """Re-import compares with the rows in force today too, not only with what an import created."""
    import tools.hr  # noqa: F401
    from tests.conftest import TODAY
    from tools.employee_io import export_employees, import_employees
    from tools.hr.schemas import AddressChange
    from tools.registry import ApprovalGrant, ToolContext, registry
    from tools.store.classification import Classification
    from tools.store.models import Role

    change = AddressChange.model_validate(
        {
            "employee_id": "E1003",
            "effective_on": TODAY.isoformat(),
            "address": {"line1": "1 Jinke Road", "city": "Shanghai", "postcode": "201203", "country": "CN"},
        }
    )
    grant = ApprovalGrant.for_args(
        change, request_id="REQ-1", approver="li.wei", decided_at="2026-11-23T09:00:00Z"
    )
    ctx = ToolContext(actor="amy.hughes", roles=frozenset({Role.HR_OPS}), request_id="REQ-1", approval=grant)
    registry.call("employee.change_address", ctx, change)
    out = tmp_path / "now.xlsx"
    export_employees(
        company,
        out,
        as_of=TODAY,
        actor="amy.hughes",
        include={Classification.PERSONAL, Classification.SENSITIVE},
        org_code=None,
    )
    report = import_employees(company, out, None, as_of=TODAY, actor="amy.hughes")
    assert report.errors == [] and report.created == 0 and report.unchanged == 4
