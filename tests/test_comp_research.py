"""Market research end to end on the Temporal dev server: research -> a comp analyst approves,
rejects or edits the range -> the workbook and report are published, and nothing before approval."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from hrops import comp_service
from hrops import request_service as svc
from hrops.settings import get_settings
from tests.conftest import TODAY
from tools.market.draft import Approval
from tools.market.models import MarketQuestion
from tools.market.tools import PublishArgs, out_dir
from tools.registry import ToolError, registry
from tools.store.db import session_scope
from tools.store.identity import resolve_principal
from tools.store.models import AuditEntry, RequestRecord, Role, UserRole
from workflows.approvals import Verdict
from workflows.comp_research.messages import Stage

HR_SPECIALIST = MarketQuestion(title="HR Specialist", location="Shanghai", currency="CNY")


@pytest.fixture
def analyst(company: str) -> str:
    """wang.fang becomes a compensation analyst (the tiny company has none)."""
    with session_scope(company, write=True) as s:
        s.add(UserRole(username="wang.fang", role=Role.COMP_ANALYST))
    return "wang.fang"


def _who(url: str, username: str):  # noqa: ANN202 - Principal
    with session_scope(url) as s:
        return resolve_principal(s, username, TODAY)


async def _until(client, request_id: str, stage: Stage, timeout: float = 20.0):  # noqa: ANN001, ANN202
    import asyncio

    for _ in range(int(timeout * 10)):
        state = await svc.show(client, request_id)
        if state.stage is stage:
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"{request_id} never reached {stage}: {state.stage} {state.problems}")


async def test_a_draft_waits_for_the_analyst_and_is_published_with_their_edits(
    temporal_env, main_worker, company, analyst
) -> None:
    client = temporal_env.client
    sub = await comp_service.submit_research(client, _who(company, "amy.hughes"), HR_SPECIALIST)
    assert sub.match.soc_code == "13-1071" and sub.created
    state = await comp_service.wait_for_draft(client, sub.request_id)
    assert state.stage is Stage.AWAITING_APPROVAL, state.problems
    draft = state.draft
    bls = next(f for f in draft.figures if f.original.source == "bls_oews")
    assert bls.original.currency == "USD" and bls.currency == "CNY"
    assert any("rates table of" in a.description for a in bls.adjustments)
    assert any(a.kind == "location" for a in bls.adjustments)  # always labelled
    r = draft.recommended
    assert r is not None and r.minimum <= r.midpoint <= r.maximum and r.currency == "CNY"
    # Nothing is published before approval, and the publishing tool refuses without it.
    assert not out_dir(sub.request_id).exists()
    early = PublishArgs(
        draft=draft,
        approval=Approval(
            request_id=sub.request_id, approved_by="amy.hughes", approved_at=state.requested_at, published=r
        ),
    )
    with pytest.raises(ToolError, match="approv"):
        registry.call("market.publish", svc.tool_context(_who(company, "amy.hughes")), early)
    assert not out_dir(sub.request_id).exists()
    # The requester is no approver; a range that is not a range is refused with the reason.
    with pytest.raises(svc.RequestError, match="wang.fang"):
        await svc.decide(client, sub.request_id, _who(company, "amy.hughes"), Verdict.APPROVE)
    with pytest.raises(svc.RequestError, match="minimum <= midpoint <= maximum"):
        await svc.decide(
            client,
            sub.request_id,
            _who(company, analyst),
            Verdict.APPROVE_WITH_EDITS,
            edits={"minimum": "9,999,999"},
        )
    await svc.decide(
        client,
        sub.request_id,
        _who(company, analyst),
        Verdict.APPROVE_WITH_EDITS,
        edits={"minimum": "150,000"},
    )
    done = await _until(client, sub.request_id, Stage.PUBLISHED)
    assert done.published_range.minimum == 150_000 and done.published_range.maximum == r.maximum
    book = load_workbook(done.published.workbook)
    summary = book["Summary"]
    cells = {row[0].value: row[1].value for row in summary.iter_rows(min_row=3, max_row=16) if row[0].value}
    assert cells["Recommended minimum"] == 150_000 and "edited by the approver" in cells["Edited"]
    assert cells["Matched occupation"].startswith("SOC 13-1071")
    assert any(s.startswith("bls_oews") for s in book.sheetnames) and summary._charts
    report = Path(done.published.markdown).read_text(encoding="utf-8")
    assert "U.S. Bureau of Labor Statistics" in report and "150,000" in report
    assert "<table>" in Path(done.published.html).read_text(encoding="utf-8")
    with session_scope(company) as s:
        actions = set(s.scalars(select(AuditEntry.action).where(AuditEntry.request_id == sub.request_id)))
    assert {
        "request.submitted",
        "market.researched",
        "request.approved_with_edits",
        "market.published",
    } <= actions
    again = await comp_service.submit_research(client, _who(company, "amy.hughes"), HR_SPECIALIST)
    assert again.request_id == sub.request_id and not again.created  # published today: that is the answer


async def test_a_rejected_draft_is_never_published(temporal_env, main_worker, company, analyst) -> None:
    client = temporal_env.client
    q = MarketQuestion(title="软件工程师", currency="USD")
    sub = await comp_service.submit_research(client, _who(company, "amy.hughes"), q)
    assert sub.match.soc_code == "15-1252"
    state = await comp_service.wait_for_draft(client, sub.request_id)
    bls = next(f for f in state.draft.figures if f.original.source == "bls_oews")
    assert bls.original.percentiles.p50 == 133_080  # Software Developers, the file's national median
    await svc.decide(
        client, sub.request_id, _who(company, analyst), Verdict.REJECT, reason="use the 2025 survey"
    )
    await _until(client, sub.request_id, Stage.REJECTED)
    assert not out_dir(sub.request_id).exists()


@pytest.mark.parametrize(
    ("who", "question", "message"),
    [
        ("amy.hughes", {"title": "Chief Vibes Officer"}, "Choose one: --soc"),
        ("li.wei", {"title": "HR Specialist"}, "may not request market research"),
        ("amy.hughes", {"title": "HR Specialist", "currency": "XYZ"}, "XYZ"),
        ("admin", {"title": "HR Specialist"}, "comp_analyst"),  # nobody but the requester could approve
    ],
)
async def test_a_request_that_cannot_go_anywhere_starts_nothing(
    temporal_env, company, who, question, message
) -> None:
    with pytest.raises(svc.RequestError, match=message):
        await comp_service.submit_research(
            temporal_env.client, _who(company, who), MarketQuestion(**question)
        )
    with session_scope(get_settings().db_url) as s:
        assert s.scalar(select(RequestRecord.number).where(RequestRecord.kind == "comp_research")) is None
