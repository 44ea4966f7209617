"""The web console at /console: server-rendered pages over the same services as the API and CLI.

Sign-in is with a local password (`hrops users password USER`; the demo company's users share a
documented one). Every page asks the services with the signed-in person, so they see and decide
exactly what the API would let them. URLs carry request ids (REQ-12) at most: names, employee ids
and questions travel in POST bodies. Every POST needs the session's CSRF token.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy import or_, select
from temporalio.client import Client
from temporalio.service import RPCError

from hrops import knowledge_service
from hrops import request_service as svc
from hrops.console import session as sessions
from hrops.console import views
from hrops.console.html import (
    CASE_ANSWERERS,
    COMP_READERS,
    View,
    e,
    form,
    hidden,
    page,
    section,
    table,
)
from hrops.console.i18n import LANGS, pick_lang, words
from hrops.settings import Settings, get_settings
from tools.knowledge import cases
from tools.knowledge.answer import PolicyAnswer
from tools.knowledge.cases import Case, CaseError
from tools.market.tools import report_files
from tools.privacy import receipts
from tools.store.db import session_scope
from tools.store.identity import ALL_SEEING, Principal
from tools.store.models import KbCase, User
from tools.store.passwords import dummy_check, fingerprint, verify_password
from workflows.approvals import Verdict
from workflows.legacy_sync.messages import RESOLVER_ROLES, Action, LegacySyncState
from workflows.record_change.messages import LegacyPush

router = APIRouter(prefix="/console", include_in_schema=False)

STATIC = Path(__file__).parent / "static"
BACK = re.compile(r"^/console/(chat|approvals|requests/REQ-\d+)$")
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
}
# Sign-in attempts: this many failures for one username within the window lock it for the window.
MAX_FAILURES, FAILURE_WINDOW = 10, 15 * 60
_failures: dict[str, deque[float]] = {}
# The chat as shown in this process (the conversation's state itself is the assistant's, durable).
_transcripts: OrderedDict[tuple[str, str], deque[dict[str, Any]]] = OrderedDict()
MAX_THREADS, MAX_MESSAGES = 500, 40
MY_CASES = 30  # the asker's own policy questions shown under the form, newest first


@dataclass
class Ctx:
    request: Request
    settings: Settings
    session: sessions.Session
    who: Principal | None
    lang: str
    w: dict[str, str] = field(default_factory=dict)
    _view: View | None = None

    def view(self) -> View:
        """The same for every part of one page (the one-shot message is taken once)."""
        if self._view is None or self._view.csrf != self.session.csrf:
            self._view = View(self.who, self.lang, self.w, self.session.csrf, self.session.take_flash())
        return self._view

    def html(self, title: str, body: str, active: str = "", status: int = 200) -> Response:
        response = HTMLResponse(page(self.view(), title, body, active), status, headers=SECURITY_HEADERS)
        return sessions.save(response, self.session, self.settings)

    def redirect(self, url: str) -> Response:
        return sessions.save(RedirectResponse(url, 303), self.session, self.settings)

    def to_login(self) -> Response:
        return self.redirect("/console/login")

    async def form(self) -> dict[str, str]:
        return await sessions.checked_form(self.request, self.session)

    def not_found(self, what: str) -> Response:
        return self.html(self.w["not_found"], f"<p>{e(what)}</p>", status=404)

    def forbidden(self, what: str) -> Response:
        return self.html(self.w["forbidden"], f"<p>{e(what)}</p>", status=403)


def _account(session: sessions.Session, cfg: Settings) -> Principal | None:
    """The signed-in person, if their account still acts and their password is the one signed in with."""
    try:
        who = svc.principal(session.user or "", cfg)
    except svc.RequestError:
        return None
    with session_scope(cfg.db_url) as s:
        stored = s.scalar(select(User.password_hash).where(User.username == who.username))
    return who if stored and fingerprint(stored) == session.pw else None


async def context(request: Request) -> Ctx:
    cfg = get_settings()
    session = sessions.load(request, cfg)
    who = await asyncio.to_thread(_account, session, cfg) if session.signed_in else None
    if session.user is not None and who is None:
        session.sign_out()
    lang = pick_lang(session.lang, request.headers.get("accept-language"))
    return Ctx(request, cfg, session, who, lang, words(lang))


C = Depends(context)


async def temporal(request: Request) -> Client:
    """The API's Temporal client (imported late: the API imports this module)."""
    from hrops.api.app import temporal as api_client

    return await api_client(request)


