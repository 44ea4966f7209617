"""Market sources (BLS OEWS, ai-jobs.net, the company's pay, imported surveys) and the comparison of
the company's pay with the market."""

from __future__ import annotations

import csv
import statistics
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from hrops.cli import app
from tests.conftest import TODAY
from tools.market import internal_compare
from tools.market.models import Blend, Level, MarketError, MarketQuestion, Match, PayPeriod, Percentiles
from tools.market.normalise import normalise
from tools.market.sources import SourceContext, aijobs, sources
from tools.market.sources.aijobs import AiJobs
from tools.market.sources.bls import BlsOews
from tools.market.sources.internal import InternalPay
from tools.market.sources.survey import Surveys
from tools.market.surveys import import_survey, list_surveys

runner = CliRunner()


def match(soc: str = "15-2051", title: str = "Data Scientists", level: Level | None = None, **cats) -> Match:
    return Match(
        title=title,
        soc_code=soc,
        soc_title=title,
        confidence=1,
        rationale="test",
        level=level,
        source_categories=cats,
    )


def ask(title: str = "Data Scientist", **kw) -> MarketQuestion:
    return MarketQuestion(title=title, **kw)


def ctx(url: str = "sqlite://") -> SourceContext:
    return SourceContext(db_url=url, today=TODAY)


def test_every_shipped_source_is_registered() -> None:
    assert set(sources()) == {"bls_oews", "aijobs", "internal", "survey"}


# --- BLS OEWS ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("soc", "title", "median"),
    [
        ("00-0000", "All Occupations", 49_500),
        ("11-3121", "Human Resources Managers", 140_030),
        ("13-1151", "Training and Development Specialists", 65_850),
        ("15-1252", "Software Developers", 133_080),
    ],
)
def test_bls_reproduces_the_files_figures(soc: str, title: str, median: float) -> None:
    (f,) = BlsOews().figures(match(soc, title), ask(title), ctx())
    assert (f.category, f.percentiles.p50, f.currency, f.pay_period) == (
        title,
        median,
        "USD",
        PayPeriod.ANNUAL,
    )
    assert f.location == "US" and f.reference_date == date(2024, 5, 12)
    assert f.citation.publisher == "U.S. Bureau of Labor Statistics" and soc in (f.citation.detail or "")
    if soc == "00-0000":
        assert f.mean == 67_920 and f.sample_size == 154_187_380
        assert f.percentiles == Percentiles(p10=29_990, p25=36_730, p50=49_500, p75=78_810, p90=125_720)


def test_bls_markers_are_never_made_into_numbers() -> None:
    (hr,) = BlsOews().figures(match("11-3121", "Human Resources Managers"), ask(), ctx())
    assert hr.percentiles.p75 == 189_960 and hr.percentiles.p90 is None
    assert any("A_PCT90 top-coded at ≥ 239,200 USD" in n for n in hr.notes)
    (ceo,) = BlsOews().figures(match("11-1011", "Chief Executives", Level.EXECUTIVE), ask(), ctx())
    assert ceo.percentiles.p50 == 206_420 and ceo.percentiles.p75 is None and ceo.percentiles.p90 is None
    assert any("A_PCT75, A_PCT90 top-coded" in n for n in ceo.notes)
    assert any("BLS does not split occupations by seniority" in n for n in ceo.notes)
    (actors,) = BlsOews().figures(match("27-2011", "Actors"), ask(), ctx())  # only hourly wages published
    assert actors.pay_period is PayPeriod.HOURLY and actors.percentiles.p50 == 23.33 and actors.mean == 44.4
    assert BlsOews().figures(match("99-9999", "Nothing"), ask(), ctx()) == []


# --- ai-jobs.net ---------------------------------------------------------------------------------


def _aijobs_rows(titles: set[str], level: str, country: str | None) -> list[dict[str, str]]:
    with aijobs.DATA.open(newline="") as f:
        return [
            r
            for r in csv.DictReader(f)
            if r["job_title"] in titles
            and r["experience_level"] == level
            and r["employment_type"] == "FT"
            and (country is None or r["company_location"] == country)
        ]


