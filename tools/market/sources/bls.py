"""BLS OEWS May 2024 national cross-industry wages (public domain), from the unmodified release
workbook in tools/market/data/bls_oews_national_2024 (SOURCE.md there). The figures are the file's
own: annual percentiles (hourly for the few occupations BLS publishes only hourly), employment as
the sample size. BLS markers are never turned into numbers: `*` (wage not available) and `#`
(top-coded: at least $239,200 a year or $115.00 an hour) leave the percentile empty with a note;
`**` (employment not available) leaves the sample size empty."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from tools.market.models import (
    PERCENTILES,
    Citation,
    MarketError,
    MarketQuestion,
    Match,
    PayPeriod,
    Percentiles,
    SourceFigure,
)
from tools.market.sources import SourceContext, register

DATA = Path(__file__).resolve().parent.parent / "data" / "bls_oews_national_2024" / "national_M2024_dl.xlsx"
SHEET = "national_M2024_dl"
# OEWS May estimates refer to the pay period including the 12th of May.
REFERENCE_DATE = date(2024, 5, 12)
TOP_CODED = {PayPeriod.ANNUAL: "239,200 USD a year", PayPeriod.HOURLY: "115.00 USD an hour"}
COLUMNS = {
    PayPeriod.ANNUAL: ("A_PCT10", "A_PCT25", "A_MEDIAN", "A_PCT75", "A_PCT90", "A_MEAN"),
    PayPeriod.HOURLY: ("H_PCT10", "H_PCT25", "H_MEDIAN", "H_PCT75", "H_PCT90", "H_MEAN"),
}
CITATION = Citation(
    publisher="U.S. Bureau of Labor Statistics",
    title="Occupational Employment and Wage Statistics, May 2024",
    url="https://www.bls.gov/oes/tables.htm",
    licence="public domain (17 U.S.C. 105)",
)


@dataclass(frozen=True)
class Occupation:
    code: str
    title: str
    group: str  # total, major, detailed
    cells: dict[str, Any]  # column -> value as in the file (numbers, markers, blanks)


@lru_cache(maxsize=1)
def table(path: Path = DATA) -> dict[str, Occupation]:
    """Every occupation in the file by SOC code, read once per process."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except OSError as e:
        raise MarketError(f"the BLS OEWS file cannot be read ({path}): {e}") from None
    try:
        rows = wb[SHEET].iter_rows(values_only=True)
        header = [str(c).strip() if c is not None else "" for c in next(rows)]
        out: dict[str, Occupation] = {}
        for values in rows:
            cells = dict(zip(header, values, strict=False))
            code = cells.get("OCC_CODE")
            if code:
                out[str(code)] = Occupation(str(code), str(cells["OCC_TITLE"]), str(cells["O_GROUP"]), cells)
        return out
    finally:
        wb.close()


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def figure(occ: Occupation) -> SourceFigure:
    c = occ.cells
    period = PayPeriod.HOURLY if str(c.get("HOURLY") or "").upper() == "TRUE" else PayPeriod.ANNUAL
    cols = COLUMNS[period]
    values = {name: _number(c.get(col)) for name, col in zip(PERCENTILES, cols[:5], strict=True)}
    notes: list[str] = []
    top = [col for col in cols if c.get(col) == "#"]
    if top:
        notes.append(f"{', '.join(top)} top-coded at ≥ {TOP_CODED[period]}: BLS publishes no higher figure")
    missing = [col for col in cols if c.get(col) == "*"]
    if missing:
        notes.append(f"{', '.join(missing)} not available (BLS marker *)")
    if period is PayPeriod.HOURLY:
        notes.append("BLS publishes only hourly wages for this occupation (not paid on an annual basis)")
    employment = _number(c.get("TOT_EMP"))
    if c.get("TOT_EMP") == "**":
        notes.append("employment not available (BLS marker **)")
    notes.append("sample size is the occupation's estimated US employment (TOT_EMP), not survey responses")
    return SourceFigure(
        source=BlsOews.name,
        category=occ.title,
        location="US",
        percentiles=Percentiles(**values),
        mean=_number(c.get(cols[5])),
        sample_size=int(employment) if employment is not None else None,
        reference_date=REFERENCE_DATE,
        currency="USD",
        pay_period=period,
        citation=CITATION.model_copy(
            update={"detail": f"OCC_CODE {occ.code} {occ.title}, national, cross-industry, all ownerships"}
        ),
        notes=notes,
    )


@register
class BlsOews:
    name = "bls_oews"

    def figures(self, match: Match, question: MarketQuestion, ctx: SourceContext) -> list[SourceFigure]:
        occ = table().get(match.soc_code)
        if occ is None:
            return []
        out = figure(occ)
        if match.level is not None:
            out.notes.append(
                f"all experience levels: BLS does not split occupations by seniority ({match.level})"
            )
        return [out]
