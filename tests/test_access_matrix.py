"""Access control over every way in: each API endpoint, console page, chat webhook and CLI command
has a rule here (who may use it) and probes (each role that may not tries, and is refused).

The company is the tiny one of tests/company.py plus a second team, so every role has someone
outside the data being probed: ENG-ML (manager zhao.min, employee sun.li, HRBP hrbp.ml) against
ENG-PLAT, where wang.fang's address change waits for her manager li.wei (the request in flight).

A refusal is what the product says at that door: 401 without a valid sign-in, 403 for a role that
may not, 404 "that you may see" for an object outside the caller's scope (the same answer as for
one that does not exist), a console redirect to the sign-in page, a chat answer that declines, or
the CLI's one-line error (exit code 1). `test_every_route_has_a_rule` and
`test_every_command_has_a_rule` enumerate the app and the typer tree: a new endpoint or command
without a rule fails them.
"""

from __future__ import annotations

import asyncio
import functools
import html
import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer.main
import typer.testing
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from hrops import request_service as svc
from hrops.api import app as api_module
from hrops.api import auth
from hrops.api.app import app
from hrops.channels import assistant_port
from hrops.channels.hub import Channels
from hrops.channels.webhook import SIGNATURE_HEADER, sign
from hrops.cli import app as cli
from hrops.cli.common import CliError
from hrops.console import routes as console_routes
from hrops.settings import get_settings, reset_settings
from tests.channel_fakes import FEISHU_TOKEN, SLACK_SECRET, WEBHOOK_SECRET, link, slack_headers
from tools.hr.schemas import PostalAddress
from tools.store.db import session_scope
from tools.store.models import AuditEntry, Employee, JobAssignment, OrgUnit, Role, User, UserRole
from tools.store.passwords import hash_password

# -- who is who -------------------------------------------------------------------------------------

ROLES = ("employee", "manager", "hrbp", "hr_ops", "comp_analyst", "admin")
USERS = {
    "employee": "sun.li",  # ENG-ML, reports to zhao.min
    "manager": "zhao.min",  # heads ENG-ML: another org than the request's
    "hrbp": "hrbp.ml",  # HRBP of ENG-ML only
    "hr_ops": "amy.hughes",
    "comp_analyst": "comp.analyst",
    "admin": "admin",
    # the people of the request in flight (ENG-PLAT)
    "requester": "wang.fang",
    "approver": "li.wei",
}
PASSWORD = "matrix-test-pw"
REQ = "REQ-1"  # the request in flight: the first request of a fresh store
HOME = {"line1": "1 Jinke Road", "city": "Shanghai", "postcode": "201203", "country": "CN"}
SALARY = {"kind": "salary_change", "amount": "320000", "currency": "CNY", "frequency": "annual"}
SQL = "SELECT location, COUNT(*) AS n FROM job_assignments GROUP BY location"

# What a rule lets through, besides a set of roles.
PUBLIC = "public: no sign-in, no personal data"
SIGNED_IN = "anyone signed in, acting as themselves (the services scope what they see)"
PLATFORM = "a chat platform: only requests signed with the channel's secret"
OPERATOR = "the operator of the installation (store and server access); no HR identity"


# -- probes -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Api:
    """A call to the HTTP API with `who`'s bearer token ("anonymous", "forged", "expired": none or bad)."""

    who: str
    method: str
    path: str
    json: Any = None
    status: int = 403
    says: str = ""
    hides: tuple[str, ...] = ()  # never in the answer (names, stages, figures of what is out of scope)
    live: bool = False  # needs the request in flight (Temporal)


@dataclass(frozen=True)
class Page:
    """A console page or form as `who`, signed in with a password ("anonymous": not signed in).
    Forms carry the session's CSRF token unless `csrf` is False."""

    who: str
    method: str
    path: str
    form: dict[str, str] | None = None
    status: int = 404
    says: str = ""  # in the page; for a redirect, in its location or the page it leads to
    hides: tuple[str, ...] = ()
    csrf: bool = True
    live: bool = False


@dataclass(frozen=True)
class Hook:
    """A POST from a chat platform. `signed`: "good", "bad", "none" or "stale" (Slack: 10 minutes old)."""

    path: str
    body: dict[str, Any]
    signed: str
    status: int
    says: str = ""
    hides: tuple[str, ...] = ()
    live: bool = False


@dataclass(frozen=True)
class Cmd:
    """A CLI command as `who`: with `--as USER` when the command takes it, else HROPS_USER=USER.
    Refused means exit code 1 with `says` in the one-line error; `ok=True` probes a command that
    answers but must not show what `hides` lists."""

    who: str
    args: tuple[str, ...]
    says: str = ""
    hides: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    stdin: str | None = None
    ok: bool = False
    live: bool = False


Probe = Api | Page | Hook | Cmd


@dataclass(frozen=True)
class Rule:
    """Who may use an endpoint or command: a set of roles (everyone else is probed, each role at
    least once), or one of PUBLIC / SIGNED_IN / PLATFORM / OPERATOR."""

    may: frozenset[str] | str
    why: str
    probes: tuple[Probe, ...] = ()


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


OUTSIDERS = ("employee", "manager", "hrbp", "comp_analyst")  # none of them may see the request in flight
NOT_HR = OUTSIDERS  # roles without hr_ops or admin
NOT_ADMIN = (*OUTSIDERS, "hr_ops")
NOT_VISIBLE = f"no request {REQ} that you may see"
LEAKS = ("li.wei", "awaiting_approval", "waiting for")  # what only people who may see REQ learn
CASES_REFUSED = "Policy cases are answered by HR ops and admins"  # the console's Cases pages


def _signed_in_api(path: str, method: str = "GET", json: Any = None) -> tuple[Api, ...]:
    return (
        Api("anonymous", method, path, json, 401, "sign in: send `Authorization: Bearer"),
        Api("forged", method, path, json, 401, "invalid token"),
    )


def _each_outsider_api(method: str, path: str, json: Any = None) -> tuple[Api, ...]:
    return tuple(Api(r, method, path, json, 404, NOT_VISIBLE, LEAKS, live=True) for r in OUTSIDERS)


def _to_login(method: str, path: str, form: dict[str, str] | None = None) -> Page:
    return Page("anonymous", method, path, form, 303, "/console/login")


def _each_outsider_page(method: str, path: str, form: dict[str, str] | None = None) -> tuple[Page, ...]:
    return tuple(Page(r, method, path, form, 404, NOT_VISIBLE, LEAKS, live=True) for r in OUTSIDERS)


# -- the HTTP rules: one per (method, path) of the app ------------------------------------------

