"""The console's session: one signed cookie (HMAC-SHA256 with the API's key), HttpOnly, SameSite=Lax.

It carries who signed in (with a fingerprint of their password hash, so a new password ends old
sessions), when the sign-in expires, the CSRF token every form must send back, the language, the
chat thread and a one-shot message. Nothing in it is secret from its holder; the signature stops
anyone from forging or changing it. Every POST checks the CSRF token (and the Origin header when
the browser sends one): 403 otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from urllib.parse import parse_qsl, urlsplit

from fastapi import HTTPException, Request
from fastapi.responses import Response

from hrops.api import auth
from hrops.settings import Settings

COOKIE = "hrops_console"
PATH = "/console"
MAX_FORM_BYTES = 64 * 1024
FLASH_CHARS = 300  # keeps the cookie well under browsers' 4 KB


class CsrfFailed(HTTPException):
    def __init__(self, why: str) -> None:
        super().__init__(403, f"refused: {why} (reload the page and try again)")


@dataclass
class Session:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    user: str | None = None
    pw: str | None = None  # fingerprint of the password hash the user signed in with
    exp: float = 0.0
    lang: str | None = None
    thread: str | None = None
    flash: str | None = None
    flash_ok: bool = True
    dirty: bool = False  # changed while handling this request: send the cookie again

    def sign_in(self, username: str, fingerprint: str, hours: float) -> None:
        """A fresh session for the user: new CSRF token and chat thread (no fixation)."""
        self.csrf = secrets.token_urlsafe(24)
        self.user, self.pw = username, fingerprint
        self.exp = time.time() + hours * 3600
        self.thread = secrets.token_hex(6)
        self.dirty = True

    def sign_out(self) -> None:
        self.csrf = secrets.token_urlsafe(24)
        self.user = self.pw = self.thread = None
        self.exp, self.dirty = 0.0, True

    def say(self, text: str, ok: bool = True) -> None:
        self.flash = text if len(text) <= FLASH_CHARS else text[: FLASH_CHARS - 1] + "…"
        self.flash_ok, self.dirty = ok, True

    def take_flash(self) -> tuple[str, bool] | None:
        if self.flash is None:
            return None
        out = (self.flash, self.flash_ok)
        self.flash, self.dirty = None, True
        return out

    @property
    def signed_in(self) -> bool:
        return self.user is not None and self.exp > time.time()


def _key(settings: Settings) -> bytes:
    # A key of its own, derived from the API's: a session cookie is never a valid API token.
    return hmac.new(auth._key(settings), b"hrops console session", hashlib.sha256).digest()


def _sign(settings: Settings, payload: str) -> str:
    return hmac.new(_key(settings), payload.encode(), hashlib.sha256).hexdigest()


def load(request: Request, settings: Settings) -> Session:
    """The request's session; a new anonymous one when the cookie is missing, forged or stale."""
    raw = request.cookies.get(COOKIE, "")
    payload, _, signature = raw.rpartition(".")
    if payload and hmac.compare_digest(signature, _sign(settings, payload)):
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            known = {k: v for k, v in data.items() if k in Session.__dataclass_fields__ and k != "dirty"}
            session = Session(**known)
            if session.user is not None and not session.signed_in:
                session.sign_out()
            return session
        except (ValueError, TypeError):
            pass
    return Session(dirty=True)


def save(response: Response, session: Session, settings: Settings) -> Response:
    if session.dirty:
        data = {k: v for k, v in asdict(session).items() if k != "dirty" and v is not None}
        raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
        payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")  # no padding: no quoted cookie
        response.set_cookie(
            COOKIE,
            f"{payload}.{_sign(settings, payload)}",
            path=PATH,
            httponly=True,
            samesite="lax",
            secure=settings.console_secure_cookie,
            max_age=int(settings.console_session_hours * 3600),
        )
    return response


async def checked_form(request: Request, session: Session) -> dict[str, str]:
    """The POSTed form (urlencoded), after the CSRF checks; 403 when they fail."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise CsrfFailed("the form came from another site")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, "form too large")
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise CsrfFailed("not a form post")
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    token = form.get("csrf", "")
    if not token or not hmac.compare_digest(token.encode(), session.csrf.encode()):
        raise CsrfFailed("missing or stale form token")
    return form
