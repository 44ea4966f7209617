"""Imported salary surveys (`hrops market survey import`): each survey is its own source,
`survey:<name>`, giving the rows for the matched job as the survey states them.

A row is the job when its SOC code is the match's, or its job text is one the match names for
surveys (`source_categories["survey:<name>"]` or `["survey"]`), else the question's title, the SOC
title or an internal title. Of those, the rows at the question's level (when the survey has levels)
and at the question's place are used; failing the place, the place's country; failing that, every
place (normalisation then moves or leaves out each one, saying which)."""

from __future__ import annotations

from tools.market.config import MarketConfig, load_config
from tools.market.models import (
    MIN_POINTS,
    PERCENTILES,
    MarketQuestion,
    Match,
    Percentiles,
    SourceFigure,
)
from tools.market.normalise import target_place
from tools.market.sources import SourceContext, register
from tools.market.surveys import StoredSurvey, SurveyRow, list_surveys, stored_rows


def _job_rows(name: str, rows: list[SurveyRow], match: Match) -> list[SurveyRow]:
    named = match.source_categories.get(f"survey:{name}") or match.source_categories.get("survey")
    if named:
        wanted = {t.strip().casefold() for t in named}
    else:
        wanted = {
            t.casefold() for t in (match.title, match.soc_title, *match.source_categories.get("internal", []))
        }
    return [r for r in rows if (r.soc_code and r.soc_code == match.soc_code) or r.job.casefold() in wanted]


def _level_rows(rows: list[SurveyRow], match: Match) -> tuple[list[SurveyRow], list[str]]:
    if match.level is None or all(r.level is None for r in rows):
        return rows, []
    at = [r for r in rows if r.level == match.level]
    if at:
        return at, []
    unlevelled = [r for r in rows if r.level is None]
    if unlevelled:
        return unlevelled, [f"the survey has no {match.level} row for this job: its all-level row is used"]
    return [], []


def _place_rows(rows: list[SurveyRow], target: str, config: MarketConfig) -> list[SurveyRow]:
    here = [r for r in rows if config.place(r.location).casefold() == target.casefold()]
    if here:
        return here
    country = config.country(target)
    in_country = [r for r in rows if country and config.place(r.location).upper() == country]
    return in_country or rows


def survey_figures(
    survey: StoredSurvey, rows: list[SurveyRow], match: Match, question: MarketQuestion, config: MarketConfig
) -> list[SourceFigure]:
    chosen, notes = _level_rows(_job_rows(survey.name, rows, match), match)
    out = []
    for r in _place_rows(chosen, target_place(question.location, config), config):
        suppressed = r.sample_size is not None and r.sample_size < MIN_POINTS
        row_notes = [*notes, f"imported on {survey.imported_on} from {survey.file_name}"]
        if r.sample_size is None:
            row_notes.append("the survey gives no sample size for this row")
        if suppressed:
            row_notes.append(f"{r.sample_size} data points, fewer than {MIN_POINTS}: figures withheld")
        shown = {} if suppressed else r.figures
        out.append(
            SourceFigure(
                source=f"survey:{survey.name}",
                category=r.job + (f" ({r.level})" if r.level else ""),
                location=r.location,
                percentiles=Percentiles(**{p: shown.get(p) for p in PERCENTILES}),
                mean=shown.get("mean"),
                sample_size=r.sample_size,
                reference_date=r.reference_date,
                currency=r.currency,
                pay_period=r.pay_period,
                citation=survey.citation_for(f"{survey.file_name}, row {r.row}"),
                notes=row_notes,
                suppressed=suppressed,
            )
        )
    return out


@register
class Surveys:
    name = "survey"

    def figures(self, match: Match, question: MarketQuestion, ctx: SourceContext) -> list[SourceFigure]:
        config = load_config()
        out: list[SourceFigure] = []
        for survey in list_surveys():
            out += survey_figures(survey, stored_rows(survey), match, question, config)
        return out