ROUTES: dict[tuple[str, str], Rule] = {
    ("GET", "/healthz"): Rule(PUBLIC, "liveness and version"),
    ("GET", "/readyz"): Rule(PUBLIC, "readiness: whether the store and Temporal answer"),
    ("GET", "/metrics"): Rule(
        PUBLIC,
        "Prometheus: counts by type and status, no personal data (off with HROPS_METRICS_ENABLED=false)",
        (Api("anonymous", "GET", "/metrics", None, 200, "hrops_store_up 1.0", ("E1003", "wang.fang")),),
    ),
    ("GET", "/api/tools"): Rule(SIGNED_IN, "the tool catalogue", _signed_in_api("/api/tools")),
    ("GET", "/api/me"): Rule(
        SIGNED_IN,
        "who the token belongs to",
        (
            *_signed_in_api("/api/me"),
            Api("expired", "GET", "/api/me", None, 401, "token expired"),
        ),
    ),
    ("GET", "/api/approvals"): Rule(
        roles(),
        "each person's own inbox: nobody else's pending decisions",
        (
            *_signed_in_api("/api/approvals"),
            *(Api(r, "GET", "/api/approvals", None, 200, "", (REQ,), live=True) for r in ROLES),
        ),
    ),
    ("POST", "/api/requests/address-change"): Rule(
        roles("hr_ops", "admin"),
        "one's own address; HR ops and admins anyone's",
        (
            *_signed_in_api(
                "/api/requests/address-change", "POST", {"employee_id": "E1003", "address": HOME}
            ),
            *(
                # The very change that is pending: a stranger learns nothing of it and starts nothing.
                Api(
                    r,
                    "POST",
                    "/api/requests/address-change",
                    {"employee_id": "E1003", "address": HOME},
                    422,
                    f"{USERS[r]} may request address changes only for themselves",
                    (REQ, "pending"),
                    live=True,
                )
                for r in OUTSIDERS
            ),
        ),
    ),
    ("POST", "/api/requests/change"): Rule(
        roles("hr_ops", "admin"),
        "changes for people in one's reporting line or HRBP orgs; HR ops and admins anyone's",
        (
            *_signed_in_api("/api/requests/change", "POST", {"employee_id": "E1003", "details": SALARY}),
            Api(
                "employee",
                "POST",
                "/api/requests/change",
                {"employee_id": "E1003", "details": SALARY},
                422,
                "sun.li may not request changes for E1003",
                live=True,
            ),
            Api(
                "manager",
                "POST",
                "/api/requests/change",
                {"employee_id": "E1003", "details": SALARY},
                422,
                "zhao.min may not request changes for E1003",
                live=True,
            ),
            Api(
                "hrbp",
                "POST",
                "/api/requests/change",
                {"employee_id": "E1003", "details": SALARY},
                422,
                "hrbp.ml may not request changes for E1003",
                live=True,
            ),
            Api(
                "comp_analyst",
                "POST",
                "/api/requests/change",
                {"employee_id": "E1003", "details": {"kind": "job_title", "title": "Lead"}},
                422,
                "comp.analyst may not request changes for E1003",
                live=True,
            ),
        ),
    ),
    ("POST", "/api/ask"): Rule(
        roles("hr_ops", "admin", "comp_analyst"),
        "the whole company for HR and analysts; a manager their units, an HRBP their orgs; employees nothing",
        (
            *_signed_in_api("/api/ask", "POST", {"question": "headcount"}),
            Api(
                "employee",
                "POST",
                "/api/ask",
                {"question": "headcount by org unit"},
                200,
                "analytics answers are for managers, HRBPs and HR",
                ('"answer":{',),
            ),
            Api(
                "manager",
                "POST",
                "/api/ask",
                {"question": "headcount in Platform"},
                200,
                '"refused":true',
                ('"answer":{',),
            ),
            Api(
                "hrbp",
                "POST",
                "/api/ask",
                {"question": "average base pay in ENG-PLAT"},
                200,
                '"refused":true',
                ('"answer":{',),
            ),
        ),
    ),
    ("GET", "/api/analytics/catalogue"): Rule(
        roles("hr_ops", "admin", "comp_analyst"),
        "the metrics answerable in one's own scope only",
        (
            *_signed_in_api("/api/analytics/catalogue"),
            Api(
                "employee", "GET", "/api/analytics/catalogue", None, 403, "analytics answers are for managers"
            ),
            Api("manager", "GET", "/api/analytics/catalogue?org_unit=ENG-PLAT", None, 403, "ENG-PLAT"),
            Api("hrbp", "GET", "/api/analytics/catalogue?org_unit=ENG-PLAT", None, 403, "ENG-PLAT"),
        ),
    ),
    ("POST", "/api/chat"): Rule(
        SIGNED_IN,
        "the assistant acts as the signed-in person, with their rights",
        (
            *_signed_in_api("/api/chat", "POST", {"text": "hello", "message_id": "m-anon"}),
            Api(
                "employee",
                "POST",
                "/api/chat",
                {"text": f"what is the status of {REQ}?", "message_id": "m-status"},
                200,
                NOT_VISIBLE,
                LEAKS,
                live=True,
            ),
            Api(
                "manager",
                "POST",
                "/api/chat",
                {"text": f"approve {REQ}", "message_id": "m-approve"},
                200,
                NOT_VISIBLE,
                LEAKS,
                live=True,
            ),
        ),
    ),
    ("GET", "/api/requests/{request_id}"): Rule(
        roles("hr_ops", "admin"),
        "the requester, the approvers, the employee it is about, HR ops and admins",
        (*_signed_in_api(f"/api/requests/{REQ}"), *_each_outsider_api("GET", f"/api/requests/{REQ}")),
    ),
    ("POST", "/api/requests/{request_id}/decision"): Rule(
        roles(),
        "only an approver of the step that waits (not the requester, not HR ops for a manager step)",
        (
            *_signed_in_api(f"/api/requests/{REQ}/decision", "POST", {"verdict": "approve"}),
            *_each_outsider_api("POST", f"/api/requests/{REQ}/decision", {"verdict": "approve"}),
            Api(
                "requester",
                "POST",
                f"/api/requests/{REQ}/decision",
                {"verdict": "approve"},
                409,
                f"wang.fang requested {REQ} and cannot approve it",
                live=True,
            ),
            Api(
                "hr_ops",
                "POST",
                f"/api/requests/{REQ}/decision",
                {"verdict": "approve"},
                409,
                "amy.hughes may not decide the manager step",
                live=True,
            ),
            Api(
                "admin",
                "POST",
                f"/api/requests/{REQ}/decision",
                {"verdict": "reject", "reason": "no"},
                409,
                "admin may not decide the manager step",
                live=True,
            ),
        ),
    ),
    ("POST", "/api/requests/{request_id}/cancel"): Rule(
        roles("hr_ops", "admin"),
        "the requester, HR ops and admins, until it is applied",
        (
            *_signed_in_api(f"/api/requests/{REQ}/cancel", "POST", {"reason": "x"}),
            *_each_outsider_api("POST", f"/api/requests/{REQ}/cancel", {"reason": "mine now"}),
            Api(
                "approver",
                "POST",
                f"/api/requests/{REQ}/cancel",
                {"reason": "x"},
                409,
                "only the requester (wang.fang) or HR ops may cancel",
                live=True,
            ),
        ),
    ),
    ("POST", "/api/requests/{request_id}/undo"): Rule(
        roles("hr_ops", "admin"),
        "the compensating change, with the rights of a new request",
        (
            *_signed_in_api(f"/api/requests/{REQ}/undo", "POST"),
            *_each_outsider_api("POST", f"/api/requests/{REQ}/undo"),
        ),
    ),
    # -- egress receipts: what model calls sent ----------------------------------------------------
    ("GET", "/api/requests/{request_id}/receipts"): Rule(
        roles("hr_ops", "admin"),
        "the receipts of a request one may follow (without the text sent)",
        (
            *_signed_in_api(f"/api/requests/{REQ}/receipts"),
            *_each_outsider_api("GET", f"/api/requests/{REQ}/receipts"),
        ),
    ),
    ("GET", "/api/receipts"): Rule(
        roles("admin"),
        "every receipt with the exact text sent: the compliance export",
        (
            *_signed_in_api("/api/receipts"),
            *(Api(r, "GET", "/api/receipts", None, 403, "needs the admin role") for r in NOT_ADMIN),
        ),
    ),
    # -- the compliance review queue (reviewers: HR ops and admins) ------------------------------
    ("GET", "/api/reviews"): Rule(
        roles("hr_ops", "admin"),
        "model-written outputs sampled for review",
        (
            *_signed_in_api("/api/reviews"),
            *(Api(r, "GET", "/api/reviews", None, 403, "may not review model output") for r in NOT_HR),
        ),
    ),
    ("GET", "/api/reviews/{review_id}"): Rule(
        roles("hr_ops", "admin"),
        "one output with its prompt",
        (
            *_signed_in_api("/api/reviews/RV-1"),
            *(Api(r, "GET", "/api/reviews/RV-1", None, 403, "may not review model output") for r in NOT_HR),
        ),
    ),
    ("POST", "/api/reviews/{review_id}/decision"): Rule(
        roles("hr_ops", "admin"),
        "approve or correct an output (not one's own request's)",
        (
            *_signed_in_api("/api/reviews/RV-1/decision", "POST", {"verdict": "approve"}),
            *(
                Api(
                    r,
                    "POST",
                    "/api/reviews/RV-1/decision",
                    {"verdict": "approve"},
                    403,
                    "may not review model output",
                )
                for r in NOT_HR
            ),
        ),
    ),
    # -- the HR policy assistant and its cases (hrops/api/kb_routes.py) --------------------------
    ("POST", "/api/kb/ask"): Rule(
        SIGNED_IN,
        "answered from the policies that apply to the caller, read from their own record",
        _signed_in_api("/api/kb/ask", "POST", {"question": "how much annual leave do I get?"}),
    ),
    ("GET", "/api/kb/documents"): Rule(
        SIGNED_IN, "the policy documents imported: no personal data", _signed_in_api("/api/kb/documents")
    ),
    ("POST", "/api/kb/documents"): Rule(
        roles("hr_ops", "admin"),
        "change the policies everyone is answered from",
        (
            *_signed_in_api("/api/kb/documents", "POST"),
            *(
                Api(r, "POST", "/api/kb/documents", None, 403, "may not change the policy knowledge base")
                for r in NOT_HR
            ),
        ),
    ),
    ("GET", "/api/cases"): Rule(
        SIGNED_IN, "HR ops and admins see every case, anyone else their own", _signed_in_api("/api/cases")
    ),
    ("GET", "/api/cases/{case_id}"): Rule(
        roles("hr_ops", "admin"),
        "one's own case; HR ops and admins any (another's case is the same 404 as none)",
        (
            *_signed_in_api("/api/cases/KB-1"),
            *(Api(r, "GET", "/api/cases/KB-1", None, 404, f"no case KB-1 for {USERS[r]}") for r in OUTSIDERS),
        ),
    ),
    ("POST", "/api/cases/{case_id}/answer"): Rule(
        roles("hr_ops", "admin"),
        "answer a case, tell the asker, keep it as a correction",
        (
            *_signed_in_api("/api/cases/KB-1/answer", "POST", {"text": "an answer"}),
            *(
                Api(
                    r,
                    "POST",
                    "/api/cases/KB-1/answer",
                    {"text": "an answer"},
                    403,
                    "may not answer policy cases",
                )
                for r in NOT_HR
            ),
        ),
    ),
    # -- the web console ------------------------------------------------------------------------
    ("GET", "/console/"): Rule(PUBLIC, "redirects to the sign-in page or the inbox"),
    ("GET", "/console/login"): Rule(PUBLIC, "the sign-in form"),
    ("POST", "/console/login"): Rule(
        PUBLIC,
        "signs in with a password; the form needs the page's CSRF token",
        (
            Page(
                "anonymous",
                "POST",
                "/console/login",
                {"username": "admin", "password": PASSWORD},
                403,
                "form token",
                csrf=False,
            ),
            Page(
                "anonymous",
                "POST",
                "/console/login",
                {"username": "admin", "password": "not-it-at-all"},
                401,
                "Wrong username or password",
            ),
        ),
    ),
    ("POST", "/console/logout"): Rule(
        PUBLIC,
        "signs out (CSRF: no cross-site sign-out)",
        (Page("employee", "POST", "/console/logout", {"go": "1"}, 403, "form token", csrf=False),),
    ),
    ("POST", "/console/lang"): Rule(
        PUBLIC,
        "the page language (CSRF)",
        (Page("anonymous", "POST", "/console/lang", {"lang": "zh"}, 403, "form token", csrf=False),),
    ),
    ("GET", "/console/chat"): Rule(SIGNED_IN, "the chat page", (_to_login("GET", "/console/chat"),)),
    ("POST", "/console/chat"): Rule(
        SIGNED_IN,
        "a chat message as the signed-in person",
        (
            _to_login("POST", "/console/chat", {"text": "hello", "mid": "p-anon"}),
            Page(
                "employee",
                "POST",
                "/console/chat",
                {"text": "hello", "mid": "p-1"},
                403,
                "form token",
                csrf=False,
            ),
        ),
    ),
    ("POST", "/console/chat/new"): Rule(
        PUBLIC,
        "a new chat thread in the session (CSRF)",
        (Page("employee", "POST", "/console/chat/new", {"go": "1"}, 403, "form token", csrf=False),),
    ),
    ("GET", "/console/approvals"): Rule(
        roles(),
        "each person's own inbox",
        (
            _to_login("GET", "/console/approvals"),
            *(Page(r, "GET", "/console/approvals", None, 200, "", (REQ,), live=True) for r in ROLES),
        ),
    ),
    ("GET", "/console/open"): Rule(PUBLIC, "redirects a typed request id to its page (which checks)"),
    ("POST", "/console/requests/{request_id}/decision"): Rule(
        roles(),
        "only an approver of the step that waits",
        (
            _to_login("POST", f"/console/requests/{REQ}/decision", {"verdict": "approve"}),
            *_each_outsider_page("POST", f"/console/requests/{REQ}/decision", {"verdict": "approve"}),
            # HR ops and admins see the request: they are told why, and nothing is recorded.
            Page(
                "hr_ops",
                "POST",
                f"/console/requests/{REQ}/decision",
                {"verdict": "approve"},
                303,
                "amy.hughes may not decide the manager step",  # the page it returns to says so
                live=True,
            ),
            Page(
                "admin",
                "POST",
                f"/console/requests/{REQ}/decision",
                {"verdict": "approve"},
                303,
                "admin may not decide the manager step",  # the page it returns to says so
                live=True,
            ),
        ),
    ),
    ("GET", "/console/requests/{request_id}"): Rule(
        roles("hr_ops", "admin"),
        "the timeline: who may follow the request",
        (
            _to_login("GET", f"/console/requests/{REQ}"),
            *_each_outsider_page("GET", f"/console/requests/{REQ}"),
        ),
    ),
    ("GET", "/console/requests/{request_id}/evidence/{push}/{shot}"): Rule(
        roles("hr_ops", "admin"),
        "a legacy push screenshot of a request one may follow",
        (
            _to_login("GET", f"/console/requests/{REQ}/evidence/0/0"),
            *_each_outsider_page("GET", f"/console/requests/{REQ}/evidence/0/0"),
        ),
    ),
    ("POST", "/console/requests/{request_id}/legacy/{push}"): Rule(
        roles("hr_ops", "admin"),
        "retry or cancel a legacy push of a request one may follow",
        (
            _to_login("POST", f"/console/requests/{REQ}/legacy/0", {"action": "retry"}),
            *_each_outsider_page("POST", f"/console/requests/{REQ}/legacy/0", {"action": "retry"}),
        ),
    ),
    ("GET", "/console/analytics"): Rule(
        SIGNED_IN, "the question form", (_to_login("GET", "/console/analytics"),)
    ),
    ("POST", "/console/analytics"): Rule(
        roles("hr_ops", "admin", "comp_analyst"),
        "as POST /api/ask",
        (
            _to_login("POST", "/console/analytics", {"question": "headcount"}),
            Page(
                "employee",
                "POST",
                "/console/analytics",
                {"question": "headcount by org unit"},
                200,
                "analytics answers are for managers",
            ),
            Page(
                "manager",
                "POST",
                "/console/analytics",
                {"question": "headcount in Platform"},
                200,
                "I can't answer that",
                ("<table",),
            ),
            Page(
                "hrbp",
                "POST",
                "/console/analytics",
                {"question": "headcount in ENG-PLAT"},
                200,
                "I can't answer that",
                ("<table",),
            ),
        ),
    ),
    ("GET", "/console/comp"): Rule(
        roles("comp_analyst", "hr_ops", "hrbp", "admin"),
        "published market reports: the roles that may request them",
        (
            _to_login("GET", "/console/comp"),
            Page("employee", "GET", "/console/comp", None, 403),
            Page("manager", "GET", "/console/comp", None, 403),
        ),
    ),
    ("GET", "/console/comp/{request_id}/{what}"): Rule(
        roles("comp_analyst", "hr_ops", "hrbp", "admin"),
        "a published market report file",
        (
            _to_login("GET", f"/console/comp/{REQ}/report"),
            Page("employee", "GET", f"/console/comp/{REQ}/report", None, 403),
            Page("manager", "GET", f"/console/comp/{REQ}/workbook", None, 403),
        ),
    ),
    ("GET", "/console/tools"): Rule(SIGNED_IN, "the tool catalogue", (_to_login("GET", "/console/tools"),)),
    ("GET", "/console/policy"): Rule(
        SIGNED_IN,
        "the policy question form and one's own handed-off questions",
        (_to_login("GET", "/console/policy"),),
    ),
    ("POST", "/console/policy"): Rule(
        SIGNED_IN,
        "as POST /api/kb/ask: answered from the policies that apply to the asker",
        (
            _to_login("POST", "/console/policy", {"question": "how much annual leave do I get?"}),
            Page(
                "employee",
                "POST",
                "/console/policy",
                {"question": "how much annual leave do I get?"},
                403,
                "form token",
                csrf=False,
            ),
        ),
    ),
    ("GET", "/console/cases"): Rule(
        roles("hr_ops", "admin"),
        "the open policy cases: everyone's questions",
        (
            _to_login("GET", "/console/cases"),
            *(Page(r, "GET", "/console/cases", None, 403, CASES_REFUSED) for r in NOT_HR),
        ),
    ),
    ("GET", "/console/cases/{case_id}"): Rule(
        roles("hr_ops", "admin"),
        "one case with its question, draft and the answer form",
        (
            _to_login("GET", "/console/cases/KB-1"),
            *(Page(r, "GET", "/console/cases/KB-1", None, 403, CASES_REFUSED) for r in NOT_HR),
        ),
    ),
    ("POST", "/console/cases/{case_id}/answer"): Rule(
        roles("hr_ops", "admin"),
        "as POST /api/cases/{case_id}/answer (the service refuses one's own question)",
        (
            _to_login("POST", "/console/cases/KB-1/answer", {"text": "an answer"}),
            *(
                Page(r, "POST", "/console/cases/KB-1/answer", {"text": "an answer"}, 403, CASES_REFUSED)
                for r in NOT_HR
            ),
            Page(
                "hr_ops", "POST", "/console/cases/KB-1/answer", {"text": "x"}, 403, "form token", csrf=False
            ),
        ),
    ),
    # -- chat platforms ---------------------------------------------------------------------------
    ("POST", "/channels/slack/events"): Rule(
        PLATFORM,
        "Slack events and clicks, signed with the signing secret, at most five minutes old",
        (
            Hook(
                "/channels/slack/events", {"type": "event_callback", "event": {"type": "message"}}, "bad", 401
            ),
            Hook(
                "/channels/slack/events",
                {"type": "event_callback", "event": {"type": "message"}},
                "none",
                401,
            ),
            Hook(
                "/channels/slack/events",
                {"type": "event_callback", "event": {"type": "message"}},
                "stale",
                401,
            ),
        ),
    ),
    ("POST", "/channels/feishu/events"): Rule(
        PLATFORM,
        "Feishu events with the verification token",
        (
            Hook(
                "/channels/feishu/events",
                {"schema": "2.0", "header": {"token": "guessed"}},
                "bad",
                401,
                "not a genuine Feishu request",
            ),
            Hook(
                "/channels/feishu/events",
                {"type": "url_verification", "challenge": "c"},
                "none",
                401,
                "not a genuine Feishu request",
            ),
        ),
    ),
    ("POST", "/channels/webhook/{name}"): Rule(
        PLATFORM,
        "a configured webhook, its body signed with that webhook's secret; the sender acts as the linked user",
        (
            Hook(
                "/channels/webhook/bridge",
                {"user": "u-1", "text": "hi", "message_id": "w-1"},
                "bad",
                401,
                f"bad or missing {SIGNATURE_HEADER}",
            ),
            Hook(
                "/channels/webhook/bridge",
                {"user": "u-1", "text": "hi", "message_id": "w-2"},
                "none",
                401,
                f"bad or missing {SIGNATURE_HEADER}",
            ),
            Hook(
                "/channels/webhook/nobody",
                {"user": "u-1", "text": "hi", "message_id": "w-3"},
                "good",
                404,
                "no webhook 'nobody'",
            ),
            Hook(
                "/channels/webhook/bridge",
                {"user": "stranger", "text": "approve REQ-1", "message_id": "w-4"},
                "good",
                200,
                "I don't know who you are",
            ),
            Hook(
                "/channels/webhook/bridge",
                {"user": "u-sun", "message_id": "w-5", "action": {"action": "approve", "request_id": REQ}},
                "good",
                200,
                NOT_VISIBLE,
                LEAKS,
                live=True,
            ),
        ),
    ),
}

