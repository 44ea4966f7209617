"""`hrops audit verify | trail | export`: an edited, deleted or cut-off entry is found and named; a
request started from chat can be followed chat message -> submission -> approval -> tool call ->
record change; one person's export carries hashes an auditor can recompute without our code."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hrops.cli import app
from hrops.cli.common import CliError
from tests.tamper import drop_audit_guards
from tools.store import audit
from tools.store.db import engine_for, session_scope
from tools.store.models import AuditEntry, EmployeeAddress

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=WIDE)
    return result.exit_code, result.output


def _write(url: str, n: int) -> list[str]:
    with session_scope(url, write=True) as s:
        return [
            audit.append(s, audit.AuditEvent(actor="admin", action="test.step", details={"i": i})).hash
            for i in range(n)
        ]


def _tamper(url: str, *statements: str) -> None:
    """What someone with write access to the database file could do: drop the guards, change rows."""
    with engine_for(url).begin() as conn:
        drop_audit_guards(conn)
        for statement in statements:
            conn.exec_driver_sql(statement)


def test_verify_names_an_edited_and_a_deleted_entry_and_fails(store_url: str) -> None:
    hashes = _write(store_url, 5)
    code, out = _cli("audit", "verify")
    assert code == 0 and f"audit log OK: 5 entries checked, last entry #5, hash {hashes[-1]}" in out
    with session_scope(store_url) as s:  # what drives the progress bar on a terminal
        seen: list[int] = []
        assert audit.check_chain(s, progress=seen.append, every=2).ok and seen == [2, 4, 5]

    _tamper(
        store_url,
        "UPDATE audit_log SET details = '{\"i\": 9}' WHERE id = 2",
        "DELETE FROM audit_log WHERE id = 4",
    )
    code, out = _cli("audit", "verify")
    assert code == 1 and "audit log NOT intact" in out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") == 3}
    assert set(rows) == {"2", "5"}  # the edited entry, and the one after the deleted entry
    assert "content changed after it was written" in rows["2"]
    assert "entry 4 is missing" in rows["5"]


def test_an_anchor_catches_a_cut_off_end_and_a_rewritten_chain(store_url: str) -> None:
    hashes = _write(store_url, 4)
    # Removing the newest entry leaves a chain that is consistent in itself...
    _tamper(store_url, "DELETE FROM audit_log WHERE id = 4")
    assert _cli("audit", "verify")[0] == 0
    # ...but the last hash recorded earlier is gone from it.
    code, out = _cli("audit", "verify", "--anchor", hashes[-1])
    assert code == 1 and f"no entry has the anchor hash {hashes[-1]}" in out
    assert _cli("audit", "verify", "--anchor", hashes[2])[0] == 0

    # An edit hidden by recomputing every later hash passes the chain check; the anchor does not.
    _tamper(store_url, "UPDATE audit_log SET actor = 'mallory' WHERE id = 2")
    with session_scope(store_url) as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    prev = entries[0].hash
    for e in entries[1:]:
        body = json.dumps(audit.hashed_body(e), sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256((prev + body).encode()).hexdigest()
        _tamper(store_url, f"UPDATE audit_log SET prev_hash = '{prev}', hash = '{digest}' WHERE id = {e.id}")
        prev = digest
    assert _cli("audit", "verify")[0] == 0
    code, out = _cli("audit", "verify", "--anchor", hashes[2])
    assert code == 1 and f"no entry has the anchor hash {hashes[2]}" in out


def test_bad_input_and_readers_without_the_role_are_refused(company: str) -> None:
    for args, message in (
        (["audit", "verify", "--anchor", "abc"], "is not a hash"),
        (["audit", "export", "--employee", "E9999"], "no employee E9999 in the HR store"),
        (["audit", "export", "--employee", "E1003", "--as", "wang.fang"], "needs the hr_ops or admin role"),
        (["audit", "trail", "REQ-7"], "no request REQ-7"),
        (["audit", "trail", "banana"], "is not a request id"),
        (["audit", "trail", "REQ-1", "--as", "li.wei"], "needs the hr_ops or admin role"),
    ):
        with pytest.raises(CliError, match=message):
            runner.invoke(app, args, catch_exceptions=False)
    with session_scope(company) as s:  # a refused export leaves nothing behind
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "audit.exported")) is None


async def test_a_chat_request_is_followed_to_its_record_change_and_exported(
    temporal_env, main_worker, company, tmp_path
) -> None:
    from hrops import assistant_service
    from hrops import request_service as svc
    from hrops.channels.assistant_port import ChatIn

    client = temporal_env.client
    amy = svc.principal("amy.hughes")
    said = "Wang Fang moved to 2 Jinke Road, Shanghai 201203, CN from 2026-11-23"
    asked = await assistant_service.chat(client, amy, "move", said)
    assert asked.outcome.awaiting_confirmation
    started = await assistant_service.chat(client, amy, "move", "yes")
    request_id = started.outcome.started
    assert started.outcome.created and request_id
    await svc.wait_for_stage(client, request_id, {"awaiting_approval"})
    # The manager approves from Slack (through the channels' responder, with Slack's message id).
    approve = ChatIn(
        channel="slack", user="li.wei", text=f"approve {request_id}", thread="D1/1", message_id="D1:1700.42"
    )
    await assistant_service.responder(client)(approve)
    await svc.wait_for_stage(client, request_id, {"completed"})

    code, out = _cli("audit", "trail", request_id, "--as", "amy.hughes", "--json")
    assert code == 0, out
    trail = json.loads(out)
    assert [(e["step"], e["action"]) for e in trail] == [
        ("chat message", "chat.request"),
        ("submission", "request.submitted"),
        ("model call", "model.call"),
        ("chat message", "chat.decision"),
        ("approval", "request.approved"),
        ("record change", "employee.address_changed"),
    ]
    chat, _, _, decision_msg, approval, change = trail
    assert all(e["request_id"] == request_id for e in trail)
    assert chat["actor"] == "amy.hughes" and chat["entity_id"] == "E1003"
    assert chat["details"]["channel"] == "cli" and chat["details"]["chat_message"].startswith("cli-")
    assert (
        decision_msg["details"]["channel"] == "slack"
        and decision_msg["details"]["chat_message"] == "D1:1700.42"
    )
    # chat message -> approval -> tool call: the same decision, by the same person, at the same time.
    assert decision_msg["actor"] == approval["actor"] == change["details"]["approved_by"] == "li.wei"
    assert (
        decision_msg["details"]["decided_at"]
        == approval["details"]["decided_at"]
        == change["details"]["approved_at"]
    )
    # tool call -> record change: the row it names was written by this request.
    assert change["tool"] == "employee.apply_change" and change["details"]["table"] == "employee_addresses"
    with session_scope(company) as s:
        row = s.get(EmployeeAddress, change["details"]["record_id"])
        assert row.employee_id == "E1003" and row.request_id == request_id
    assert "Jinke" not in out and "approve REQ" not in out  # ids, never what was typed

    code, table = _cli("audit", "trail", request_id, "--as", "amy.hughes")
    assert code == 0 and "D1:1700.42" in table and "employee.apply_change" in table
    code, verified = _cli("audit", "verify")
    assert code == 0 and "audit log OK: " in verified

    # One person's export: every entry above, a summary, the request and the decision on it.
    code, out = _cli("audit", "export", "--employee", "E1003", "--as", "amy.hughes")
    assert code == 0, out
    export = json.loads(out)
    assert [e["position"] for e in export["entries"]] == [e["position"] for e in trail]
    assert (
        export["summary"]["per_action"]["employee.address_changed"] == 1 and export["summary"]["entries"] == 6
    )
    assert [(r["request_id"], r["kind"]) for r in export["requests"]] == [(request_id, "address_change")]
    assert [(a["approver"], a["verdict"]) for a in export["approvals"]] == [("li.wei", "approve")]
    for e in export["entries"]:  # each hash recomputed from the export alone, with hashlib and json
        body = {k: e[k] for k in ("at", *audit.AuditEvent.model_fields)}
        recomputed = hashlib.sha256(
            (e["prev_hash"] + json.dumps(body, sort_keys=True, ensure_ascii=False)).encode()
        ).hexdigest()
        assert recomputed == e["hash"]

    out_file = tmp_path / "e1003.csv"
    code, said_back = _cli(
        "audit",
        "export",
        "--employee",
        "e1003",
        "--format",
        "csv",
        "--out",
        str(out_file),
        "--as",
        "amy.hughes",
    )
    assert code == 0 and "wrote 7 audit entries about E1003" in said_back  # the JSON export is in it now
    lines = out_file.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# audit export for E1003 by amy.hughes") and "audit.exported=1" in lines[2]
    rows = list(csv.DictReader(io.StringIO("\n".join(x for x in lines if not x.startswith("#")))))
    assert [r["action"] for r in rows][-1] == "audit.exported" and len(rows) == 7
    assert _cli("audit", "verify")[0] == 0
