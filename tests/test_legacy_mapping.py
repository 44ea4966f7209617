"""Legacy mappings as data: the schema's errors, transforms, versions, and the offline form mapper."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hrops.cli import app
from tools.legacy import catalog, transforms
from tools.legacy.drift import Control, Missing, PageSurvey, match_offline
from tools.legacy.errors import DataError
from tools.legacy.mapping import FormMapping, MappingError, parse

SHIPPED = sorted(catalog.SHIPPED.glob("*/*.yaml"))

BROKEN = """
kind: form
system: classic_hris
form: broken
title: Broken
action: create
pages:
  - name: one
    fields:
      - key: a
        source: family_name
        selectors: [{lable: Family name}]
      - key: b
        source: given_name
        value: constant
        selectors: [{label: Given name}]
      - key: c
        source: city
        selectors: [{label: City, css: "#x"}]
    submit: []
  - name: two
    submit: [{role: button, name: Save}]
success: {text: "(unclosed"}
"""


def test_every_shipped_mapping_validates_from_the_cli() -> None:
    result = CliRunner().invoke(app, ["legacy", "validate", *map(str, SHIPPED)])
    assert result.exit_code == 0, result.output
    assert result.output.count("✓") == len(SHIPPED) >= 4


def test_a_broken_mapping_gets_every_problem_with_where_it_is(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    with pytest.raises(MappingError) as e:
        catalog.validate_file(path)
    report = e.value.report()
    assert "pages[0] (page 'one').fields[0] (key 'a').selectors[0].lable: unknown key" in report
    assert "fields[1] (key 'b'): give exactly one of `source` or `value`" in report
    assert "fields[2] (key 'c').selectors[0]: a selector uses one strategy, this one has label, css" in report
    assert "pages[0] (page 'one').submit: List should have at least 1 item" in report
    assert "success.text: not a valid regular expression" in report
    assert "page 'one' is not the last" not in report  # reported only once the pages parse

    result = CliRunner().invoke(app, ["legacy", "validate", str(path)])
    assert result.exit_code == 1
    assert "selectors[0].lable: unknown key" in result.output


def test_a_form_naming_an_unknown_code_table_is_refused(tmp_path: Path) -> None:
    text = (catalog.SHIPPED / "classic_hris" / "address_update.yaml").read_text()
    path = tmp_path / "classic_hris" / "odd.yaml"
    path.parent.mkdir()
    path.write_text(text.replace("source: city", "source: city\n        transforms: [{table: cities}]"))
    with pytest.raises(MappingError, match="code table 'cities' is not defined"):
        catalog.validate_file(path)


def test_not_yaml_and_wrong_kind_are_clear() -> None:
    with pytest.raises(MappingError, match="not valid YAML"):
        parse("a: [1, 2", "x.yaml")
    with pytest.raises(MappingError, match="`kind` must be 'system' or 'form'"):
        parse("kind: page\n", "x.yaml")


def _address_form(**replace: str) -> str:
    text = (catalog.SHIPPED / "classic_hris" / "address_update.yaml").read_text()
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        # A typo in a source would only show at run time, as an empty value: caught here.
        ({"source: city": "source: cty"}, "source 'cty' is not an attribute of the HR record"),
        (
            {"source: city": "source: city\n        transforms: [{template: '{cty} ({value})'}]"},
            "field 'city': template uses unknown {cty}",
        ),
        ({"url: /employees/{reference}/edit": "url: /employees/{ref}/edit"}, "url uses {ref}"),
        (
            {"source: city": "source: city\n        transforms: [{hook: 'no_such_module:fn'}]"},
            "hook 'no_such_module:fn' cannot be loaded",
        ),
        (
            {
                "action: update": "action: create",
                "url: /employees/{reference}/edit": "url: /newhire/personal",
            },
            "needs a group (?P<reference>...)",
        ),
    ],
)
def test_mistakes_that_would_only_show_at_run_time_are_refused(
    tmp_path: Path, change: dict[str, str], problem: str
) -> None:
    path = tmp_path / "classic_hris" / "address_update.yaml"
    path.parent.mkdir()
    text = _address_form(**change)
    if "action: create" in text:  # a create form whose success pattern has no reference group
        text = re.sub(r'text: "[^"]*"', 'text: "saved"', text)
    path.write_text(text)
    with pytest.raises(MappingError) as e:
        catalog.validate_file(path)
    assert problem in e.value.report()


def test_a_search_and_record_page_must_use_their_placeholders(tmp_path: Path) -> None:
    text = (catalog.SHIPPED / "classic_hris" / "system.yaml").read_text()
    text = text.replace("url: /employees/search?q={key}", "url: /employees/search")
    text = text.replace("url: /employees/{reference}", "url: /employees/{id}")
    text = text.replace("source: employee_id", "source: employee_number")
    with pytest.raises(MappingError) as e:
        parse(text, "system.yaml")
    report = e.value.report()
    assert "find.url: the search url must use {key}" in report
    assert "record.url: the record url must use {reference}" in report
    assert "key.source: 'employee_number' is not an attribute of the HR record" in report


def test_two_files_with_the_same_version_are_refused(tmp_path: Path) -> None:
    folder = catalog.approved_dir() / "classic_hris"
    folder.mkdir(parents=True)
    text = _address_form(**{"version: 1": "version: 3"})
    (folder / "address_update.v3.yaml").write_text(text)
    (folder / "address_update.yaml").write_text(text)
    with pytest.raises(MappingError, match="version 3 of 'address_update' is also in"):
        catalog.form("classic_hris", "address_update")
    (folder / "address_update.yaml").unlink()
    (folder / "address_update.v4.yaml").write_text(text)  # named v4, says 3
    with pytest.raises(MappingError, match="the file name says version 4, the file says 3"):
        catalog.form("classic_hris", "address_update")


def test_transforms_turn_hr_values_into_legacy_codes() -> None:
    form = catalog.form("classic_hris", "new_hire")
    tables = {**form.system.tables, **form.form.tables}
    record = {
        "employee_id": "E0042",
        "family_name": "O'Brien",
        "given_name": "Seán",
        "local_name": None,
        "birth_date": date(1990, 2, 3),
        "gender": None,
        "national_id": "QQ123456C",
        "division": "Human Resources",
        "level": "L4",
        "hire_date": date(2026, 12, 1),
        "location": "London",
        "base_amount": Decimal("52000"),
        "currency": "GBP",
    }
    values: dict = {}
    for f in form.form.fields():
        values[f.key] = transforms.field_value(f, {**record, **values}, tables)
    assert values["employee_no"] == "000042"  # leading zeros kept
    assert values["birth_date"] == "03/02/1990"
    assert values["gender"] == "X"  # not recorded -> the legacy "not stated"
    assert values["department"] == "D700"
    assert values["position"] == "D700-03"  # templated on the department chosen before it
    assert values["grade"] == "G04"
    assert values["salary"] == "52000.00"
    assert values["overtime"] is False and values["pension"] is True
    assert values["local_name"] is None  # optional and empty: left alone


def test_a_value_without_a_code_names_the_table_not_the_value() -> None:
    form = catalog.form("classic_hris", "new_hire").form
    field = next(f for f in form.fields() if f.key == "location")
    with pytest.raises(DataError) as e:
        transforms.field_value(field, {"location": "Atlantis"}, {"locations": {"London": "LON"}})
    assert "locations" in str(e.value) and "Atlantis" not in str(e.value)


def test_an_approved_version_supersedes_the_shipped_one(tmp_path: Path) -> None:
    shipped = catalog.form("classic_hris", "address_update")
    text = (
        shipped.path.read_text()
        .replace("version: 1", "version: 2")
        .replace("{label: City}", "{label: Town/City}")
    )
    newer = parse(text)
    assert isinstance(newer, FormMapping)
    saved = catalog.save_version(newer, text)
    assert saved.parent == catalog.approved_dir() / "classic_hris"
    assert catalog.save_version(newer, text) == saved  # the same approval twice is fine
    with pytest.raises(MappingError, match="exists already"):
        catalog.save_version(newer, text + "\n# edited\n")
    loaded = catalog.form("classic_hris", "address_update")
    assert loaded.form.version == 2 and loaded.path == saved


def test_offline_form_mapper_matches_renamed_controls_by_meaning_and_type() -> None:
    survey = PageSurvey(
        page="personal",
        controls=[
            Control(kind="text", name="staff_no", id="f1", label="Staff number"),
            Control(kind="text", name="lname", id="f2", label="Last name"),
            Control(kind="text", name="fname", id="f3", label="First name(s)"),
            Control(kind="text", name="birth", id="f5", label="Birth date (DD/MM/YYYY)"),
            Control(kind="radio", name="gender", label="Sex", options=["M", "F", "X"]),
            Control(kind="button", label="Continue"),
        ],
        missing=[
            Missing(
                page="personal", key="family_name", type="text", hints=["Family name", "surname", "#fam_nm"]
            ),
            Missing(page="personal", key="given_name", type="text", hints=["Given name", "given", "#gvn_nm"]),
            Missing(
                page="personal", key="employee_no", type="text", hints=["Employee no.", "empno", "#emp_no"]
            ),
            Missing(
                page="personal", key="birth_date", type="text", hints=["Date of birth (DD/MM/YYYY)", "dob"]
            ),
            Missing(page="personal", key="gender", type="radio", hints=["Gender", "sex"]),
            Missing(page="personal", key="submit", type="submit", hints=["submit", "Next >"]),
            Missing(page="personal", key="pension", type="checkbox", hints=["Pension scheme member"]),
        ],
    )
    picks = {p.key: p.control for p in match_offline([survey])}
    assert picks == {
        "family_name": 1,
        "given_name": 2,
        "employee_no": 0,
        "birth_date": 3,
        "gender": 4,
        "submit": 5,
        "pension": None,  # no checkbox on the page: left for a person, not guessed
    }


async def test_a_models_picks_pass_the_same_checks(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a model configured (pydantic-ai's TestModel here) the picks it returns are checked against
    the page like the offline ones: a pick of a wrong control type is dropped, not used."""
    from hrops.settings import reset_settings

    monkeypatch.setenv("HROPS_MODEL", "test")
    reset_settings()
    from agents.form_mapper import match_pages
    from tools.legacy.drift import Pick, checked

    survey = PageSurvey(
        page="p",
        controls=[Control(kind="text", name="lname", label="Last name"), Control(kind="button", label="Go")],
        missing=[Missing(page="p", key="family_name", type="text", hints=["Family name"])],
    )
    picks = await match_pages([survey])
    assert all(isinstance(p, Pick) for p in picks)
    from sqlalchemy import select

    from tools.store.db import session_scope
    from tools.store.models import AuditEntry

    with session_scope(store_url) as s:
        calls = s.scalars(select(AuditEntry).where(AuditEntry.action == "model.call")).all()
    assert calls  # every model call is audited
    wrong = checked(
        [Pick(page="p", key="family_name", control=1, score=0.9, reason="model said so")], [survey]
    )
    assert wrong[0].control is None and "rejected" in wrong[0].reason
    right = checked([Pick(page="p", key="family_name", control=0, score=0.9)], [survey])
    assert right[0].control == 0
    stray = checked([Pick(page="p", key="not_missing", control=0)], [survey])
    assert stray == []
