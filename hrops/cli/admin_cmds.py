"""`hrops tools list`, `users list`, `users password`, `token create`, `config show`, `db upgrade`."""

from __future__ import annotations

import typer
from rich.table import Table

from hrops.cli.common import acting_user, console, fail, settings, store_url

tools_app = typer.Typer(help="The tool catalogue agents and workflows use.", no_args_is_help=True)
users_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
config_app = typer.Typer(help="Settings.", no_args_is_help=True)
db_app = typer.Typer(help="The HR store schema.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    for sub, name in (
        (tools_app, "tools"),
        (users_app, "users"),
        (token_app, "token"),
        (config_app, "config"),
        (db_app, "db"),
    ):
        app.add_typer(sub, name=name)


@tools_app.command("list")
def tools_list() -> None:
    """Every registered tool: risk class, approval, roles, description."""
    import tools.hr  # noqa: F401  (registers the HR tools)
    import tools.onboarding  # noqa: F401  (registers the onboarding tools)
    from tools.registry import registry

    table = Table("tool", "risk", "approval", "roles", "description")
    for spec in registry:
        table.add_row(
            spec.name,
            spec.risk,
            "required" if spec.requires_approval else "-",
            ", ".join(sorted(spec.roles)),
            spec.description.splitlines()[0],
        )
    console.print(table)


@users_app.command("list")
def users_list(
    role: str | None = typer.Option(
        None, help="Only users granted this role (hr_ops, hrbp, comp_analyst, admin)"
    ),
    limit: int = typer.Option(50),
) -> None:
    """Users with granted roles first; employee and manager roles follow from the HR data."""
    from sqlalchemy import select

    from tools.store.db import session_scope
    from tools.store.models import OrgUnit, User, UserRole

    with session_scope(store_url()) as s:
        grants = s.execute(
            select(UserRole.username, UserRole.role, OrgUnit.code)
            .outerjoin(OrgUnit, OrgUnit.id == UserRole.org_unit_id)
            .where(UserRole.role == role if role else True)
            .order_by(UserRole.role, UserRole.username)
        ).all()
        table = Table("username", "role", "scope")
        for username, r, code in grants:
            table.add_row(username, r, code or "all")
        console.print(table)
        if not role:
            count = s.query(User).count()
            console.print(f"{count} users in all; any user linked to an employee signs in as themselves")


@users_app.command("password")
def users_password(
    username: str = typer.Argument(..., help="Username or employee id"),
    password: str | None = typer.Option(
        None, "--password", help="The new password (unset: asked for, without echo, twice)"
    ),
    clear: bool = typer.Option(False, "--clear", help="Remove the password: no console sign-in"),
) -> None:
    """Set a user's web console password (scrypt-hashed; signs out their console sessions)."""
    from sqlalchemy import or_, select

    from tools.store.db import session_scope
    from tools.store.models import User
    from tools.store.passwords import WeakPassword, hash_password

    url = store_url()
    acting_user("set console passwords", "admin")
    with session_scope(url) as s:
        user = s.scalar(
            select(User).where(or_(User.username == username, User.employee_id == username.upper()))
        )
        if user is None:
            fail(f"unknown user {username!r}; `hrops users list` shows them")
        name = user.username
    if clear:
        hashed = None
    else:
        if password is None:
            password = typer.prompt(
                f"New console password for {name}", hide_input=True, confirmation_prompt=True
            )
        try:
            hashed = hash_password(password)
        except WeakPassword as e:
            fail(str(e))
    with session_scope(url, write=True) as s:
        s.get(User, name).password_hash = hashed
    console.print(f"{name}: console password {'removed' if clear else 'set'}", highlight=False)


@token_app.command("create")
def token_create(
    username: str = typer.Argument(..., help="Username or employee id"),
    days: int = typer.Option(30, min=1, max=365, help="Valid for this many days"),
) -> None:
    """Issue an API bearer token for a user (printed once)."""
    from hrops import request_service as svc
    from hrops.api import auth

    acting_user("issue API tokens", "admin")
    try:
        who = svc.principal(username)
    except svc.RequestError as e:
        fail(str(e))
    console.print(auth.issue(settings(), who.username, ttl=days * 86400), highlight=False, soft_wrap=True)


@config_app.command("show")
def config_show() -> None:
    """Effective settings (secrets hidden)."""
    cfg = settings()
    table = Table("setting", "value")
    for name, value in cfg.model_dump().items():
        shown = "***" if value is not None and ("key" in name or "secret" in name) else value
        table.add_row(f"HROPS_{name.upper()}", str(shown))
    table.add_row("(store)", cfg.db_url.split("@")[-1])
    console.print(table)


@config_app.command("docs")
def config_docs() -> None:
    """Print docs/config.md (every setting, its default and meaning) from the settings model."""
    from hrops.settings import settings_reference

    typer.echo(settings_reference(), nl=False)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the HR store to the current schema (idempotent)."""
    from tools.store.db import current_revision

    url = store_url()
    console.print(f"schema at revision {current_revision(url)}")
