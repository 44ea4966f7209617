"""The stand-in's web app: sessions, CSRF, the wizard, the update form, search, fault injection."""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from infra.legacy_hris import pages
from infra.legacy_hris.config import SimConfig
from infra.legacy_hris.forms import FIELDS, STEPS, UPDATE, normalise, positions, read, validate
from infra.legacy_hris.store import Store

SESSION_COOKIE = "LEGACYSESSID"
PRE_COOKIE = "LEGACYPRE"
SERVER_ERROR = (
    "<html><body><h1>Internal Server Error</h1>"
    "<p>ORA-03113: end-of-file on communication channel</p></body></html>"
)


@dataclass
class Session:
    user: str
    csrf: str
    last_seen: float
    wizard: dict[str, dict[str, str]] = field(default_factory=dict)


class Sim:
    """Mutable state of one running stand-in (config can change at run time through /_sim)."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.store = Store(config.db_path)
        self.sessions: dict[str, Session] = {}
        self.rng = random.Random(config.seed)

    def session(self, request: Request) -> tuple[Session | None, bool]:
        """(live session, whether the browser presented one that has gone)."""
        sid = request.cookies.get(SESSION_COOKIE)
        if not sid:
            return None, False
        s = self.sessions.get(sid)
        if s is None:
            return None, True
        if time.monotonic() - s.last_seen > self.config.session_ttl:
            del self.sessions[sid]
            return None, True
        s.last_seen = time.monotonic()
        return s, False


def _to_login(expired: bool) -> RedirectResponse:
    return RedirectResponse("/login?expired=1" if expired else "/login", status_code=303)


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8")
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _targeted(request: Request, targets: list[str]) -> bool:
    said = f"{request.method} {request.url.path}"
    return not targets or any(said.startswith(t) or request.url.path.startswith(t) for t in targets)


def _forbidden() -> HTMLResponse:
    return HTMLResponse("<h1>Forbidden</h1><p>Invalid or missing security token.</p>", status_code=403)


def create_app(config: SimConfig) -> FastAPI:
    sim = Sim(config)
    app = FastAPI(title="Classic HRIS (stand-in)", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sim = sim

    @app.middleware("http")
    async def faults(request: Request, call_next: Any) -> Response:
        if request.url.path.startswith("/_sim"):
            return await call_next(request)
        cfg, rng = sim.config, sim.rng
        if cfg.slow_rate and _targeted(request, cfg.slow_on) and rng.random() < cfg.slow_rate:
            # Slow after the request arrived, before the work: like a busy server, it still does
            # the work when the client has given up waiting for the answer.
            await request.body()
            sim.store.event("slow", detail=request.url.path)
            await asyncio.sleep(cfg.slow_seconds)
        sid = request.cookies.get(SESSION_COOKIE)
        live = cfg.expire_rate and sid in sim.sessions and not request.url.path.startswith("/login")
        if live and rng.random() < cfg.expire_rate:
            del sim.sessions[sid]
            sim.store.event("expired", detail=request.url.path)
        if cfg.fault_500_rate and rng.random() < cfg.fault_500_rate:
            if request.method == "POST" and rng.random() < 0.5:
                await call_next(request)  # the work is done and committed; the answer is lost
                sim.store.event("fault_500_after", detail=request.url.path)
            else:
                sim.store.event("fault_500_before", detail=request.url.path)
            return HTMLResponse(SERVER_ERROR, status_code=500)
        return await call_next(request)

    def layout() -> str:
        return sim.config.layout

    # -- login ---------------------------------------------------------------------------------

    def login_page(token: str, errors: list[str], expired: bool, user: str = "") -> HTMLResponse:
        warn = "<p class='warning'>Your session has expired. Please sign in again.</p>" if expired else ""
        body = (
            f"{warn}{pages.errors_box(errors)}<form method='post' action='/login'>"
            f"<input type='hidden' name='_csrf' value='{token}'>"
            f"<div class='row'><label for='userid'>User ID</label>"
            f"<input type='text' id='userid' name='username' value='{pages.escape(user, quote=True)}'></div>"
            "<div class='row'><label for='pwd'>Password</label><input type='password' id='pwd' name='password'></div>"
            "<div class='row'><button type='submit'>Sign in</button></div></form>"
        )
        response = HTMLResponse(pages.page("Sign in", body))
        response.set_cookie(PRE_COOKIE, token, httponly=True)
        return response

    @app.get("/", response_model=None)
    async def root() -> RedirectResponse:
        return RedirectResponse("/menu", status_code=303)

    @app.get("/login", response_model=None)
    async def login_form(expired: int = 0) -> HTMLResponse:
        return login_page(secrets.token_urlsafe(16), [], bool(expired))

    @app.post("/login", response_model=None)
    async def login(request: Request) -> Response:
        form = await _form(request)
        token = request.cookies.get(PRE_COOKIE)
        if not token or form.get("_csrf") != token:
            return _forbidden()
        user, password = form.get("username", ""), form.get("password", "")
        if sim.config.users.get(user) != password or not password:
            return login_page(
                secrets.token_urlsafe(16), ["User ID: invalid user ID or password"], False, user
            )
        sid = secrets.token_urlsafe(24)
        sim.sessions[sid] = Session(user=user, csrf=secrets.token_urlsafe(16), last_seen=time.monotonic())
        response = RedirectResponse("/menu", status_code=303)
        response.set_cookie(SESSION_COOKIE, sid, httponly=True, path="/")
        return response

    @app.get("/logout", response_model=None)
    async def logout(request: Request) -> RedirectResponse:
        sim.sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
        return RedirectResponse("/login", status_code=303)

    # -- authenticated pages -------------------------------------------------------------------

    def authed(request: Request) -> Session | Response:
        s, expired = sim.session(request)
        return s if s is not None else _to_login(expired)

    async def posted(request: Request, s: Session) -> dict[str, str] | None:
        form = await _form(request)
        return form if form.get("_csrf") == s.csrf else None

    @app.get("/menu", response_model=None)
    async def menu(request: Request) -> Response:
        s = authed(request)
        if isinstance(s, Response):
            return s
        body = (
            "<ul><li><a href='/employees/search'>Employee search</a></li>"
            "<li><a href='/newhire/personal'>New hire</a></li><li><a href='/logout'>Sign out</a></li></ul>"
        )
        return HTMLResponse(pages.page("Main menu", body, user=s.user))

    @app.get("/api/positions", response_model=None)
    async def api_positions(request: Request, dept: str = "") -> Response:
        s, _ = sim.session(request)
        if s is None:
            return JSONResponse({"error": "session expired"}, status_code=401)
        return JSONResponse([{"code": c, "label": t} for c, t in positions(dept)])

    @app.get("/employees/search", response_model=None)
    async def search(request: Request, q: str = "") -> Response:
        s = authed(request)
        if isinstance(s, Response):
            return s
        body = (
            "<form method='get' action='/employees/search'><div class='row'>"
            f"<label for='q'>Employee no. or name</label><input type='text' id='q' name='q' value='{pages.escape(q, quote=True)}'>"
            "<button type='submit'>Search</button></div></form>"
        )
        if q.strip():
            rows = sim.store.search(q.strip())
            if rows:
                body += (
                    "<table id='results'><thead><tr><th>Reference</th><th>Employee no.</th><th>Name</th>"
                    "<th>Department</th><th>Start date</th></tr></thead><tbody>"
                    + "".join(
                        f"<tr><td><a href='/employees/{r['ref']}'>{r['ref']}</a></td><td>{pages.escape(r['empno'])}</td>"
                        f"<td>{pages.escape(r['surname'].upper())}, {pages.escape(r['given'])}</td>"
                        f"<td>{pages.escape(r['dept'])}</td><td>{pages.escape(r['start_dt'])}</td></tr>"
                        for r in rows
                    )
                    + "</tbody></table>"
                )
            else:
                body += "<p class='empty'>No records found.</p>"
        return HTMLResponse(pages.page("Employee search", body, user=s.user))

    @app.get("/employees/{ref}", response_model=None)
    async def view(request: Request, ref: str) -> Response:
        s = authed(request)
        if isinstance(s, Response):
            return s
        row = sim.store.get(ref)
        if row is None:
            return HTMLResponse(
                pages.page("Not found", "<p>No such employee</p>", user=s.user), status_code=404
            )
        body = pages.record_table(row, ref=ref) + f"<p><a href='/employees/{ref}/edit'>Edit</a></p>"
        return HTMLResponse(pages.page(f"Employee {ref}", body, user=s.user))

    @app.api_route("/employees/{ref}/edit", methods=["GET", "POST"], response_model=None)
    async def edit(request: Request, ref: str) -> Response:
        s = authed(request)
        if isinstance(s, Response):
            return s
        row = sim.store.get(ref)
        if row is None:
            return HTMLResponse(
                pages.page("Not found", "<p>No such employee</p>", user=s.user), status_code=404
            )
        values, errors, note = {k: row[k] for k in UPDATE}, [], ""
        if request.method == "POST":
            form = await posted(request, s)
            if form is None:
                return _forbidden()
            values = read(form, UPDATE, layout())
            errors = validate(values, layout())
            if errors:
                sim.store.event("validation_error", ref, "; ".join(errors))
            else:
                sim.store.update(ref, values)
                text = f"Employee {ref} updated." if layout() == "v1" else f"Changes saved for {ref}."
                note = f"<div class='success'>{pages.escape(text)}</div>"
        body = note + pages.errors_box(errors) + pages.POSITIONS_JS
        body += pages.form(f"/employees/{ref}/edit", UPDATE, values, layout(), s.csrf, "save")
        return HTMLResponse(pages.page(f"Update employee {ref}", body, user=s.user))

    # -- the new-hire wizard -------------------------------------------------------------------

    async def step(request: Request, name: str, number: int, after: str, needs: list[str]) -> Response:
        s = authed(request)
        if isinstance(s, Response):
            return s
        if any(n not in s.wizard for n in needs):
            return RedirectResponse("/newhire/personal", status_code=303)
        keys = STEPS[name]
        values, errors = dict(s.wizard.get(name, {})), []
        if request.method == "POST":
            form = await posted(request, s)
            if form is None:
                return _forbidden()
            values = read(form, keys, layout())
            errors = validate(values, layout())
            if not errors:
                s.wizard[name] = values
                return RedirectResponse(after, status_code=303)
            sim.store.event("validation_error", None, "; ".join(errors))
        body = f"<p>Step {number} of 4</p>{pages.errors_box(errors)}"
        if name == "job":
            body += pages.POSITIONS_JS
        body += pages.form(f"/newhire/{name}", keys, values, layout(), s.csrf, "next")
        return HTMLResponse(pages.page("New hire", body, user=s.user))

    @app.api_route("/newhire/personal", methods=["GET", "POST"], response_model=None)
    async def personal(request: Request) -> Response:
        return await step(request, "personal", 1, "/newhire/job", [])

    @app.api_route("/newhire/job", methods=["GET", "POST"], response_model=None)
    async def job(request: Request) -> Response:
        return await step(request, "job", 2, "/newhire/pay", ["personal"])

    @app.get("/newhire/pay", response_model=None)
    async def pay(request: Request) -> Response:
        s = authed(request)
        if isinstance(s, Response):
            return s
        if "job" not in s.wizard or "personal" not in s.wizard:
            return RedirectResponse("/newhire/personal", status_code=303)
        body = (
            "<p>Step 3 of 4</p><p>Pay details are kept by the payroll module:</p>"
            "<iframe id='payframe' name='payframe' src='/newhire/pay/frame' width='600' height='400'></iframe>"
        )
        return HTMLResponse(pages.page("New hire", body, user=s.user))

    @app.api_route("/newhire/pay/frame", methods=["GET", "POST"], response_model=None)
    async def pay_frame(request: Request) -> Response:
        s = authed(request)
        if isinstance(s, Response):
            return s
        if "job" not in s.wizard:
            return HTMLResponse("<script>window.top.location.href = '/newhire/personal';</script>")
        values, errors = dict(s.wizard.get("pay", {})), []
        if request.method == "POST":
            form = await posted(request, s)
            if form is None:
                return _forbidden()
            values = read(form, STEPS["pay"], layout())
            errors = validate(values, layout())
            if not errors:
                s.wizard["pay"] = normalise(values)
                return HTMLResponse(
                    "<html><body><script>window.top.location.href = '/newhire/confirm';</script></body></html>"
                )
            sim.store.event("validation_error", None, "; ".join(errors))
        body = pages.errors_box(errors) + pages.form(
            "/newhire/pay/frame", STEPS["pay"], values, layout(), s.csrf, "next"
        )
        return HTMLResponse(
            f"<html><head><meta charset='utf-8'><style>{pages.STYLE}</style></head><body>{body}</body></html>"
        )

    @app.api_route("/newhire/confirm", methods=["GET", "POST"], response_model=None)
    async def confirm(request: Request) -> Response:
        s = authed(request)
        if isinstance(s, Response):
            return s
        if any(n not in s.wizard for n in STEPS):
            return RedirectResponse("/newhire/personal", status_code=303)
        values = {k: v for part in STEPS for k, v in s.wizard[part].items()}
        errors: list[str] = []
        if request.method == "POST":
            if await posted(request, s) is None:
                return _forbidden()
            dup = sim.store.duplicate_of(values) if sim.config.detect_duplicates else None
            if dup:
                key, ref = dup
                label = FIELDS[key].label(layout())
                errors = [
                    f"{label}: duplicate record, already exists as {ref}"
                    if key == "empno"
                    else f"{label}: possible duplicate of {ref}"
                ]
                sim.store.event("duplicate_rejected", ref)
            else:
                ref = sim.store.create(values)
                s.wizard.clear()
                text = (
                    f"<div class='success'>New hire saved. Reference number: <b id='ref'>{ref}</b></div>"
                    if layout() == "v1"
                    else f"<div class='success'>Record created &mdash; ref <span class='ref'>{ref}</span></div>"
                )
                return HTMLResponse(
                    pages.page("New hire", text + pages.record_table(values, ref=ref), user=s.user)
                )
        button = pages.BUTTONS["submit"][layout()]
        body = (
            f"<p>Step 4 of 4: check and submit</p>{pages.errors_box(errors)}{pages.record_table(values)}"
            f"<form method='post' action='/newhire/confirm'><input type='hidden' name='_csrf' value='{s.csrf}'>"
            f"<div class='row'><button type='submit'>{pages.escape(button)}</button></div></form>"
        )
        return HTMLResponse(pages.page("New hire", body, user=s.user))

    # -- control API for tests and demos -------------------------------------------------------

    @app.get("/_sim/config", response_model=None)
    async def get_config() -> JSONResponse:
        return JSONResponse(sim.config.model_dump(mode="json", exclude={"users"}))

    @app.put("/_sim/config", response_model=None)
    async def put_config(request: Request) -> JSONResponse:
        changes = await request.json()
        try:
            sim.config = SimConfig.model_validate({**sim.config.model_dump(), **changes})
        except ValueError as e:
            return JSONResponse({"error": str(e)}, status_code=422)
        return JSONResponse(sim.config.model_dump(mode="json", exclude={"users"}))

    @app.post("/_sim/reset", response_model=None)
    async def reset() -> JSONResponse:
        sim.store.reset()
        sim.sessions.clear()
        return JSONResponse({"ok": True})

    @app.get("/_sim/employees", response_model=None)
    async def employees() -> JSONResponse:
        return JSONResponse(sim.store.all())

    @app.get("/_sim/stats", response_model=None)
    async def stats() -> JSONResponse:
        return JSONResponse(sim.store.stats())

    return app
