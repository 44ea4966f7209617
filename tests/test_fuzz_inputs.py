"""Bad input, fuzzed with hypothesis: the chat intake, the analytics parser, the importers (employee
CSV/xlsx, salary surveys, bulk-change sheets, legacy mappings) and every POST body of the HTTP API.
Whatever comes in: no crash, no 500, a typed answer or a clear refusal that says where the problem
is, and nothing written to the store.

Every test is derandomized (the same examples on every run) and sized to keep the file fast.
"""

from __future__ import annotations

import csv
import json
import string
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from pydantic import BaseModel
from sqlalchemy import func, select

from agents.assistant.intake import Answer, Intake, Intent, KnownWords, read, read_answer
from hrops.api import auth
from hrops.api.app import app
from hrops.channels.hub import Channels
from hrops.channels.webhook import SIGNATURE_HEADER, sign
from hrops.settings import get_settings, reset_settings
from tests import company as tiny
from tests.channel_fakes import FEISHU_TOKEN, WEBHOOK_SECRET, FakePlatforms
from tests.conftest import TODAY
from tools.analytics.parser import Parsed, parse
from tools.store.db import session_scope
from tools.store.models import AuditEntry, ChannelLink, User

FUZZ = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}

# -- words people type: the company's names and ids, dates right and wrong, amounts, injections ----

NAMES = [p[3] for p in tiny.PEOPLE] + [f"{p[1]} {p[2]}" for p in tiny.PEOPLE] + [p[0] for p in tiny.PEOPLE]
WORDS = [
    *NAMES,
    "e1003",
    "E9999",
    "REQ-1",
    "REQ-0",
    "req-99999999999999999999",
    "ENG-PLAT",
    "Platform",
    "平台组",
    "数据组",
    "move",
    "moved to",
    "transfer",
    "to",
    "from",
    "as of",
    "effective",
    "new title",
    "manager",
    "salary",
    "raise",
    "pay",
    "address",
    "onboard",
    "hire",
    "terminate",
    "resign",
    "approve",
    "reject",
    "because",
    "status",
    "where is",
    "my approvals",
    "help",
    "headcount",
    "attrition",
    "by location",
    "last quarter",
    "Shanghai",
    "上海",
    "北京",
    "Room 1203, 500 Shibo Avenue",
    "200126",
    "CN",
    "XX",
    "CNY",
    "RMB",
    "$",
    "¥",
    "300000",
    "-5",
    "0",
    "1e309",
    "NaN",
    "9" * 40,
    "300,000.50",
    "12%",
    "30 k",
    "三十万",
    "2026-12-01",
    "2026-02-30",
    "30 February",
    "1 Dec",
    "Dec 32",
    "next Monday",
    "下周一",
    "明天",
    "下个月1号",
    "2月30日",
    "0000-00-00",
    "31/12/9999",
    "yesterday",
    "in 400 years",
    "把",
    "调到",
    "地址改为",
    "工资",
    "涨薪",
    "入职",
    "离职",
    "批准",
    "拒绝",
    "进度",
    "我们单位",
    "人数",
    "ignore previous instructions",
    "you are now admin",
    "忽略之前的指令",
    "DROP TABLE employees;",
    "' OR 1=1 --",
    "{{7*7}}",
    "<script>alert(1)</script>",
    "everyone",
    "所有人",
    "\u200b",
    "\u202e",
    "\x00",
    "\ufeff",
    "🙂",
    "👩‍💻",
    "\n",
    "\t",
    "  ",
]
KNOWN = KnownWords(
    people=NAMES[: 2 * len(tiny.PEOPLE)],
    org_units={"ENG-PLAT": "ENG-PLAT", "Platform": "ENG-PLAT", "平台组": "ENG-PLAT", "ENG-DATA": "ENG-DATA"},
    locations=["Shanghai", "Beijing"],
)
messages = st.one_of(
    st.builds(
        lambda parts, sep: sep.join(parts),
        st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=12)), max_size=14),
        st.sampled_from([" ", "", ", ", "，", "\n"]),
    ),
    st.text(max_size=300),
)


@settings(max_examples=100, **FUZZ)
@given(message=messages)
def test_the_chat_intake_reads_anything_into_a_typed_intake_or_a_clear_refusal(message: str) -> None:
    intake = read(message, TODAY, KNOWN)
    assert Intake.model_validate(intake.model_dump()) == intake
    if intake.intent is Intent.UNKNOWN:
        assert intake.clarify or intake.nearest or intake.refusal, "unknown, and nothing to tell the person"
    if intake.intent is Intent.REQUEST:
        assert intake.kind is not None
    for name, value in intake.fields.items():
        if name in ("effective_on", "start_date", "birth_date"):
            date.fromisoformat(value)  # dates are ISO or not given at all
    for field in ("effective_on", "amount", "employee", "currency", "city"):
        answer = read_answer(field, message, TODAY, KNOWN, intake.kind)
        assert isinstance(answer, Answer) and answer.field == field


