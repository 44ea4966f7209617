"""ai-jobs.net salaries (CC0): individual, self-reported answers for data and AI jobs, 2020-2024
snapshot in tools/market/data/aijobs_salaries (SOURCE.md there). Percentiles are computed here from
the rows of one cut: the match's ai-jobs job titles x the level x the question's country (full-time
jobs only). A cut with fewer than MIN_POINTS rows is shown suppressed and the cut widens, saying so:
the country -> US (the bulk of the data, which location differentials can move) -> all countries."""

from __future__ import annotations

import csv
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from tools.market.config import load_config
from tools.market.models import (
    MIN_POINTS,
    Citation,
    Level,
    MarketError,
    MarketQuestion,
    Match,
    PayPeriod,
    SourceFigure,
)
from tools.market.sources import SourceContext, register
from tools.market.stats import percentiles

DATA = Path(__file__).resolve().parent.parent / "data" / "aijobs_salaries" / "salaries.csv"
LEVELS = {"EN": Level.ENTRY, "MI": Level.MID, "SE": Level.SENIOR, "EX": Level.EXECUTIVE}
CODES = {level: code for code, level in LEVELS.items()}
ALL_COUNTRIES = "all countries"
CITATION = Citation(
    publisher="ai-jobs.net",
    title="AI, ML and data science salaries (snapshot of 2024-06-26)",
    url="https://ai-jobs.net/salaries/download/salaries.csv",
    licence="CC0 1.0 (public domain dedication)",
)


@dataclass(frozen=True)
class Answer:
    year: int
    level: Level
    title: str
    salary: float
    currency: str
    usd: float
    country: str  # company_location


@lru_cache(maxsize=1)
def answers(path: Path = DATA) -> tuple[Answer, ...]:
    """The full-time answers of the file, read once per process."""
    out = []
    try:
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row["employment_type"] != "FT" or row["experience_level"] not in LEVELS:
                    continue
                out.append(
                    Answer(
                        year=int(row["work_year"]),
                        level=LEVELS[row["experience_level"]],
                        title=row["job_title"].strip(),
                        salary=float(row["salary"]),
                        currency=row["salary_currency"].strip().upper(),
                        usd=float(row["salary_in_usd"]),
                        country=row["company_location"].strip().upper(),
                    )
                )
    except (OSError, KeyError, ValueError) as e:
        raise MarketError(f"the ai-jobs.net file cannot be read ({path}): {type(e).__name__}: {e}") from None
    return tuple(out)


def _mid_year(rows: list[Answer]) -> date:
    """The average of the rows' mid-years (1 July of each work_year)."""
    return date.fromordinal(round(statistics.fmean(date(r.year, 7, 1).toordinal() for r in rows)))


def _amounts(rows: list[Answer], currency: str) -> tuple[list[float], str, str]:
    """(amounts, their currency, what was used): the salaries as reported when at least half the
    rows (and MIN_POINTS) were paid in the question's currency, otherwise ai-jobs.net's USD values."""
    own = [r.salary for r in rows if r.currency == currency]
    if currency != "USD" and len(own) >= MIN_POINTS and 2 * len(own) >= len(rows):
        left = len(rows) - len(own)
        return (
            own,
            currency,
            (
                f"salary as reported in {currency} ({len(own)} rows"
                + (f"; {left} paid in other currencies left out)" if left else ")")
            ),
        )
    return [r.usd for r in rows], "USD", "salary_in_usd as published (ai-jobs.net converted other currencies)"


def _figure(
    rows: list[Answer], titles: list[str], level: Level | None, where: str, currency: str, notes: list[str]
) -> SourceFigure:
    amounts, paid_in, used = _amounts(rows, currency)
    suppressed = len(amounts) < MIN_POINTS
    years = sorted({r.year for r in rows})
    cut = [
        f"job_title in {titles}",
        f"experience_level {CODES[level]}" if level else "every experience level",
    ]
    cut += [f"company_location {where}" if where != ALL_COUNTRIES else ALL_COUNTRIES, "employment_type FT"]
    notes = [
        *notes,
        "self-reported, self-selected answers (ai-jobs.net): mostly US, data and AI jobs only",
        used,
    ]
    if years:
        notes.append(f"work years {years[0]}-{years[-1]}; reference date = the rows' average mid-year")
    if suppressed:
        notes.append(f"{len(amounts)} rows, fewer than {MIN_POINTS}: percentiles withheld")
    if where == ALL_COUNTRIES and rows:
        top, n = Counter(r.country for r in rows).most_common(1)[0]
        notes.append(f"{n / len(rows):.0%} of these rows are from {top}")
    return SourceFigure(
        source=AiJobs.name,
        category=", ".join(titles) + (f" ({level})" if level else ""),
        location=where,
        percentiles=percentiles(amounts),
        sample_size=len(amounts),
        reference_date=_mid_year(rows) if rows else date(2024, 7, 1),
        currency=paid_in,
        pay_period=PayPeriod.ANNUAL,
        citation=CITATION.model_copy(update={"detail": "; ".join(cut)}),
        notes=notes,
        suppressed=suppressed,
    )


@register
class AiJobs:
    name = "aijobs"

    def figures(self, match: Match, question: MarketQuestion, ctx: SourceContext) -> list[SourceFigure]:
        titles = match.source_categories.get(self.name) or []
        if not titles:
            return []  # the match names no ai-jobs job title: this source has nothing to say
        wanted = {t.strip().casefold() for t in titles}
        rows = [
            r
            for r in answers()
            if r.title.casefold() in wanted and (match.level is None or r.level == match.level)
        ]
        notes: list[str] = []
        country = "US"
        if question.location:
            found = load_config().country(question.location)
            if found is None:
                notes.append(f"{question.location!r} is not a place market.yaml knows: US answers used")
            country = found or "US"
        ladder = [country] + (["US"] if country != "US" else []) + [ALL_COUNTRIES]
        out: list[SourceFigure] = []
        for i, where in enumerate(ladder):
            cut = [r for r in rows if where == ALL_COUNTRIES or r.country == where]
            fig = _figure(cut, titles, match.level, where, question.currency, notes)
            if not fig.suppressed:
                return [*out, fig]
            if not out:
                out.append(fig)  # the cut asked for, shown suppressed
            if i + 1 < len(ladder):
                notes = [
                    *notes,
                    f"too few rows in {where} ({fig.sample_size}): the cut widens to {ladder[i + 1]}",
                ]
        return out
