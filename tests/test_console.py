"""The web console without a browser (httpx against the app): sign-in and its failures, the signed
session, CSRF on every form, who sees and decides what, and no personal data in any URL a page links to."""

from __future__ import annotations

import asyncio
import re
from html.parser import HTMLParser

import httpx
import pytest
from sqlalchemy import select, update

from hrops import request_service as svc
from hrops.api.app import app
from hrops.console import routes
from hrops.console.session import COOKIE
from tests.conftest import HELICOPTER, with_handbook
from tools.hr.schemas import PostalAddress
from tools.store.db import session_scope
from tools.store.models import Employee, User
from tools.store.passwords import hash_password

PASSWORD = "console-test-pw"


@pytest.fixture
def passwords(company: str) -> str:
    """Everyone in the tiny company signs in with PASSWORD (one hash: scrypt is slow on purpose)."""
    with session_scope(company, write=True) as s:
        s.execute(update(User).values(password_hash=hash_password(PASSWORD)))
    routes._failures.clear()
    return company


class Links(HTMLParser):
    """Every URL a page points to (links, images, form targets) and the CSRF token of its forms."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.csrf: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("href", "src", "action"):
            if a.get(key):
                self.urls.append(a[key] or "")
        if tag == "input" and a.get("name") == "csrf":
            self.csrf = a.get("value")


def parse(html: str) -> Links:
    p = Links()
    p.feed(html)
    return p


class Browser:
    """A signed-in person: keeps the session cookie, sends the page's CSRF token with each form."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.csrf = ""
        self.urls: set[str] = set()

    async def get(self, url: str) -> httpx.Response:
        r = await self.http.get(url)
        if r.headers.get("content-type", "").startswith("text/html"):
            links = parse(r.text)
            self.urls.update(links.urls)
            self.csrf = links.csrf or self.csrf
        return r

    async def post(self, url: str, data: dict[str, str], token: bool = True) -> httpx.Response:
        body = {"csrf": self.csrf, **data} if token else data
        return await self.http.post(url, data=body)

    async def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        await self.get("/console/login")
        return await self.post("/console/login", {"username": username, "password": password})


@pytest.fixture
async def http(passwords: str):
    app.state.channels = None  # channels made for another test's store are not this test's
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hrops") as client:
        yield client


@pytest.fixture
async def stack(temporal_env, main_worker, passwords: str):
    app.state.client = temporal_env.client
    transport = httpx.ASGITransport(app=app)
    yield lambda: httpx.AsyncClient(transport=transport, base_url="http://hrops")
    app.state.client = None


async def test_sign_in_failures_sessions_and_sign_out(http: httpx.AsyncClient, passwords: str) -> None:
    b = Browser(http)
    assert (await b.get("/console/approvals")).headers["location"] == "/console/login"
    assert (await b.get("/console/login")).status_code == 200 and b.csrf
    assert (
        await b.post("/console/login", {"username": "li.wei", "password": PASSWORD}, token=False)
    ).status_code == 403
    for username, password in (("li.wei", "wrong-password"), ("nobody", PASSWORD), ("tom.baker", PASSWORD)):
        r = await b.post("/console/login", {"username": username, "password": password})
        assert r.status_code == 401 and "Wrong username or password" in r.text, username  # one answer for all
    with session_scope(passwords, write=True) as s:
        s.get(User, "chen.jing").password_hash = None  # no console password: cannot sign in
    assert (await b.sign_in("chen.jing")).status_code == 401

    r = await b.sign_in("li.wei")
    assert r.status_code == 303 and r.headers["location"] == "/console/approvals"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert PASSWORD not in cookie
    page = await b.get("/console/tools")
    assert page.status_code == 200 and "employee.change_address" in page.text and "李伟" in page.text
    assert (
        page.headers["x-frame-options"] == "DENY"
        and "script-src 'none'" in page.headers["content-security-policy"]
    )

    # A changed cookie is no session; a new password ends the old sessions.
    good = http.cookies[COOKIE]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hrops") as bare:
        for cookie, status in ((good[:-2] + ("00" if not good.endswith("00") else "11"), 303), (good, 200)):
            r = await bare.get("/console/tools", headers={"cookie": f"{COOKIE}={cookie}"})
            assert r.status_code == status
    with session_scope(passwords, write=True) as s:
        s.get(User, "li.wei").password_hash = hash_password("another-password")
    assert (await b.get("/console/tools")).headers["location"] == "/console/login"

    # A form from another site is refused even with the token; sign-out needs the token too.
    await b.sign_in("wang.fang", PASSWORD)
    await b.get("/console/chat")
    evil = await http.post(
        "/console/logout", data={"csrf": b.csrf}, headers={"origin": "https://evil.example"}
    )
    assert evil.status_code == 403
    assert (await b.post("/console/logout", {}, token=False)).status_code == 403
    assert (await b.post("/console/logout", {})).headers["location"] == "/console/login"
    assert (await b.get("/console/tools")).status_code == 303

    # Guessing is slowed down: after ten failures the user is locked for a while.
    await b.get("/console/login")
    for _ in range(routes.MAX_FAILURES):
        r = await b.post("/console/login", {"username": "amy.hughes", "password": "guess-guess"})
        assert r.status_code == 401
    assert (await b.sign_in("amy.hughes")).status_code == 429


