"""The RPA engine against the stand-in legacy system in a real Chromium: wizard, update form,
awkward values, expired sessions, validation errors, evidence and audit."""

from __future__ import annotations

import itertools
import json
import time
from datetime import date

import pytest
from sqlalchemy import select

from hrops.settings import get_settings
from tests.legacy_fixtures import SYSTEM, Sim, active_employees, set_employee, set_home
from tools.legacy import catalog, engine, journal
from tools.legacy.engine import PushResult
from tools.legacy.errors import LoginFailed, TransientError, ValidationRejected
from tools.legacy.push import PushRequest, push
from tools.store.db import session_scope
from tools.store.models import AuditEntry

_runs = itertools.count(1)


async def _push(pool, employee_id: str, form: str = "new_hire", system: str = SYSTEM, **kw) -> PushResult:  # noqa: ANN001
    req = PushRequest(
        system=system,
        form=form,
        employee_id=employee_id,
        actor="admin",
        workflow_id=f"test-{employee_id}",
        evidence_folder=f"test-{employee_id}-{form}-{next(_runs)}",
    )
    return await push(req, pool=pool, **kw)


def _row(sim: Sim, empno: str) -> dict:
    rows = [r for r in sim.rows() if r["empno"] == empno]
    assert len(rows) == 1, f"{len(rows)} rows for {empno}"
    return rows[0]


async def test_new_hire_wizard_entered_read_back_and_evidenced(sim: Sim, demo: str, browser_pool) -> None:  # noqa: ANN001
    eid = active_employees(demo, 1)[0]
    steps: list[str] = []  # the activity heartbeats each of these: a stuck push says where
    result = await _push(browser_pool, eid, on_step=steps.append)

    assert result.outcome == "entered" and result.reference.startswith("HR-")
    for step in ("find", "personal:family_name", "job:position", "pay:salary", "confirm:submit", "read-back"):
        assert step in steps, step
    row = _row(sim, eid[1:].rjust(6, "0"))
    assert row["ref"] == result.reference
    from tools.legacy.record import load_employee

    with session_scope(demo) as s:
        rec = load_employee(s, eid, date(2026, 11, 23))
    assert rec is not None
    assert (row["surname"], row["given"]) == (rec.family_name, rec.given_name)
    assert row["dob"] == f"{rec.birth_date:%d/%m/%Y}"
    assert row["start_dt"] == f"{rec.hire_date:%d/%m/%Y}"
    assert row["pos"].startswith(row["dept"] + "-")  # the XHR-filled dropdown was used
    assert row["salary"] == f"{rec.base_amount:.2f}" and row["ccy"] == rec.currency  # inside the iframe
    assert len(result.verified) >= 15

    # Evidence: the HTML of each step, a screenshot of each filled page, the answer and the record,
    # named by step, indexed, linked from the audit log.
    folder = get_settings().evidence_dir / SYSTEM / result.evidence
    index = json.loads((folder / "evidence.json").read_text())
    shots = {s["step"]: s["screenshot"] for s in index["steps"]}
    assert list(shots) == [
        "find",
        "personal-filled",
        "job-filled",
        "pay-filled",
        "confirm-filled",
        "confirm-saved",
        "read-back",
        "search-proof",
    ]
    # Screenshots where something was typed, of the answer and of the record; HTML for all.
    assert [k for k, v in shots.items() if v is None] == ["find", "confirm-filled", "search-proof"]
    assert all((folder / v).stat().st_size > 1000 for v in shots.values() if v)
    assert all(s["html"] for s in index["steps"])
    assert any(".frame" in h for s in index["steps"] for h in s["html"])  # the iframe's own HTML
    # The HTML shows the form as it was filled in (typed values are not attributes in the page).
    personal = (folder / "02-personal-filled.html").read_text()
    assert f'value="{rec.family_name}"' in personal and f'value="{rec.birth_date:%d/%m/%Y}"' in personal
    everything = " ".join(p.name for p in folder.iterdir()) + "".join(
        p.read_text(errors="ignore") for p in folder.glob("*.html")
    )
    assert sim.password not in everything and rec.national_id not in " ".join(
        p.name for p in folder.iterdir()
    )
    with session_scope(demo) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "legacy.entered")).one()
    assert entry.entity_id == eid and entry.details["reference"] == result.reference
    assert entry.details["evidence"] == f"{SYSTEM}/{result.evidence}"

    # Pushing again types nothing: the search finds it, the read-back proves it.
    again = await _push(browser_pool, eid)
    assert (again.outcome, again.reference) == ("already_present", result.reference)
    assert sim.stats()["create"] == 1


