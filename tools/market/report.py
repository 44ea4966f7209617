"""The published market research: a formatted Excel workbook (summary, one sheet per source, a
chart, number formats, citations) and a Markdown report with its HTML rendering. Written only
after the analyst's approval, from the approved draft; edits to the range are shown as edits."""

from __future__ import annotations

from html import escape
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font

from tools.market.draft import Approval, Draft
from tools.market.models import PERCENTILES, NormalisedFigure
from tools.xlsx import MONEY, header_row, widths


def _label(f: NormalisedFigure) -> str:
    return f"{f.original.source}: {f.original.category} ({f.original.location})"


def workbook(draft: Draft, approval: Approval, path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    q, m, r = draft.question, draft.match, approval.published
    ws["A1"] = f"Market research {approval.request_id}: {q.title}"
    ws["A1"].font = Font(bold=True, size=14)
    rows: list[tuple[str, object]] = [
        ("Job", q.title),
        ("Level", q.level or "any"),
        ("Location", q.location or "national data as published"),
        ("Matched occupation", f"SOC {m.soc_code} {m.soc_title} ({m.confidence:.0%})"),
        ("Why", m.rationale),
        ("Currency", r.currency),
        ("Recommended minimum", r.minimum),
        ("Recommended midpoint", r.midpoint),
        ("Recommended maximum", r.maximum),
        ("Basis", r.basis),
        ("Approved by", f"{approval.approved_by} on {approval.approved_at:%Y-%m-%d %H:%M} UTC"),
    ]
    if approval.drafted:
        d = approval.drafted
        rows.append(
            (
                "Edited",
                f"drafted {d.minimum:,.0f} / {d.midpoint:,.0f} / {d.maximum:,.0f}: edited by the approver",
            )
        )
    for i, (k, v) in enumerate(rows, start=3):
        ws.cell(row=i, column=1, value=k).font = Font(bold=True)
        cell = ws.cell(row=i, column=2, value=v)
        if isinstance(v, float):
            cell.number_format = MONEY
    top = len(rows) + 5
    header_row(
        ws, top, centred=True, names=["source", "weight", *(p.upper() for p in PERCENTILES), "sample", "date"]
    )
    used = [f for f in draft.figures if not f.original.suppressed]
    for i, f in enumerate(used, start=top + 1):
        ws.cell(row=i, column=1, value=_label(f))
        ws.cell(row=i, column=2, value=f.weight).number_format = "0%"
        for k, p in enumerate(PERCENTILES, start=3):
            ws.cell(row=i, column=k, value=getattr(f.percentiles, p)).number_format = MONEY
        ws.cell(row=i, column=8, value=f.original.sample_size)
        ws.cell(row=i, column=9, value=f.original.reference_date.isoformat())
    blend_row = top + 1 + len(used)
    if draft.blend:
        ws.cell(row=blend_row, column=1, value="blend").font = Font(bold=True)
        ws.cell(row=blend_row, column=2, value=1.0).number_format = "0%"
        for k, p in enumerate(PERCENTILES, start=3):
            ws.cell(row=blend_row, column=k, value=getattr(draft.blend.percentiles, p)).number_format = MONEY
    if used:
        chart = BarChart()
        chart.type, chart.title = "bar", f"Market percentiles ({r.currency} a year)"
        chart.y_axis.title, chart.height, chart.width = r.currency, 9, 20
        chart.add_data(
            Reference(ws, min_col=3, max_col=7, min_row=top, max_row=blend_row), titles_from_data=True
        )
        chart.set_categories(Reference(ws, min_col=1, min_row=top + 1, max_row=blend_row))
        ws.add_chart(chart, f"A{blend_row + 3}")
    notes_row = blend_row + 22
    ws.cell(row=notes_row, column=1, value="Critique").font = Font(bold=True)
    for i, note in enumerate(draft.critique, start=notes_row + 1):
        ws.cell(row=i, column=1, value=note)
    widths(ws, [46, 60, 12, 12, 12, 12, 12, 10, 12])
    for f in draft.figures:
        _source_sheet(wb, f)
    if draft.internal:
        sheet = wb.create_sheet("Company pay")
        for i, line in enumerate(draft.internal.lines(), start=1):
            sheet.cell(row=i, column=1, value=line)
        widths(sheet, [110])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _source_sheet(wb: Workbook, f: NormalisedFigure) -> None:
    o = f.original
    title = f"{o.source[:12]} {o.location[:8]}".strip()
    n, name = 1, title
    while name in wb.sheetnames:  # two cuts of one source
        n += 1
        name = f"{title[:27]} {n}"
    ws = wb.create_sheet(name[:31])
    ws["A1"] = _label(f)
    ws["A1"].font = Font(bold=True, size=12)
    header_row(ws, 3, centred=True, names=["", "as published", f"normalised ({f.currency} a year)"])
    for i, p in enumerate(PERCENTILES, start=4):
        ws.cell(row=i, column=1, value=p.upper())
        ws.cell(row=i, column=2, value=getattr(o.percentiles, p)).number_format = MONEY
        ws.cell(row=i, column=3, value=getattr(f.percentiles, p)).number_format = MONEY
    facts = [
        ("Currency, period", f"{o.currency}, {o.pay_period.value}"),
        ("Sample size", o.sample_size),
        ("Reference date", o.reference_date.isoformat()),
        ("Weight in the blend", f"{f.weight:.0%}"),
        ("Suppressed", "yes: fewer than 5 data points" if o.suppressed else "no"),
        ("Citation", citation(f)),
    ]
    facts += [(f"Adjustment ({a.kind})", f"{a.description} (x{a.factor:.4f})") for a in f.adjustments]
    facts += [("Note", n) for n in o.notes]
    for i, (k, v) in enumerate(facts, start=11):
        ws.cell(row=i, column=1, value=k).font = Font(bold=True)
        ws.cell(row=i, column=2, value=v)
    widths(ws, [24, 70, 26])


def citation(f: NormalisedFigure) -> str:
    c = f.original.citation
    parts = [c.publisher, c.title, c.detail, c.licence, c.url]
    return ". ".join(p for p in parts if p)


def markdown(draft: Draft, approval: Approval) -> str:
    q, m, r = draft.question, draft.match, approval.published
    lines = [
        f"# Market research {approval.request_id}: {q.title}",
        "",
        f"- Level: {q.level or 'any'}; location: {q.location or 'national data as published'}",
        f"- Matched occupation: SOC {m.soc_code} {m.soc_title} ({m.confidence:.0%}): {m.rationale}",
        f"- **Recommended range: {r.minimum:,.0f} - {r.maximum:,.0f} {r.currency} a year, midpoint {r.midpoint:,.0f}**"
        f" ({r.basis})",
        f"- Approved by {approval.approved_by} on {approval.approved_at:%Y-%m-%d %H:%M} UTC"
        + (
            f"; drafted {approval.drafted.minimum:,.0f} / {approval.drafted.midpoint:,.0f} / "
            f"{approval.drafted.maximum:,.0f}, edited by the approver"
            if approval.drafted
            else ""
        ),
        "",
        "## Sources",
        "",
        "| source | weight | P10 | P25 | P50 | P75 | P90 | sample | date |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for f in draft.figures:
        cells = [
            f"{v:,.0f}" if v is not None else "-" for v in (getattr(f.percentiles, p) for p in PERCENTILES)
        ]
        if f.original.suppressed:
            cells = ["suppressed"] * len(PERCENTILES)
        lines.append(
            f"| {_label(f)} | {f.weight:.0%} | {' | '.join(cells)} | {f.original.sample_size or '-'} | "
            f"{f.original.reference_date} |"
        )
    if draft.blend:
        cells = [
            f"{v:,.0f}" if v is not None else "-"
            for v in (getattr(draft.blend.percentiles, p) for p in PERCENTILES)
        ]
        lines.append(f"| **blend** | 100% | {' | '.join(cells)} | | |")
    lines += ["", "## Adjustments and citations", ""]
    for f in draft.figures:
        lines.append(f"- {_label(f)}: {citation(f)}")
        lines += [f"  - {a.kind}: {a.description}" for a in f.adjustments]
        lines += [f"  - note: {n}" for n in f.original.notes]
    if draft.internal:
        lines += ["", "## What the company pays", "", *(f"- {x}" for x in draft.internal.lines())]
    if draft.critique:
        lines += ["", "## Critique", "", *(f"- {c}" for c in draft.critique)]
    return "\n".join(lines) + "\n"


def html(md: str, title: str) -> str:
    """A plain rendering of the Markdown above (headings, lists, tables, bold): no dependency."""
    out = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{border:1px solid #ccc;"
        "padding:2px 6px;text-align:right}td:first-child{text-align:left}table{border-collapse:collapse}"
        "</style></head><body>"
    ]
    table: list[str] = []
    for line in md.splitlines():
        if line.startswith("|"):
            if not set(line) <= set("|-: "):
                cells = [c.strip() for c in line.strip("|").split("|")]
                tag = "th" if not table else "td"
                table.append("<tr>" + "".join(f"<{tag}>{_inline(c)}</{tag}>" for c in cells) + "</tr>")
            continue
        if table:
            out.append("<table>" + "".join(table) + "</table>")
            table = []
        if line.startswith("## "):
            out.append(f"<h2>{_inline(line[3:])}</h2>")
        elif line.startswith("# "):
            out.append(f"<h1>{_inline(line[2:])}</h1>")
        elif line.startswith("  - "):
            out.append(f"<ul><li>{_inline(line[4:])}</li></ul>")
        elif line.startswith("- "):
            out.append(f"<p>&bull; {_inline(line[2:])}</p>")
    if table:
        out.append("<table>" + "".join(table) + "</table>")
    return "\n".join(out) + "</body></html>\n"


def _inline(text: str) -> str:
    parts = escape(text).split("**")
    return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))