# Served by FastAPI or Starlette themselves, no HR data: no rule needed.
NOT_ENDPOINTS = {
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("GET", "/console/static/console.css"),
}


# -- the CLI rules: one per command path of the typer app ----------------------------------------


def _each(who: tuple[str, ...], args: tuple[str, ...], says: str, **kw: Any) -> tuple[Cmd, ...]:
    """The same refusal for each role; `{user}` in `says` is the role's username."""
    return tuple(Cmd(r, args, says.format(user=USERS[r]), **kw) for r in who)


ADDRESS_ARGS = (
    "E1003",
    "--line1",
    HOME["line1"],
    "--city",
    "Shanghai",
    "--postcode",
    "201203",
    "--country",
    "CN",
)
NOT_THEIRS = "{user} may not request changes for E1003"
RAW_SQL_ON = (("HROPS_ANALYTICS_RAW_SQL", "true"),)
BULK = "{tmp}/changes.xlsx"


def _operator(why: str) -> Rule:
    return Rule(OPERATOR, why)


COMMANDS: dict[tuple[str, ...], Rule] = {
    # The installation itself: whoever runs these has the store and the servers anyway.
    ("version",): _operator("prints the version"),
    ("up",): _operator("starts the stack"),
    ("down",): _operator("stops what `up` started"),
    ("status",): _operator("health of the stack"),
    # Reads settings, files and servers, never HR data; must answer when the store is down or not
    # migrated, when no user can be resolved (an --as check would need, and migrate, the store).
    ("doctor",): _operator("checks the deployment, says what to fix"),
    ("worker",): _operator("runs a worker"),
    ("api",): _operator("runs the API (which checks every caller)"),
    ("demo",): _operator("the demo on its own company"),
    ("legacy-sim",): _operator("the stand-in legacy system"),
    ("config", "show"): _operator("settings, secrets hidden"),
    ("config", "docs"): _operator("the settings reference"),
    ("db", "upgrade"): _operator("schema migrations"),
    ("temporal", "setup"): _operator("namespace and search attributes on the cluster"),
    ("temporal", "health"): _operator("a container health check"),
    ("tools", "list"): _operator("the tool catalogue"),
    ("users", "list"): _operator("usernames and granted roles"),
    ("requests", "show"): _operator("any request's state (people use the API or console, which scope it)"),
    ("requests", "list"): _operator("the latest requests"),
    ("readiness",): _operator("an onboarding's day-1 report"),
    ("rules", "explain"): _operator("the approval rules applied to a change"),
    ("delegations",): _operator("delegations in force"),
    ("legacy", "validate"): _operator("checks mapping files"),
    ("legacy", "systems"): _operator("the legacy systems configured"),
    ("legacy", "fields"): _operator("HR attributes a mapping may use"),
    ("legacy", "tasks"): _operator("pushes waiting for a person"),
    ("legacy", "show"): _operator("a push's state"),
    ("digest", "list"): _operator("digest schedules"),
    ("market", "survey", "import"): _operator("market survey files (no HR data)"),
    ("market", "survey", "list"): _operator("imported surveys"),
    ("market", "rates", "set"): _operator("currency rates"),
    ("market", "rates", "show"): _operator("currency rates"),
    ("comp", "show"): _operator("a market research request"),
    ("channels", "list"): _operator("linked chat accounts"),
    ("channels", "outbox"): _operator("undelivered notifications"),
    ("channels", "deliver"): _operator("delivers the outbox"),
    ("audit", "verify"): _operator("checks the audit chain (hashes, no contents)"),
    # Administration: the acting user (HROPS_USER) must hold the role.
    ("seed",): Rule(
        roles("admin"),
        "creates or replaces the whole company",
        _each(NOT_ADMIN, ("seed", "--employees", "60", "--reset"), "{user} may not seed the demo company"),
    ),
    ("users", "password"): Rule(
        roles("admin"),
        "sets anyone's console password",
        _each(
            NOT_ADMIN,
            ("users", "password", "li.wei", "--password", "taken-over-pw"),
            "{user} may not set console passwords",
        ),
    ),
    ("token", "create"): Rule(
        roles("admin"),
        "issues an API token for anyone",
        _each(NOT_ADMIN, ("token", "create", "admin"), "{user} may not issue API tokens"),
    ),
    ("legacy", "login"): Rule(
        roles("admin"),
        "stores a legacy system's login",
        _each(
            NOT_ADMIN,
            ("legacy", "login", "classic_hris", "--username", "hr", "--password-stdin"),
            "{user} may not store legacy system logins",
            stdin="guessed\n",
        ),
    ),
    ("channels", "link"): Rule(
        roles("hr_ops", "admin"),
        "a chat account then acts as that user",
        _each(NOT_HR, ("channels", "link", "slack", "U_EVIL", "admin"), "{user} may not link chat accounts"),
    ),
    ("channels", "unlink"): Rule(
        roles("hr_ops", "admin"),
        "removes someone's chat link",
        _each(NOT_HR, ("channels", "unlink", "webhook:bridge", "u-sun"), "{user} may not link chat accounts"),
    ),
    ("import", "employees"): Rule(
        roles("hr_ops", "admin"),
        "writes HR records",
        _each(NOT_HR, ("import", "employees", "{tmp}/people.csv"), "{user} may not import employees"),
    ),
    ("export", "employees"): Rule(
        roles("hr_ops", "admin"),
        "everyone's records in a file",
        _each(NOT_HR, ("export", "employees", "{tmp}/out.xlsx"), "{user} may not export employees"),
    ),
    ("audit", "trail"): Rule(
        roles("hr_ops", "admin"),
        "what was done in a request",
        _each(NOT_HR, ("audit", "trail", REQ), "{user} may not"),
    ),
    ("audit", "export"): Rule(
        roles("hr_ops", "admin"),
        "everything done to one person's data",
        _each(NOT_HR, ("audit", "export", "--employee", "E1003"), "{user} may not"),
    ),
    ("review", "list"): Rule(
        roles("hr_ops", "admin"),
        "the review queue",
        _each(NOT_HR, ("review", "list"), "{user} may not review model output"),
    ),
    ("review", "show"): Rule(
        roles("hr_ops", "admin"),
        "one output",
        _each(NOT_HR, ("review", "show", "RV-1"), "{user} may not review model output"),
    ),
    ("review", "approve"): Rule(
        roles("hr_ops", "admin"),
        "approve an output",
        _each(NOT_HR, ("review", "approve", "RV-1"), "{user} may not review model output"),
    ),
    ("review", "correct"): Rule(
        roles("hr_ops", "admin"),
        "correct an output",
        _each(
            NOT_HR,
            ("review", "correct", "RV-1", "--text", "better", "--reason", "x"),
            "{user} may not review model output",
        ),
    ),
    ("review", "evals"): Rule(
        roles("hr_ops", "admin"),
        "corrections kept as evaluation cases",
        _each(NOT_HR, ("review", "evals"), "{user} may not"),
    ),
    # -- the HR policy assistant and its cases ----------------------------------------------------
    ("kb", "ask"): Rule(
        roles(),
        "anyone, answered from the policies that apply to them and their own record only",
        _each(
            ROLES,
            ("kb", "ask", "how much annual leave does li.wei have left?"),
            "never another person's",
            hides=("E1002",),
            ok=True,
        ),
    ),
    ("kb", "list"): _operator("the policy documents imported: no personal data"),
    ("kb", "import"): Rule(
        roles("hr_ops", "admin"),
        "change the policies everyone is answered from",
        _each(NOT_HR, ("kb", "import", "{tmp}/policy.md"), "{user} may not change the policy knowledge base"),
    ),
    ("kb", "reindex"): Rule(
        roles("hr_ops", "admin"),
        "index every policy section for the search: embedding calls on the store's behalf",
        _each(NOT_HR, ("kb", "reindex"), "{user} may not change the policy knowledge base"),
    ),
    ("kb", "evals"): Rule(
        roles("hr_ops", "admin"),
        "HR's saved answers re-asked as evaluation cases",
        _each(NOT_HR, ("kb", "evals"), "{user} may not read HR's saved answers"),
    ),
    ("cases", "list"): Rule(
        roles(),
        "HR ops and admins see every case, anyone else their own",
        _each(ROLES, ("cases", "list", "--status", "all"), "no cases", ok=True),
    ),
    ("cases", "show"): Rule(
        roles(),
        "one's own case; HR ops and admins any",
        _each(ROLES, ("cases", "show", "KB-1"), "no case KB-1"),
    ),
    ("cases", "remind"): _operator("reminders of open cases, run from cron: ids and reasons, no questions"),
    ("cases", "answer"): Rule(
        roles("hr_ops", "admin"),
        "answer a case, tell the asker, keep it as a correction",
        _each(NOT_HR, ("cases", "answer", "KB-1", "an answer"), "{user} may not answer policy cases"),
    ),
    ("receipts", "list"): Rule(
        roles("hr_ops", "admin"),
        "what model calls sent, without the text",
        _each(NOT_HR, ("receipts", "list"), "{user} may not read egress receipts"),
    ),
    ("receipts", "show"): Rule(
        roles("admin"),
        "one receipt with the exact text sent",
        _each(NOT_ADMIN, ("receipts", "show", "1"), "{user} may not read what a model call sent"),
    ),
    ("receipts", "export"): Rule(
        roles("admin"),
        "every receipt with the text sent",
        _each(NOT_ADMIN, ("receipts", "export"), "{user} may not export egress receipts"),
    ),
    # Acting as a person (--as): the services decide with that person's rights.
    ("request", "address-change"): Rule(
        roles("hr_ops", "admin"),
        "one's own address; HR ops and admins anyone's",
        _each(
            NOT_HR,
            ("request", "address-change", *ADDRESS_ARGS),
            "{user} may request address changes only for themselves",
            hides=(REQ,),
            live=True,
        ),
    ),
    ("request", "job-title"): Rule(
        roles("hr_ops", "admin"),
        "people in one's line or HRBP orgs",
        _each(NOT_HR, ("request", "job-title", "E1003", "--title", "Lead"), NOT_THEIRS, live=True),
    ),
    ("request", "transfer"): Rule(
        roles("hr_ops", "admin"),
        "people in one's line or HRBP orgs",
        _each(NOT_HR, ("request", "transfer", "E1003", "--to", "ENG-ML"), NOT_THEIRS, live=True),
    ),
    ("request", "manager-change"): Rule(
        roles("hr_ops", "admin"),
        "people in one's line or HRBP orgs",
        _each(NOT_HR, ("request", "manager-change", "E1003", "--manager", "E1001"), NOT_THEIRS, live=True),
    ),
    ("request", "salary-change"): Rule(
        roles("hr_ops", "admin"),
        "people in one's line or HRBP orgs",
        _each(
            NOT_HR,
            ("request", "salary-change", "E1003", "--amount", "320000", "--currency", "CNY"),
            NOT_THEIRS,
            live=True,
        ),
    ),
    ("request", "termination"): Rule(
        roles("hr_ops", "admin"),
        "people in one's line or HRBP orgs",
        _each(
            NOT_HR,
            ("request", "termination", "E1003", "--reason", "personal", "--effective", "2026-12-31"),
            NOT_THEIRS,
            live=True,
        ),
    ),
    ("request", "bulk"): Rule(
        roles("hr_ops", "admin"),
        "every row checked with the requester's rights; nothing starts while a row is refused",
        _each(NOT_HR, ("request", "bulk", BULK), "nothing was started", live=True),
    ),
    ("onboard",): Rule(
        roles("hr_ops", "admin"),
        "hiring",
        _each(
            NOT_HR,
            (
                "onboard",
                "--given",
                "Lei",
                "--family",
                "Zhang",
                "--title",
                "Data Engineer",
                "--department",
                "ENG-PLAT",
                "--manager",
                "E1002",
                "--location",
                "Shanghai",
                "--start",
                "2026-12-07",
                "--amount",
                "300000",
                "--currency",
                "CNY",
            ),
            "{user} may not",
            live=True,
        ),
    ),
    ("approvals", "list"): Rule(
        roles(),
        "one's own inbox",
        _each(ROLES, ("approvals", "list"), "nothing waiting for {user}", hides=(REQ,), ok=True, live=True),
    ),
    ("notifications",): Rule(
        roles(),
        "one's own messages",
        _each(ROLES, ("notifications",), "no messages for {user}", hides=(REQ,), ok=True, live=True),
    ),
    ("approve",): Rule(
        roles(),
        "only an approver of the step that waits",
        (
            *_each(OUTSIDERS, ("approve", REQ), NOT_VISIBLE, hides=LEAKS, live=True),
            *_each(
                ("hr_ops", "admin"), ("approve", REQ), "{user} may not decide the manager step", live=True
            ),
            Cmd("requester", ("approve", REQ), f"wang.fang requested {REQ} and cannot approve it", live=True),
        ),
    ),
    ("reject",): Rule(
        roles(),
        "only an approver of the step that waits",
        (
            *_each(OUTSIDERS, ("reject", REQ, "--reason", "no"), NOT_VISIBLE, hides=LEAKS, live=True),
            *_each(
                ("hr_ops", "admin"),
                ("reject", REQ, "--reason", "no"),
                "{user} may not decide the manager step",
                live=True,
            ),
        ),
    ),
    ("cancel",): Rule(
        roles("hr_ops", "admin"),
        "the requester, HR ops and admins",
        _each(OUTSIDERS, ("cancel", REQ, "--reason", "mine now"), NOT_VISIBLE, hides=LEAKS, live=True),
    ),
    ("undo",): Rule(
        roles("hr_ops", "admin"),
        "as a new request",
        _each(OUTSIDERS, ("undo", REQ), NOT_VISIBLE, hides=LEAKS, live=True),
    ),
    ("delegate",): Rule(
        roles("hr_ops", "admin"),
        "one's own approvals; HR ops and admins anyone's",
        _each(
            NOT_HR,
            ("delegate", "--from", "li.wei", "--to", "sun.li", "--until", "2026-12-31"),
            "{user} may delegate only their own approvals",
            live=True,
        ),
    ),
    ("ask",): Rule(
        roles("hr_ops", "admin", "comp_analyst"),
        "as POST /api/ask",
        (
            Cmd(
                "employee",
                ("ask", "headcount by org unit"),
                "analytics answers are for managers, HRBPs and HR",
            ),
            Cmd("manager", ("ask", "headcount in Platform"), "I can't answer that"),
            Cmd("hrbp", ("ask", "average base pay in ENG-PLAT"), "I can't answer that"),
        ),
    ),
    ("sql",): Rule(
        roles("comp_analyst", "admin"),
        "raw SQL (HROPS_ANALYTICS_RAW_SQL): analysts and admins only",
        _each(
            ("employee", "manager", "hrbp", "hr_ops"),
            ("sql", SQL),
            "for analysts and admins only",
            env=RAW_SQL_ON,
        ),
    ),
    ("catalogue",): Rule(
        roles("hr_ops", "admin", "comp_analyst"),
        "the metrics answerable in one's own scope",
        (
            Cmd("employee", ("catalogue",), "analytics answers are for managers"),
            Cmd("manager", ("catalogue", "--org", "ENG-PLAT"), "ENG-PLAT"),
            Cmd("hrbp", ("catalogue", "--org", "ENG-PLAT"), "ENG-PLAT"),
        ),
    ),
    ("chat",): Rule(
        SIGNED_IN,
        "the assistant, with the rights of the person it acts for",
        (
            Cmd(
                "employee",
                ("chat", f"what is the status of {REQ}?"),
                NOT_VISIBLE,
                hides=LEAKS,
                ok=True,
                live=True,
            ),
        ),
    ),
    ("digest", "subscribe"): Rule(
        roles("manager", "hrbp", "hr_ops", "admin", "comp_analyst"),
        "a digest of the organisation one may report on",
        (Cmd("employee", ("digest", "subscribe"), "analytics answers are for managers"),),
    ),
    ("digest", "run"): Rule(
        roles("manager", "hrbp", "hr_ops", "admin", "comp_analyst"),
        "as subscribe",
        (Cmd("employee", ("digest", "run"), "sun.li has no learning digest subscription", live=True),),
    ),
    ("digest", "unsubscribe"): Rule(SIGNED_IN, "one's own subscription only (no user argument)"),
    ("comp", "research"): Rule(
        roles("comp_analyst", "hr_ops", "hrbp", "admin"),
        "market research",
        _each(
            ("employee", "manager"),
            ("comp", "research", "Data Engineer"),
            "{user} may not request market research",
            live=True,
        ),
    ),
    ("legacy", "push"): Rule(
        roles("hr_ops", "admin"),
        "types HR records into a legacy system",
        _each(
            NOT_HR,
            ("legacy", "push", "E1003", "--system", "classic_hris"),
            "{user} may not push records into legacy systems",
            live=True,
        ),
    ),
    ("legacy", "resolve"): Rule(
        roles("hr_ops", "admin"),
        "retries, cancels or approves a mapping fix of a push",
        _each(
            NOT_HR,
            ("legacy", "resolve", "legacy-classic_hris-new_hire-E1003", "--action", "approve-mapping"),
            "{user} may not resolve legacy pushes",
            live=True,
        ),
    ),
}