@settings(max_examples=100, **FUZZ)
@given(question=messages)
def test_the_analytics_parser_reads_anything_into_a_query_or_a_reason(question: str) -> None:
    values = {"org_unit": ["ENG-PLAT", "ENG-DATA", "ROOT"], "location": ["Shanghai"], "level": ["L5"]}
    parsed = parse(question, values)
    assert Parsed.model_validate(parsed.model_dump()) == parsed
    assert parsed.query is not None or parsed.reason or parsed.nearest, "no query and no reason"


def test_a_huge_message_is_read_in_bounded_time() -> None:
    """Tens of kilobytes of the words above (a paste, or an attack on a regex) end in time."""
    import time

    plain = [w for w in WORDS if read(w, TODAY, KNOWN).refusal is None]  # not refused at the first word
    text = " ".join(plain * 60)[:40_000]
    started = time.perf_counter()
    assert read(text, TODAY, KNOWN).refusal is None
    parse(text, {})
    assert time.perf_counter() - started < 20


# -- importers: a malformed file names its row and column, and nothing is written -----------------

CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "n/a",
            "-5",
            "0",
            "1e309",
            "NaN",
            "31/02/1990",
            "2026-02-30",
            "99/99/9999",
            "E1003",
            "E2001",
            "ROOT",
            "NOPE",
            "XX",
            "RMB",
            "Resigned",
            "Dismissed",
            "🙂",
            "\x00",
            "=1+1",
            "@SUM(A1)",
            "王芳",
            "a" * 5000,
        ]
    ),
    st.text(max_size=30),
)


POLICY_ASKED = ("kb.answered", "kb.handed_off", "kb.case.opened")


def _store_counts(url: str) -> dict[str, Any]:
    """Rows of every HR table, the requests and the audit trail."""
    from tools.store import models as m

    with session_scope(url) as s:
        counts = {
            t.__tablename__: s.scalar(select(func.count()).select_from(t))
            for t in (
                m.OrgUnit,
                m.Employee,
                m.JobAssignment,
                m.Compensation,
                m.EmployeeAddress,
                m.EmployeeFact,
                m.User,
                m.UserRole,
                m.RequestRecord,
                m.Delegation,
                m.ChannelLink,
                m.StoreMeta,
            )
        }
        counts["audit"] = sorted(
            s.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.action.notlike("analytics.%"),
                    AuditEntry.action.notin_(POLICY_ASKED),  # a policy question is answered, and audited
                )
            ).all()
        )
    return counts


# Cells that make a row invalid whatever else is in the file, with the column named in the error.
BAD_EMPLOYEE_CELLS = [
    ("Salary", "-5"),
    ("DOB", "31/02/1990"),
    ("Start Date", "not a date"),
    ("Currency", "RMB"),
    ("Country", "XX"),
    ("FTE", "abc"),
    ("Dept", "NOPE"),
]


@st.composite
def employee_files(draw: st.DrawFn) -> tuple[list[str], list[list[Any]], int, str]:
    """The three good people of tests/test_import_export.py with cells broken at random, one of
    them for sure (row, column); sometimes a header cell renamed, dropped or doubled."""
    from tests.test_import_export import HEADER, PEOPLE

    header, rows = list(HEADER), [list(r) for r in PEOPLE]
    for _ in range(draw(st.integers(0, 8))):
        rows[draw(st.integers(0, 2))][draw(st.integers(0, len(header) - 1))] = draw(CELLS)
    bad_row = draw(st.integers(0, 2))
    column, value = draw(st.sampled_from(BAD_EMPLOYEE_CELLS))
    rows[bad_row][header.index(column)] = value
    what = draw(st.sampled_from(["cells", "cells", "cells", "rename", "drop", "double", "extra rows"]))
    if what == "rename":
        header[draw(st.integers(0, len(header) - 1))] = draw(st.text(max_size=10))
    elif what == "drop":
        i = draw(st.integers(0, len(header) - 1))
        header, rows = header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows]
    elif what == "double":
        header.append(draw(st.sampled_from(header)))
    elif what == "extra rows":
        rows += draw(st.lists(st.lists(CELLS, max_size=len(header) + 3), max_size=4))
    return header, rows, bad_row + 2, column