def test_aijobs_small_cut_is_suppressed_and_the_cut_widens_saying_so() -> None:
    m = match(level=Level.SENIOR, aijobs=["Data Scientist", "Applied Scientist"])
    small, wide = AiJobs().figures(m, ask(location="Shanghai", currency="CNY"), ctx())
    assert (
        small.location == "CN"
        and small.suppressed
        and small.sample_size is not None
        and small.sample_size < 5
    )
    assert small.percentiles == Percentiles()
    assert wide.location == "US" and not wide.suppressed
    assert any("too few rows in CN" in n and "widens to US" in n for n in wide.notes)
    rows = _aijobs_rows({"Data Scientist", "Applied Scientist"}, "SE", "US")
    usd = [float(r["salary_in_usd"]) for r in rows]
    q = statistics.quantiles(usd, n=100, method="inclusive")
    assert wide.sample_size == len(rows) and wide.currency == "USD"
    assert (wide.percentiles.p10, wide.percentiles.p50, wide.percentiles.p90) == pytest.approx(
        (q[9], q[49], q[89])
    )
    assert any("salary_in_usd" in n for n in wide.notes)
    years = [int(r["work_year"]) for r in rows]
    mid = date.fromordinal(round(statistics.fmean(date(y, 7, 1).toordinal() for y in years)))
    assert wide.reference_date == mid


def test_aijobs_uses_salaries_as_reported_when_the_currency_matches() -> None:
    m = match(level=Level.MID, aijobs=["Data Scientist"])
    (f,) = AiJobs().figures(m, ask(location="London", currency="GBP"), ctx())
    gbp = [
        float(r["salary"])
        for r in _aijobs_rows({"Data Scientist"}, "MI", "GB")
        if r["salary_currency"] == "GBP"
    ]
    assert f.currency == "GBP" and f.location == "GB" and f.sample_size == len(gbp)
    assert f.percentiles.p50 == pytest.approx(statistics.median(gbp))
    assert any("as reported in GBP" in n for n in f.notes)


def test_aijobs_without_categories_says_nothing() -> None:
    assert AiJobs().figures(match(), ask(), ctx()) == []


# --- the company's own pay -----------------------------------------------------------------------


def test_internal_pay_is_suppressed_below_five_people(company: str) -> None:
    # Wang Fang is the one Data Engineer now (Tom Baker left)
    (f,) = InternalPay().figures(match(internal=["data engineer"]), ask("Data Engineer"), ctx(company))
    assert f.suppressed and f.sample_size == 1 and f.percentiles == Percentiles()
    assert InternalPay().figures(match(), ask("Nobody Here"), ctx(company)) == []


def _demo_people(url: str, families: set[str], countries: set[str]) -> list[tuple[str, str | None, float]]:
    """(currency, gender, annual pay) of the people in the families at the places, in plain Python."""
    from sqlalchemy import select

    from tools.store.db import session_scope
    from tools.store.models import Compensation, Employee, JobAssignment

    city_country = {"Shanghai": "CN", "Beijing": "CN", "Shenzhen": "CN", "Singapore": "SG", "London": "GB"}
    city_country["New York"] = "US"

    def in_force(row) -> bool:  # noqa: ANN001
        return row.valid_from <= TODAY and (row.valid_to is None or row.valid_to > TODAY)

    with session_scope(url) as s:
        staff = {e.id: e for e in s.scalars(select(Employee))}
        pay = {c.employee_id: c for c in s.scalars(select(Compensation)) if in_force(c)}
        out = []
        for job in s.scalars(select(JobAssignment)):
            e = staff[job.employee_id]
            employed = e.hire_date <= TODAY and (e.termination_date is None or e.termination_date > TODAY)
            if (
                in_force(job)
                and employed
                and job.job_family in families
                and city_country[job.location] in countries
            ):
                c = pay[job.employee_id]
                yearly = {"annual": 1, "monthly": 12, "hourly": 2080}[c.frequency]
                out.append((c.currency, e.gender, float(c.base_amount) * yearly))
        return out


FAMILIES = {
    "Sales",
    "Engineering",
    "Operations",
    "Marketing",
    "Finance",
    "Product",
    "Human Resources",
    "Legal",
}