# -- the company, the app and the way each probe is made ------------------------------------------


def _extend_company(url: str) -> None:
    """A second team beside ENG-PLAT with its manager, an employee, its HRBP; a comp analyst;
    one console password for everyone (one scrypt hash: it is slow on purpose)."""
    with session_scope(url, write=True) as s:
        s.add(
            OrgUnit(
                id=4,
                code="ENG-ML",
                name="Machine Learning",
                name_zh="机器学习组",
                kind="team",
                parent_id=1,
                path="/1/4/",
                depth=1,
                head_employee_id="E1006",
            )
        )
        hired = date(2021, 1, 4)
        for eid, given, family, username, manager in (
            ("E1006", "Min", "Zhao", "zhao.min", "E1001"),
            ("E1007", "Li", "Sun", "sun.li", "E1006"),
        ):
            s.add(
                Employee(
                    id=eid,
                    given_name=given,
                    family_name=family,
                    display_name=f"{given} {family}",
                    work_email=f"{username}@acme.example",
                    hire_date=hired,
                    status="active",
                    created_at=datetime(2021, 1, 4, tzinfo=UTC),
                )
            )
            s.flush()
            s.add(
                JobAssignment(
                    employee_id=eid,
                    title="ML Engineer",
                    job_family="Engineering",
                    level="L5",
                    org_unit_id=4,
                    manager_id=manager,
                    location="Beijing",
                    valid_from=hired,
                    change_reason="hire",
                )
            )
            s.add(User(username=username, employee_id=eid, display_name=f"{given} {family}"))
        s.add_all(
            [
                User(username="hrbp.ml", employee_id=None, display_name="HRBP Machine Learning"),
                User(username="comp.analyst", employee_id=None, display_name="Comp Analyst"),
            ]
        )
        s.flush()
        s.add_all(
            [
                UserRole(username="hrbp.ml", role=Role.HRBP, org_unit_id=4),
                UserRole(username="comp.analyst", role=Role.COMP_ANALYST),
            ]
        )
        s.execute(update(User).values(password_hash=hash_password(PASSWORD)))
    link(url, "webhook:bridge", "u-sun", "sun.li")


