"""The web console in a real browser (Playwright + the system Chromium) against the running stack:
the API under uvicorn on a free port, the Temporal dev server, the main and RPA workers, the
stand-in legacy HR system, the seeded demo company.

1. HR ops onboards a new hire from the chat -> a second HR ops approves the offer in My approvals
   -> the legacy entry waits for the personal data chat does not take (birth date, national id):
   HR ops completes it and retries from the timeline -> the manager approves the plan -> the
   timeline shows the legacy-sync stage completed with the browser's evidence screenshots.
   Meanwhile someone else opening that approval is refused: no data shown, no decision recorded.
2. A manager asks a data question and sees the chart and table of their own organisation only.

`HROPS_SCREENSHOTS=1` saves each journey's screenshots to docs/screenshots/ (shown in the README).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import uvicorn
from playwright.async_api import Browser, Locator, Page, expect
from sqlalchemy import select, update

from hrops import request_service as svc
from hrops.api.app import app
from hrops.cli.demo_processes import _team_in
from hrops.console import routes
from hrops.settings import reset_settings
from tests.conftest import REPO, TODAY
from tests.legacy_fixtures import set_employee
from tools import browser as system_browser
from tools.store import queries
from tools.store.db import session_scope
from tools.store.models import Employee, OrgUnit, Role, User, UserRole
from tools.store.passwords import hash_password

pytestmark = pytest.mark.e2e

PASSWORD = "browser-test-pw"
SHOTS = REPO / "docs" / "screenshots"
# Read at import: the settings fixture clears HROPS_* variables before each test.
SAVE_SHOTS = os.environ.get("HROPS_SCREENSHOTS") == "1"
WAIT = 60_000  # ms: a workflow step, a legacy push


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the test runner keeps its own signal handlers
        yield


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Console:
    url: str
    browser: Browser
    store: str

    async def sign_in(self, username: str, lang: str = "en-GB", screenshot: str | None = None) -> Page:
        """A new browser context (its own cookies) signed in as `username`."""
        context = await self.browser.new_context(
            viewport={"width": 1180, "height": 760}, locale=lang, base_url=self.url
        )
        page = await context.new_page()
        page.set_default_timeout(WAIT)
        await page.goto("/console/login")
        await page.fill("input[name=username]", username)
        await page.fill("input[name=password]", PASSWORD)
        if screenshot:
            await shot(page, screenshot, height=360)
        await page.click("form.login button")
        await expect(page).to_have_url(f"{self.url}/console/approvals")
        return page


async def shot(page: Page | Locator, name: str, full: bool = False, height: int | None = None) -> None:
    """A page (its top `height` pixels, or all of it) or one element of it."""
    if not SAVE_SHOTS:
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = str(SHOTS / f"{name}.png")
    if isinstance(page, Locator):
        await page.screenshot(path=path)
        return
    clip = {"x": 0, "y": 0, "width": 1180, "height": height} if height else None
    await page.screenshot(path=path, full_page=full, clip=clip)


@contextlib.asynccontextmanager
async def _serving(client: Any, store: str) -> AsyncIterator[Console]:
    """The API (with the console) under uvicorn on a free port, and a browser."""
    with session_scope(store, write=True) as s:  # everyone signs in with one password (one scrypt hash)
        s.execute(update(User).values(password_hash=hash_password(PASSWORD)))
    routes._failures.clear()
    app.state.client, app.state.channels = client, None
    port = _free_port()
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the API did not start"
        await asyncio.sleep(0.05)
    try:
        async with system_browser.launch() as browser:
            yield Console(f"http://127.0.0.1:{port}", browser, store)
    finally:
        server.should_exit = True
        await serving
        app.state.client = app.state.channels = None


@pytest.fixture
async def console(
    legacy_workers: Any, sim: Any, demo: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Console]:
    """The whole stack: main and RPA workers, the stand-in legacy system, the demo company."""
    monkeypatch.setenv("HROPS_LEGACY_SYNC", '["classic_hris"]')  # new hires go into the stand-in
    reset_settings()
    async with _serving(legacy_workers, demo) as c:
        yield c


@pytest.fixture
async def data_console(temporal_env: Any, demo: str) -> AsyncIterator[Console]:
    """The console on the demo company (data questions need no worker)."""
    async with _serving(temporal_env.client, demo) as c:
        yield c


async def _until(page: Page, url: str, selector: str, tries: int = 150) -> None:
    """Reload until the selector shows (the inbox is a visibility query; workflows move on)."""
    for _ in range(tries):
        await page.goto(url)
        if await page.locator(selector).count():
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"{selector} never showed on {url}")


def _people(store: str) -> tuple[list[str], str, str, str, str, str]:
    """Two HR ops, the team for the hire, its head (the manager), a division head, an outsider."""
    team = _team_in(store, ("Shanghai", "Beijing", "Shenzhen"), TODAY, set())
    assert team is not None
    code, head, city, currency, amount = team
    with session_scope(store) as s:
        ops = sorted(s.scalars(select(UserRole.username).where(UserRole.role == Role.HR_OPS)))
        manager = s.scalar(select(User.username).where(User.employee_id == head))
        division = s.scalars(select(OrgUnit).where(OrgUnit.kind == "division").order_by(OrgUnit.code))
        boss = next(
            u
            for d in division
            if d.head_employee_id != head
            and (u := s.scalar(select(User.username).where(User.employee_id == d.head_employee_id)))
        )
        granted = set(s.scalars(select(UserRole.username)))
        outsider = next(
            u.username
            for u in s.scalars(
                select(User).where(User.active, User.employee_id.is_not(None)).order_by(User.username)
            )
            if u.username not in granted
            and u.username not in (manager, boss)
            and not queries.has_reports(s, u.employee_id, TODAY)
        )
    assert len(ops) >= 2 and manager
    return ops, f"{code}|{head}|{city}|{currency}|{amount}", manager, boss, outsider, code


async def test_onboard_from_chat_approve_in_the_inbox_and_follow_the_case(console: Console) -> None:
    ops, team, manager, boss, outsider, code = _people(console.store)
    code, head, city, currency, amount = team.split("|")

    # 1. HR ops asks the assistant; it asks for the pay, confirms with the checked summary, starts.
    hr = await console.sign_in(ops[0], screenshot="01-sign-in")
    await hr.goto("/console/chat")
    say = hr.locator("form.say input[name=text]")
    await say.fill(
        f"onboard Mei Lin as Data Engineer in {code} reporting to {head}, based in {city}, from 2026-12-07"
    )
    await say.press("Enter")
    await expect(hr.locator(".msg.assistant").last).to_contain_text("pay")
    await hr.locator("form.say input[name=text]").fill(f"{amount} {currency}")
    await hr.locator("form.say input[name=text]").press("Enter")
    await expect(hr.locator(".msg.assistant").last).to_contain_text("Start it?")
    await hr.locator("form.say input[name=text]").fill("yes")
    await hr.locator("form.say input[name=text]").press("Enter")
    started = hr.locator(".msg.assistant").last.locator("a[href^='/console/requests/REQ-']")
    await expect(started).to_have_count(1)
    rid = (await started.inner_text()).strip()
    await shot(hr, "02-chat-onboarding", full=True)

    # 2. Another HR ops sees the offer in My approvals and approves it with one click.
    checker = await console.sign_in(ops[1])
    card = f"section.item:has(a[href='/console/requests/{rid}'])"
    await _until(checker, "/console/approvals", card)
    await expect(checker.locator(card)).to_contain_text("Data Engineer")
    await expect(checker.locator(card)).to_contain_text(f"{int(amount):,} {currency}")
    await shot(checker, "03-approvals-offer")
    await checker.locator(card).locator("button.ok").click()
    await expect(checker.locator(".flash.ok")).to_contain_text(f"{rid}: approved")

    # 3. The legacy entry needs the personal data chat does not take: HR ops completes it in the HR
    #    record and retries from the timeline; the RPA screenshots of the refused form are there.
    timeline = f"/console/requests/{rid}"
    await _until(hr, timeline, ".task form.resolve")
    await expect(hr.locator("ol.stages li.now")).to_have_text("provisioning · classic_hris: needs_attention")
    await expect(hr.locator(".push .task")).to_contain_text("Needs a person")
    state = await svc.show(app.state.client, rid)
    set_employee(
        console.store,
        state.employee_id,
        birth_date=date(1996, 5, 4),
        gender="female",
        national_id="999999199605041234",
    )
    await shot(hr.locator("section.card:has(.push)"), "04-timeline-legacy-needs-a-person")
    await hr.locator(".task form.resolve input[name=note]").fill("birth date and national id added")
    await hr.locator(".task form.resolve button[value=retry]").click()
    await expect(hr.locator(".flash.ok")).to_contain_text("retry")

    # 4. The plan waits for the manager. Someone else cannot see or decide it.
    outsider_page = await console.sign_in(outsider)
    await outsider_page.goto(timeline)
    await expect(outsider_page.locator("main")).to_contain_text(f"no request {rid} that you may see")
    assert "Mei Lin" not in await outsider_page.content()
    boss_page = await console.sign_in(boss)
    mgr = await console.sign_in(manager)
    await _until(mgr, "/console/approvals", card)
    await expect(mgr.locator(card)).to_contain_text("Onboarding plan")
    csrf = await outsider_page.locator("input[name=csrf]").first.get_attribute("value")
    for intruder in (outsider_page, boss_page):
        token = await intruder.locator("input[name=csrf]").first.get_attribute("value")
        refused = await intruder.request.post(
            f"{timeline}/decision",
            form={"csrf": token or "", "verdict": "approve", "back": "/console/approvals"},
        )
        assert refused.status == 404 and "Mei Lin" not in await refused.text()
    assert csrf
    await outsider_page.goto("/console/approvals")
    await outsider_page.fill("form.open input[name=id]", rid)
    await outsider_page.click("form.open button")
    await expect(outsider_page.locator("main")).to_contain_text("that you may see")
    await shot(outsider_page, "07-someone-else-is-refused", height=200)
    assert (await svc.show(app.state.client, rid)).stage == "awaiting_plan_approval"
    await shot(mgr, "05-approvals-plan", full=True)
    await mgr.locator(card).locator("button.ok").click()
    await expect(mgr.locator(".flash.ok")).to_contain_text(f"{rid}: approved")

    # 5. The case timeline: every stage reached, both approvals, the legacy push completed with its evidence.
    await _until(hr, timeline, "ol.stages li.now:text-is('ready')")
    await expect(hr.locator("ol.stages li.done").nth(3)).to_have_text(
        "provisioning · classic_hris: completed"
    )
    await expect(hr.locator(".push h3 .badge")).to_have_text("completed")
    shots = hr.locator(".push .shots img")
    assert await shots.count() >= 3
    image = await hr.request.get(await shots.first.get_attribute("src") or "")
    assert image.status == 200 and image.headers["content-type"] == "image/jpeg"
    outsider_image = await outsider_page.request.get(await shots.first.get_attribute("src") or "")
    assert outsider_image.status == 404
    await expect(hr.locator("table.chain")).to_have_count(2)
    await shot(hr, "06-timeline-legacy-synced", full=True)

    # The same console in Chinese (from the browser's language, or switched in the header).
    zh = await console.sign_in(manager, lang="zh-CN")
    await expect(zh.locator("header nav")).to_contain_text("我的审批")
    await zh.goto(timeline)
    await expect(zh.locator("h1")).to_contain_text("申请进度")
    await shot(zh, "09-timeline-zh")
    await zh.locator("form.lang button[value=en]").click()
    await expect(zh.locator("h1")).to_contain_text("Case timeline")
    with session_scope(console.store) as s:
        assert s.get(Employee, state.employee_id).display_name == "Mei Lin"


async def test_a_manager_asks_a_data_question_and_sees_only_their_organisation(data_console: Console) -> None:
    """A division head asks in the console: the chart and the table show their units only."""
    _, _, _, boss, _, _ = _people(data_console.store)
    boss_page = await data_console.sign_in(boss)
    await boss_page.goto("/console/analytics")
    await boss_page.fill("form.ask input[name=question]", "headcount by department")
    await boss_page.click("form.ask button")
    await expect(boss_page.locator(".chart svg")).to_have_count(1)
    with session_scope(data_console.store) as s:
        me = s.scalar(select(User.employee_id).where(User.username == boss))
        heads = s.scalars(select(OrgUnit.id).where(OrgUnit.head_employee_id == me)).all()
        mine = {i for h in heads for i in queries.subtree_ids(s, h)}
        codes = dict(s.execute(select(OrgUnit.code, OrgUnit.id)).all())
    shown = [
        c.strip() for c in await boss_page.locator("table.data tbody tr td:first-child").all_inner_texts()
    ]
    assert len(shown) > 1 and all(codes[c] in mine for c in shown), shown
    assert len(mine) < len(codes)  # there is more company than this manager may see
    labels = await boss_page.locator(".chart svg text[transform^='rotate(-35']").evaluate_all(
        "els => els.map(e => e.textContent)"
    )
    assert labels and set(labels) <= set(shown)
    await shot(boss_page, "08-analytics-manager", full=True)


async def test_a_policy_question_is_answered_or_handed_to_hr_who_answer_in_the_console(
    data_console: Console,
) -> None:
    """An employee asks: a quoted, cited answer; then a question the policies do not answer goes to
    HR ops, who answer it on the case page; the employee finds the answer under My questions."""
    ops, _, _, _, outsider, _ = _people(data_console.store)
    asker = await data_console.sign_in(outsider)
    await asker.goto("/console/policy")
    await asker.fill("form.ask input[name=question]", "when is the cut-off for payroll changes?")
    await asker.click("form.ask button")
    await expect(asker.locator("figure.cite figcaption").first).to_contain_text("version")
    await asker.fill("form.ask input[name=question]", "can I book the company helicopter for a client visit?")
    await asker.click("form.ask button")
    await expect(asker.locator(".handoff")).to_contain_text("Case KB-1")
    await shot(asker, "10-policy-handed-off", full=True)

    hr = await data_console.sign_in(ops[0])
    await hr.click("header nav a[href='/console/cases']")
    await hr.click("a[href='/console/cases/KB-1']")
    await hr.fill("form.answer-case textarea", "Acme has no helicopter; the travel desk books client travel.")
    await hr.check("form.answer-case input[name=save_as][value=country]")
    await shot(hr, "11-case-answer", full=True)
    await hr.click("form.answer-case button.ok")
    await expect(hr.locator(".flash.ok")).to_contain_text("KB-1 answered")

    await asker.goto("/console/policy")
    await expect(asker.locator(".hr-answer")).to_contain_text("the travel desk books client travel")