def test_internal_pay_per_currency_on_the_demo(demo: str) -> None:
    m = match(title="Everyone", internal=["-"], internal_family=sorted(FAMILIES))
    figures = {f.currency: f for f in InternalPay().figures(m, ask("Everyone"), ctx(demo))}
    people = _demo_people(demo, FAMILIES, {"CN", "SG", "GB", "US"})
    assert set(figures) == {cur for cur, _, _ in people}
    for currency, f in figures.items():
        pays = [p for cur, _, p in people if cur == currency]
        assert f.sample_size == len(pays) and f.suppressed == (len(pays) < 5)
        if len(pays) >= 5:
            assert f.percentiles.p50 == pytest.approx(statistics.median(pays))
        else:
            assert f.percentiles == Percentiles()
    assert not figures["CNY"].suppressed and any(f.suppressed for f in figures.values())


def test_internal_comparison_on_the_demo_matches_plain_python(demo: str) -> None:
    m = match(title="Everyone", internal=["-"], internal_family=sorted(FAMILIES))
    market = Blend(
        percentiles=Percentiles(p10=150_000, p25=250_000, p50=400_000, p75=650_000, p90=1_000_000),
        currency="CNY",
        weights={"bls_oews": 1.0},
        sources_used=1,
    )
    got = internal_compare.compare(ctx(demo), m, market, ask("Everyone", location="CN", currency="CNY"))
    people = _demo_people(demo, FAMILIES, {"CN"})
    pays = [p for _, _, p in people]
    assert got.people == len(people) and not got.suppressed and got.currency == "CNY"
    assert got.median_pay == pytest.approx(statistics.median(pays))
    assert got.compa_ratio == pytest.approx(statistics.median(pays) / 400_000)
    bounds = [150_000, 250_000, 400_000, 650_000, 1_000_000]
    expected = [0] * 6
    for p in pays:
        expected[sum(p >= b for b in bounds)] += 1
    assert list(got.positions) == ["below P10", "P10-P25", "P25-P50", "P50-P75", "P75-P90", "above P90"]
    assert list(got.positions.values()) == expected
    women = [p for _, g, p in people if g == "female"]
    men = [p for _, g, p in people if g == "male"]
    assert got.gender is not None and (got.gender.women, got.gender.men) == (len(women), len(men))
    assert len(women) >= 5 and len(men) >= 5
    gap = (statistics.median(men) - statistics.median(women)) / statistics.median(men) * 100
    assert got.gender.gap_percent == pytest.approx(gap)
    assert got.gender.flagged == (abs(gap) > 5)
    assert any("compa-ratio" in line for line in got.lines())

    few = internal_compare.compare(ctx(demo), m, market, ask("Everyone", location="London", currency="CNY"))
    assert few.suppressed and few.people < 5 and few.median_pay is None and few.positions == {}
    assert "no pay figures are shown" in few.lines()[0]


# --- imported surveys ----------------------------------------------------------------------------

MAPPING = """\
version: 1
citation: {publisher: Acme Pay Surveys, title: Tech Pay 2026, licence: licensed for internal use}
fields:
  job: Job
  location: City
  level: {column: Grade, map: {P3: mid, P4: senior}}
  p25: P25
  p50: Median
  p75: P75
  sample_size: N
  currency: {value: CNY}
  pay_period: {column: Basis, map: {Monthly: monthly}}
  reference_date: {value: 2026-04-01}
"""
HEADER = ["Job", "City", "Grade", "P25", "Median", "P75", "N", "Basis"]
ROWS = [
    ["Data Scientist", "Shanghai", "P4", "38,000", "45000", "52000", "41", "Monthly"],
    ["Data Scientist", "Shanghai", "P3", "28000", "33000", "39000", "3", "Monthly"],
    ["Data Scientist", "Beijing", "P4", "37000", "44000", "51000", "25", "Monthly"],
    ["Recruiter", "Shanghai", "P4", "20000", "24000", "29000", "12", "Monthly"],
]