@dataclass
class Rig:
    """The real app in-process (httpx ASGI transport), signed-in console sessions, the CLI."""

    url: str
    tmp: Path
    http: httpx.AsyncClient
    consoles: dict[str, tuple[httpx.AsyncClient, str]] = field(default_factory=dict)

    def bearer(self, who: str) -> dict[str, str]:
        cfg = get_settings()
        if who == "anonymous":
            return {}
        if who == "forged":
            token = auth.issue(cfg, "admin")[:-6] + "000000"
        elif who == "expired":
            token = auth.issue(cfg, "admin", ttl=-1)
        else:
            token = auth.issue(cfg, USERS[who])
        return {"Authorization": f"Bearer {token}"}

    async def console(self, who: str) -> tuple[httpx.AsyncClient, str]:
        """A browser for `who` (signed in unless anonymous) and its CSRF token."""
        if who not in self.consoles:
            browser = httpx.AsyncClient(transport=self.http._transport, base_url="http://hrops")
            csrf = _csrf((await browser.get("/console/login")).text)
            if who != "anonymous":
                signed = await browser.post(
                    "/console/login", data={"csrf": csrf, "username": USERS[who], "password": PASSWORD}
                )
                assert signed.status_code == 303, f"{who} could not sign in: {signed.text[:200]}"
                csrf = _csrf((await browser.get("/console/tools")).text)
            self.consoles[who] = (browser, csrf)
        return self.consoles[who]

    async def aclose(self) -> None:
        for browser, _ in self.consoles.values():
            await browser.aclose()