# -- sign in, out, language --------------------------------------------------------------------


@router.get("/")
async def home(c: Ctx = C) -> Response:
    return c.redirect("/console/approvals" if c.who else "/console/login")


@router.get("/static/console.css")
async def stylesheet() -> Response:
    return FileResponse(
        STATIC / "console.css", media_type="text/css", headers={"Cache-Control": "max-age=3600"}
    )


def _login_page(c: Ctx, error: str | None = None, status: int = 200) -> Response:
    w = c.w
    inner = (
        f'<label>{e(w["username"])}<input name="username" autocomplete="username" required autofocus></label>'
        f'<label>{e(w["password"])}<input name="password" type="password" autocomplete="current-password" required></label>'
        f'<button class="ok">{e(w["sign_in"])}</button>'
    )
    body = (f'<p class="flash bad" role="alert">{e(error)}</p>' if error else "") + form(
        c.view(), "/console/login", inner, "login"
    )
    body += f'<p class="also">{e(w["login_hint"])}</p>'
    return c.html(w["sign_in"], body, status=status)


@router.get("/login")
async def login_form(c: Ctx = C) -> Response:
    if c.who is not None:
        return c.redirect("/console/approvals")
    return _login_page(c)


def _check_password(cfg: Settings, username: str, password: str) -> tuple[str, str] | None:
    """(username, fingerprint) when the password is right and the account may act; the same time
    is spent when the user does not exist."""
    try:
        who = svc.principal(username, cfg)
    except svc.RequestError:
        dummy_check(password)
        return None
    with session_scope(cfg.db_url) as s:
        stored = s.scalar(
            select(User.password_hash).where(
                or_(User.username == who.username, User.employee_id == username.upper())
            )
        )
    if not stored:
        dummy_check(password)
        return None
    return (who.username, fingerprint(stored)) if verify_password(password, stored) else None


@router.post("/login")
async def login(c: Ctx = C) -> Response:
    f = await c.form()
    username, password = f.get("username", "").strip()[:80], f.get("password", "")[:200]
    key = username.lower()
    now = time.time()
    recent = _failures.setdefault(key, deque(maxlen=MAX_FAILURES))
    while recent and recent[0] < now - FAILURE_WINDOW:
        recent.popleft()
    if len(recent) >= MAX_FAILURES:
        return _login_page(c, c.w["locked"], 429)
    found = await asyncio.to_thread(_check_password, c.settings, username, password) if username else None
    if found is None:
        recent.append(now)
        return _login_page(c, c.w["bad_login"], 401)
    _failures.pop(key, None)
    c.session.sign_in(found[0], found[1], c.settings.console_session_hours)
    return c.redirect("/console/approvals")


@router.post("/logout")
async def logout(c: Ctx = C) -> Response:
    await c.form()
    c.session.sign_out()
    c.session.say(c.w["signed_out"])
    return c.redirect("/console/login")


@router.post("/lang")
async def language(c: Ctx = C) -> Response:
    f = await c.form()
    if f.get("lang") in LANGS:
        c.session.lang, c.session.dirty = f["lang"], True
    back = urlsplit(c.request.headers.get("referer", "")).path
    ok = back.startswith("/console/") and ".." not in back and "/evidence/" not in back
    return c.redirect(back if ok else "/console/")


# -- chat --------------------------------------------------------------------------------------


def _transcript(who: Principal, thread: str) -> deque[dict[str, Any]]:
    key = (who.username, thread)
    if key not in _transcripts:
        _transcripts[key] = deque(maxlen=MAX_MESSAGES)
        while len(_transcripts) > MAX_THREADS:
            _transcripts.popitem(last=False)
    _transcripts.move_to_end(key)
    return _transcripts[key]