async def test_update_forms_change_only_what_changed(sim: Sim, demo: str, browser_pool) -> None:  # noqa: ANN001
    eid = active_employees(demo, 2)[1]
    created = await _push(browser_pool, eid)
    set_home(demo, eid, line1="Flat 4, 21 Old Street", city="London", postcode="EC1V 9HL")

    first = await _push(browser_pool, eid, "address_update")
    assert (first.outcome, first.reference) == ("updated", created.reference)
    row = _row(sim, eid[1:].rjust(6, "0"))
    assert (row["addr1"], row["city"], row["postcode"]) == ("Flat 4, 21 Old Street", "London", "EC1V 9HL")
    assert (await _push(browser_pool, eid, "address_update")).outcome == "unchanged"
    assert sim.stats()["update"] == 1

    names = await _push(browser_pool, eid, "employee_update")
    assert names.outcome == "unchanged"  # entered by the wizard with the same names and job


async def test_awkward_values_round_trip_exactly(sim: Sim, demo: str, browser_pool) -> None:  # noqa: ANN001
    eid = active_employees(demo, 3)[2]
    set_employee(
        demo,
        eid,
        family_name='O\'Brien "Bobby"',
        given_name="Seán-Zoë",
        display_name="欧布莱恩·肖恩",
        national_id="007 00 0042",
    )
    long_line = ("上海市浦东新区世博大道500号 " + "Room 1203 <b>&amp;</b> 'East' " * 3)[
        :120
    ]  # markup, quotes
    set_home(demo, eid, line1=long_line, postcode="00120")

    result = await _push(browser_pool, eid)
    await _push(browser_pool, eid, "address_update")
    row = _row(sim, eid[1:].rjust(6, "0"))
    assert row["surname"] == 'O\'Brien "Bobby"' and row["given"] == "Seán-Zoë"
    assert row["name_local"] == "欧布莱恩·肖恩" and row["natid"] == "007 00 0042"
    assert row["empno"] == eid[1:].rjust(6, "0") and row["postcode"] == "00120"  # leading zeros kept
    assert row["addr1"] == long_line.strip()
    assert "local_name" in result.verified and "national_id" in result.verified


async def test_a_validation_error_stops_with_the_page_message_and_screenshot(
    sim: Sim, demo: str, browser_pool
) -> None:  # noqa: ANN001
    eid = active_employees(demo, 4)[3]
    set_employee(demo, eid, family_name="Wolfeschlegelsteinhausenbergerdorff-Smithson")  # 44 > 40
    with pytest.raises(ValidationRejected) as e:
        await _push(browser_pool, eid)
    assert e.value.messages == ["Family name: at most 40 characters"]
    assert e.value.page == "personal" and e.value.retryable is False
    assert (get_settings().evidence_dir / SYSTEM / e.value.screenshot).stat().st_size > 1000
    assert sim.rows() == []
    with session_scope(demo) as s:
        failed = s.scalars(select(AuditEntry).where(AuditEntry.action == "legacy.push_failed")).one()
    assert failed.details["error"] == "validation"


