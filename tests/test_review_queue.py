"""The compliance review queue: model-written outputs sampled by topic, risk and rate; reviewers
(HR ops, admins) approve or correct them; corrections become evaluation cases that re-run the agent."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hrops.settings import get_settings, reset_settings
from tests.conftest import TODAY
from tools.review import evals, queue, sampling
from tools.review.models import CaseOutcome, Decision, ReviewStatus, Risk, Verdict
from tools.store import audit
from tools.store.db import session_scope
from tools.store.identity import resolve_principal
from tools.store.models import AuditEntry, OutputReview, RequestRecord

EVERY_SUMMARY = """
rules:
  - {name: every summary, topic: change_summary, rate: 1.0}
  - {name: nothing else, rate: 0}
"""
# What the offline change_summary writer makes of FACTS (the eval test re-runs it).
FACTS = {
    "kind": "address_change",
    "employee_id": "E1003",
    "title": "Data Engineer",
    "org_unit": "Platform",
    "changed_fields": ["line1", "city"],
    "effective_on": "2026-12-01",
    "requested_by": "amy.hughes",
    "approvers": ["li.wei"],
    "rule": "the employee's manager approves",
}
WRITTEN = {"en": "Address change for E1003, approved by li.wei.", "zh": "E1003 的住址变更。"}


def _who(url: str, username: str):
    with session_scope(url) as s:
        return resolve_principal(s, username, TODAY)


def _request(url: str, kind: str = "address_change", subject: str = "E1003", by: str = "amy.hughes") -> str:
    with session_scope(url, write=True) as s:
        row = RequestRecord(
            kind=kind,
            subject_employee_id=subject,
            workflow_id=f"record-change-{subject}",
            requested_by=by,
            created_at=datetime.now(UTC),
        )
        s.add(row)
        s.flush()
        return row.label


def _offer(url: str, source: str, request_id: str | None, output=None, rules_text: str = EVERY_SUMMARY):
    with session_scope(url, write=True) as s:
        return queue.offer(
            s,
            topic="change_summary",
            risk=Risk.MEDIUM,
            source=source,
            request_id=request_id,
            workflow_id="record-change-E1003",
            agent="change_summary",
            prompt=json.dumps(FACTS),
            output=WRITTEN if output is None else output,
            endpoint="local",
            rules=sampling.parse(rules_text),
        )


def _decide(url: str, username: str, item: str, **decision):
    with session_scope(url, write=True) as s:
        return queue.decide(s, _who(url, username), item, Decision(**decision))


def test_sampling_is_deterministic_and_honours_rate_topic_and_risk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = sampling.load()  # HROPS_REVIEW_RULES unset: the shipped defaults
    sources = [f"receipt-{i}" for i in range(4000)]

    def share(topic: str, risk: Risk, rules=shipped) -> tuple[float, set[str]]:
        picked = {s for s in sources if sampling.sample(rules, topic=topic, risk=risk, source=s).sampled}
        return len(picked) / len(sources), picked

    plans, plan_set = share("onboarding_plan", Risk.LOW)
    others, other_set = share("analytics_reader", Risk.LOW)
    assert 0.085 < plans < 0.115 and 0.04 < others < 0.06
    assert other_set < plan_set  # one draw per output: a higher rate only adds outputs
    assert share("onboarding_plan", Risk.HIGH)[0] == 1.0  # pay-related: every one, whatever the topic
    assert plan_set == share("onboarding_plan", Risk.LOW)[1]  # the same output is always in or out
    one = sampling.sample(shipped, topic="change_summary", risk=Risk.MEDIUM, source="receipt-7")
    assert one.rule == "everything else" and one.rate == 0.05 and one.draw == sampling.draw("receipt-7")

    # Risk: the topic's from the rules file, high for anything about pay.
    assert (
        sampling.risk_of(shipped, "onboarding_plan", "onboarding", '{"title": "Data Engineer"}') is Risk.LOW
    )
    assert sampling.risk_of(shipped, "change_summary", "salary_change", "{}") is Risk.HIGH
    assert sampling.risk_of(shipped, "analytics_reader", None, "average base pay by level") is Risk.HIGH
    assert sampling.risk_of(shipped, "intake_reader", None, "把王芳的薪资调到36万") is Risk.HIGH
    assert sampling.risk_of(shipped, "intake_reader", None, "a payroll question") is Risk.LOW
    assert sampling.risk_of(shipped, "something_new", None, "hello") is Risk.MEDIUM

    # A company's own file: first matching rule wins; no match means never reviewed.
    own = tmp_path / "review.yaml"
    own.write_text("rules:\n  - {name: plans, topic: onboarding_plan, risk: [low, medium], rate: 1}\n")
    monkeypatch.setenv("HROPS_REVIEW_RULES", str(own))
    reset_settings()
    rules = sampling.load()
    assert share("onboarding_plan", Risk.MEDIUM, rules)[0] == 1.0
    assert share("onboarding_plan", Risk.HIGH, rules)[0] == 0.0
    nobody = sampling.sample(rules, topic="change_summary", risk=Risk.LOW, source="x")
    assert nobody.rule is None and not nobody.sampled

    own.write_text("rules:\n  - {name: all, rate: 1.5, topics: [x]}\n")
    with pytest.raises(sampling.ReviewRulesError) as e:
        sampling.load()
    assert str(own) in str(e.value)
    assert "rules[0] (all).rate: Input should be less than or equal to 1" in e.value.problems
    assert any("rules[0] (all).topics: unknown key" in p for p in e.value.problems)


def test_offer_is_idempotent_audited_and_keeps_no_unsampled_output(
    company: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    req = _request(company)
    first = _offer(company, "receipt-1", req)
    again = _offer(company, "receipt-1", req, output={"en": "a retried call", "zh": "重试"})
    assert first is not None and again == first  # one row per model call, the first one kept
    assert (first.label, first.status, first.requested_by, first.subject_employee_id) == (
        "RV-1",
        ReviewStatus.PENDING,
        "amy.hughes",
        "E1003",
    )
    assert _offer(company, "receipt-2", req, rules_text="rules: [{name: none, rate: 0}]") is None
    with session_scope(company) as s:
        assert s.scalars(select(OutputReview.source)).all() == ["receipt-1"]
        (queued,) = s.scalars(select(AuditEntry).where(AuditEntry.action == "review.queued")).all()
        assert (queued.entity_id, queued.request_id) == ("RV-1", req)
        assert queued.details == {
            "topic": "change_summary",
            "risk": "medium",
            "rule": "every summary",
            "rate": 1.0,
        }
        assert "E1003" not in json.dumps(queued.details)  # ids of the queue, never the prompt or output

    # The wrapper's hook: topic from the agent, risk from the request, replays are not offered.
    rules = tmp_path / "review.yaml"
    rules.write_text("rules: [{name: pay, risk: high, rate: 1}, {name: rest, rate: 0}]\n")
    monkeypatch.setenv("HROPS_REVIEW_RULES", str(rules))
    reset_settings()
    pay_req = _request(company, kind="salary_change")
    hook = dict(agent="change_summary", workflow_id="w", prompt="{}", output=WRITTEN, endpoint="local")
    with session_scope(company, write=True) as s:
        item = queue.offer_model_output(s, request_id=pay_req, source="receipt-3", **hook)
        plain = queue.offer_model_output(s, request_id=req, source="receipt-4", **hook)
        with queue.replaying():
            replayed = queue.offer_model_output(s, request_id=pay_req, source="receipt-5", **hook)
    assert item is not None and (item.topic, item.risk, item.request_id) == (
        "change_summary",
        Risk.HIGH,
        pay_req,
    )
    assert plain is None and replayed is None


def test_reviewers_approve_and_correct_once_and_corrections_become_eval_cases(
    company: str, tmp_path: Path
) -> None:
    req = _request(company)
    about_amy = _request(company, subject="E1005", by="li.wei")
    ok, wrong, amy_own = (
        _offer(company, "r-ok", req),
        _offer(company, "r-wrong", req),
        _offer(company, "r-amy", about_amy, output="A welcome text."),
    )

    # Who may review: HR ops and admins, never on their own request or one about themselves.
    for username in ("wang.fang", "li.wei"):
        with pytest.raises(queue.NotAReviewer, match=f"{username} may not review model output"):
            _decide(company, username, ok.label, verdict="approve")
        with pytest.raises(queue.NotAReviewer), session_scope(company) as s:
            queue.list_items(s, _who(company, username))
    with pytest.raises(queue.ConflictOfInterest, match=f"amy.hughes requested {req}: another reviewer"):
        _decide(company, "amy.hughes", ok.label, verdict="approve")
    with pytest.raises(queue.ConflictOfInterest, match=f"{about_amy} is about amy.hughes"):
        _decide(company, "amy.hughes", amy_own.label, verdict="approve")

    approved = _decide(company, "admin", ok.label, verdict="approve")
    assert (approved.status, approved.decided_by, approved.correction) == (
        ReviewStatus.APPROVED,
        "admin",
        None,
    )
    with pytest.raises(queue.AlreadyDecided, match="RV-1 was approved by admin on .* a decision is final"):
        _decide(company, "admin", ok.label, verdict="correct", reason="x", correction={"en": "y"})

    # Bad corrections are refused with what to do, and change nothing.
    with pytest.raises(ValueError, match="needs a reason"):
        Decision(verdict=Verdict.CORRECT, correction={"en": "x"})
    for correction, message in (
        ({"summary": "x"}, "has no field summary; its fields: en, zh"),
        ({"en": ["x"]}, "en is text in the output; the correction gives list"),
        ({"en": WRITTEN["en"]}, "as written: approve it instead"),
        ("plain text", "is a JSON object with fields en, zh"),
    ):
        with pytest.raises(queue.BadCorrection, match=message):
            _decide(company, "admin", wrong.label, verdict="correct", reason="wrong", correction=correction)
    with pytest.raises(queue.BadCorrection, match="this output is text"):
        _decide(company, "admin", amy_own.label, verdict="correct", reason="r", correction={"en": "x"})

    # RV-2 is corrected to what the offline writer makes of these facts, RV-4 to something it does not write.
    from agents.review_replay import replayer

    replay = replayer(get_settings())
    with queue.replaying():
        case = evals.EvalCase.model_construct(agent="change_summary", prompt=json.dumps(FACTS))
        offline = asyncio.run(replay(case))
    assert offline["en"].startswith(
        "Home address change for E1003 (Data Engineer, Platform), effective 01 Dec"
    )
    corrected = _decide(
        company,
        "admin",
        wrong.label,
        verdict="correct",
        reason="says nothing of the date",
        correction=offline,
    )
    assert corrected.status is ReviewStatus.CORRECTED and corrected.correction == offline
    _decide(
        company, "admin", amy_own.label, verdict="correct", reason="too short", correction="Welcome, Amy!"
    )
    partly = _offer(company, "r-partly", req)
    fixed = _decide(
        company, "admin", partly.label, verdict="correct", reason="tone", correction={"en": "Better."}
    )
    assert fixed.correction == {"en": "Better.", "zh": WRITTEN["zh"]}  # the whole output as corrected

    with session_scope(company) as s:
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.action.like("review.%")).order_by(AuditEntry.id)
        )
        decided = [
            (e.action, e.actor, e.entity_id, e.details["fields"])
            for e in entries
            if e.action != "review.queued"
        ]
        assert decided == [
            ("review.approved", "admin", "RV-1", []),
            ("review.corrected", "admin", "RV-2", ["en", "zh"]),
            ("review.corrected", "admin", "RV-3", ["text"]),
            ("review.corrected", "admin", "RV-4", ["en"]),
        ]
        assert "Better." not in str([e.details for e in s.scalars(select(AuditEntry))])
        assert audit.verify_chain(s) == []

    # Corrections -> evaluation cases in a file (owner-only: prompts name people) -> re-run.
    path = tmp_path / "cases.yaml"
    with session_scope(company, write=True) as s:
        cases = evals.export_to_file(s, _who(company, "admin"), path)
    assert [(c.id, c.expected, c.original, c.reason) for c in cases] == [
        ("RV-2", offline, WRITTEN, "says nothing of the date"),
        ("RV-3", "Welcome, Amy!", "A welcome text.", "too short"),
        ("RV-4", fixed.correction, WRITTEN, "tone"),
    ]
    assert path.stat().st_mode & 0o777 == 0o600 and evals.load_cases(path) == cases
    with pytest.raises(evals.EvalFileError, match="no such file"):
        evals.load_cases(tmp_path / "missing.yaml")

    report = asyncio.run(evals.run_cases(cases, replay, model="offline", endpoint="local"))
    assert [(r.id, r.outcome, r.differences) for r in report.results] == [
        ("RV-2", CaseOutcome.MATCHED, []),
        ("RV-3", CaseOutcome.DIFFERS, ["kind"]),  # text expected, a typed summary written
        ("RV-4", CaseOutcome.DIFFERS, ["en", "zh"]),
    ]
    remote = asyncio.run(evals.run_cases(cases, replay, model="x", endpoint="api.example"))
    assert {r.outcome for r in remote.results} == {CaseOutcome.SKIPPED}  # prompts were prepared for `local`
    with session_scope(company) as s:  # the re-runs were model calls, not outputs to review
        assert s.query(OutputReview).count() == 4


def test_cli_and_api_let_reviewers_decide_and_refuse_everyone_else(company: str) -> None:
    from fastapi.testclient import TestClient

    from hrops.api import auth
    from hrops.api.app import app
    from hrops.cli import app as cli
    from hrops.cli.common import CliError

    req = _request(company)
    for source in ("r-1", "r-2", "r-3"):
        _offer(company, source, req)
    runner = CliRunner()

    def hrops(*args: str) -> str:
        result = runner.invoke(cli, list(args), env={"COLUMNS": "200"}, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    with pytest.raises(
        CliError, match="wang.fang may not review model output: reviewers are HR ops and admins"
    ):
        hrops("review", "list", "--as", "wang.fang")
    listed = hrops("review", "list", "--as", "admin")
    assert all(x in listed for x in ("RV-1", "RV-3", "change_summary", "medium", req, "pending"))
    shown = hrops("review", "show", "RV-1", "--as", "amy.hughes")
    assert '"employee_id": "E1003"' in shown and WRITTEN["en"] in shown
    assert f"amy.hughes requested {req}: another reviewer decides" in shown
    with pytest.raises(CliError, match=f"amy.hughes requested {req}"):
        hrops("review", "approve", "RV-1", "--as", "amy.hughes")
    assert "RV-1 approved by admin" in hrops("review", "approve", "RV-1", "--as", "admin")
    with pytest.raises(CliError, match="RV-1 was approved by admin on .*; a decision is final"):
        hrops("review", "approve", "RV-1", "--as", "admin")
    with pytest.raises(CliError, match="RV-2 has no field 'title'; its fields: en, zh"):
        hrops("review", "correct", "RV-2", "--set", "title=x", "--reason", "r", "--as", "admin")
    with pytest.raises(CliError, match="give the correction one way"):
        hrops("review", "correct", "RV-2", "--reason", "r", "--as", "admin")
    fixed = hrops("review", "correct", "RV-2", "--set", "en=Better.", "--reason", "tone", "--as", "admin")
    assert "RV-2 corrected (en) by admin" in fixed
    assert "Better." in hrops("review", "show", "RV-2", "--as", "admin")
    assert "RV-1" not in hrops("review", "list", "--as", "admin")  # decided: out of the pending queue
    evaluated = hrops("review", "evals", "--run", "--offline", "--as", "admin")
    assert "1 evaluation case(s) from corrections written to" in evaluated
    assert "RV-2" in evaluated and "0 matched, 1 differ" in evaluated

    api = TestClient(app)

    def call(method: str, path: str, user: str, **kw):
        headers = {"Authorization": f"Bearer {auth.issue(get_settings(), user)}"}
        return api.request(method, path, headers=headers, **kw)

    refused = call("GET", "/api/reviews", "li.wei")
    assert refused.status_code == 403 and "li.wei may not review model output" in refused.json()["detail"]
    assert call("GET", "/api/reviews/RV-3", "wang.fang").status_code == 403
    assert (
        call("POST", "/api/reviews/RV-3/decision", "wang.fang", json={"verdict": "approve"}).status_code
        == 403
    )
    pending = call("GET", "/api/reviews", "admin").json()
    assert [(i["label"], i["status"], i["prompt"]) for i in pending] == [("RV-3", "pending", "")]
    assert call("GET", "/api/reviews", "admin", params={"status": "all"}).json()[0]["status"] == "approved"
    item = call("GET", "/api/reviews/RV-3", "admin").json()
    assert json.loads(item["prompt"]) == FACTS and item["output"] == WRITTEN
    assert call("GET", "/api/reviews/RV-99", "admin").status_code == 404
    own = call("POST", "/api/reviews/RV-3/decision", "amy.hughes", json={"verdict": "approve"})
    assert own.status_code == 403 and f"amy.hughes requested {req}" in own.json()["detail"]
    no_reason = call(
        "POST", "/api/reviews/RV-3/decision", "admin", json={"verdict": "correct", "correction": {"en": "x"}}
    )
    assert no_reason.status_code == 422 and "needs a reason" in str(no_reason.json())
    wrong_kind = {"verdict": "correct", "reason": "r", "correction": {"zh": 3}}
    bad = call("POST", "/api/reviews/RV-3/decision", "admin", json=wrong_kind)
    assert bad.status_code == 422 and "zh is text in the output" in bad.json()["detail"]
    body = {"verdict": "correct", "reason": "names the wrong approver", "correction": {"en": "Fixed."}}
    done = call("POST", "/api/reviews/RV-3/decision", "admin", json=body)
    assert done.status_code == 200 and done.json()["correction"] == {"en": "Fixed.", "zh": WRITTEN["zh"]}
    again = call("POST", "/api/reviews/RV-3/decision", "admin", json={"verdict": "approve"})
    assert again.status_code == 409 and "RV-3 was corrected by admin" in again.json()["detail"]


async def test_a_real_record_change_puts_its_summary_in_the_queue(
    temporal_env, main_worker, company: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hrops import request_service as svc
    from tools.hr.schemas import PostalAddress

    rules = tmp_path / "review.yaml"
    rules.write_text(EVERY_SUMMARY)
    monkeypatch.setenv("HROPS_REVIEW_RULES", str(rules))
    reset_settings()
    client = temporal_env.client
    home = PostalAddress(line1="1 Jinke Road", city="Shanghai", postcode="201203", country="CN")
    sub = await svc.submit_address_change(client, svc.principal("amy.hughes"), "E1003", home)
    await svc.wait_for_stage(client, sub.request_id, {"awaiting_approval"})

    with session_scope(company) as s:
        items = queue.list_items(s, _who(company, "admin"))
    assert [(i.topic, i.request_id, i.requested_by, i.subject_employee_id) for i in items] == [
        ("change_summary", sub.request_id, "amy.hughes", "E1003")
    ]
    (item,) = items
    assert '"employee_id": "E1003"' in item.prompt and item.endpoint == "local"
    assert item.output["en"].startswith("Home address change for E1003")
    with pytest.raises(queue.ConflictOfInterest, match=f"amy.hughes requested {sub.request_id}"):
        _decide(company, "amy.hughes", item.label, verdict="approve")
    assert _decide(company, "admin", item.label, verdict="approve").status is ReviewStatus.APPROVED
    with session_scope(company) as s:
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.request_id == sub.request_id).order_by(AuditEntry.id)
        ).all()
    assert "model.call" in actions and actions.index("review.queued") < actions.index("review.approved")
