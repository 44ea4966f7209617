"""The chart for an answer, decided from the typed query alone (never from model-written code): a line
over time when the question asks for a trend, bars across groups when it splits by something, none
for a single figure. Rendered as SVG here (no browser, no build step) and as a native Excel chart in
`workbook.py`."""

from __future__ import annotations

import math
from html import escape
from typing import Literal

from pydantic import BaseModel

from tools.analytics.catalogue import Catalogue
from tools.analytics.engine import Answer, Row

MAX_SERIES = 8  # more lines than this read as noise; the table has them all


class Series(BaseModel):
    name: str
    values: list[float | None]  # None: suppressed or no data (a gap, never a zero)


class ChartSpec(BaseModel):
    kind: Literal["line", "bar"]
    title: str
    x_label: str
    labels: list[str]
    series: list[Series]
    unit: str


def _group(groups: dict[str, str]) -> str:
    return " / ".join(v for k, v in groups.items() if k != "currency") or "all"


def one_currency(rows: list[Row]) -> list[Row]:
    """Pay in several currencies is never drawn on one axis: the currency most people are paid in."""
    people: dict[str | None, int] = {}
    for r in rows:
        people[r.groups.get("currency")] = people.get(r.groups.get("currency"), 0) + r.people
    if len(people) < 2:
        return rows
    main = max(people, key=lambda c: people[c])
    return [r for r in rows if r.groups.get("currency") == main]


def chart_for(a: Answer, cat: Catalogue, lang: str = "en") -> ChartSpec | None:
    """Trend (a grain): one line per group, over the periods. Split: one bar per group, one series
    per metric that shares the first metric's unit. A single figure: no chart."""
    first = cat.metrics[a.query.metrics[0].value]
    name = first.zh if lang == "zh" else first.en
    rows = one_currency(a.rows)
    currency = rows[0].groups.get("currency") if rows else None
    title = f"{name} ({currency})" if currency else name
    counted = first.kind != "ratio" and first.aggregate in ("count", "sum")
    if a.query.grain and len(a.periods) > 1:
        groups = list(dict.fromkeys(_group(r.groups) for r in rows))[:MAX_SERIES] or ["all"]
        metric = a.query.metrics[0].value
        cell = {(r.period, _group(r.groups)): r.values[metric] for r in rows}
        # a period without a row: nothing happened (0) for counts, no figure (a gap) for averages
        series = [
            Series(name=g, values=[cell.get((p, g), 0.0 if counted else None) for p in a.periods])
            for g in groups
        ]
        return ChartSpec(
            kind="line",
            title=title,
            x_label=a.query.grain.value,
            labels=a.periods,
            series=series,
            unit=first.unit,
        )
    if len(rows) > 1 and a.query.by:
        same_unit = [m.value for m in a.query.metrics if cat.metrics[m.value].unit == first.unit]
        dims = [cat.dimensions[d.value] for d in a.query.by]
        return ChartSpec(
            kind="bar",
            title=title,
            x_label=" / ".join(d.zh if lang == "zh" else d.en for d in dims),
            labels=[_group(r.groups) for r in rows],
            series=[
                Series(
                    name=cat.metrics[m].zh if lang == "zh" else cat.metrics[m].en,
                    values=[r.values[m] for r in rows],
                )
                for m in same_unit
            ],
            unit=first.unit,
        )
    return None


COLOURS = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d", "#4b5563"]
W, H, LEFT, BOTTOM, TOP = 720, 360, 70, 80, 40


def _nice(step: float) -> float:
    """The round step (1, 2, 2.5 or 5 times a power of ten) at or above `step`."""
    if step <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(step))
    return next(k * power for k in (1, 2, 2.5, 5, 10) if k * power >= step)


def to_svg(spec: ChartSpec) -> str:
    """A self-contained SVG: axes, gridlines, the values, a legend; gaps where figures are hidden."""
    values = [v for s in spec.series for v in s.values if v is not None]
    tick = _nice(max([*values, 0.0]) / 4)
    top = tick * 4
    plot_w, plot_h = W - LEFT - 20, H - BOTTOM - TOP
    n = max(len(spec.labels), 1)

    def y(v: float) -> float:
        return TOP + plot_h - v / top * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="{W / 2}" y="20" text-anchor="middle" font-size="14">{escape(spec.title)}</text>',
    ]
    for i in range(5):  # gridlines and the value axis
        v = tick * i
        parts.append(f'<line x1="{LEFT}" x2="{W - 20}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:,.4g}</text>')
    step = plot_w / n
    for i, label in enumerate(spec.labels):
        x = LEFT + step * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{H - BOTTOM + 14}" text-anchor="end" '
            f'transform="rotate(-35 {x:.1f} {H - BOTTOM + 14})">{escape(label)}</text>'
        )
    for k, s in enumerate(spec.series):
        colour = COLOURS[k % len(COLOURS)]
        if spec.kind == "bar":
            bar = step * 0.8 / len(spec.series)
            for i, v in enumerate(s.values):
                if v is not None:
                    x = LEFT + step * i + step * 0.1 + bar * k
                    parts.append(
                        f'<rect x="{x:.1f}" y="{y(v):.1f}" width="{bar:.1f}" '
                        f'height="{TOP + plot_h - y(v):.1f}" fill="{colour}"><title>{escape(s.name)}: '
                        f"{v:,.2f}</title></rect>"
                    )
        else:
            points = [(LEFT + step * (i + 0.5), v) for i, v in enumerate(s.values)]
            run: list[str] = []
            for x, v in [*points, (0.0, None)]:  # a hidden figure breaks the line
                if v is None:
                    if run:
                        parts.append(
                            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(run)}"/>'
                        )
                    run = []
                else:
                    run.append(f"{x:.1f},{y(v):.1f}")
                    parts.append(f'<circle cx="{x:.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}"/>')
        parts.append(
            f'<rect x="{LEFT + 130 * k}" y="{H - 22}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{LEFT + 130 * k + 14}" y="{H - 13}">{escape(s.name[:18])}</text>'
        )
    parts.append(
        f'<text x="14" y="{TOP + plot_h / 2}" transform="rotate(-90 14 {TOP + plot_h / 2})" '
        f'text-anchor="middle">{escape(spec.unit)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)