async def test_session_expiry_mid_wizard_logs_in_again_and_enters_once(
    sim: Sim, demo: str, browser_pool
) -> None:  # noqa: ANN001
    eid = active_employees(demo, 5)[4]
    sim.configure(session_ttl=1.0)
    slept = []

    def idle_on_pay_page(step: str) -> None:
        # A person-sized pause on the wizard's third page: the legacy session times out meanwhile.
        if step == "pay" and not slept:
            slept.append(step)
            time.sleep(1.5)

    result = await _push(browser_pool, eid, on_step=idle_on_pay_page)
    assert slept and result.outcome == "entered"
    assert result.recovered.get("session_expired", 0) >= 1
    assert len([r for r in sim.rows() if r["empno"] == eid[1:].rjust(6, "0")]) == 1


async def test_wrong_credentials_are_not_retried(sim: Sim, demo: str, browser_pool, monkeypatch) -> None:  # noqa: ANN001
    from hrops.settings import reset_settings

    monkeypatch.setenv("HROPS_LEGACY_CLASSIC_HRIS_PASSWORD", "not-the-password")
    reset_settings()
    browser_pool_slots_logged_out(browser_pool)
    with pytest.raises(LoginFailed) as e:
        await _push(browser_pool, active_employees(demo, 6)[5])
    assert "not-the-password" not in str(e.value) and e.value.retryable is False
    browser_pool_slots_logged_out(browser_pool)