def _csrf(html: str) -> str:
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def _hook_headers(p: Hook, body: bytes) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if p.signed == "none":
        return headers
    if p.path.startswith("/channels/slack"):
        secret = SLACK_SECRET if p.signed in ("good", "stale") else "not-the-secret"
        at = int(time.time()) - 600 if p.signed == "stale" else None
        return slack_headers(body.decode(), secret=secret, at=at)
    if p.path.startswith("/channels/webhook"):
        return {**headers, SIGNATURE_HEADER: sign(WEBHOOK_SECRET if p.signed == "good" else "guess", body)}
    return headers  # Feishu without an encrypt key: the token is in the body


@functools.cache
def _tree() -> Any:
    """The CLI's click command tree, built once (typer builds it anew for every invoke)."""
    return typer.main.get_command(cli)


def _command(args: tuple[str, ...]) -> Any:
    """The click command these arguments run."""
    cmd = _tree()
    for word in args:
        if word not in getattr(cmd, "commands", {}):
            break
        cmd = cmd.commands[word]
    return cmd


def _verdict(p: Probe, status: int, expected: int, text: str) -> str | None:
    """None when the probe was refused as its rule says; else what went wrong."""
    wrong = []
    if status != expected:
        wrong.append(f"status {status}, expected {expected}")
    if p.says and p.says not in text:
        wrong.append(f"no {p.says!r} in the answer")
    if leaked := [h for h in p.hides if re.search(rf"(?<!\w){re.escape(h)}(?!\w)", text)]:
        wrong.append(f"the answer shows {leaked}")
    if not wrong:
        return None
    return f"{p}: {'; '.join(wrong)}\n    answer: {' '.join(text.split())[:400]}"


