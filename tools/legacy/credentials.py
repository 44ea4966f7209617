"""Legacy logins: from the environment or a secrets file, held as SecretStr so they never print."""

from __future__ import annotations

import os

import yaml
from pydantic import BaseModel, SecretStr

from hrops.settings import get_settings
from tools.legacy.errors import LoginFailed


class Credentials(BaseModel):
    username: str
    password: SecretStr


def for_system(system: str) -> Credentials:
    prefix = f"HROPS_LEGACY_{system.upper()}_"
    user, password = os.environ.get(prefix + "USERNAME"), os.environ.get(prefix + "PASSWORD")
    if user and password:
        return Credentials(username=user, password=SecretStr(password))
    path = get_settings().credentials_file
    entry = None
    if path.exists():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        entry = data.get(system) if isinstance(data, dict) else None
    if not isinstance(entry, dict) or not entry.get("username") or not entry.get("password"):
        raise LoginFailed(
            f"no login for legacy system {system!r}: set {prefix}USERNAME and {prefix}PASSWORD, "
            f"or add `{system}: {{username: ..., password: ...}}` to {path}"
        )
    return Credentials(username=str(entry["username"]), password=SecretStr(str(entry["password"])))


def store(system: str, username: str, password: str) -> None:
    """Add or replace one system's login in the secrets file (created private to this user)."""
    path = get_settings().credentials_file
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}
    data[system] = {"username": username, "password": password}
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