async def test_a_session_that_expires_on_the_way_in_is_a_retryable_fault_named_as_such(
    sim: Sim, demo: str, browser_pool, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    # Every request after signing in finds its session gone: the system sends the browser back to
    # its sign-in page with no refusal on it. That is a fault to retry (Temporal's policy takes
    # over after the record-level tries), named for what happened, not a silent wait for a page
    # that never comes.
    monkeypatch.setattr(engine, "MAX_ATTEMPTS", 1)  # one record-level try shows it; eight take 40 s
    sim.configure(expire_rate=1.0)
    browser_pool_slots_logged_out(browser_pool)
    eid = active_employees(demo, 7)[6]
    try:
        with pytest.raises(TransientError) as e:
            await _push(browser_pool, eid)
    finally:
        sim.configure(expire_rate=0.0)
        browser_pool_slots_logged_out(browser_pool)
    assert e.value.retryable and not isinstance(e.value, LoginFailed)
    assert e.value.message == "login: sent back to the sign-in page"
    assert not [r for r in sim.rows() if r["empno"] == eid[1:].rjust(6, "0")]


def browser_pool_slots_logged_out(pool) -> None:  # noqa: ANN001
    """Forget the sessions the pool's contexts hold, so the next push logs in again."""
    if pool._free is not None:
        for slot in list(pool._free._queue):
            slot.logged_in.clear()
            slot.broken = False


def _settings(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    from hrops.settings import reset_settings

    for k, v in values.items():
        monkeypatch.setenv(f"HROPS_{k.upper()}", v)
    reset_settings()


async def test_a_final_submit_answered_too_late_is_waited_for_not_entered_twice(
    sim: Sim, demo: str, browser_pool, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    # The system takes 4 s to save; the engine gives up on the answer after 1.5 s. Only the
    # wait for the search (not the stand-in's duplicate check, off here) keeps it from typing again.
    _settings(monkeypatch, legacy_step_timeout="1.5", legacy_submit_grace="20")
    sim.configure(slow_rate=1.0, slow_seconds=4.0, slow_on=["POST /newhire/confirm"], detect_duplicates=False)
    eid = active_employees(demo, 7)[6]
    result = await _push(browser_pool, eid)
    assert result.outcome == "entered" and result.recovered.get("transient", 0) >= 1
    assert any("earlier submit had saved" in n for n in result.notes)
    assert len([r for r in sim.rows() if r["empno"] == eid[1:].rjust(6, "0")]) == 1
    assert sim.stats()["create"] == 1
    assert journal.open_submit(demo, SYSTEM, "new_hire", eid) is None  # settled


async def test_a_create_left_in_doubt_by_a_dead_worker_is_searched_for_first(
    sim: Sim, demo: str, browser_pool, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    _settings(monkeypatch, legacy_submit_grace="2")
    saved, lost = active_employees(demo, 9)[7:9]
    # A worker entered `saved`, then died before settling its journal entry.
    await _push(browser_pool, saved)
    journal.submitting(demo, SYSTEM, "new_hire", saved, "dead-worker")
    again = await _push(browser_pool, saved)
    assert again.outcome == "entered" and sim.stats()["create"] == 1  # found, not typed again

    # A worker died right after clicking "submit" for `lost`, and the system never saved it:
    # the search stays empty for the grace period, then the record is entered (once).
    journal.submitting(demo, SYSTEM, "new_hire", lost, "dead-worker")
    started = time.monotonic()
    result = await _push(browser_pool, lost)
    assert result.outcome == "entered" and time.monotonic() - started >= 2
    assert any("left no record within 2 s" in n for n in result.notes)
    assert sim.stats()["create"] == 2
    assert journal.open_submit(demo, SYSTEM, "new_hire", lost) is None


def _own_system(name: str, **find: str) -> None:
    """A copy of the stand-in's mappings as a system of the user's own, in YAML only."""
    target = catalog.approved_dir() / name
    target.mkdir(parents=True)
    text = (
        (catalog.SHIPPED / SYSTEM / "system.yaml").read_text().replace(f"system: {SYSTEM}", f"system: {name}")
    )
    for old, new in find.items():
        assert old in text, old
        text = text.replace(old, new)
    (target / "system.yaml").write_text(text)
    form = (
        (catalog.SHIPPED / SYSTEM / "new_hire.yaml")
        .read_text()
        .replace(f"system: {SYSTEM}", f"system: {name}")
    )
    (target / "new_hire.yaml").write_text(form)


async def test_a_search_that_cannot_prove_absence_or_find_its_own_record_stops(
    sim: Sim, demo: str, browser_pool, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    from tools.legacy.errors import SearchBroken, SearchUnclear

    _own_system("wrong_column", **{"key_column: 2": "key_column: 3"})  # the name column, not the number
    _own_system("wrong_marker", **{"empty: p.empty": "empty: p.no-such-message"})
    urls = {s: sim.url for s in (SYSTEM, "wrong_column", "wrong_marker")}
    env = {"legacy_urls": json.dumps(urls)}
    for s in ("wrong_column", "wrong_marker"):
        env[f"legacy_{s}_username"], env[f"legacy_{s}_password"] = sim.username, sim.password
    _settings(monkeypatch, **env)
    first, second = active_employees(demo, 11)[9:11]

    # The search never matches what was entered: caught right after the first create, before
    # any retry could enter the record a second time.
    with pytest.raises(SearchBroken) as e:
        await _push(browser_pool, first, system="wrong_column")
    assert "fix `find` or `key`" in e.value.message and e.value.retryable is False
    assert len(sim.rows()) == 1 and e.value.screenshot
    # A person retries before fixing the search: the journal knows the record the system named,
    # so nothing is typed again (the stand-in's own duplicate check would not even be asked).
    opened = journal.open_submit(demo, "wrong_column", "new_hire", first)
    assert opened is not None and opened.reference == sim.rows()[0]["ref"]
    with pytest.raises(SearchBroken):
        await _push(browser_pool, first, system="wrong_column")
    assert len(sim.rows()) == 1 and sim.stats().get("duplicate_rejected", 0) == 0

    # A search page that shows neither rows nor the no-results message is not proof of absence.
    with pytest.raises(SearchUnclear) as e2:
        await _push(browser_pool, second, system="wrong_marker")
    assert e2.value.retryable is False and e2.value.screenshot
    assert len(sim.rows()) == 1  # nothing entered


PRIVATE_ADDRESS = """
# Written by an HR team in YAML only: the home address, kept out of the evidence files.
kind: form
system: classic_hris
form: private_address
version: 1
title: Home address (line 1 kept out of evidence)
action: update
pages:
  - name: edit
    url: /employees/{reference}/edit
    fields:
      - key: street
        source: address_line1
        secret: true
        selectors: [{label: Address line 1}, {name: addr1}]
        readback: Address line 1
      - key: city
        source: city
        selectors: [{label: City}]
        readback: City
    submit: [{role: button, name: Save}]
success: {selector: .success, text: '(?P<reference>HR-\\d{6})'}
"""


async def test_a_new_form_in_yaml_alone_is_validated_pushed_and_keeps_secrets_out_of_evidence(
    sim: Sim, demo: str, browser_pool
) -> None:  # noqa: ANN001
    from typer.testing import CliRunner

    from hrops.cli import app

    eid = active_employees(demo, 12)[11]
    await _push(browser_pool, eid)
    await _push(browser_pool, eid, "address_update")  # the legacy record holds the old street now
    old_street = _row(sim, eid[1:].rjust(6, "0"))["addr1"]
    set_home(demo, eid, line1="Flat 9, 1 Secret Lane")

    path = catalog.approved_dir() / SYSTEM / "private_address.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PRIVATE_ADDRESS)
    check = CliRunner().invoke(app, ["legacy", "validate", str(path)])
    assert check.exit_code == 0, check.output
    assert "private_address" in catalog.forms(SYSTEM)

    result = await _push(browser_pool, eid, "private_address")
    assert result.outcome == "updated" and result.verified == ["street", "city"]
    assert _row(sim, eid[1:].rjust(6, "0"))["addr1"] == "Flat 9, 1 Secret Lane"
    folder = get_settings().evidence_dir / SYSTEM / result.evidence
    html = " ".join(p.read_text() for p in folder.glob("*.html"))
    steps = json.loads((folder / "evidence.json").read_text())["steps"]
    assert [s["step"] for s in steps if s["url_path"].endswith("/edit")] == ["edit-filled", "edit-saved"]
    # The edit page was served with the old street filled in and shown the new one after saving,
    # the record page shows it too: none of that is in the saved HTML (screenshots mask it).
    assert old_street not in html and "Secret Lane" not in html
    assert "Addr" in html or "addr1" in html  # the rest of the page is there


async def test_the_form_mapper_sees_the_pages_controls_never_the_records_values(
    sim: Sim, demo: str, browser_pool, tmp_path
) -> None:  # noqa: ANN001
    from tools.legacy.drift import match_offline, survey
    from tools.legacy.evidence import Evidence
    from tools.legacy.push import engine_for
    from tools.legacy.record import load_employee

    sim.configure(layout="v2")
    eid = active_employees(demo, 13)[12]
    with session_scope(demo) as s:
        rec = load_employee(s, eid, date(2026, 11, 23))
    assert rec is not None
    asked: list = []

    async def matcher(surveys):  # noqa: ANN001, ANN202 - stands where the model would be asked
        asked.extend(surveys)
        return match_offline(surveys)

    async with browser_pool.slot() as slot:
        engine = engine_for(
            slot, catalog.form(SYSTEM, "new_hire"), Evidence(tmp_path, "s", enabled=False), print
        )
        surveys, picks = await survey(engine, rec.model_dump(), matcher)
    prompt = json.dumps([s.model_dump() for s in asked], ensure_ascii=False)
    assert "Last name" in prompt and len(picks) >= 10  # the page's controls, matched
    for value in (
        rec.family_name,
        rec.given_name,
        rec.national_id,
        f"{rec.birth_date:%d/%m/%Y}",
        str(rec.base_amount),
    ):
        assert value and value not in prompt
    assert sim.password not in prompt and sim.rows() == []  # nothing was created by looking