def _thread(c: Ctx) -> str:
    if not c.session.thread:
        c.session.thread, c.session.dirty = secrets.token_hex(6), True
    return c.session.thread


@router.get("/chat")
async def chat_page(c: Ctx = C) -> Response:
    if c.who is None:
        return c.to_login()
    v, w = c.view(), c.w
    lines = []
    for m in _transcript(c.who, _thread(c)):
        who = w["you"] if m["role"] == "you" else w["assistant"]
        buttons = "".join(
            views.decision_forms(v, rid, "/console/chat")
            for rid in dict.fromkeys(b["request_id"] for b in m.get("buttons", []))
        )
        link = "".join(
            f' <a href="/console/requests/{e(rid)}">{e(rid)}</a>'
            for rid in dict.fromkeys(re.findall(r"\bREQ-\d+\b", m["text"]))
            if m["role"] != "you"
        )
        lines.append(
            f'<div class="msg {m["role"]}"><b>{e(who)}</b><pre>{e(m["text"])}</pre>{link}{buttons}</div>'
        )
    body = f'<p class="also">{e(w["chat_intro"])}</p><div class="thread">{"".join(lines)}</div>'
    body += form(
        v,
        "/console/chat",
        hidden("mid", secrets.token_urlsafe(12))
        + f'<input name="text" required maxlength="4000" autofocus autocomplete="off" aria-label="{e(w["message"])}"'
        f' placeholder="{e(w["message"])}"><button class="ok">{e(w["send"])}</button>',
        "say",
    )
    body += form(v, "/console/chat/new", f'<button class="link">{e(w["new_thread"])}</button>', "new")
    return c.html(w["chat"], body, "chat")


@router.post("/chat")
async def chat_send(c: Ctx = C) -> Response:
    f = await c.form()
    if c.who is None:
        return c.to_login()
    from hrops.channels.routes import channels_of

    text = f.get("text", "").strip()[:4000]
    mid = f.get("mid", "")[:60] or secrets.token_urlsafe(12)
    if not text:
        return c.redirect("/console/chat")
    thread = _thread(c)
    out = await channels_of(c.request.app).chat(
        "web",
        c.who.username,
        text,
        f"{c.who.username}/console-{thread}",
        f"console:{mid}",
        user=c.who.username,
    )
    if out is None:
        c.session.say(c.w["already_sent"], ok=False)
        return c.redirect("/console/chat")
    log = _transcript(c.who, thread)
    log.append({"role": "you", "text": text})
    log.append({"role": "assistant", "text": out.text, "buttons": [b.model_dump() for b in out.buttons]})
    return c.redirect("/console/chat")


@router.post("/chat/new")
async def chat_new(c: Ctx = C) -> Response:
    await c.form()
    c.session.thread, c.session.dirty = secrets.token_hex(6), True
    return c.redirect("/console/chat")


# -- requests: who may see them, approvals, decisions, the timeline ----------------------------


class Hidden(Exception):
    """The request does not exist or this person may not see it (the same answer for both)."""


async def visible(client: Client, request_id: str, who: Principal) -> svc.AnyState:
    rid = _canonical(request_id)
    if rid is None:
        raise Hidden
    try:
        state = await svc.show(client, rid)
    except (svc.RequestError, RPCError):
        raise Hidden from None
    if isinstance(state, svc.RequestSummary):
        if who.has(*ALL_SEEING):
            raise HTTPException(503, "no worker is answering; try again shortly")
        raise Hidden
    if not svc.may_see(who, state):
        raise Hidden
    return state


async def visible_push(
    client: Client, request_id: str, who: Principal, push: int
) -> tuple[svc.AnyState, LegacyPush]:
    """A request the person may see and its legacy push number `push`."""
    state = await visible(client, request_id, who)
    pushes = list(getattr(state, "legacy", []))
    if not 0 <= push < len(pushes):
        raise Hidden
    return state, pushes[push]


def _hidden(c: Ctx, request_id: str) -> Response:
    return c.not_found(f"no request {request_id[:20]} that you may see")