async def test_every_form_needs_the_csrf_token_and_language_follows_the_session(
    http: httpx.AsyncClient,
) -> None:
    b = Browser(http)
    await b.sign_in("amy.hughes")
    posts = [r.path for r in routes.router.routes if "POST" in getattr(r, "methods", set())]
    assert len(posts) >= 8
    for path in posts:
        url = path.replace("{request_id}", "REQ-1").replace("{push}", "0")
        assert (await b.post(url, {"verdict": "approve", "text": "hi"}, token=False)).status_code == 403, url
        assert (
            await b.post(url, {"csrf": "forged", "verdict": "approve"}, token=False)
        ).status_code == 403, url

    assert (
        "我的审批" in (await http.get("/console/tools", headers={"accept-language": "zh-CN,zh;q=0.9"})).text
    )
    await b.get("/console/tools")
    r = await http.post(
        "/console/lang",
        data={"csrf": b.csrf, "lang": "zh"},
        headers={"referer": "http://hrops/console/tools"},
    )
    assert r.headers["location"] == "/console/tools"
    page = await b.get("/console/tools")
    assert "工具目录" in page.text and '<html lang="zh-CN">' in page.text


async def test_approvals_timeline_and_decisions_only_for_those_who_may(stack, company: str) -> None:
    client = app.state.client
    wang = svc.principal("wang.fang")
    address = PostalAddress(line1="1 Jinke Road", city="Shanghai", postcode="201203", country="CN")
    sub = await svc.submit_address_change(client, wang, "E1003", address)
    rid = sub.request_id
    async with stack() as h1, stack() as h2, stack() as h3:
        li, chen, amy = Browser(h1), Browser(h2), Browser(h3)
        for b, user in ((li, "li.wei"), (chen, "chen.jing"), (amy, "amy.hughes")):
            assert (await b.sign_in(user)).status_code == 303
        for _ in range(100):  # the inbox is a visibility query: it trails the workflow a moment
            page = await li.get("/console/approvals")
            if f'href="/console/requests/{rid}"' in page.text:
                break
            await asyncio.sleep(0.1)
        assert "1 Jinke Road" in page.text and "Approve" in page.text  # the diff preview and the forms

        # The CEO is not in this request: the same 404 as for nothing, no data, no decision.
        other = await chen.get(f"/console/requests/{rid}")
        assert other.status_code == 404 and "Jinke" not in other.text and "王芳" not in other.text
        assert (await chen.get("/console/requests/REQ-999")).status_code == 404
        assert (await chen.get(f"/console/requests/{rid}/evidence/0/0")).status_code == 404
        await chen.get("/console/chat")
        refused = await chen.post(
            f"/console/requests/{rid}/decision", {"verdict": "approve", "back": "/console/approvals"}
        )
        assert refused.status_code == 404 and "Jinke" not in refused.text
        # HR ops may see it but is not the approver: told why, nothing recorded.
        await amy.get(f"/console/requests/{rid}")
        r = await amy.post(
            f"/console/requests/{rid}/decision", {"verdict": "approve", "back": f"/console/requests/{rid}"}
        )
        assert r.headers["location"] == f"/console/requests/{rid}"
        assert "amy.hughes may not decide" in (await amy.get(f"/console/requests/{rid}")).text

        # A rejection needs a reason; then the approver approves in one click.
        await li.post(
            f"/console/requests/{rid}/decision", {"verdict": "reject", "back": "/console/approvals"}
        )
        assert "needs a reason" in (await li.get("/console/approvals")).text
        r = await li.post(
            f"/console/requests/{rid}/decision", {"verdict": "approve", "back": "https://evil.example/"}
        )
        assert r.headers["location"] == "/console/approvals"  # only our own pages as the way back
        for _ in range(100):
            page = await wang_page(stack, rid)
            if "completed" in page:
                break
            await asyncio.sleep(0.1)
        assert "approved · li.wei" in page and "1 Jinke Road" in page

        # Market reports are for HR roles; the manager asks and sees only their organisation.
        assert (await li.get("/console/comp")).status_code == 403
        assert (await amy.get("/console/comp")).status_code == 200
        await li.get("/console/analytics")
        answer = await li.post("/console/analytics", {"question": "headcount by department"})
        table = answer.text.split('<table class="data">')[-1]
        assert answer.status_code == 200 and "<td>ENG-PLAT</td>" in table and "ENG-DATA" not in table

        # No personal data in any URL a page links to: only fixed paths and request ids.
        with session_scope(company) as s:
            people = [
                (e.id, e.display_name, e.given_name, e.family_name) for e in s.scalars(select(Employee))
            ]
            users = list(s.scalars(select(User.username)))
        urls = li.urls | chen.urls | amy.urls
        assert urls and all(u.startswith("/console/") for u in urls), urls
        for url in urls:
            for word in [w for p in people for w in p] + users:
                # as a word of its own: the surname Li is not in /console/policy
                assert not re.search(rf"(?<![a-z]){re.escape(word.lower())}(?![a-z])", url.lower()), (
                    word,
                    url,
                )


