"""Market research for one question, as a small langgraph graph run inside one activity:

    match -> gather -> reconcile -> critique -> draft
                 ^___________________|  (at most once: a wider cut when nothing usable came back)

No checkpointer: Temporal owns the state (the activity is retried as a whole). Each node is plain
code over the typed models; the draft's recommended range is computed from the blend, never
written by a model, and every figure keeps its source, citation and adjustments.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TypedDict

from langgraph.graph import END, StateGraph

from tools.market import blend as blending
from tools.market import internal_compare, matching, normalise
from tools.market.draft import Draft, RecommendedRange
from tools.market.models import (
    Blend,
    MarketError,
    MarketQuestion,
    Match,
    NormalisedFigure,
    SourceFigure,
)
from tools.market.sources import SourceContext, sources

# Critique thresholds: when a draft needs the analyst's eye (all said in the draft, none block it).
SPREAD_WARNING = 0.30  # the sources' medians differ by more than this share of the blend
CONFIDENT_MATCH = 0.9


class State(TypedDict, total=False):
    question: MarketQuestion
    ctx: SourceContext
    soc_code: str | None
    match: Match
    raw: list[SourceFigure]
    errors: dict[str, str]
    figures: list[NormalisedFigure]
    blend: Blend | None
    internal: internal_compare.InternalComparison | None
    critique: list[str]
    retry: bool
    widened: bool
    draft: Draft


def _match(state: State) -> State:
    q = state["question"]
    soc = state.get("soc_code")
    found = matching.choose(q.title, soc, q.level) if soc else matching.match(q.title, q.level)
    return {"match": found}


def _gather(state: State) -> State:
    q, m = state["question"], state["match"]
    if state.get("widened"):  # nothing usable at this level: the same occupation, every level
        m = m.model_copy(update={"level": None})
    raw: list[SourceFigure] = []
    errors: dict[str, str] = {}
    for name, source in sources().items():
        try:
            raw += source.figures(m, q, state["ctx"])
        except MarketError as e:
            errors[name] = str(e)
    return {"raw": raw, "errors": errors}


def _reconcile(state: State) -> State:
    q = state["question"]
    day = q.effective_date or state["ctx"].today
    figures = [normalise.normalise(f, q.currency, day, q.location) for f in state["raw"]]
    mixed = blending.blend(figures, q.currency)
    internal = internal_compare.compare(state["ctx"], state["match"], mixed, q)
    return {"figures": figures, "blend": mixed, "internal": internal}  # blend() set each figure's weight


def _critique(state: State) -> State:
    notes: list[str] = []
    b, m = state.get("blend"), state["match"]
    usable = b is not None and b.sources_used > 0 and b.percentiles.p50 is not None
    if not usable and not state.get("widened") and m.level is not None:
        return {"retry": True, "widened": True, "critique": []}
    if not usable:
        notes.append("no source has enough data points for this job: no range can be recommended")
    else:
        assert b is not None
        medians = [f.percentiles.p50 for f in state["figures"] if f.weight > 0 and f.percentiles.p50]
        if b.sources_used == 1:
            notes.append("only one source has usable data: the blend is that source alone")
        if len(medians) > 1 and (max(medians) - min(medians)) / b.percentiles.p50 > SPREAD_WARNING:
            notes.append(
                f"the sources' medians differ by {(max(medians) - min(medians)) / b.percentiles.p50:.0%} "
                "of the blend: check the match and the location adjustment"
            )
    if m.confidence < CONFIDENT_MATCH:
        notes.append(f"the job match is not certain ({m.confidence:.0%}): {m.rationale}")
    if state.get("widened"):
        notes.append("no source had data at this level: the range covers every level of the occupation")
    for f in state["figures"]:
        for a in f.adjustments:
            if a.kind == "location":
                notes.append(f"{f.original.source}: {a.description} (an adjustment, not market data)")
    for name, error in state.get("errors", {}).items():
        notes.append(f"{name} could not be read: {error}")
    return {"retry": False, "critique": notes}


def _draft(state: State) -> State:
    q, m, b = state["question"], state["match"], state.get("blend")
    recommended = None
    if (
        b is not None
        and b.sources_used
        and None not in (b.percentiles.p25, b.percentiles.p50, b.percentiles.p75)
    ):
        p = b.percentiles
        assert p.p25 is not None and p.p50 is not None and p.p75 is not None
        recommended = RecommendedRange(
            minimum=round(p.p25, -2),
            midpoint=round(p.p50, -2),
            maximum=round(p.p75, -2),
            currency=b.currency,
            basis="the blended market 25th to 75th percentile, midpoint at the blended median, rounded to 100",
        )
    where = f" in {q.location}" if q.location else ""
    summary = f"{q.title}{where}: matched to SOC {m.soc_code} {m.soc_title} ({m.confidence:.0%}). " + (
        f"Recommended {recommended.minimum:,.0f}-{recommended.maximum:,.0f} {recommended.currency} a year "
        f"(midpoint {recommended.midpoint:,.0f}) from {b.sources_used} source(s)."
        if recommended and b
        else "No range recommended: not enough market data."
    )
    draft = Draft(
        question=q,
        match=m,
        figures=state.get("figures", []),
        source_errors=state.get("errors", {}),
        blend=b,
        internal=state.get("internal"),
        critique=state.get("critique", []),
        recommended=recommended,
        widened=bool(state.get("widened")),
        summary=summary,
    )
    return {"draft": draft}


def _after_match(state: State) -> str:
    return "choose" if state["match"].needs_choice else "gather"


def _after_critique(state: State) -> str:
    return "gather" if state.get("retry") else "draft"


def _needs_choice(state: State) -> State:
    m = state["match"]
    return {
        "draft": Draft(
            question=state["question"],
            match=m,
            needs_choice=True,
            candidates=m.candidates,
            summary=f'"{state["question"].title}" is not a title I can match with confidence: '
            + "choose one of: "
            + "; ".join(f"{c.soc_code} {c.soc_title}" for c in m.candidates),
        )
    }


@lru_cache(maxsize=1)
def graph():  # noqa: ANN201 - a compiled langgraph graph
    g = StateGraph(State)
    g.add_node("match", _match)
    g.add_node("choose", _needs_choice)
    g.add_node("gather", _gather)
    g.add_node("reconcile", _reconcile)
    g.add_node("critique", _critique)
    g.add_node("draft", _draft)
    g.set_entry_point("match")
    g.add_conditional_edges("match", _after_match, {"choose": "choose", "gather": "gather"})
    g.add_edge("choose", END)
    g.add_edge("gather", "reconcile")
    g.add_edge("reconcile", "critique")
    g.add_conditional_edges("critique", _after_critique, {"gather": "gather", "draft": "draft"})
    g.add_edge("draft", END)
    return g.compile()


def research(question: MarketQuestion, ctx: SourceContext, soc_code: str | None = None) -> Draft:
    """Run the graph once for `question` (with the analyst's chosen occupation, if any)."""
    out = graph().invoke({"question": question, "ctx": ctx, "soc_code": soc_code}, {"recursion_limit": 12})
    return out["draft"]