@router.get("/approvals")
async def approvals_page(c: Ctx = C) -> Response:
    if c.who is None:
        return c.to_login()
    client = await temporal(c.request)
    v, w = c.view(), c.w
    items = await svc.inbox(client, c.who)

    async def state_of(rid: str) -> svc.AnyState | None:
        try:
            return await visible(client, rid, c.who)  # type: ignore[arg-type]
        except (Hidden, HTTPException):
            return None

    states = await asyncio.gather(*(state_of(i.request_id) for i in items))
    cards = "".join(views.inbox_item(v, i, s, c.who) for i, s in zip(items, states, strict=True))
    body = cards or f'<p class="empty">{e(w["inbox_empty"])}</p>'
    body += (
        '<form method="get" action="/console/open" class="open">'
        f'<input name="id" pattern="[Rr][Ee][Qq]-[0-9]+" required placeholder="{e(w["request_id"])}"'
        f' aria-label="{e(w["request_id"])}"><button>{e(w["open_request"])}</button></form>'
    )
    return c.html(w["approvals"], body, "approvals")


@router.get("/open")
async def open_request(id: str = "", c: Ctx = C) -> Response:
    try:
        number = svc.parse_request_id(id[:20])
    except svc.RequestError:
        return c.redirect("/console/approvals")
    return c.redirect(f"/console/requests/{svc.PREFIX}{number}")


def _canonical(request_id: str) -> str | None:
    try:
        return f"{svc.PREFIX}{svc.parse_request_id(request_id[:20])}"
    except svc.RequestError:
        return None


@router.post("/requests/{request_id}/decision")
async def decide(request_id: str, c: Ctx = C) -> Response:
    f = await c.form()
    if c.who is None:
        return c.to_login()
    client = await temporal(c.request)
    back = f.get("back", "")
    back = back if BACK.match(back) else "/console/approvals"
    verdict = {"approve": Verdict.APPROVE, "reject": Verdict.REJECT}.get(f.get("verdict", ""))
    reason = f.get("reason", "").strip()[:500] or None
    try:
        if verdict is None:
            raise Hidden
        rid = (await visible(client, request_id, c.who)).request_id
    except Hidden:
        return _hidden(c, request_id)
    if verdict is Verdict.REJECT and not reason:
        c.session.say(c.w["reason_needed"], ok=False)
        return c.redirect(back)
    try:
        record = await svc.decide(client, rid, c.who, verdict, reason)
        said, ok = f"{rid}: {record.verdict.past} ({record.step})", True
    except svc.RequestError as err:
        said, ok = str(err), False
    c.session.say(said, ok)
    if back == "/console/chat":
        _transcript(c.who, _thread(c)).append({"role": "assistant", "text": said})
    return c.redirect(back)


async def _push_state(client: Client, workflow_id: str) -> LegacySyncState | str:
    from hrops import legacy_service

    try:
        return await legacy_service.current(client, workflow_id)
    except (svc.RequestError, RPCError) as err:
        return str(err)


@router.get("/requests/{request_id}")
async def request_page(request_id: str, c: Ctx = C) -> Response:
    if c.who is None:
        return c.to_login()
    client = await temporal(c.request)
    try:
        state = await visible(client, request_id, c.who)
    except Hidden:
        return _hidden(c, request_id)
    rid = state.request_id
    pushes = list(getattr(state, "legacy", []))
    push_states = list(await asyncio.gather(*(_push_state(client, p.workflow_id) for p in pushes)))
    chain = getattr(state, "approval", None)
    may_decide = bool(chain and c.who.username in chain.pending_usernames and not state.stage.closed)
    with session_scope(c.settings.db_url) as s:
        calls = receipts.for_request(s, rid)
    body = views.timeline(c.view(), c.settings, state, pushes, push_states, may_decide, calls)
    return c.html(f"{c.w['timeline']} · {rid}", body)