async def wang_page(stack, rid: str) -> str:  # noqa: ANN001
    async with stack() as h:
        b = Browser(h)
        await b.sign_in("wang.fang")
        return (await b.get(f"/console/requests/{rid}")).text


def test_passwords_are_set_from_the_cli_and_the_demo_company_has_its_documented_one(
    company: str, demo_store: str
) -> None:
    from typer.testing import CliRunner

    from hrops.cli import app as cli
    from hrops.cli.common import CliError
    from tools.demo_company.loader import DEMO_PASSWORD, demo_passwords
    from tools.store.passwords import verify_password

    runner = CliRunner()
    with pytest.raises(CliError, match="at least 8 characters"):
        runner.invoke(cli, ["users", "password", "wang.fang", "--password", "short"], catch_exceptions=False)
    with pytest.raises(CliError, match="unknown user 'ghost'"):
        runner.invoke(cli, ["users", "password", "ghost", "--password", PASSWORD], catch_exceptions=False)
    out = runner.invoke(cli, ["users", "password", "E1003"], input="a-long-secret\na-long-secret\n").output
    assert "wang.fang: console password set" in out and "a-long-secret" not in out
    with session_scope(company) as s:
        stored = s.get(User, "wang.fang").password_hash
    assert stored.startswith("scrypt$") and verify_password("a-long-secret", stored)
    assert not verify_password("a-long-secreT", stored) and not verify_password("x", "garbage")
    runner.invoke(cli, ["users", "password", "wang.fang", "--clear"], catch_exceptions=False)
    with session_scope(company) as s:
        assert s.get(User, "wang.fang").password_hash is None

    # The demo company: every active user has the documented password, leavers none.
    with session_scope(demo_store) as s:
        users = {u.username: (u.active, u.password_hash) for u in s.scalars(select(User))}
    assert verify_password(DEMO_PASSWORD, users["admin"][1])
    assert all((h is not None) == active for active, h in users.values())
    with session_scope(demo_store, write=True) as s:
        s.get(User, "admin").password_hash = None  # as if seeded before the console existed
    assert demo_passwords(demo_store) == 1 and demo_passwords(company) == 0


