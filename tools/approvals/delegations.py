"""Delegations: while someone is away, another person decides their approvals.

Validated before anything is written (both people exist and are active, not the same person, a
sensible period, the caller may delegate for that person), written with an audit entry in one
transaction; repeating the same delegation returns the existing one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.store import audit
from tools.store.identity import Principal
from tools.store.models import Delegation, Role, User

MAX_DAYS = 366


class DelegationError(ValueError):
    """A delegation refused, with what to change."""


class DelegationView(BaseModel):
    id: int
    from_username: str
    to_username: str
    starts_on: date
    until: date
    created_by: str
    created: bool = True  # False: the same delegation existed already


def _active_user(session: Session, username: str, what: str) -> User:
    user = session.get(User, username)
    if user is None or not user.active:
        raise DelegationError(f"{what} {username!r} is not an active user (see `hrops users list`)")
    return user


def create(
    session: Session,
    who: Principal,
    from_username: str,
    to_username: str,
    starts_on: date,
    until: date,
    today: date,
) -> DelegationView:
    if who.username != from_username and not who.has(Role.HR_OPS, Role.ADMIN):
        raise DelegationError(
            f"{who.username} may delegate only their own approvals (HR ops and admins: anyone's)"
        )
    if from_username == to_username:
        raise DelegationError("a person cannot delegate to themselves")
    _active_user(session, from_username, "--from")
    _active_user(session, to_username, "--to")
    if until < today:
        raise DelegationError(f"--until {until} is in the past")
    if starts_on > until:
        raise DelegationError(f"--from-date {starts_on} is after --until {until}")
    if (until - starts_on).days > MAX_DAYS:
        raise DelegationError(f"a delegation lasts at most {MAX_DAYS} days; make a new one when it ends")
    same = session.scalar(
        select(Delegation).where(
            Delegation.from_username == from_username,
            Delegation.to_username == to_username,
            Delegation.starts_on == starts_on,
            Delegation.until == until,
            Delegation.revoked_at.is_(None),
        )
    )
    if same is not None:
        return _view(same, created=False)
    row = Delegation(
        from_username=from_username,
        to_username=to_username,
        starts_on=starts_on,
        until=until,
        created_by=who.username,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        audit.AuditEvent(
            actor=who.username,
            action="approvals.delegated",
            entity_type="user",
            entity_id=from_username,
            details={"to": to_username, "starts_on": starts_on.isoformat(), "until": until.isoformat()},
        ),
    )
    return _view(row)


def active(session: Session, day: date, username: str | None = None) -> list[DelegationView]:
    query = (
        select(Delegation)
        .where(Delegation.until >= day, Delegation.revoked_at.is_(None))
        .order_by(Delegation.starts_on, Delegation.id)
    )
    if username:
        query = query.where((Delegation.from_username == username) | (Delegation.to_username == username))
    return [_view(d) for d in session.scalars(query)]


def _view(d: Delegation, created: bool = True) -> DelegationView:
    return DelegationView.model_validate(d, from_attributes=True).model_copy(update={"created": created})