@router.get("/requests/{request_id}/evidence/{push}/{shot}")
async def evidence(request_id: str, push: int, shot: int, c: Ctx = C) -> Response:
    """A screenshot of a legacy push of a request the viewer may see; nothing else on disk."""
    if c.who is None:
        return c.to_login()
    client = await temporal(c.request)
    try:
        _, legacy = await visible_push(client, request_id, c.who, push)
        st = await _push_state(client, legacy.workflow_id)
        files = views.evidence_files(c.settings, st) if isinstance(st, LegacySyncState) else []
        if not 0 <= shot < len(files):
            raise Hidden
    except Hidden:
        return _hidden(c, request_id)
    return FileResponse(
        files[shot][1], media_type="image/jpeg", headers={"Cache-Control": "private, max-age=600"}
    )


@router.post("/requests/{request_id}/legacy/{push}")
async def resolve_push(request_id: str, push: int, c: Ctx = C) -> Response:
    """Retry or cancel a legacy push that waits for a person (HR ops, admins)."""
    from hrops import legacy_service

    f = await c.form()
    if c.who is None:
        return c.to_login()
    client = await temporal(c.request)
    try:
        state, legacy = await visible_push(client, request_id, c.who, push)
    except Hidden:
        return _hidden(c, request_id)
    rid = state.request_id
    if not c.who.has(*RESOLVER_ROLES):
        return c.forbidden(f"{c.who.username} may not resolve legacy pushes (needs hr_ops or admin)")
    action = {"retry": Action.RETRY, "cancel": Action.CANCEL}.get(f.get("action", ""))
    if action is None:
        return c.forbidden("unknown action")
    note = f.get("note", "").strip()[:300] or None
    try:
        await legacy_service.resolve(client, legacy.workflow_id, action, c.who, note)
        c.session.say(f"{rid}: {legacy.system} {legacy.form}: {action.value}")
    except svc.RequestError as err:
        c.session.say(str(err), ok=False)
    return c.redirect(f"/console/requests/{rid}")


# -- analytics, market reports, tools ---------------------------------------------------------


def _ask_form(c: Ctx, question: str = "") -> str:
    w = c.w
    return (
        form(
            c.view(),
            "/console/analytics",
            f'<input name="question" required maxlength="1000" value="{e(question)}" autofocus'
            f' aria-label="{e(w["question"])}" placeholder="{e(w["question"])}">'
            f'<button class="ok">{e(w["ask"])}</button>',
            "ask",
        )
        + f'<p class="also">{e(w["ask_examples"])}</p>'
    )


@router.get("/analytics")
async def analytics_page(c: Ctx = C) -> Response:
    if c.who is None:
        return c.to_login()
    return c.html(c.w["analytics"], _ask_form(c), "analytics")


@router.post("/analytics")
async def analytics_ask(c: Ctx = C) -> Response:
    """The question travels in the body; the answer is scoped to the asker by the compiler."""
    from hrops import analytics_service

    f = await c.form()
    if c.who is None:
        return c.to_login()
    question = f.get("question", "").strip()[:1000]
    if not question:
        return c.redirect("/console/analytics")
    asked = await analytics_service.ask(c.who, question)
    body = _ask_form(c, question) + views.answer(c.view(), asked)
    return c.html(c.w["analytics"], body, "analytics")


# -- policy questions (everyone) and the cases HR ops answer ------------------------------------


def _policy_form(c: Ctx, question: str = "") -> str:
    w = c.w
    return (
        form(
            c.view(),
            "/console/policy",
            f'<input name="question" required maxlength="2000" value="{e(question)}" autofocus'
            f' aria-label="{e(w["question"])}" placeholder="{e(w["question"])}">'
            f'<button class="ok">{e(w["ask"])}</button>',
            "ask",
        )
        + f'<p class="also">{e(w["policy_examples"])}</p>'
    )


def _cases_where(cfg: Settings, who: Principal, *where: Any, order: Any, limit: int) -> list[Case]:
    """Cases picked by `where`, in `order`, as the service shows them to `who` (`get_case` checks
    who may see each; the rows are already loaded, so it reads nothing more)."""
    with session_scope(cfg.db_url) as s:
        rows = s.scalars(select(KbCase).where(*where).order_by(order).limit(limit)).all()
        return [cases.get_case(s, who, cases.label(r.id)) for r in rows]


def _my_cases(cfg: Settings, who: Principal) -> list[Case]:
    # Not `open_cases`: for HR ops it lists everyone's, oldest first, and stops at 100.
    return _cases_where(cfg, who, KbCase.asker == who.username, order=KbCase.id.desc(), limit=MY_CASES)