async def _run(rig: Rig, p: Probe) -> str | None:
    if isinstance(p, Api):
        r = await rig.http.request(p.method, p.path, json=p.json, headers=rig.bearer(p.who))
        return _verdict(p, r.status_code, p.status, r.text)
    if isinstance(p, Page):
        browser, csrf = await rig.console(p.who)
        if p.method == "GET":
            r = await browser.get(p.path)
        else:
            r = await browser.post(p.path, data={**({"csrf": csrf} if p.csrf else {}), **(p.form or {})})
        text = html.unescape(r.text)
        if r.is_redirect:  # where it leads, and what that page then says (a refusal shows there)
            text = (
                r.headers["location"] + "\n" + html.unescape((await browser.get(r.headers["location"])).text)
            )
        return _verdict(p, r.status_code, p.status, text)
    if isinstance(p, Hook):
        body = json.dumps(p.body).encode()
        r = await rig.http.post(p.path, content=body, headers=_hook_headers(p, body))
        return _verdict(p, r.status_code, p.status, r.text)
    return await asyncio.to_thread(_run_cli, rig, p)


def _run_cli(rig: Rig, p: Cmd) -> str | None:
    user = USERS.get(p.who, p.who)
    args = [a.format(tmp=rig.tmp) for a in p.args]
    env = dict(p.env)
    if any("--as" in getattr(o, "opts", ()) for o in _command(p.args).params):
        args += ["--as", user]
    else:
        env["HROPS_USER"] = user
    reset_settings()
    try:
        result = CliRunner().invoke(cli, args, env={"COLUMNS": "250", **env}, input=p.stdin)
    finally:
        reset_settings()
    error = result.exception
    if error is not None and not isinstance(error, CliError | SystemExit):
        return f"{p}: crashed with {type(error).__name__}: {error}"
    text = f"{error or ''}\n{result.output}"
    return _verdict(p, result.exit_code, 0 if p.ok else 1, text)


