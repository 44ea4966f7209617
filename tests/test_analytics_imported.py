"""Analytics on imported data: the IBM HR sample (1,470 rows, a snapshot without dates) imported
with the example mapping answers questions about its departments, roles, pay, attrition and
training times as of the snapshot, checked against the CSV itself; periods are refused with the
reason; the catalogue listing says what the data answers; a company with IBM under it is unchanged."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from datetime import date
from pathlib import Path
from statistics import mean, median

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from hrops.api import auth
from hrops.api.app import app as api
from hrops.cli import app as cli
from hrops.settings import get_settings, reset_settings
from tests.conftest import REPO, SHARED_DATA, TODAY
from tools.analytics.ask import Asked, ask
from tools.analytics.coverage import coverage
from tools.employee_io import MappingError, import_employees, load_mapping
from tools.employee_io.mapping import parse_mapping
from tools.store import queries
from tools.store.db import migrate, session_scope
from tools.store.identity import resolve_principal
from tools.store.models import EmployeeFact, OrgUnit, Role, User, UserRole

IBM_CSV = SHARED_DATA / "ibm_hr_attrition" / "WA_Fn-UseC_-HR-Employee-Attrition.csv"
IBM_MAPPING = REPO / "examples" / "ibm_attrition" / "mapping.yaml"
UNITS = {
    "Sales": "IBM-SALES",
    "Research & Development": "IBM-RESEARCH-DEVELOPMENT",
    "Human Resources": "IBM-HUMAN-RESOURCES",
}

pytestmark = pytest.mark.skipif(not IBM_CSV.is_file(), reason=f"IBM sample data not found at {IBM_CSV}")


def _rows() -> list[dict[str, str]]:
    with IBM_CSV.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _per(key: str, value=None) -> dict[str, list]:  # noqa: ANN001 - a function of a row
    out: dict[str, list] = defaultdict(list)
    for r in _rows():
        out[UNITS[r[key]] if key == "Department" else r[key]].append(value(r) if value else r)
    return out


def _import(url: str, mapping: Path = IBM_MAPPING, path: Path = IBM_CSV):  # noqa: ANN202
    return import_employees(url, path, load_mapping(mapping), as_of=TODAY, actor="admin")


def _users(url: str, **grants: tuple[Role, str | None]) -> None:
    """Users with a role (and the org unit an HRBP grant covers)."""
    with session_scope(url, write=True) as s:
        for username, (role, code) in grants.items():
            unit = s.scalar(select(OrgUnit.id).where(OrgUnit.code == code)) if code else None
            s.add(User(username=username, display_name=username))
            s.flush()
            s.add(UserRole(username=username, role=role, org_unit_id=unit))


@pytest.fixture(scope="module")
def ibm(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store holding nothing but the IBM sample, imported once for the module (about half a second)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('ibm') / 'hrops.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HROPS_TODAY", TODAY.isoformat())
        reset_settings()
        migrate(url)
        report = _import(url)
        assert report.ok and (report.created, report.facts_added) == (1470, 1470)
        _users(url, admin=(Role.ADMIN, None), sales_hrbp=(Role.HRBP, "IBM-SALES"))
    reset_settings()
    return url


def _ask(url: str, question: str, who: str = "admin") -> Asked:
    with session_scope(url, write=True) as s:
        return ask(s, resolve_principal(s, who, TODAY), question, TODAY)


def _values(asked: Asked) -> dict[str, float | None]:
    assert asked.answer is not None, asked.text
    [metric] = [m.value for m in asked.answer.query.metrics]
    return {
        " / ".join(v for k, v in r.groups.items() if k != "currency"): r.values[metric]
        for r in asked.answer.rows
    }


def test_headcount_and_attrition_by_department_are_the_files_own(ibm: str) -> None:
    people = {unit: len(rows) for unit, rows in _per("Department").items()}
    leavers = {unit: sum(r["Attrition"] == "Yes" for r in rows) for unit, rows in _per("Department").items()}
    assert (leavers, people) == (  # the counts the task names, straight from the CSV
        {"IBM-SALES": 92, "IBM-RESEARCH-DEVELOPMENT": 133, "IBM-HUMAN-RESOURCES": 12},
        {"IBM-SALES": 446, "IBM-RESEARCH-DEVELOPMENT": 961, "IBM-HUMAN-RESOURCES": 63},
    )
    headcount = _ask(ibm, "headcount by department")
    assert _values(headcount) == people  # everyone in the file, leavers included
    assert _values(_ask(ibm, "各部门的在职人数")) == people
    for question in ("attrition rate by department", "各部门的离职率"):
        rates = _values(_ask(ibm, question))
        assert rates == {u: pytest.approx(100 * leavers[u] / people[u]) for u in people}, question

    whole = _ask(ibm, "attrition rate")
    # The IBM figure: 237 leavers of 1,470 employees = 16.1 %.
    assert _values(whole) == {"": pytest.approx(100 * 237 / 1470)} and sum(leavers.values()) == 237
    assert whole.text == "Attrition rate as of the snapshot of 2026-11-23 in the whole company: 16.1%."
    assert "as of the IBM HR sample snapshot of 2026-11-23" in whole.answer.provenance
    assert [r.period for r in whole.answer.rows] == ["snapshot 2026-11-23"]
    assert "snapshot attrition rate = leavers in the file / everyone in the file" in whole.answer.notes
    zh = _ask(ibm, "离职率")
    assert zh.text == "截至 2026-11-23 的快照,全公司的离职率为16.1%。"

    # An HRBP of IBM's Sales sees Sales only, also as of the snapshot.
    assert _values(_ask(ibm, "attrition rate", who="sales_hrbp")) == {"": pytest.approx(100 * 92 / 446)}


def test_average_income_by_role_is_the_monthly_income_times_12(ibm: str) -> None:
    incomes = _per("JobRole", lambda r: int(r["MonthlyIncome"]))
    for question in ("average income by job role", "按职位的平均收入"):
        asked = _ask(ibm, question)
        assert {r.groups["currency"] for r in asked.answer.rows} == {"USD"}
        expected = {
            role: (pytest.approx(mean(v) * 12) if len(v) >= 5 else None) for role, v in incomes.items()
        }
        assert _values(asked) == expected and len(expected) == 9, question
    medians = _values(_ask(ibm, "median income by job role"))
    assert medians == {role: pytest.approx(median(v) * 12) for role, v in incomes.items()}


def test_training_times_last_year_come_from_the_file(ibm: str) -> None:
    times = _per("Department", lambda r: int(r["TrainingTimesLastYear"]))
    per_employee = {u: pytest.approx(mean(v)) for u, v in times.items()}
    for question in ("training times last year per employee by department", "各部门去年人均培训次数"):
        asked = _ask(ibm, question)
        assert asked.parsed.query.metrics == ["trainings_last_year_per_employee"], asked.parsed
        assert "period" not in asked.parsed.query.model_fields_set  # "last year" names the metric
        assert _values(asked) == per_employee, question
    assert _values(_ask(ibm, "training times by department")) == {u: sum(v) for u, v in times.items()}
    sales = _ask(ibm, "trainings per employee in IBM-SALES")
    assert _values(sales) == {"": pytest.approx(mean(times["IBM-SALES"]))}
    assert "2.8 trainings" in sales.text


def test_periods_and_events_are_refused_with_the_reason(ibm: str) -> None:
    last_quarter = _ask(ibm, "attrition last quarter")
    assert last_quarter.refused and last_quarter.text == (
        "I can't answer that yet: the IBM HR sample data is a snapshot as of 2026-11-23 without event "
        "dates, so 'last quarter' cannot be answered; ask without a period (the answer is as of the snapshot)"
    )
    zh = _ask(ibm, "上季度的离职率")
    assert zh.refused and zh.text == (
        "这个问题我还不能回答: IBM HR sample的数据是截至 2026-11-23 的快照,没有事件日期,"
        "因此无法回答「上季度」;请不带时间范围提问(按快照作答)"
    )
    assert "'last quarter' cannot be answered" in _ask(ibm, "attrition last quarter", who="sales_hrbp").text
    for question, reason in [
        ("headcount by month", "'by month' cannot be answered"),
        ("headcount in 2025", "'2025-01-01 to 2025-12-31' cannot be answered"),
        ("attrition vs the same period last year", "'vs the same period last year' cannot be answered"),
        ("hires", "so hires cannot be counted"),
        ("voluntary leavers", "the IBM HR sample data has no leaver types"),
        ("training hours by department", "the IBM HR sample data has no learning records"),
        ("compa-ratio", "the IBM HR sample data has no pay bands"),
    ]:
        asked = _ask(ibm, question)
        assert asked.refused and reason in asked.text, (question, asked.text)


def test_the_catalogue_says_what_the_data_answers(ibm: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with session_scope(ibm) as s:
        listing = coverage(s, resolve_principal(s, "admin", TODAY), TODAY)
    status = {m.metric: (m.answerable, m.reason) for m in listing.metrics}
    assert listing.snapshot == date(2026, 11, 23)
    for metric in ("headcount", "leavers", "attrition_rate", "average_base_pay", "average_tenure"):
        assert status[metric] == (True, None), metric
    assert status["trainings_last_year"] == status["trainings_last_year_per_employee"] == (True, None)
    learning = ["training_hours", "enrolments", "completion_rate", "active_learners", "mandatory_overdue"]
    assert all(not status[m][0] and "no learning records" in status[m][1] for m in learning)
    assert not status["hires"][0] and "snapshot as of 2026-11-23 without event dates" in status["hires"][1]
    zh = {m.metric: m.reason_zh for m in listing.metrics}
    assert zh["training_hours"] == "IBM HR sample的数据中没有学习记录,无法回答"

    monkeypatch.setenv("HROPS_DATABASE_URL", ibm)
    reset_settings()
    result = CliRunner().invoke(cli, ["catalogue", "--as", "admin"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "trainings_last_year_per" in x)
    assert "去年人均培训次数" in line and "yes" in line
    assert "no: the IBM HR sample data" in next(
        x for x in result.output.splitlines() if "training_hours " in x
    )
    listed = json.loads(CliRunner().invoke(cli, ["catalogue", "--as", "sales_hrbp", "--json"]).output)
    assert (
        listed["scope"] == "the organisations sales_hrbp covers as HRBP"
        and listed["snapshot"] == "2026-11-23"
    )
    http = TestClient(api)
    headers = {"Authorization": f"Bearer {auth.issue(get_settings(), 'sales_hrbp')}"}
    got = http.get("/api/analytics/catalogue", headers=headers)
    assert got.status_code == 200 and got.json()["snapshot"] == "2026-11-23"
    assert {m["metric"]: m["answerable"] for m in got.json()["metrics"]}["attrition_rate"] is True
    assert http.get("/api/analytics/catalogue?org_unit=ROOT", headers=headers).status_code == 403


def test_reimport_adds_nothing_and_the_import_is_known_as_a_snapshot(ibm: str) -> None:
    again = _import(ibm)
    assert (again.created, again.unchanged, again.facts_added, again.written) == (0, 1470, 0, False)
    with session_scope(ibm) as s:
        [meta] = queries.recorded_imports(s)
        assert s.scalar(select(func.count()).select_from(EmployeeFact)) == 1470
    assert meta["snapshot"] is True and meta["landed_under"] == "IBM" and meta["as_of"] == "2026-11-23"
    assert meta["source"] == "import:ibm_attrition" and meta["facts"] == ["training_times_last_year"]
    assert set(meta["derived"]) == {"birth_date", "hire_date", "termination_date"}


def test_facts_reach_an_earlier_import_once_and_a_changed_one_is_refused(
    store_url: str, tmp_path: Path
) -> None:
    without = tmp_path / "mapping.yaml"
    without.write_text(IBM_MAPPING.read_text().split("\nfacts:")[0], encoding="utf-8")
    assert _import(store_url, without).created == 1470
    later = _import(store_url)  # the same file with the mapping that keeps training times
    assert (later.created, later.unchanged, later.facts_added, later.written) == (0, 1470, 1470, True)
    assert (_import(store_url).facts_added, _import(store_url).written) == (0, False)

    rows = _rows()
    rows[0]["TrainingTimesLastYear"] = str(int(rows[0]["TrainingTimesLastYear"]) + 1)
    changed = tmp_path / "changed.csv"
    with changed.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    report = _import(store_url, path=changed)
    [problem] = report.errors
    assert problem.row == 2 and problem.column == "TrainingTimesLastYear"
    assert (
        "IBM-1 already has training_times_last_year 0 as of 2026-11-23, the file says 1" in problem.message
        and not report.written
    )


def test_a_company_with_ibm_under_it_answers_its_own_questions_unchanged(demo: str) -> None:
    with session_scope(demo) as s:
        head = s.scalar(
            select(User.username)
            .join(OrgUnit, OrgUnit.head_employee_id == User.employee_id)
            .where(OrgUnit.kind == "division")
        )
    questions = [
        ("admin", "headcount by department"),
        ("admin", "attrition rate last year by department"),
        ("admin", "各部门的离职率"),
        ("admin", "average salary by location"),
        (head, "headcount by department"),
        (head, "hires by quarter last year"),
    ]
    before = [_ask(demo, q, who) for who, q in questions]
    assert _import(demo).created == 1470
    after = [_ask(demo, q, who) for who, q in questions]
    for (who, q), b, a in zip(questions, before, after, strict=True):
        assert a.answer is not None and b.answer is not None, (q, a.text)
        assert a.text == b.text and a.answer.rows == b.answer.rows, (who, q)
    left_out = "not counted: IBM HR sample (IBM), a snapshot as of 2026-11-23 without event dates"
    notes = [(who, "\n".join(a.answer.notes)) for (who, _), a in zip(questions, after, strict=True)]
    assert all((left_out in text) == (who == "admin") for who, text in notes), notes

    assert _values(_ask(demo, "headcount in IBM")) == {"": 1470}
    assert "'last quarter' cannot be answered" in _ask(demo, "attrition in IBM last quarter").text
    training = _ask(demo, "training times by department")
    assert (
        training.refused and "IBM HR sample is a snapshot: ask about org unit IBM on its own" in training.text
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"org_units": {}}, "snapshot: true needs org_units.parent"),
        ({"facts": {"TrainingTimes": "TrainingTimesLastYear"}}, "fact name 'TrainingTimes'"),
        ({"facts": {"hire_date": "YearsAtCompany"}}, "not an employee field's name"),
        ({"facts": {"trainings": {"column": "X", "years_before_as_of": True}}}, "facts are numbers"),
    ],
)
def test_snapshot_and_fact_mistakes_are_named(change: dict, expected: str) -> None:
    data = {**yaml.safe_load(IBM_MAPPING.read_text(encoding="utf-8")), **change}
    with pytest.raises(MappingError, match=re.escape(expected)):
        parse_mapping(data)