async def _policy_page(c: Ctx, question: str = "", answered: PolicyAnswer | None = None) -> Response:
    assert c.who is not None
    w, v = c.w, c.view()
    mine = await asyncio.to_thread(_my_cases, c.settings, c.who)
    body = f'<p class="also">{e(w["policy_intro"])}</p>' + _policy_form(c, question)
    if answered is not None:
        body += views.policy_answer(v, answered)
    body += section(w["my_questions"], views.my_questions(v, mine))
    return c.html(w["policy"], body, "policy")


@router.get("/policy")
async def policy_page(c: Ctx = C) -> Response:
    if c.who is None:
        return c.to_login()
    return await _policy_page(c)


@router.post("/policy")
async def policy_ask(c: Ctx = C) -> Response:
    """The question travels in the body; answered from the policies that apply to the asker, or
    handed to HR ops as a case (the service opens it and audits the answer, never the words)."""
    f = await c.form()
    if c.who is None:
        return c.to_login()
    question = f.get("question", "").strip()[:2000]
    if not question:
        return c.redirect("/console/policy")
    answered = await asyncio.to_thread(knowledge_service.ask, c.who, question, None, c.settings)
    return await _policy_page(c, question, answered)


def _may_answer(c: Ctx) -> bool:
    return c.who is not None and c.who.has(*CASE_ANSWERERS)


@router.get("/cases")
async def cases_page(status: str = "open", c: Ctx = C) -> Response:
    if c.who is None:
        return c.to_login()
    if not _may_answer(c):
        return c.forbidden(c.w["cases_forbidden"])
    if status == "answered":  # the latest answers first: the queue of open ones is oldest first
        found = await asyncio.to_thread(
            _cases_where,
            c.settings,
            c.who,
            KbCase.status == "answered",
            order=KbCase.answered_at.desc(),
            limit=100,
        )
    else:
        status = "open"
        found = await asyncio.to_thread(knowledge_service.open_cases, c.who, "open", c.settings)
    return c.html(c.w["cases"], views.case_list(c.view(), found, status), "cases")


async def _case(c: Ctx, case_id: str) -> Case | Response:
    """The case, or the page that says it does not exist (or is not a case id)."""
    assert c.who is not None
    try:
        return await asyncio.to_thread(knowledge_service.case, c.who, case_id[:20], c.settings)
    except CaseError as err:
        return c.not_found(str(err))


@router.get("/cases/{case_id}")
async def case_page(case_id: str, c: Ctx = C) -> Response:
    if c.who is None:
        return c.to_login()
    if not _may_answer(c):
        return c.forbidden(c.w["cases_forbidden"])
    found = await _case(c, case_id)
    if isinstance(found, Response):
        return found
    return c.html(f"{c.w['case']} {found.case_id}", views.case_page(c.view(), found), "cases")


@router.post("/cases/{case_id}/answer")
async def answer_case(case_id: str, c: Ctx = C) -> Response:
    """HR's answer through `knowledge_service.answer_case`: it has the last word (one's own
    question, an answered case, saving a sensitive one are refused with its message)."""
    f = await c.form()
    if c.who is None:
        return c.to_login()
    if not _may_answer(c):
        return c.forbidden(c.w["cases_forbidden"])
    found = await _case(c, case_id)
    if isinstance(found, Response):
        return found
    w = c.w
    text = f.get("text", "")[:10000]
    save_as = f.get("save_as", "")
    refs = views.cited_refs(found)
    cites = [ref for key, ref in sorted(f.items()) if key.startswith("cite-") and ref in refs]
    try:
        if save_as and save_as not in views.SAVE_SCOPES:
            raise CaseError(w["bad_save_as"])
        done = await asyncio.to_thread(
            knowledge_service.answer_case,
            c.who,
            found.case_id,
            text,
            save_as=save_as or None,  # type: ignore[arg-type]
            cites=cites,
            settings=c.settings,
        )
    except CaseError as err:
        said = str(err)
        status = 403 if "your own question" in said else 409 if " was answered by " in said else 422
        c.session.say(said, ok=False)
        now = await _case(c, found.case_id)  # as it stands now (someone else may have answered)
        shown = now if isinstance(now, Case) else found
        return c.html(f"{w['case']} {found.case_id}", views.case_page(c.view(), shown, text), "cases", status)
    said = w["case_answered"].format(case=done.case_id, asker=done.asker)
    if done.correction_id:
        said += " " + w["saved_correction"].format(n=done.correction_id) + f" ({save_as})"
    c.session.say(said)
    return c.redirect("/console/cases")


