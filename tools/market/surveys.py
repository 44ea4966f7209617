"""Salary surveys a company brings: an xlsx or csv export plus a YAML column mapping.

`import_survey` reads the whole file and checks every row before anything is stored (problems name
the row and column); then the file and its mapping are kept under `<var_dir>/market/surveys/<name>/`
where the survey source (sources/survey.py) finds them. The mapping format:

```yaml
version: 1
citation: {publisher: Acme Pay Surveys, title: Tech Pay 2026, url: ..., licence: ...}
source: {sheet: Data, header_row: 1}      # optional, as for employee imports
fields:                                    # a column name, or {column: X} / {value: constant}, + map
  job: Job Title
  location: {value: Shanghai}
  level: {column: Grade, map: {P3: mid, P4: senior}}   # optional: entry, mid, senior, executive
  soc_code: SOC                                        # optional
  p25: P25
  p50: Median
  p75: P75
  mean: Average                                        # p10..p90 and mean: at least one
  sample_size: Incumbents                              # optional
  currency: {value: CNY}
  pay_period: {value: annual}                          # annual, monthly or hourly
  reference_date: {value: 2026-04-01}                  # a date, YYYY-MM or a year
```
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from tools.employee_io.errors import EmployeeIOError, did_you_mean, listing
from tools.employee_io.mapping import SourceSpec
from tools.employee_io.sources import SUPPORTED, open_table
from tools.market.config import StrictModel, market_dir, read_yaml
from tools.market.models import PERCENTILES, Citation, Level, MarketError, PayPeriod
from tools.market.rates import load_rates

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
FIGURES = (*PERCENTILES, "mean")
REQUIRED = ("job", "location", "currency", "pay_period", "reference_date")
OPTIONAL = ("level", "soc_code", "sample_size")
MAX_SHOWN = 20  # row problems listed before "... and N more"
_HINT = "see docs/market.md (survey mapping)"
PERIODS = {
    PayPeriod.ANNUAL: (
        "annual",
        "annually",
        "year",
        "yearly",
        "per year",
        "a year",
        "pa",
        "p.a.",
        "年",
        "年薪",
    ),
    PayPeriod.MONTHLY: ("monthly", "month", "per month", "a month", "pm", "月", "月薪"),
    PayPeriod.HOURLY: ("hourly", "hour", "per hour", "an hour", "ph", "小时", "时薪"),
}
PERIOD_WORDS = {w: p for p, words in PERIODS.items() for w in words}
CURRENCY_ALIASES = {"RMB": "CNY", "CNH": "CNY", "US$": "USD", "$": "USD", "£": "GBP", "€": "EUR"}


class SurveyField(StrictModel):
    column: str | None = None
    value: Any = None
    map: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"column": data}
        if not isinstance(data, dict):
            raise ValueError(f"expected a column name or {{column: ...}} / {{value: ...}}, got {data!r}")
        if "map" in data and isinstance(data["map"], dict):
            data = {**data, "map": {str(k).strip(): v for k, v in data["map"].items()}}
        return data

    @model_validator(mode="after")
    def _one_source(self) -> SurveyField:
        given = [k for k in ("column", "value") if k in self.model_fields_set]
        if len(given) != 1:
            raise ValueError(f"give exactly one of column or value (got {' and '.join(given) or 'none'})")
        if self.column is not None and not self.column.strip():
            raise ValueError("column must not be empty")
        return self

    def read(self, cells: dict[str, Any]) -> Any:
        raw = cells.get(self.column) if self.column is not None else self.value
        if self.map is not None and raw is not None:
            key = raw.isoformat() if isinstance(raw, date) else str(raw).strip()
            return self.map.get(key, raw)
        return raw

    def where(self) -> str:
        return f"column {self.column!r}" if self.column is not None else "the constant in the mapping"


class SurveyCitation(StrictModel):
    publisher: str = Field(min_length=1)
    title: str = Field(min_length=1)
    url: str | None = None
    licence: str | None = None


class SurveyMapping(StrictModel):
    version: Literal[1]
    citation: SurveyCitation
    description: str | None = None
    source: SourceSpec = SourceSpec()
    fields: dict[str, SurveyField]

    @model_validator(mode="after")
    def _complete(self) -> SurveyMapping:
        known = (*REQUIRED, *FIGURES, *OPTIONAL)
        unknown = [f for f in self.fields if f not in known]
        if unknown:
            raise ValueError(
                f"fields: unknown field {unknown[0]!r}{did_you_mean(unknown[0], known)}; "
                f"valid fields: {', '.join(known)}"
            )
        missing = [f for f in REQUIRED if f not in self.fields]
        if missing:
            raise ValueError(
                f"fields: no mapping for {', '.join(missing)} (use {{value: ...}} for a constant)"
            )
        if not any(f in self.fields for f in FIGURES):
            raise ValueError(f"fields: map at least one of {', '.join(FIGURES)}")
        return self

    def columns(self) -> list[str]:
        return list(dict.fromkeys(s.column for s in self.fields.values() if s.column is not None))


class SurveyRow(BaseModel):
    """One checked row: a job's figures as the survey states them."""

    row: int
    job: str
    location: str
    level: Level | None = None
    soc_code: str | None = None
    figures: dict[str, float | None]  # p10..p90 and mean
    sample_size: int | None = None
    currency: str
    pay_period: PayPeriod
    reference_date: date