@pytest.fixture
def demo_store(tmp_path) -> str:  # noqa: ANN001
    """A second store with a small seeded demo company (the test's own store is the tiny one)."""
    from datetime import date

    from tools.demo_company import SeedOptions, seed_store

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    seed_store(url, SeedOptions(employees=60, seed=7, learning_per_employee=0, as_of=date(2026, 11, 23)))
    return url


async def test_comp_reports_chat_and_evidence_files_stay_inside_their_folders(
    http: httpx.AsyncClient,
) -> None:
    from hrops.console.views import evidence_files
    from hrops.settings import get_settings
    from tools.legacy.engine import PushResult
    from workflows.legacy_sync.messages import LegacySyncState, Stage

    cfg = get_settings()
    folder = cfg.var_dir / "comp" / "REQ-7"
    folder.mkdir(parents=True)
    (folder / "market-REQ-7.md").write_text("# Market research REQ-7: Data Engineer\n", encoding="utf-8")
    (folder / "market-REQ-7.html").write_text("<h1>Market research REQ-7</h1>", encoding="utf-8")
    (folder / "market-REQ-7.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    second = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hrops")
    amy, li = Browser(http), Browser(second)
    await amy.sign_in("amy.hughes")
    listing = await amy.get("/console/comp")
    assert (
        "Market research REQ-7: Data Engineer" in listing.text
        and "/console/comp/REQ-7/workbook" in listing.text
    )
    report = await amy.get("/console/comp/REQ-7/report")
    assert report.status_code == 200 and "default-src 'none'" in report.headers["content-security-policy"]
    workbook = await amy.get("/console/comp/req-7/workbook")
    assert workbook.status_code == 200 and "attachment" in workbook.headers["content-disposition"]
    for bad in (
        "/console/comp/REQ-8/report",
        "/console/comp/REQ-7/md",
        "/console/comp/..%2F..%2Fsecret.key/report",
    ):
        assert (await amy.get(bad)).status_code == 404, bad
    await li.sign_in("li.wei")  # a manager: no market reports, and no link to them
    assert (await li.get("/console/comp")).status_code == 403
    assert (await li.get("/console/comp/REQ-7/workbook")).status_code == 403
    assert "/console/comp" not in (await li.get("/console/tools")).text

    # The chat: a message is answered (here by the channels' stand-in responder) and shown once.
    await li.get("/console/chat")
    mid = re.search(r'name="mid" value="([^"]+)"', (await li.get("/console/chat")).text).group(1)
    for _ in range(2):  # a resent form is not answered twice
        await li.post("/console/chat", {"text": "hello there", "mid": mid})
    page = await li.get("/console/chat")
    assert page.text.count("hello there") == 2 and "answered already" in page.text  # yours + the echo

    # Evidence is served only from the folders a push's state names, inside the evidence root.
    shots = cfg.evidence_dir / "classic_hris" / "wf_push-1"
    shots.mkdir(parents=True)
    (shots / "01-personal.jpg").write_bytes(b"\xff\xd8 jpeg")
    (shots / "evidence.json").write_text(
        '{"steps": [{"step": "personal", "screenshot": "01-personal.jpg"}, '
        '{"step": "x", "screenshot": "../../../secret.key"}, {"step": "y", "screenshot": null}]}'
    )
    result = PushResult(
        outcome="entered",
        reference="HR-1",
        verified=[],
        attempts=1,
        recovered={},
        evidence="wf_push-1",
        seconds=1,
    )

    def push(system: str = "classic_hris", evidence: str = "wf_push-1") -> LegacySyncState:
        return LegacySyncState(
            system=system,
            form="new_hire",
            employee_id="E1",
            requested_by="admin",
            stage=Stage.COMPLETED,
            result=result.model_copy(update={"evidence": evidence}),
            history=[],
        )

    await second.aclose()
    assert [(s, p.name) for s, p in evidence_files(cfg, push())] == [("personal", "01-personal.jpg")]
    assert evidence_files(cfg, push(evidence="../classic_hris/wf_push-1")) == evidence_files(cfg, push())
    for bad in (
        push(system="../comp"),
        push(evidence="../../comp/REQ-7"),
        push(evidence="/etc"),
        push(evidence="."),
    ):
        assert evidence_files(cfg, bad) == []