def _write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *rows])
    return path


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "acme.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def test_survey_import_end_to_end_then_its_figures(tmp_path: Path, mapping: Path) -> None:
    wb = Workbook()
    wb.active.append(HEADER)
    for row in ROWS:
        wb.active.append([float(v.replace(",", "")) if v[0].isdigit() else v for v in row])
    wb.save(tmp_path / "acme.xlsx")
    done = runner.invoke(
        app,
        [
            "market",
            "survey",
            "import",
            str(tmp_path / "acme.xlsx"),
            "--mapping",
            str(mapping),
            "--name",
            "acme",
        ],
    )
    assert done.exit_code == 0, done.output
    assert "survey acme imported: 4 rows from acme.xlsx" in done.output
    listed = runner.invoke(app, ["market", "survey", "list"], env={"COLUMNS": "200"}).output
    assert "acme" in listed and "Acme Pay Surveys" in listed

    m = match(title="Data Scientists", level=Level.SENIOR, survey=["data scientist"])
    (f,) = Surveys().figures(m, ask(location="Shanghai", currency="CNY"), ctx())
    assert f.source == "survey:acme" and f.location == "Shanghai" and f.category == "Data Scientist (senior)"
    assert f.percentiles == Percentiles(p25=38_000, p50=45_000, p75=52_000)
    assert (f.sample_size, f.currency, f.pay_period, f.reference_date) == (
        41,
        "CNY",
        PayPeriod.MONTHLY,
        date(2026, 4, 1),
    )
    assert f.citation.publisher == "Acme Pay Surveys" and f.citation.detail == "acme.xlsx, row 2"
    out = normalise(f, "CNY", TODAY, "Shanghai")
    assert out.percentiles.p50 == pytest.approx(
        45_000 * 12 * 1.03 ** ((TODAY - date(2026, 4, 1)).days / 365.25)
    )

    (small,) = Surveys().figures(
        match(level=Level.MID, survey=["Data Scientist"]), ask(location="Shanghai"), ctx()
    )
    assert small.suppressed and small.percentiles == Percentiles() and small.sample_size == 3
    # a second import under the same name replaces the first
    _write_csv(tmp_path / "acme.csv", ROWS[:1])
    again = import_survey(tmp_path / "acme.csv", mapping, "acme", today=TODAY)
    assert again.replaced and [s.rows for s in list_surveys()] == [1]


def test_survey_problems_are_named_and_nothing_is_stored(tmp_path: Path, mapping: Path) -> None:
    def refused(path: Path, match: str) -> None:
        with pytest.raises(MarketError, match=match):
            import_survey(path, mapping, "acme", today=TODAY)

    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    refused(tmp_path / "empty.csv", "empty.csv is empty")
    refused(_write_csv(tmp_path / "header.csv", []), "no data rows under the header")
    wrong = ["Job", "Town", "Grade", "P25", "Median", "P75", "N", "Basis"]
    refused(
        _write_csv(tmp_path / "wrong.csv", ROWS, wrong),
        r"the mapping names column\(s\) the file does not have: 'City'.*The file's columns \(row 1\): Job, Town",
    )
    bad = [["Data Scientist", "Shanghai", "P4", "n/a", "45000", "52000", "41", "Monthly"]]
    refused(_write_csv(tmp_path / "bad.csv", bad), r"row 2, column 'P25' \(p25\): 'n/a' is not a number")
    unknown = mapping.read_text(encoding="utf-8").replace("{value: CNY}", "{value: RMB}")
    mapping.write_text(unknown, encoding="utf-8")
    refused(
        _write_csv(tmp_path / "ok.csv", ROWS[:1]),
        r"'RMB' is not a supported currency \(for RMB write `map: \{RMB: CNY\}`.*supported: AUD, CAD, CNY",
    )
    assert list_surveys() == []
    (tmp_path / "broken.yaml").write_text("version: 1\nfields: {job: Job}\n", encoding="utf-8")
    with pytest.raises(MarketError, match="broken.yaml: citation: Field required"):
        import_survey(tmp_path / "ok.csv", tmp_path / "broken.yaml", "acme", today=TODAY)
    with pytest.raises(MarketError, match="survey name 'Acme Survey'"):
        import_survey(tmp_path / "ok.csv", mapping, "Acme Survey", today=TODAY)
    failed = runner.invoke(
        app,
        ["market", "survey", "import", str(tmp_path / "empty.csv"), "--mapping", str(mapping), "--name", "x"],
    )
    assert failed.exit_code != 0