def _comp_files(settings: Settings, rid: str) -> tuple[Path, Path, Path] | None:
    """(report, workbook, markdown) of a published market research, or None."""
    p = report_files(rid, settings.var_dir)
    files = (Path(p.html), Path(p.workbook), Path(p.markdown))
    return files if files[0].is_file() else None


@router.get("/comp")
async def comp_page(c: Ctx = C) -> Response:
    if c.who is None:
        return c.to_login()
    w = c.w
    if not c.who.has(*COMP_READERS):
        return c.forbidden(w["comp_forbidden"])
    root = c.settings.var_dir / "comp"
    found = []
    for folder in root.iterdir() if root.is_dir() else []:
        rid = _canonical(folder.name)
        if rid != folder.name or (files := _comp_files(c.settings, rid)) is None:
            continue
        title = rid
        if files[2].is_file():
            first = files[2].read_text(encoding="utf-8").splitlines()[:1]
            title = first[0].lstrip("# ").strip() if first else rid
        found.append((int(rid.split("-")[1]), rid, title, files))
    rows = [
        [
            f'<a href="/console/requests/{rid}">{rid}</a>',
            e(title),
            time.strftime("%Y-%m-%d %H:%M", time.gmtime(files[0].stat().st_mtime)),
            f'<a href="/console/comp/{rid}/report">{e(w["report"])}</a>'
            + (
                f' · <a href="/console/comp/{rid}/workbook">{e(w["workbook"])}</a>'
                if files[1].is_file()
                else ""
            ),
        ]
        for _, rid, title, files in sorted(found, reverse=True)
    ]
    body = (
        table(["", e(w["summary"]), e(w["published"]), ""], rows, "data")
        if rows
        else f'<p class="empty">{e(w["comp_empty"])}</p>'
    )
    return c.html(w["comp"], body, "comp")


@router.get("/comp/{request_id}/{what}")
async def comp_file(request_id: str, what: str, c: Ctx = C) -> Response:
    if c.who is None:
        return c.to_login()
    if not c.who.has(*COMP_READERS):
        return c.forbidden(c.w["comp_forbidden"])
    rid = _canonical(request_id)
    files = _comp_files(c.settings, rid) if rid else None
    if files is None or what not in ("report", "workbook"):
        return c.not_found(f"no published market report {request_id[:20]}")
    if what == "report":
        headers = {
            **SECURITY_HEADERS,
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        }
        return HTMLResponse(files[0].read_text(encoding="utf-8"), headers=headers)
    if not files[1].is_file():
        return c.not_found(f"no workbook for {rid}")
    return FileResponse(
        files[1],
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=files[1].name,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/tools")
async def tools_page(c: Ctx = C) -> Response:
    if c.who is None:
        return c.to_login()
    import tools.hr  # noqa: F401  (registers the HR tools)
    import tools.market.tools  # noqa: F401  (registers the market research tools)
    import tools.onboarding  # noqa: F401  (registers the onboarding tools)
    from tools.registry import registry

    w = c.w
    rows = [
        [
            f"<code>{e(s.name)}</code>",
            e(s.risk),
            e(w["required"]) if s.requires_approval else "–",
            e(", ".join(sorted(s.roles))),
            e(s.description.splitlines()[0]),
        ]
        for s in sorted(registry, key=lambda s: s.name)
    ]
    head = [e(w["name"]), e(w["risk"]), e(w["approval_needed"]), e(w["roles"]), e(w["description"])]
    return c.html(w["tools"], section(w["tools"], table(head, rows, "data")), "tools")