@pytest.fixture
async def rig(company: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Rig]:
    """The app over the extended company, chat channels on; no Temporal (a dead address, so
    anything that tried would fail at once instead of finding someone else's server)."""
    _extend_company(company)
    for key, value in {
        "HROPS_SLACK_SIGNING_SECRET": SLACK_SECRET,
        "HROPS_FEISHU_VERIFICATION_TOKEN": FEISHU_TOKEN,
        "HROPS_WEBHOOK_SECRETS": json.dumps({"bridge": WEBHOOK_SECRET}),
        "HROPS_TEMPORAL_ADDRESS": "127.0.0.1:9",
    }.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    build = typer.testing._get_command
    monkeypatch.setattr(typer.testing, "_get_command", lambda a: _tree() if a is cli else build(a))
    console_routes._failures.clear()
    hub = Channels(settings=get_settings())
    app.state.channels, app.state.client = hub, None
    assistant_port.install(api_module._assistant)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hrops") as http:
        the_rig = Rig(company, tmp_path, http)
        try:
            yield the_rig
        finally:
            await the_rig.aclose()
            app.state.channels = app.state.client = None
            assistant_port.install(None)
            await hub.aclose()


@pytest.fixture
async def live_rig(temporal_env, main_worker, rig: Rig, monkeypatch: pytest.MonkeyPatch) -> Rig:
    """The same, with a worker and wang.fang's address change waiting for li.wei (REQ-1)."""
    from openpyxl import Workbook

    client = temporal_env.client
    monkeypatch.setenv("HROPS_TEMPORAL_ADDRESS", client.service_client.config.target_host)
    reset_settings()
    app.state.client = client
    app.state.channels = Channels(settings=get_settings(), temporal=_returns(client))
    sub = await svc.submit_address_change(client, svc.principal("wang.fang"), "E1003", PostalAddress(**HOME))
    assert sub.request_id == REQ
    await svc.wait_for_stage(client, REQ, {"awaiting_approval"})
    book = Workbook()
    book.active.append(["employee_id", "change", "title"])
    book.active.append(["E1003", "job_title", "Lead"])
    book.save(rig.tmp / "changes.xlsx")
    return rig


def _returns(value: Any) -> Any:
    async def get() -> Any:
        return value

    return get


def _probes(live: bool) -> list[Probe]:
    return [p for rule in (*ROUTES.values(), *COMMANDS.values()) for p in rule.probes if p.live == live]


def _written(url: str) -> dict[str, Any]:
    """What a refused probe must leave as it was: HR records, accounts, links, requests, the audit
    trail (analytics and policy answers, refused questions and reads of one's own figures are kept
    by design, so they are left out)."""
    from tools.store import models as m

    with session_scope(url) as s:
        counts = {
            t.__tablename__: s.scalar(select(func.count()).select_from(t))
            for t in (
                m.Employee,
                m.JobAssignment,
                m.Compensation,
                m.EmployeeAddress,
                m.User,
                m.UserRole,
                m.RequestRecord,
                m.Delegation,
                m.ChannelLink,
            )
        }
        counts["passwords"] = sorted(s.scalars(select(User.password_hash)).all())
        counts["audit"] = sorted(
            s.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.action.notlike("analytics.%"),
                    AuditEntry.action.notin_(("kb.answered", "kb.handed_off")),
                    AuditEntry.action.notlike("kb.personal.%"),
                )
            ).all()
        )
    return counts


# -- the tests ------------------------------------------------------------------------------------


def _endpoints(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route, through included routers (FastAPI 0.165 includes them lazily)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _endpoints(inner.routes, prefix + route.include_context.prefix)
            continue
        for method in sorted((getattr(route, "methods", None) or set()) - {"HEAD"}):
            yield method, prefix + route.path


def _commands(cmd: Any = None, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    cmd = cmd or typer.main.get_command(cli)  # built afresh: commands registered since count
    if hasattr(cmd, "commands"):
        for name, sub in cmd.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield path


def test_every_route_has_a_rule() -> None:
    found = set(_endpoints(app.routes))
    assert ("POST", "/console/login") in found and ("POST", "/channels/webhook/{name}") in found
    missing = sorted(found - set(ROUTES) - NOT_ENDPOINTS)
    assert not missing, "\n".join(
        f"add a rule for {m} {p} in tests/test_access_matrix.py" for m, p in missing
    )
    gone = sorted(set(ROUTES) - found)
    assert not gone, f"rules for endpoints that no longer exist: {gone}"


def test_every_command_has_a_rule() -> None:
    found = set(_commands())
    assert ("request", "address-change") in found
    missing = sorted(found - set(COMMANDS))
    assert not missing, "\n".join(
        f"add a rule for `hrops {' '.join(c)}` in tests/test_access_matrix.py" for c in missing
    )
    gone = sorted(set(COMMANDS) - found)
    assert not gone, f"rules for commands that no longer exist: {gone}"


def test_every_role_a_rule_refuses_is_probed() -> None:
    """A rule naming who may is only as good as its probes: each other role tries at least once;
    a sign-in is tried without one; a platform endpoint with a wrong signature."""
    gaps = []
    for key, rule in {**ROUTES, **COMMANDS}.items():
        tried = {p.who for p in rule.probes if not isinstance(p, Hook)}
        if isinstance(rule.may, frozenset):
            gaps += [f"{key}: no probe as {r}" for r in sorted(set(ROLES) - rule.may - tried)]
        if key in ROUTES and key[1].startswith("/api/") and "anonymous" not in tried:
            gaps.append(f"{key}: no probe without a token")
        if (
            key in ROUTES
            and key[1].startswith("/console/")
            and rule.may != PUBLIC
            and "anonymous" not in tried
        ):
            gaps.append(f"{key}: no probe without signing in")
        if rule.may == PLATFORM and not any(isinstance(p, Hook) and p.signed != "good" for p in rule.probes):
            gaps.append(f"{key}: no probe with a bad signature")
    assert not gaps, "\n".join(gaps)


async def test_refusals_that_need_no_workflow(rig: Rig) -> None:
    before = _written(rig.url)
    failures = [f for p in _probes(live=False) if (f := await _run(rig, p))]
    assert not failures, f"{len(failures)} probes were not refused as their rule says:\n" + "\n".join(
        failures
    )
    assert _written(rig.url) == before
    assert not get_settings().credentials_file.exists()  # no legacy login was stored


async def test_refusals_around_a_request_in_flight(live_rig: Rig) -> None:
    before = _written(live_rig.url)
    failures = [f for p in _probes(live=True) if (f := await _run(live_rig, p))]
    assert not failures, f"{len(failures)} probes were not refused as their rule says:\n" + "\n".join(
        failures
    )
    assert _written(live_rig.url) == before
    state = await svc.show(app.state.client, REQ)
    assert state.stage == "awaiting_approval" and state.cancelled_by is None
    assert [s.decision for s in state.approval.steps] == [None]