class StoredSurvey(BaseModel):
    name: str
    file_name: str  # as the user gave it
    stored_as: str
    sha256: str
    rows: int
    imported_on: date
    citation: SurveyCitation
    replaced: bool = False

    def citation_for(self, detail: str) -> Citation:
        c = self.citation
        return Citation(publisher=c.publisher, title=c.title, url=c.url, licence=c.licence, detail=detail)


# --- reading one row -------------------------------------------------------------------------------


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip() or None


def _number(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool | date):
        return _bad(f"{v!r} is not a number")
    if isinstance(v, int | float):
        return float(v)
    text = str(v).strip().replace(",", "").replace(" ", "").replace("_", "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return _bad(f"{v!r} is not a number")


class _Bad(ValueError):
    pass


def _bad(message: str) -> Any:
    raise _Bad(message)


def _count(v: Any) -> int | None:
    n = _number(v)
    if n is None:
        return None
    if n < 0 or not float(n).is_integer():
        _bad(f"{v!r} is not a count of data points (a whole number, 0 or more)")
    return int(n)


def _currency(v: Any, supported: list[str]) -> str:
    text = _text(v)
    if text is None:
        _bad("is empty: every row needs a currency")
    code = text.upper()
    if code in supported:
        return code
    alias = CURRENCY_ALIASES.get(code)
    hint = f" (for {text} write `map: {{{text}: {alias}}}` under this field)" if alias else ""
    return _bad(
        f"{text!r} is not a supported currency{hint}; supported: {', '.join(supported)} "
        "(`hrops market rates set` adds one)"
    )


def _period(v: Any) -> PayPeriod:
    text = (_text(v) or "").casefold()
    if text in PERIOD_WORDS:
        return PERIOD_WORDS[text]
    return _bad(
        f"{v!r} is not a pay period: use annual, monthly or hourly (or map: the file's words to them)"
    )


def _date(v: Any) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    text = _text(v)
    if text is None:
        _bad("is empty: every row needs a reference date")
    if re.fullmatch(r"\d{4}", text):
        return date(int(text), 7, 1)  # a year: its middle
    if re.fullmatch(r"\d{4}-\d{2}", text):
        text += "-15"  # a month: its middle
    try:
        return date.fromisoformat(text)
    except ValueError:
        return _bad(f"{v!r} is not a date: use YYYY-MM-DD, YYYY-MM or a year")


def _level(v: Any) -> Level | None:
    text = _text(v)
    if text is None:
        return None
    try:
        return Level(text.casefold())
    except ValueError:
        return _bad(
            f"{text!r} is not a level: map the file's levels to {', '.join(lv.value for lv in Level)} (map:)"
        )


def parse_row(
    number: int, cells: dict[str, Any], m: SurveyMapping, supported: list[str]
) -> SurveyRow | list[str]:
    """The row checked, or its problems (each naming the row and the column)."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    readers = {
        "job": _text,
        "location": _text,
        "soc_code": _text,
        "level": _level,
        "sample_size": _count,
        "currency": lambda v: _currency(v, supported),
        "pay_period": _period,
        "reference_date": _date,
        **dict.fromkeys(FIGURES, _number),
    }
    for name, spec in m.fields.items():
        try:
            values[name] = readers[name](spec.read(cells))
        except _Bad as e:
            problems.append(f"row {number}, {spec.where()} ({name}): {e}")
    for name in ("job", "location"):
        if name in values and values[name] is None:
            problems.append(f"row {number}, {m.fields[name].where()} ({name}): is empty")
    figures = {f: values.get(f) for f in FIGURES}
    if not problems and all(v is None for v in figures.values()):
        mapped = ", ".join(m.fields[f].where() for f in FIGURES if f in m.fields)
        problems.append(f"row {number}: no figure at all (empty: {mapped})")
    if not problems:
        given = [(f, v) for f, v in figures.items() if f != "mean" and v is not None]
        if any(b < a for (_, a), (_, b) in zip(given, given[1:], strict=False)):
            order = ", ".join(f"{f.upper()} {v:,.0f}" for f, v in given)
            problems.append(f"row {number}: percentiles out of order ({order})")
        if any(v is not None and v <= 0 for v in figures.values()):
            problems.append(f"row {number}: pay figures must be above 0")
    if problems:
        return problems
    return SurveyRow(
        row=number,
        job=values["job"],
        location=values["location"],
        level=values.get("level"),
        soc_code=values.get("soc_code"),
        figures=figures,
        sample_size=values.get("sample_size"),
        currency=values["currency"],
        pay_period=values["pay_period"],
        reference_date=values["reference_date"],
    )


def read_rows(path: Path, m: SurveyMapping, supported: list[str]) -> list[SurveyRow]:
    """Every row of the file checked; any problem raises MarketError naming rows and columns."""
    try:
        table = open_table(path, m.source)
    except EmployeeIOError as e:
        raise MarketError(str(e)) from None
    with table:
        available = [c for c in table.columns if c]
        missing = [c for c in m.columns() if c not in available]
        if missing:
            which = "; ".join(f"{c!r}{did_you_mean(c, available)}" for c in missing)
            raise MarketError(
                f"{table.where}: the mapping names column(s) the file does not have: {which}. "
                f"The file's columns (row {m.source.header_row}): {listing(available)}"
            )
        rows: list[SurveyRow] = []
        problems: list[str] = []
        try:
            for source_row in table.rows():
                parsed = parse_row(source_row.number, source_row.values, m, supported)
                if isinstance(parsed, list):
                    problems += parsed
                else:
                    rows.append(parsed)
        except EmployeeIOError as e:
            raise MarketError(str(e)) from None
    if problems:
        more = f"; ... and {len(problems) - MAX_SHOWN} more" if len(problems) > MAX_SHOWN else ""
        raise MarketError(
            f"{table.where}: {len(problems)} problem(s), nothing imported: "
            + "; ".join(problems[:MAX_SHOWN])
            + more
        )
    if not rows:
        raise MarketError(f"{table.where} has no data rows under the header (row {m.source.header_row})")
    return rows


# --- the store ---------------------------------------------------------------------------------------


def surveys_dir(var_dir: Path | None = None) -> Path:
    return market_dir(var_dir) / "surveys"


def load_survey_mapping(path: Path) -> SurveyMapping:
    return read_yaml(path, SurveyMapping, _HINT)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def import_survey(
    file: str | Path, mapping: str | Path, name: str, *, today: date, var_dir: Path | None = None
) -> StoredSurvey:
    """Check every row of `file` with `mapping`, then keep both as survey `name` (again: replaced)."""
    file, mapping = Path(file), Path(mapping)
    if not NAME.match(name):
        raise MarketError(
            f"survey name {name!r}: use lower-case letters, digits, - and _ (at most 40), e.g. acme-tech-2026"
        )
    if file.suffix.lower() not in SUPPORTED:
        raise MarketError(f"cannot import {file.name}: use an Excel workbook (.xlsx) or a CSV file (.csv)")
    m = load_survey_mapping(mapping)
    rows = read_rows(file, m, load_rates(var_dir).supported)
    home = surveys_dir(var_dir) / name
    replaced = home.exists()
    staging = home.with_name(f".{name}.new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    stored_as = "data" + file.suffix.lower()
    shutil.copyfile(file, staging / stored_as)
    shutil.copyfile(mapping, staging / "mapping.yaml")
    meta = StoredSurvey(
        name=name,
        file_name=file.name,
        stored_as=stored_as,
        sha256=_sha256(file),
        rows=len(rows),
        imported_on=today,
        citation=m.citation,
        replaced=replaced,
    )
    (staging / "survey.json").write_text(meta.model_dump_json(indent=2), encoding="utf-8")
    if replaced:
        shutil.rmtree(home)
    staging.rename(home)
    return meta


def list_surveys(var_dir: Path | None = None) -> list[StoredSurvey]:
    root = surveys_dir(var_dir)
    if not root.is_dir():
        return []
    out = []
    for meta in sorted(root.glob("*/survey.json")):
        try:
            out.append(StoredSurvey.model_validate(json.loads(meta.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as e:
            raise MarketError(
                f"survey {meta.parent.name} is damaged ({meta}): {e}; import it again"
            ) from None
    return out


def stored_rows(survey: StoredSurvey, var_dir: Path | None = None) -> list[SurveyRow]:
    """The survey's checked rows (read once per process and file version)."""
    home = surveys_dir(var_dir) / survey.name
    data, mapping = home / survey.stored_as, home / "mapping.yaml"
    stamp = tuple(p.stat().st_mtime_ns if p.exists() else 0 for p in (data, mapping))
    return _cached_rows(data, mapping, stamp, tuple(load_rates(var_dir).supported))


@lru_cache(maxsize=32)
def _cached_rows(
    data: Path, mapping: Path, _stamp: tuple[int, ...], supported: tuple[str, ...]
) -> list[SurveyRow]:
    return read_rows(data, load_survey_mapping(mapping), list(supported))
