"""Signed bearer tokens for the API: `<username>.<expires>.<signature>` (HMAC-SHA256).

`hrops token create USER` issues one. Tokens are checked against the store on every request, so
a deactivated user is locked out at once; rotating the key revokes every token.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from hrops.settings import Settings

DEFAULT_TTL = 30 * 24 * 3600


class BadToken(Exception):
    pass


def _key(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.get_secret_value().encode()
    path: Path = settings.var_dir / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def _sign(settings: Settings, payload: str) -> str:
    return hmac.new(_key(settings), payload.encode(), hashlib.sha256).hexdigest()


def issue(settings: Settings, username: str, ttl: int = DEFAULT_TTL) -> str:
    payload = f"{username}.{int(time.time()) + ttl}"
    return f"{payload}.{_sign(settings, payload)}"


def verify(settings: Settings, token: str) -> str:
    """The username the token was issued to."""
    try:
        username, expires, signature = token.rsplit(".", 2)
    except ValueError:
        raise BadToken("malformed token") from None
    if not hmac.compare_digest(signature, _sign(settings, f"{username}.{expires}")):
        raise BadToken("invalid token")
    if not expires.isdigit() or int(expires) < time.time():
        raise BadToken("token expired; issue a new one with `hrops token create`")
    return username
