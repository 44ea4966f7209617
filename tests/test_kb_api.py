"""The policy assistant over HTTP (`/api/kb`, `/api/cases`): ask, upload and list documents, and the
second tier of cases, with who may do what, against the tiny company and the demo handbook."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hrops.api import auth
from hrops.api.app import app
from hrops.settings import get_settings
from tests.conftest import HELICOPTER
from tests.test_knowledge_base import EXPENSES_2026
from tools.store.db import session_scope
from tools.store.models import KbCase, KbDocument, Notification

# The expenses policy of the CLI tests, as another document: the upload keeps its own doc_id.
EXPENSES = EXPENSES_2026.replace("doc_id: expenses.en", "doc_id: travel.en")


@pytest.fixture
def call():  # noqa: ANN201
    api = TestClient(app)

    def call(method: str, path: str, user: str, **kw):  # noqa: ANN202
        headers = {"Authorization": f"Bearer {auth.issue(get_settings(), user)}"}
        return api.request(method, path, headers=headers, **kw)

    return call


def _count(url: str, model: type) -> int:
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_ask_answers_with_citations_or_opens_a_case(handbook: str, call) -> None:
    assert TestClient(app).post("/api/kb/ask", json={"question": "x"}).status_code == 401
    answered = call(
        "POST",
        "/api/kb/ask",
        "wang.fang",
        json={"question": "when is the cut-off for payroll changes in China?"},
    )
    assert answered.status_code == 200
    body = answered.json()
    assert body["status"] == "answered" and body["case_id"] is None
    assert body["citations"][0]["doc_id"] == "payroll-calendar.en" and body["citations"][0]["quote"]

    # The date asked on decides the version: the 2027 expenses update is not in force in 2026.
    relocation = {"question": "how much relocation can I claim?"}
    before = call("POST", "/api/kb/ask", "wang.fang", json={**relocation, "on": "2026-12-15"}).json()
    after = call("POST", "/api/kb/ask", "wang.fang", json={**relocation, "on": "2027-01-02"}).json()
    assert before["citations"][0]["version"] == 1 and after["citations"][0]["version"] == 2

    handed = call("POST", "/api/kb/ask", "wang.fang", json={"question": HELICOPTER}).json()
    assert handed["status"] == "handed_off" and handed["citations"] == [] and handed["case_id"] == "KB-1"
    assert _count(handbook, KbCase) == 1

    blank = call("POST", "/api/kb/ask", "wang.fang", json={"question": "   "})
    assert blank.status_code == 422 and "the question is empty" in blank.json()["detail"]
    assert (
        call("POST", "/api/kb/ask", "wang.fang", json={"question": "x", "on": "2026-02-30"}).status_code
        == 422
    )


def test_upload_imports_markdown_and_a_bad_file_imports_nothing(company: str, call) -> None:
    def upload(user: str, *files: tuple[str, bytes], **form: str | list[str]):  # noqa: ANN202
        parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
        return call("POST", "/api/kb/documents", user, files=parts, data=form)

    refused = upload("wang.fang", ("travel.en.md", EXPENSES.encode()))
    assert refused.status_code == 403 and "wang.fang may not change the policy knowledge base" in refused.text
    assert call("POST", "/api/kb/documents", "wang.fang", json={"x": 1}).status_code == 403  # role first
    none = call("POST", "/api/kb/documents", "amy.hughes", data={"topic": "leave"})
    assert none.status_code == 422 and "no files given" in none.json()["detail"]
    french = upload("amy.hughes", ("travel.en.md", EXPENSES.encode()), language="fr")
    assert french.status_code == 422 and _count(company, KbDocument) == 0

    bad = upload("amy.hughes", ("travel.en.md", EXPENSES.encode()), ("empty.md", b""))
    assert bad.status_code == 422
    detail = bad.json()["detail"]
    assert detail.startswith("nothing imported") and "empty.md: is empty (0 bytes)" in detail
    assert "hrops-upload-" not in detail  # the server's temporary folder is not the caller's business
    assert _count(company, KbDocument) == 0

    unsupported = upload("amy.hughes", ("policy.txt", b"Leave is 10 days."))
    assert unsupported.status_code == 422 and "rename it to .md" in unsupported.json()["detail"]

    # The file's own name is kept (a folder part sent by the client is dropped); form fields win.
    done = upload(
        "amy.hughes",
        ("uploads/travel.en.md", EXPENSES.encode()),
        effective_from="2026-03-01",
        countries=["cn", "SG"],
    )
    assert done.status_code == 200, done.text
    assert done.json() == [
        {
            "doc_id": "travel.en",
            "version": 1,
            "status": "new",
            "sections": 2,  # relocation and meals
            "effective_from": "2026-03-01",
            "added": [],
            "removed": [],
            "changed": [],
        }
    ]
    listed = call("GET", "/api/kb/documents", "wang.fang").json()
    assert [(d["doc_id"], d["source_name"], d["scope"]["countries"], d["in_force"]) for d in listed] == [
        ("travel.en", "travel.en.md", ["CN", "SG"], True)
    ]
    waiting = call("GET", "/api/kb/documents", "wang.fang", params={"on": "2026-02-01"}).json()
    assert [(d["doc_id"], d["in_force"]) for d in waiting] == [("travel.en", False)]  # from March on

    # A sidecar sent with its document gives metadata and is not imported itself.
    sidecar = b"doc_id: travel-cn.en\ntopic: expenses\neffective_from: 2026-01-01\n"
    second = upload("admin", ("travel.md", EXPENSES.encode()), ("travel.md.meta.yaml", sidecar))
    assert second.status_code == 200 and [o["doc_id"] for o in second.json()] == ["travel-cn.en"]
    both = call("GET", "/api/kb/documents", "admin", params={"history": True}).json()
    assert sorted(d["doc_id"] for d in both) == ["travel-cn.en", "travel.en"]


def test_upload_refuses_a_file_over_the_size_limit(company: str, call, monkeypatch) -> None:
    from hrops.api import kb_routes

    monkeypatch.setattr(kb_routes, "MAX_FILE_BYTES", 2**20)
    big = EXPENSES.encode() + b"\nMore text.\n" * 100_000
    resp = call("POST", "/api/kb/documents", "amy.hughes", files=[("files", ("travel.en.md", big))])
    assert resp.status_code == 413 and "travel.en.md is larger than 1 MB" in resp.json()["detail"]
    assert _count(company, KbDocument) == 0


def test_cases_list_show_and_answer(handbook: str, call) -> None:
    assert call("POST", "/api/kb/ask", "wang.fang", json={"question": HELICOPTER}).json()["case_id"] == "KB-1"
    bullied = call(
        "POST", "/api/kb/ask", "wang.fang", json={"question": "I am being bullied by my team lead"}
    )
    sensitive = bullied.json()["case_id"]
    li = call("POST", "/api/kb/ask", "li.wei", json={"question": "转人工"}).json()  # asks for a person
    assert li["status"] == "handed_off" and li["case_id"] not in (None, "KB-1", sensitive)

    # HR ops see every case; a sensitive question is left out of the list but shown on its own.
    listed = call("GET", "/api/cases", "amy.hughes").json()
    assert [c["case_id"] for c in listed] == ["KB-1", sensitive, li["case_id"]]
    assert listed[1]["question"] == "" and listed[1]["reason"] == "sensitive"
    assert listed[1]["triage_why"] is None  # what triage matched is the asker's words too
    shown = call("GET", f"/api/cases/{sensitive}", "amy.hughes").json()
    assert shown["question"] == "I am being bullied by my team lead"
    assert shown["triage_why"].startswith("the words «bull")

    # An employee sees only their own cases, and another's case is the same 404 as none.
    assert [c["case_id"] for c in call("GET", "/api/cases", "li.wei").json()] == [li["case_id"]]
    assert {c["case_id"] for c in call("GET", "/api/cases", "wang.fang").json()} == {"KB-1", sensitive}
    assert call("GET", "/api/cases/KB-1", "wang.fang").json()["question"] == HELICOPTER
    hidden = call("GET", "/api/cases/KB-1", "li.wei")
    assert hidden.status_code == 404 and "no case KB-1 for li.wei" in hidden.json()["detail"]
    assert call("GET", "/api/cases/KB-99", "amy.hughes").status_code == 404
    for not_an_id in ("banana", "KB-²", "KB-99999999999999999999"):  # never a 500
        assert call("GET", f"/api/cases/{not_an_id}", "amy.hughes").status_code == 404
    assert call("GET", "/api/cases/kb-1", "amy.hughes").json()["case_id"] == "KB-1"

    answer = {"text": "Acme has no company helicopter. Book client travel through the travel desk."}
    employee = call("POST", "/api/cases/KB-1/answer", "li.wei", json=answer)
    assert employee.status_code == 403 and "li.wei may not answer policy cases" in employee.json()["detail"]
    empty = call("POST", "/api/cases/KB-1/answer", "amy.hughes", json={"text": "  "})
    assert empty.status_code == 422 and "the answer is empty" in empty.json()["detail"]
    no_save = call(
        "POST",
        f"/api/cases/{sensitive}/answer",
        "amy.hughes",
        json={"text": "Let's talk.", "save_as": "everyone"},
    )
    assert no_save.status_code == 422 and "cannot be saved as a correction" in no_save.json()["detail"]
    wrong_scope = call("POST", "/api/cases/KB-1/answer", "amy.hughes", json={**answer, "save_as": "planet"})
    assert wrong_scope.status_code == 422

    done = call("POST", "/api/cases/KB-1/answer", "amy.hughes", json={**answer, "save_as": "country"})
    assert done.status_code == 200
    assert {k: done.json()[k] for k in ("status", "answered_by", "correction_id")} == {
        "status": "answered",
        "answered_by": "amy.hughes",
        "correction_id": 1,
    }
    again = call("POST", "/api/cases/KB-1/answer", "admin", json={"text": "again"})
    assert again.status_code == 409 and "KB-1 was answered by amy.hughes" in again.json()["detail"]
    with session_scope(handbook) as s:
        told = s.scalar(select(Notification).where(Notification.kind == "kb_case_answered"))
    assert told.recipient == "wang.fang" and told.body == answer["text"]
    assert [
        c["case_id"] for c in call("GET", "/api/cases", "wang.fang", params={"status": "answered"}).json()
    ] == ["KB-1"]

    # The saved answer is what the next asker in China gets for the same question.
    reused = call("POST", "/api/kb/ask", "li.wei", json={"question": HELICOPTER}).json()
    assert reused["status"] == "answered" and answer["text"] in reused["text"]


def test_hr_cannot_answer_their_own_question(handbook: str, call) -> None:
    own = call("POST", "/api/kb/ask", "amy.hughes", json={"question": HELICOPTER}).json()["case_id"]
    refused = call("POST", f"/api/cases/{own}/answer", "amy.hughes", json={"text": "No."})
    assert refused.status_code == 403 and "is your own question" in refused.json()["detail"]
    assert call("POST", f"/api/cases/{own}/answer", "admin", json={"text": "No."}).status_code == 200