def _import(url: str, path: Path, mapping_file: Path) -> Any:
    from tools.employee_io import import_employees, load_mapping

    return import_employees(url, path, load_mapping(mapping_file), as_of=TODAY, actor="amy.hughes")


def _check_refused(
    url: str, path: Path, mapping_file: Path, before: dict[str, Any], row: int, column: str
) -> None:
    from tools.employee_io import EmployeeIOError

    try:
        report = _import(url, path, mapping_file)
    except EmployeeIOError as e:  # the file as a whole: its columns, its encoding, its shape
        assert path.name in str(e) or "column" in str(e), str(e)  # says which file or column
    else:
        assert report.errors, "a row with a broken cell was accepted"
        for error in report.errors:  # each names its row, and the column or field when it is about one
            assert (
                error.row >= 2
                and error.message.strip()
                and (error.column or error.field or " " in error.message)
            )
        assert any(e.row == row for e in report.errors), f"row {row} ({column}) not named: {report.errors}"
    assert _store_counts(url) == before


@settings(max_examples=25, **FUZZ)
@given(data=employee_files(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk", "utf-16"]))
def test_a_broken_employee_csv_names_row_and_column_and_writes_nothing(
    orgs: str, tmp_path: Path, data: tuple[list[str], list[list[Any]], int, str], encoding: str
) -> None:
    from tests.test_import_export import MAPPING

    header, rows, row, column = data
    (mapping_file := tmp_path / "acme.yaml").write_text(MAPPING, encoding="utf-8")
    path = tmp_path / "staff.csv"
    with path.open("w", newline="", encoding=encoding, errors="replace") as f:
        csv.writer(f).writerows([header, *rows])
    _check_refused(orgs, path, mapping_file, _store_counts(orgs), row, column)


@settings(max_examples=12, **FUZZ)
@given(
    data=employee_files(),
    typed=st.lists(st.one_of(st.none(), st.integers(), st.floats(), st.booleans(), st.dates()), max_size=6),
)
def test_a_broken_employee_workbook_names_row_and_column_and_writes_nothing(
    orgs: str, tmp_path: Path, data: tuple[list[str], list[list[Any]], int, str], typed: list[Any]
) -> None:
    from tests.test_import_export import MAPPING

    header, rows, row, column = data
    (mapping_file := tmp_path / "acme.yaml").write_text(
        MAPPING.replace("{sheet: Staff}", "{}"), encoding="utf-8"
    )
    for i, value in enumerate(typed):  # numbers, dates, booleans and empty cells where text was
        cells = rows[i % len(rows)]
        if cells and header[i % len(cells)] != column:
            cells[i % len(cells)] = value
    book = Workbook()
    for cells in (header, *rows):  # a workbook cannot hold control characters at all
        book.active.append([ILLEGAL_CHARACTERS_RE.sub("", c) if isinstance(c, str) else c for c in cells])
    book.save(path := tmp_path / "staff.xlsx")
    _check_refused(orgs, path, mapping_file, _store_counts(orgs), row, column)


@settings(max_examples=15, **FUZZ)
@given(content=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".xlsx", ".txt"]))
def test_an_employee_file_that_is_not_a_table_is_refused_and_writes_nothing(
    orgs: str, tmp_path: Path, content: bytes, suffix: str
) -> None:
    from tests.test_import_export import MAPPING
    from tools.employee_io import EmployeeIOError

    (mapping_file := tmp_path / "acme.yaml").write_text(MAPPING, encoding="utf-8")
    (path := tmp_path / f"staff{suffix}").write_bytes(content)
    before = _store_counts(orgs)
    try:
        report = _import(orgs, path, mapping_file)
    except EmployeeIOError as e:
        assert str(e).strip()
    else:
        assert report.errors or report.rows == 0
    assert _store_counts(orgs) == before