def test_the_session_cookie_stays_small_and_signed() -> None:
    from fastapi.responses import Response

    from hrops.console import session
    from hrops.settings import get_settings

    s = session.Session(user="li.wei", pw="f" * 16, exp=2e9, lang="zh", thread="abc")
    s.say("审批被拒绝:" * 200, ok=False)  # a long refusal in Chinese is cut, not a lost session
    cookie = session.save(Response(), s, get_settings()).headers["set-cookie"]
    assert len(cookie) < 3000
    payload, signature = cookie.split(";")[0].split("=", 1)[1].rsplit(".", 1)
    assert len(signature) == 64 and "li.wei" not in payload  # encoded, and signed (tested above)


# -- policy questions and HR's cases -------------------------------------------------------------

HELICOPTER_ANSWER = "Acme has no company helicopter. Book client travel through the travel desk."


@pytest.fixture
def handbook(passwords: str) -> str:
    return with_handbook(passwords)


def _fresh() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hrops")


async def test_policy_questions_are_answered_with_citations_or_become_cases_hr_answers(
    http: httpx.AsyncClient, handbook: str
) -> None:
    async with _fresh() as h2, _fresh() as h3:
        wang, li, amy = Browser(http), Browser(h2), Browser(h3)
        for b, user in ((wang, "wang.fang"), (li, "li.wei"), (amy, "amy.hughes")):
            assert (await b.sign_in(user)).status_code == 303
            await b.get("/console/policy")  # the signed-in session's form token

        # An answer quotes the policy and says where it stands: title, section, version, date.
        page = await wang.get("/console/policy")
        assert page.status_code == 200 and 'href="/console/policy"' in page.text
        assert 'href="/console/cases"' not in page.text  # no Cases link for an employee
        asked = await wang.post(
            "/console/policy", {"question": "when is the cut-off for payroll changes in China?"}
        )
        cite = asked.text.split('<figure class="cite">')[1]
        assert asked.status_code == 200 and "<blockquote>" in cite
        assert re.search(r"version \d+ · in force from \d{4}-\d{2}-\d{2} · <code>payroll-calendar\.en#", cite)

        # A hand-off says so and names its case; the case is under My questions, waiting.
        handed = await wang.post("/console/policy", {"question": HELICOPTER})
        assert "I found no policy that answers this" in handed.text
        assert "Case KB-1: HR ops will answer you" in handed.text
        mine = handed.text.split("<h2>My questions</h2>")[1]
        assert "KB-1" in mine and HELICOPTER in mine and "waiting for HR ops" in mine
        bullied = await wang.post("/console/policy", {"question": "I am being bullied by my team lead"})
        assert "Case KB-2" in bullied.text
        own = await amy.post("/console/policy", {"question": HELICOPTER})  # HR ops asking: KB-3
        assert "Case KB-3" in own.text and "KB-1" not in own.text.split("<h2>My questions</h2>")[1]

        # An employee has no Cases page, no case page and no answer form.
        for url in ("/console/cases", "/console/cases/KB-1"):
            refused = await wang.get(url)
            assert refused.status_code == 403 and HELICOPTER not in refused.text, url
        r = await wang.post("/console/cases/KB-1/answer", {"text": "answering myself"})
        assert r.status_code == 403

        # HR ops: the open cases, a sensitive question kept off the list but shown on its page.
        listing = await amy.get("/console/cases")
        assert [m for m in re.findall(r'href="/console/cases/(KB-\d+)"', listing.text)] == [
            "KB-1",
            "KB-2",
            "KB-3",
        ]
        assert HELICOPTER in listing.text and "bullied" not in listing.text
        assert "(sensitive: open the case to read it)" in listing.text
        sensitive = await amy.get("/console/cases/KB-2")
        assert (
            "I am being bullied by my team lead" in sensitive.text and 'name="save_as"' not in sensitive.text
        )
        assert (await amy.get("/console/cases/KB-99")).status_code == 404
        assert (await amy.get("/console/cases/banana")).status_code == 404

        # Refusals as the service words them, the typed answer kept.
        r = await amy.post("/console/cases/KB-2/answer", {"text": "Let's talk today.", "save_as": "everyone"})
        assert (
            r.status_code == 422
            and "cannot be saved as a correction" in r.text
            and "Let&#x27;s talk today." in r.text
        )
        r = await amy.post("/console/cases/KB-3/answer", {"text": "No helicopter."})
        assert r.status_code == 403 and "KB-3 is your own question" in r.text
        r = await amy.post("/console/cases/KB-1/answer", {"text": "x", "save_as": "planet"})
        assert r.status_code == 422 and "Pick who the correction is for" in r.text

        # The case page: what was found, the draft, the form; answered and saved for the country.
        case = await amy.get("/console/cases/KB-1")
        assert HELICOPTER in case.text and "no policy answers it" in case.text
        assert 'name="save_as" value="country"' in case.text
        done = await amy.post("/console/cases/KB-1/answer", {"text": HELICOPTER_ANSWER, "save_as": "country"})
        assert done.headers["location"] == "/console/cases"
        after = await amy.get("/console/cases")
        assert "KB-1 answered; wang.fang is told. saved as correction 1 (country)" in after.text
        assert 'href="/console/cases/KB-1"' not in after.text  # no longer open
        assert 'href="/console/cases/KB-1"' in (await amy.get("/console/cases?status=answered")).text
        again = await amy.post("/console/cases/KB-1/answer", {"text": "again"})
        assert again.status_code == 409 and "KB-1 was answered by amy.hughes" in again.text

        # The asker sees HR's answer under My questions; the next asker in China gets it at once.
        mine = (await wang.get("/console/policy")).text.split("<h2>My questions</h2>")[1]
        assert "HR&#x27;s answer" in mine and HELICOPTER_ANSWER in mine and "amy.hughes" in mine
        assert "<details><summary>A confidential matter" in mine  # the sensitive one is folded away
        reused = await li.post("/console/policy", {"question": HELICOPTER})
        assert "Answered by HR on" in reused.text and HELICOPTER_ANSWER in reused.text
        assert "KB-" not in reused.text.split("<h2>My questions</h2>")[1]  # no case opened for li.wei

        # The forms need the token; the words are Chinese for a Chinese browser.
        for url, data in (
            ("/console/policy", {"question": HELICOPTER}),
            ("/console/cases/KB-2/answer", {"text": "x"}),
        ):
            assert (await amy.post(url, data, token=False)).status_code == 403, url
        zh = await amy.http.get("/console/cases", headers={"accept-language": "zh-CN"})
        assert "待答问题" in zh.text and "制度问答" in zh.text
        urls = wang.urls | li.urls | amy.urls
        assert all(u.startswith("/console/") and "wang" not in u and "amy" not in u for u in urls)


def test_every_word_the_console_uses_is_there_in_english_and_chinese() -> None:
    """A word missing from i18n.py is a KeyError on the page that needs it."""
    from pathlib import Path

    from hrops.console.html import NAV
    from hrops.console.i18n import WORDS

    folder = Path(routes.__file__).parent
    used = {
        key
        for _, key in re.findall(
            r"""\bw\[(["'])(\w+)\1\]""",
            "".join(
                (folder / f"{name}.py").read_text(encoding="utf-8") for name in ("routes", "views", "html")
            ),
        )
    } | {key for key, _, _ in NAV}
    assert {"policy", "cases", "my_questions", "cases_forbidden", "own_question"} <= used
    assert not used - set(WORDS), sorted(used - set(WORDS))
    assert all(en.strip() and zh.strip() and en != zh for en, zh in WORDS.values())
