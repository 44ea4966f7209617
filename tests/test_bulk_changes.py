"""Bulk record changes from a spreadsheet: every row validated first with a report; one parent
workflow with a child per row; per-row approvals where the rules want them; progress visible."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from hrops import bulk_service as bulk
from hrops import request_service as svc
from hrops.cli import app
from tests.conftest import TODAY
from tools.store.db import session_scope
from tools.store.models import JobAssignment, RequestRecord
from workflows.approvals import Verdict

# The main flows on each store: Postgres is the production store (skipped, saying so, without a server).
pytestmark = pytest.mark.both_stores

HEADER = [
    "employee_id",
    "change",
    "effective_on",
    "title",
    "org_unit",
    "amount",
    "currency",
    "city",
    "line1",
    "country",
]


def _sheet(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for r in rows:
        sheet.append(r)
    book.save(path)
    return path


GOOD = [
    ["E1003", "job_title", TODAY, "Senior Data Engineer", None, None, None, None, None, None],
    ["e1002", "salary_change", None, None, None, 310000, "CNY", None, None, None],
]


def _cli(temporal_env, monkeypatch, *args: str):  # noqa: ANN001, ANN202
    """The CLI against the test's Temporal server, in a thread (it runs its own event loop)."""
    from hrops.settings import reset_settings

    monkeypatch.setenv("HROPS_TEMPORAL_ADDRESS", temporal_env.client.service_client.config.target_host)
    reset_settings()
    return asyncio.to_thread(CliRunner().invoke, app, list(args), env={"COLUMNS": "200"})


async def test_a_sheet_with_a_bad_row_starts_nothing_and_reports_every_row(
    temporal_env, company, tmp_path, monkeypatch
):
    path = _sheet(
        tmp_path / "changes.xlsx",
        [
            *GOOD,
            ["E9999", "job_title", None, "Lead", None, None, None, None, None, None],
            ["E1003", "salary_change", "2026-02-30", None, None, 1, "CNY", None, None, None],
            ["E1005", "salary_change", None, None, None, -10, "CNY", None, None, None],
            ["E1003", "transfer", None, None, "ENG-DATA", None, None, None, None, None],  # E1003's job twice
        ],
    )
    report = await bulk.validate(temporal_env.client, svc.principal("admin"), path)
    assert [(r.row, r.ok) for r in report.rows] == [
        (2, True),
        (3, True),
        (4, False),
        (5, False),
        (6, False),
        (7, False),
    ]
    problems = {r.row: r.problems[0] for r in report.rows if not r.ok}
    assert "no employee E9999" in problems[4] and "is not a date" in problems[5]
    assert "greater than 0" in problems[6] and "row 2 already changes the job record of E1003" in problems[7]
    assert report.rows[0].rule == "job_title" and report.rows[0].approvers == ["li.wei"]

    out = await _cli(temporal_env, monkeypatch, "request", "bulk", str(path), "--as", "admin")
    assert out.exit_code == 1 and "4 of 6 rows have problems; nothing was started" in str(out.exception)
    with session_scope(company) as s:
        assert s.scalar(select(func.count()).select_from(RequestRecord)) == 0


async def test_one_parent_with_a_child_per_row_each_approved_by_its_own_chain(
    temporal_env, main_worker, company, tmp_path, monkeypatch
):
    client = temporal_env.client
    path = _sheet(tmp_path / "changes.xlsx", GOOD)
    report = await bulk.validate(client, svc.principal("admin"), path)
    sub = await bulk.submit(client, svc.principal("admin"), report)
    assert sub.rows == 2
    state = await svc.wait_for_stage(client, sub.request_id, {"running"})
    rows = {r.employee_id: r for r in state.rows}
    # Each row is its own request, waiting for the approvers its rule names.
    title = await svc.wait_for_stage(client, rows["E1003"].request_id, {"awaiting_approval"})
    pay = await svc.wait_for_stage(client, rows["E1002"].request_id, {"awaiting_approval"})
    assert title.approval.pending_usernames == ["li.wei"] and pay.approval.rule == "salary_change"
    waiting = {r.request_id: "awaiting_approval" for r in (rows["E1003"], rows["E1002"])}
    for _ in range(300):  # progress reads visibility, which trails each row's own state
        _, live = await bulk.progress(client, sub.request_id)
        if live == waiting:
            break
        await asyncio.sleep(0.1)
    assert live == waiting

    await svc.decide(client, rows["E1003"].request_id, svc.principal("li.wei"), Verdict.APPROVE)
    await svc.decide(
        client, rows["E1002"].request_id, svc.principal("chen.jing"), Verdict.REJECT, reason="budget"
    )
    done = await svc.wait_for_stage(client, sub.request_id, {"completed"})
    assert {r.employee_id: r.stage for r in done.rows} == {"E1003": "completed", "E1002": "rejected"}
    with session_scope(company) as s:
        titles = s.scalars(select(JobAssignment.title).where(JobAssignment.employee_id == "E1003")).all()
    assert titles == ["Data Engineer", "Senior Data Engineer"]
    out = await _cli(temporal_env, monkeypatch, "requests", "show", sub.request_id)
    assert "completed 1" in out.output and "rejected 1" in out.output, out.output


def test_a_file_that_is_not_a_sheet_or_has_unknown_columns_is_refused(company, tmp_path) -> None:
    (tmp_path / "x.xlsx").write_text("not a workbook")
    with pytest.raises(svc.RequestError, match="not a readable .xlsx"):
        bulk.read_rows(tmp_path / "x.xlsx")
    book = Workbook()
    book.active.append(["employee_id", "change", "salary"])
    book.save(tmp_path / "y.xlsx")
    with pytest.raises(svc.RequestError, match="unknown column"):
        bulk.read_rows(tmp_path / "y.xlsx")