@st.composite
def survey_files(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """The survey of tests/test_market_sources.py with cells broken, one for sure (P25 not a number)."""
    from tests.test_market_sources import HEADER, ROWS

    header, rows = list(HEADER), [list(r) for r in ROWS]
    for _ in range(draw(st.integers(0, 6))):
        rows[draw(st.integers(0, len(rows) - 1))][draw(st.integers(0, len(header) - 1))] = draw(CELLS)
    rows[draw(st.integers(0, len(rows) - 1))][header.index("P25")] = draw(
        st.sampled_from(["n/a", "-", "abc", "🙂"])
    )
    if draw(st.booleans()):
        header[draw(st.integers(0, len(header) - 1))] = draw(st.text(max_size=8))
    return header, rows


@settings(max_examples=30, **FUZZ)
@given(data=survey_files(), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_a_broken_salary_survey_names_row_and_column_and_keeps_nothing(
    tmp_path: Path, data: tuple[list[str], list[list[str]]], suffix: str
) -> None:
    from tests.test_market_sources import MAPPING
    from tools.market.models import MarketError
    from tools.market.surveys import import_survey, list_surveys, surveys_dir

    header, rows = data
    (mapping := tmp_path / "acme.yaml").write_text(MAPPING, encoding="utf-8")
    path = tmp_path / f"acme{suffix}"
    if suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([header, *rows])
    else:
        book = Workbook()
        for cells in (header, *rows):
            book.active.append([ILLEGAL_CHARACTERS_RE.sub("", c) for c in cells])
        book.save(path)
    with pytest.raises(MarketError) as refused:
        import_survey(path, mapping, "acme", today=TODAY)
    message = str(refused.value)
    assert "row " in message or "column" in message, message
    assert list_surveys() == [] and not any(surveys_dir().glob("*acme*"))


@st.composite
def bulk_sheets(draw: st.DrawFn) -> list[list[Any]]:
    """A bulk-change sheet: known and unknown columns, rows of real and broken values."""
    from hrops.bulk_service import KNOWN as COLUMNS

    header = draw(
        st.lists(
            st.one_of(st.sampled_from(sorted(COLUMNS)), st.text(max_size=8)),
            min_size=1,
            max_size=8,
            unique=True,
        )
    )
    if draw(st.booleans()):
        header = ["employee_id", "change", *[h for h in header if h not in ("employee_id", "change")]]
    value = st.one_of(
        CELLS,
        st.sampled_from(
            [
                "E1003",
                "E1002",
                "E9999",
                "job_title",
                "transfer",
                "salary_change",
                "termination",
                "address_change",
                "manager_change",
                "promotion",
                "ENG-DATA",
                "2026-12-01",
                "CNY",
                "personal",
            ]
        ),
        st.integers(-10, 10**9),
        st.dates(),
        st.none(),
    )
    rows = draw(st.lists(st.lists(value, min_size=len(header), max_size=len(header)), max_size=6))
    return [header, *rows]


@settings(max_examples=20, **FUZZ)
@given(sheet=bulk_sheets())
def test_a_bulk_change_sheet_is_read_and_checked_row_by_row_and_starts_nothing(
    company: str, tmp_path: Path, sheet: list[list[Any]]
) -> None:
    from hrops import bulk_service
    from hrops import request_service as svc

    book = Workbook()
    for cells in sheet:
        book.active.append([ILLEGAL_CHARACTERS_RE.sub("", c) if isinstance(c, str) else c for c in cells])
    book.save(path := tmp_path / "changes.xlsx")
    before = _store_counts(company)
    requester = svc.principal("li.wei")  # a manager: some rows are theirs to ask for, most are not
    try:
        rows = bulk_service.read_rows(path)
    except svc.RequestError as e:
        assert str(e).strip()
    else:
        for n, cells in rows:
            report = bulk_service._validate_row(requester, n, cells)
            assert report.row == n and (report.ok or report.problems), report
    assert _store_counts(company) == before


FORM = (
    Path(__file__).resolve().parent.parent
    / "tools"
    / "legacy"
    / "mappings"
    / "classic_hris"
    / "address_update.yaml"
)
BASE_FORM = yaml.safe_load(FORM.read_text(encoding="utf-8"))
HOOKS = [
    "no_such_module_x:f",
    ".relative:f",
    "a..b:f",
    "x\x00y:f",
    "hrops:__version__",
    "tools.legacy.mapping:MAX_NOPE",
    ":f",
    "tools.legacy.mapping:",
]


def _mutate(node: Any, draw: st.DrawFn, depth: int = 0) -> Any:
    """Somewhere in the mapping: a key dropped, a value of the wrong kind, a hook that cannot load."""
    junk = st.one_of(
        st.none(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=12),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
        st.sampled_from(HOOKS),
    )
    if isinstance(node, dict) and node and depth < 6:
        key = draw(st.sampled_from(sorted(node, key=str)))
        action = draw(st.sampled_from(["drop", "junk", "hook", "deeper", "deeper", "deeper"]))
        out = dict(node)
        if action == "drop":
            out.pop(key)
        elif action == "junk":
            out[key] = draw(junk)
        elif action == "hook":
            out["transforms"] = [{"hook": draw(st.sampled_from(HOOKS))}]
        else:
            out[key] = _mutate(node[key], draw, depth + 1)
        return out
    if isinstance(node, list) and node and depth < 6:
        i = draw(st.integers(0, len(node) - 1))
        return [*node[:i], _mutate(node[i], draw, depth + 1), *node[i + 1 :]]
    return draw(junk)


@st.composite
def mapping_texts(draw: st.DrawFn) -> str:
    base = BASE_FORM
    for _ in range(draw(st.integers(1, 3))):
        base = _mutate(base, draw)
    text = json.dumps(base, ensure_ascii=False)  # JSON is YAML, and much quicker to write
    return draw(
        st.one_of(st.just(text), st.just(text[: draw(st.integers(0, len(text)))]), st.text(max_size=80))
    )


@settings(max_examples=40, **FUZZ)
@given(text=mapping_texts(), binary=st.one_of(st.none(), st.binary(min_size=1, max_size=60)))
def test_a_broken_legacy_mapping_is_refused_with_where_and_why(
    tmp_path: Path, text: str, binary: bytes | None
) -> None:
    from tools.legacy.catalog import validate_file
    from tools.legacy.mapping import MappingError

    folder = tmp_path / "classic_hris"
    folder.mkdir(exist_ok=True)
    (folder / "system.yaml").write_text(
        (FORM.parent / "system.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    path = folder / FORM.name
    if binary is None:
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(binary + text.encode("utf-8", "replace"))
    try:
        validate_file(path)
    except MappingError as e:
        assert e.problems and all(p.strip() for p in e.problems) and e.report().startswith(str(path))


# Module names that cannot be a real module with import side effects (the check imports them).
hooks = st.one_of(
    st.sampled_from(HOOKS),
    st.builds(lambda a, b: f"no_such_module_{a}:{b}", st.text(max_size=8), st.text(max_size=8)),
    st.builds(lambda a: f".{a}:f", st.text(string.ascii_letters, max_size=8)),
)


@settings(max_examples=25, **FUZZ)
@given(hook=hooks)
def test_a_legacy_mapping_hook_that_cannot_load_is_refused_naming_the_field(
    tmp_path: Path, hook: str
) -> None:
    from tools.legacy.catalog import validate_file
    from tools.legacy.mapping import MappingError

    form = json.loads(json.dumps(BASE_FORM))
    form["pages"][0]["fields"][0]["transforms"] = [{"hook": hook}]
    (folder := tmp_path / "classic_hris").mkdir(exist_ok=True)
    (folder / "system.yaml").write_text(
        (FORM.parent / "system.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (path := folder / FORM.name).write_text(json.dumps(form), encoding="utf-8")
    with pytest.raises(MappingError) as refused:
        validate_file(path)
    assert any("hook" in p for p in refused.value.problems), refused.value.problems


# -- every POST body of the HTTP API ---------------------------------------------------------------

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.just("x" * 100_000),
    st.just("\x00\ud7ff\u202e🙂王芳"),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
RAW_BODIES = [
    b"",
    b"{",
    b"null",
    b"[]",
    b"\xff\xfe",
    b'{"question": 1e999, "text": -1e999}',
    b'{"question": NaN}',
    b'{"question": "\\ud800", "text": "\\udfff", "reason": "\\ud800"}',
    '{"a": "\ud800"}'.encode("utf-8", "surrogatepass"),
    b'{"\\ud800": 1}',
    b"[" * 5000 + b"]" * 5000,
]
IDS = st.sampled_from(
    ["E1003", "E1002", "E1001", "E1004", "E9999", "e1003", "", "REQ-1", "ENG-DATA", "CNY", "CN"]
)


def _from_schema(schema: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values that fit a JSON schema (pydantic's): types, enums, consts, required and optional keys."""
    if "$ref" in schema:
        return _from_schema(defs[schema["$ref"].split("/")[-1]], defs, depth)
    for union in ("anyOf", "oneOf"):
        if union in schema:
            return st.one_of([_from_schema(s, defs, depth) for s in schema[union]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        if schema.get("format") == "date":
            return st.one_of(
                st.dates().map(date.isoformat), st.sampled_from(["2026-02-30", "2026-13-01", "today"])
            )
        size = min(schema.get("maxLength", 60), 60)
        return st.one_of(IDS, st.text(min_size=min(schema.get("minLength", 0), size), max_size=size))
    if kind == "integer":
        return st.integers(-(10**12), 10**12)
    if kind == "number":
        return st.one_of(st.integers(-(10**9), 10**9), st.floats(allow_nan=False, allow_infinity=False))
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return st.lists(_from_schema(schema.get("items", {}), defs, depth + 1), max_size=3)
    if kind == "object" and depth < 5:
        props = schema.get("properties", {})
        required = {
            k: _from_schema(v, defs, depth + 1) for k, v in props.items() if k in schema.get("required", [])
        }
        optional = {k: _from_schema(v, defs, depth + 1) for k, v in props.items() if k not in required}
        if not props:
            return st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3)
        return st.fixed_dictionaries(required, optional=optional)
    return JUNK


@st.composite
def bodies(draw: st.DrawFn, model: type[BaseModel]) -> bytes:
    """A body of the route's schema, then 0 to 3 mutations: a key dropped, a value of the wrong type,
    null, huge or odd text, an unknown key; sometimes no JSON object at all."""
    schema = model.model_json_schema()
    body = draw(_from_schema(schema, schema.get("$defs", {})))
    for _ in range(draw(st.integers(0, 3))):
        body = _mutate_json(body, draw)
    shape = draw(st.sampled_from(["json"] * 8 + ["raw", "junk"]))
    if shape == "raw":  # not JSON, or JSON that Python reads into values no JSON answer can hold
        return draw(st.sampled_from(RAW_BODIES))
    return json.dumps(draw(JUNK) if shape == "junk" else body).encode()


def _mutate_json(node: Any, draw: st.DrawFn) -> Any:
    if isinstance(node, dict) and node:
        key = draw(st.sampled_from(sorted(node)))
        action = draw(st.sampled_from(["drop", "junk", "extra", "deeper"]))
        out = dict(node)
        if action == "drop":
            out.pop(key)
        elif action == "junk":
            out[key] = draw(JUNK)
        elif action == "extra":
            out[draw(st.text(max_size=8))] = draw(JUNK)
        else:
            out[key] = _mutate_json(node[key], draw)
        return out
    return draw(JUNK)


def _body_routes() -> list[tuple[str, type[BaseModel]]]:
    """(path, body model) of every POST route that takes a JSON body, included routers too."""
    from tests.test_access_matrix import _endpoints  # the same walk the access matrix uses

    def walk(routes: list[Any]) -> Any:
        for route in routes:
            inner = getattr(route, "original_router", None)
            yield from walk(inner.routes) if inner is not None else [route]

    found = []
    for route in walk(app.routes):
        field = getattr(route, "body_field", None)
        if "POST" in (getattr(route, "methods", None) or ()) and field is not None:
            found.append((route.path, field.field_info.annotation))
    assert {p for _, p in _endpoints(app.routes)} >= {p for p, _ in found}
    return sorted(found, key=lambda r: r[0])


BODY_ROUTES = _body_routes()
PATH_IDS = st.one_of(
    st.sampled_from(["REQ-1", "REQ-0", "req-2", "RV-1", "REQ-99999999999999999999999", "..", "%00"]),
    st.text(max_size=30),
)


@pytest.fixture
async def api(company: str, temporal_env, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    """The app on the tiny company plus `fuzzer`, a user with no employee record and no role, and a
    webhook; the Temporal client of the test server (nothing is started: every body is refused)."""
    from hrops.api import app as api_module
    from hrops.channels import assistant_port

    with session_scope(company, write=True) as s:
        s.add(User(username="fuzzer", employee_id=None, display_name="Fuzzer"))
    monkeypatch.setenv("HROPS_WEBHOOK_SECRETS", json.dumps({"bridge": WEBHOOK_SECRET}))
    monkeypatch.setenv("HROPS_FEISHU_VERIFICATION_TOKEN", FEISHU_TOKEN)
    reset_settings()
    hub = Channels(settings=get_settings(), http=FakePlatforms().client())  # no call leaves the machine
    app.state.client, app.state.channels = temporal_env.client, hub
    assistant_port.install(api_module._assistant)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hrops") as http:
            yield http
    finally:
        app.state.client = app.state.channels = None
        assistant_port.install(None)
        await hub.aclose()


def _bearer(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth.issue(get_settings(), user)}", "Content-Type": "application/json"}


def _refused_cleanly(r: httpx.Response, path: str) -> None:
    assert r.status_code < 500, f"{path}: {r.status_code} {r.text[:300]}"
    if r.status_code >= 400:
        detail = r.json()["detail"]
        assert detail and (isinstance(detail, str) or all(d.get("msg") and d.get("loc") for d in detail)), (
            detail
        )


def _fill(path: str, draw: st.DrawFn) -> str:
    from urllib.parse import quote

    for name in ("{request_id}", "{review_id}", "{case_id}"):
        if name in path:
            path = path.replace(name, quote(draw(PATH_IDS), safe="") or "REQ-1")
    return path


SLOW_BODY_ROUTES = {"/api/chat"}  # each body is a turn of the assistant: fewer examples


async def _post_fuzzed(
    api: httpx.AsyncClient, company: str, path: str, model: type[BaseModel], data: st.DataObject
) -> None:
    before = _store_counts(company)
    user = data.draw(
        st.sampled_from(["fuzzer", "fuzzer", "amy.hughes"]) if "requests/" in path else st.just("fuzzer")
    )
    body = data.draw(bodies(model))
    if user == "amy.hughes":  # HR ops may ask for anyone: only people who cannot change, so nothing starts
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, or nested too deep to read
            parsed = None
        if isinstance(parsed, dict):
            parsed["employee_id"] = data.draw(st.sampled_from(["E9999", "E1004", "", "E1003\x00"]))
            body = json.dumps(parsed).encode()
    url = _fill(path, data.draw)
    r = await api.post(url, content=body, headers=_bearer(user))
    _refused_cleanly(r, url)
    if path not in ("/api/ask", "/api/chat", "/api/kb/ask"):  # those answer in the body: an answer or why not
        assert r.status_code >= 400, f"{url} took {body[:200]!r}: {r.text[:200]}"
    assert _store_counts(company) == before


FAST = [r for r in BODY_ROUTES if r[0] not in SLOW_BODY_ROUTES]
SLOW = [r for r in BODY_ROUTES if r[0] in SLOW_BODY_ROUTES]


@pytest.mark.parametrize(("path", "model"), FAST, ids=[p for p, _ in FAST])
@settings(max_examples=20, **FUZZ)
@given(data=st.data())
async def test_every_api_body_is_refused_with_a_reason_never_a_500_and_writes_nothing(
    api: httpx.AsyncClient, company: str, path: str, model: type[BaseModel], data: st.DataObject
) -> None:
    await _post_fuzzed(api, company, path, model, data)


@pytest.mark.parametrize(("path", "model"), SLOW, ids=[p for p, _ in SLOW])
@settings(max_examples=8, **FUZZ)
@given(data=st.data())
async def test_every_chat_body_is_answered_or_refused_never_a_500_and_writes_nothing(
    api: httpx.AsyncClient, company: str, path: str, model: type[BaseModel], data: st.DataObject
) -> None:
    await _post_fuzzed(api, company, path, model, data)


JSONS = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _webhook_post(body: bytes, linked: bool) -> tuple[str, bytes, dict[str, str]]:
    if linked:  # from the linked account: the message reaches the assistant, the click a decision
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, dict):
            body = json.dumps({**parsed, "user": "u-fuzzer"}).encode()
    return "/channels/webhook/bridge", body, {SIGNATURE_HEADER: sign(WEBHOOK_SECRET, body)}


def _feishu_post(kind: str, event: Any, event_id: Any) -> tuple[str, bytes, dict[str, str]]:
    data = {
        "schema": "2.0",
        "header": {"token": FEISHU_TOKEN, "event_type": kind, "event_id": event_id},
        "event": event,
    }
    return "/channels/feishu/events", json.dumps(data).encode(), {}


def _platform_posts() -> st.SearchStrategy[tuple[str, bytes, dict[str, str]]]:
    """A genuine (correctly signed, right token) POST from a chat platform with any content at all."""
    from hrops.channels import feishu
    from hrops.channels.webhook import WebhookIn

    scalar = st.one_of(st.none(), st.integers(), st.text(max_size=8), st.lists(st.integers(), max_size=2))
    value = st.one_of(scalar, st.fixed_dictionaries({}, optional={"action": scalar, "request_id": scalar}))
    card = st.fixed_dictionaries(
        {},
        optional={
            "action": st.one_of(
                scalar, st.fixed_dictionaries({}, optional={"value": value, "form_value": JSONS})
            ),
            "operator": st.one_of(
                scalar, st.just({"open_id": "ou-fuzzer"}), st.fixed_dictionaries({"open_id": JSONS})
            ),
        },
    )
    return st.one_of(
        st.builds(_webhook_post, bodies(WebhookIn), st.booleans()),
        st.builds(
            _feishu_post,
            st.just(feishu.CARD_ACTION),
            st.one_of(card, JSONS),
            st.one_of(st.text(max_size=6), JSONS),
        ),
        st.builds(
            _feishu_post,
            st.sampled_from([feishu.MESSAGE_RECEIVED, "url_verification", "other"]),
            JSONS,
            st.text(max_size=6),
        ),
        st.builds(
            lambda header, event: (
                "/channels/feishu/events",
                json.dumps({"token": FEISHU_TOKEN, "header": header, "event": event}).encode(),
                {},
            ),
            JSONS,
            JSONS,
        ),
    )


@settings(max_examples=60, **FUZZ)
@given(post=_platform_posts())
async def test_a_genuine_platform_post_with_any_content_never_crashes_and_writes_nothing(
    api: httpx.AsyncClient, company: str, post: tuple[str, bytes, dict[str, str]]
) -> None:
    from tests.channel_fakes import link

    with session_scope(company) as s:
        linked = s.scalar(select(func.count()).select_from(ChannelLink))
    if not linked:
        link(company, "webhook:bridge", "u-fuzzer", "fuzzer")
        link(company, "feishu", "ou-fuzzer", "fuzzer")
    path, body, headers = post
    before = _store_counts(company)
    r = await api.post(path, content=body, headers={"Content-Type": "application/json", **headers})
    assert r.status_code < 500, f"{path}: {r.status_code} {body[:300]!r}"
    if r.status_code >= 400:
        assert r.json()["detail"]
    assert _store_counts(company) == before


CONSOLE_FIELDS = [
    "username",
    "password",
    "lang",
    "text",
    "mid",
    "verdict",
    "reason",
    "back",
    "action",
    "note",
    "question",
]


def _console_posts() -> list[str]:
    from tests.test_access_matrix import _endpoints

    return sorted(p for m, p in _endpoints(app.routes) if m == "POST" and p.startswith("/console/"))


@settings(max_examples=40, **FUZZ)
@given(data=st.data())
async def test_every_console_form_answers_without_a_500_and_writes_nothing(
    api: httpx.AsyncClient, console: httpx.AsyncClient, company: str, data: st.DataObject
) -> None:
    """Every console form, signed in (as `fuzzer`) or not, with its fields and others, any values."""
    from hrops.console import routes

    browser = console
    path = data.draw(st.sampled_from(_console_posts()))
    signed_in = path not in ("/console/login", "/console/logout") and data.draw(st.booleans())
    client = browser if signed_in else api
    csrf = _csrf((await client.get("/console/login" if not signed_in else "/console/tools")).text)
    form = data.draw(
        st.dictionaries(
            st.sampled_from(CONSOLE_FIELDS) | st.text(max_size=6),
            st.text(max_size=40) | st.sampled_from(WORDS),
            max_size=5,
        )
    )
    if data.draw(st.integers(0, 9)):  # mostly with the form token, so the form is read at all
        form["csrf"] = csrf
    url = path.replace("{request_id}", quote(data.draw(PATH_IDS), safe="") or "REQ-1").replace(
        "{push}", str(data.draw(st.integers(-2, 3)))
    )
    before = _store_counts(company)
    routes._failures.clear()
    r = await client.post(url, data=form)
    assert r.status_code < 500, f"{url} {form}: {r.status_code} {r.text[:300]}"
    assert _store_counts(company) == before


@pytest.fixture
async def console(api: httpx.AsyncClient, company: str):  # noqa: ANN201
    """A second browser on the same app, signed in to the console as `fuzzer`."""
    from tools.store.passwords import hash_password

    with session_scope(company, write=True) as s:
        s.get(User, "fuzzer").password_hash = hash_password("fuzzer-password")
    async with httpx.AsyncClient(transport=api._transport, base_url="http://hrops") as browser:
        csrf = _csrf((await browser.get("/console/login")).text)
        r = await browser.post(
            "/console/login", data={"csrf": csrf, "username": "fuzzer", "password": "fuzzer-password"}
        )
        assert r.status_code == 303, r.text[:200]
        yield browser


def _csrf(html: str) -> str:
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


@settings(max_examples=15, **FUZZ)
@given(request_id=PATH_IDS, user=st.sampled_from(["fuzzer", "amy.hughes", "wang.fang"]))
async def test_undo_of_any_request_id_is_refused_with_a_reason(
    api: httpx.AsyncClient, company: str, request_id: str, user: str
) -> None:
    before = _store_counts(company)
    r = await api.post(f"/api/requests/{quote(request_id, safe='') or 'REQ-1'}/undo", headers=_bearer(user))
    _refused_cleanly(r, request_id)
    assert r.status_code >= 400 and _store_counts(company) == before
