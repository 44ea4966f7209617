"""Market research as tools: research (read: market files and the company's pay) and publish (the
workbook and report; needs the comp analyst's approval of exactly this draft and range, so nothing
can be published before it, whatever calls it). Importing this module registers both."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from hrops.clock import today
from hrops.settings import get_settings
from tools.market.draft import Approval, Draft
from tools.market.models import MarketQuestion
from tools.market.sources import SourceContext
from tools.registry import Risk, ToolContext, tool
from tools.store import audit
from tools.store.db import session_scope
from tools.store.models import Role

RESEARCHERS = frozenset({Role.COMP_ANALYST, Role.HR_OPS, Role.HRBP, Role.ADMIN})


class ResearchArgs(BaseModel):
    question: MarketQuestion
    soc_code: str | None = None  # the analyst's choice when the title alone was not enough


class PublishArgs(BaseModel):
    draft: Draft
    approval: Approval


class Published(BaseModel):
    workbook: str
    markdown: str
    html: str


def out_dir(request_id: str, var_dir: Path | None = None) -> Path:
    return (var_dir or get_settings().var_dir) / "comp" / request_id


def report_files(request_id: str, var_dir: Path | None = None) -> Published:
    """Where a request's research is published (the files exist once it is)."""
    folder, stem = out_dir(request_id, var_dir), f"market-{request_id}"
    return Published(
        workbook=str(folder / f"{stem}.xlsx"),
        markdown=str(folder / f"{stem}.md"),
        html=str(folder / f"{stem}.html"),
    )


@tool("market.research", risk=Risk.READ, roles=RESEARCHERS)
def research_job(ctx: ToolContext, args: ResearchArgs) -> Draft:
    """Market benchmark for a job: match, gather every source, normalise, blend, compare, draft a range."""
    from tools.market.research import research  # langgraph: loaded where research runs, not by every CLI

    settings = get_settings()
    draft = research(args.question, SourceContext(db_url=settings.db_url, today=today()), args.soc_code)
    with session_scope(settings.db_url, write=True) as session:
        # what was read, never the figures: the company's pay is sensitive
        audit.append(
            session,
            audit.AuditEvent(
                actor=ctx.actor,
                action="market.researched",
                request_id=ctx.request_id,
                workflow_id=ctx.workflow_id,
                tool="market.research",
                details={
                    "soc": draft.match.soc_code,
                    "sources": sorted({f.original.source for f in draft.figures}),
                    "company_pay_read": draft.internal is not None,
                    "needs_choice": draft.needs_choice,
                },
                event_key=f"{ctx.workflow_id}/market.research" if ctx.workflow_id else None,
            ),
        )
    return draft


@tool("market.publish", risk=Risk.WRITE, roles=RESEARCHERS)
def publish(ctx: ToolContext, args: PublishArgs) -> Published:
    """Write the approved research as an Excel workbook and a Markdown/HTML report (same files on a retry)."""
    from tools.market import report  # openpyxl: loaded where a report is written

    files = report_files(args.approval.request_id)
    report.workbook(args.draft, args.approval, Path(files.workbook))
    md = report.markdown(args.draft, args.approval)
    Path(files.markdown).write_text(md, encoding="utf-8")
    Path(files.html).write_text(report.html(md, Path(files.html).stem), encoding="utf-8")
    with session_scope(get_settings().db_url, write=True) as session:
        audit.append(
            session,
            audit.AuditEvent(
                actor=ctx.actor,
                action="market.published",
                request_id=args.approval.request_id,
                workflow_id=ctx.workflow_id,
                tool="market.publish",
                details={
                    "approved_by": args.approval.approved_by,
                    "edited": args.approval.drafted is not None,
                },
                event_key=f"{ctx.workflow_id}/market.publish" if ctx.workflow_id else None,
            ),
        )
    return files
