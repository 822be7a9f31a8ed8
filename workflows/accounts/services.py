"""Signing in and the secrets that prove it: argon2id passwords, lock-out after repeated
failures (counted in the database, so every worker sees the same count), browser sessions and
revocable API tokens stored as SHA-256 hashes."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update

from ..errors import DomainError, NotFoundError
from ..operations import log
from ..org.models import ROLES, Bloc, Jurisdiction, RoleAssignment, Unit, User
from ..uow import Services
from .models import API, SESSION, AuthToken
from .passwords import hash_password, needs_rehash, nfc, token_digest, verify_password
from .principals import Principal, principal_of

logger = logging.getLogger(__name__)

# Touching last_used_at on every request would make every read a write.
_LAST_USED_PRECISION = timedelta(minutes=5)
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,99}")


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lock_minutes: int = 15
    session_hours: int = 12


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    kind: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


def authenticate(services: Services, username: str, password: str, policy: LoginPolicy) -> Principal:
    """The principal for a username and password. Raises DomainError `invalid_credentials`
    (unknown user, wrong password or inactive: one answer, so names cannot be probed) or
    `account_locked` (too many failures; refused until the lock ends, even with the right password)."""
    username = nfc(username.strip())
    with services.uow() as uow:
        session = uow.session
        user = session.scalars(select(User).where(User.username == username).with_for_update()).one_or_none()
        now = uow.clock()
        if user is None or not user.active or user.password_hash is None:
            verify_password(None, password)
            raise DomainError("invalid_credentials", "wrong username or password")
        if user.locked_until is not None and user.locked_until > now:
            raise DomainError("account_locked", f"too many failed sign-ins; locked until {user.locked_until:%H:%M} UTC")
        if not verify_password(user.password_hash, password):
            failures = user.failed_logins + 1
            locked = failures >= policy.max_failures
            user.failed_logins = 0 if locked else failures
            user.locked_until = now + timedelta(minutes=policy.lock_minutes) if locked else None
            uow.commit()
            if locked:
                logger.warning("user %s locked after %d failed sign-ins", user.id, failures)
            raise DomainError("invalid_credentials", "wrong username or password")
        user.failed_logins, user.locked_until = 0, None
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        principal = principal_of(session, user)
        uow.commit()
    return principal


def open_session(services: Services, user_id: str, policy: LoginPolicy) -> str:
    """A new browser session for the user; returns its secret (the cookie's value)."""
    return _issue(services, user_id, SESSION, "browser", timedelta(hours=policy.session_hours))[0]


def issue_api_token(services: Services, user_id: str, name: str, days: int | None) -> tuple[str, TokenInfo]:
    """A new API token; the secret is returned once and never stored."""
    return _issue(services, user_id, API, name, timedelta(days=days) if days else None)


_TOKENS = AuthToken.__table__
_tokens, _users, _roles = _TOKENS.c, User.__table__.c, RoleAssignment.__table__.c
# Every request reads this: one statement for the token, its user and the user's roles (a row
# per role, one row with no role when they hold none), in Core and compiled once.
_PRINCIPAL = (
    select(
        _tokens.id,
        _tokens.revoked_at,
        _tokens.expires_at,
        _tokens.last_used_at,
        _users.id.label("user_id"),
        _users.username,
        _users.full_name,
        _users.unit_id,
        _users.active,
        _roles.role,
        _roles.scope,
    )
    .join_from(_TOKENS, User.__table__, _users.id == _tokens.user_id)
    .outerjoin(RoleAssignment.__table__, _roles.user_id == _users.id)
    .where(_tokens.token_hash == bindparam("digest"), _tokens.kind == bindparam("kind"))
    .order_by(_roles.role, _roles.scope)
)


def principal_for(services: Services, raw: str, kind: str) -> Principal | None:
    """The principal a session cookie or API token stands for; None when it is unknown, of the
    other kind, revoked, expired or its user inactive."""
    # A connection, not an ORM session: this runs before every request. It ends with COMMIT even
    # when it only read, which keeps psycopg's prepared statements (a ROLLBACK discards them).
    with services.database.begin() as connection:
        rows = connection.execute(_PRINCIPAL, {"digest": token_digest(raw), "kind": kind}).all()
        if not rows:
            return None
        first, now = rows[0], services.clock()
        if first.revoked_at or (first.expires_at and first.expires_at <= now) or not first.active:
            return None
        if first.last_used_at is None or now - first.last_used_at > _LAST_USED_PRECISION:
            connection.execute(update(_TOKENS).where(_tokens.id == first.id).values(last_used_at=now))
    assignments = tuple((row.role, row.scope) for row in rows if row.role is not None)
    return Principal(first.user_id, first.username, first.full_name, first.unit_id, assignments)


def end_session(services: Services, raw: str) -> None:
    """Sign out: the session's secret stops working at once, in every worker."""
    with services.uow() as uow:
        uow.session.execute(
            update(AuthToken)
            .where(AuthToken.token_hash == token_digest(raw), AuthToken.revoked_at.is_(None))
            .values(revoked_at=uow.clock())
        )
        uow.commit()


def api_tokens(services: Services, principal: Principal) -> list[TokenInfo]:
    with services.session_factory() as session:
        tokens = session.scalars(
            select(AuthToken)
            .where(AuthToken.user_id == principal.id, AuthToken.kind == API)
            .order_by(AuthToken.created_at.desc())
        )
        return [_info(token) for token in tokens]


def revoke_api_token(services: Services, principal: Principal, token_id: int) -> TokenInfo:
    """Revoke one of the principal's own API tokens. Raises NotFoundError for anyone else's."""
    with services.uow() as uow:
        token = uow.session.get(AuthToken, token_id)
        if token is None or token.user_id != principal.id or token.kind != API:
            raise NotFoundError("token", str(token_id))
        if token.revoked_at is None:
            token.revoked_at = uow.clock()
        info = _info(token)
        uow.commit()
    return info


def principal_of_user(services: Services, user_id: str) -> Principal:
    with services.session_factory() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFoundError("user", user_id)
        return principal_of(session, user)


# --- user and role changes (each recorded in the operation log) ------------------------------


def grant_role(services: Services, actor: str, user: str, role: str, scope: str | None, reason: str) -> Principal:
    """Give the user (by username) `role` within `scope` ("unit:<id>", "bloc:<id>",
    "jurisdiction:<id>"; None: everywhere). Returns the user as they now are. Raises
    NotFoundError, DomainError reason_required, unknown_role, unknown_scope or role_held."""
    reason = log.require_reason(reason, log.ROLE_GRANT)
    _require_role(role)
    with services.uow() as uow:
        session = uow.session
        found = _user_named(session, user)
        _require_scope(session, scope)
        before = principal_of(session, found)
        if (role, scope) in before.assignments:
            raise DomainError("role_held", f"{found.username} holds {role} in {scope or 'every scope'} already")
        session.add(RoleAssignment(user_id=found.id, role=role, scope=scope))
        session.flush()
        return _role_change(uow, actor, log.ROLE_GRANT, found, before, reason)


def revoke_role(services: Services, actor: str, user: str, role: str, scope: str | None, reason: str) -> Principal:
    """Take `role` within `scope` from the user (by username). Raises NotFoundError,
    DomainError reason_required or role_not_held."""
    reason = log.require_reason(reason, log.ROLE_REVOKE)
    with services.uow() as uow:
        session = uow.session
        found = _user_named(session, user)
        before = principal_of(session, found)
        held = session.scalar(
            select(RoleAssignment).where(
                RoleAssignment.user_id == found.id,
                RoleAssignment.role == role,
                RoleAssignment.scope.is_(None) if scope is None else RoleAssignment.scope == scope,
            )
        )
        if held is None:
            raise DomainError("role_not_held", f"{found.username} does not hold {role} in {scope or 'every scope'}")
        session.delete(held)
        session.flush()
        return _role_change(uow, actor, log.ROLE_REVOKE, found, before, reason)


def set_user_active(services: Services, actor: str, user: str, active: bool, reason: str) -> Principal:
    """Enable or disable the user (by username). A disabled user cannot sign in, and their
    sessions and API tokens stop working at once. Raises NotFoundError, DomainError
    reason_required or user_unchanged."""
    action = log.USER_ENABLE if active else log.USER_DISABLE
    reason = log.require_reason(reason, action)
    with services.uow() as uow:
        session = uow.session
        found = _user_named(session, user)
        if found.active == active:
            raise DomainError("user_unchanged", f"{found.username} is {'active' if active else 'disabled'} already")
        found.active = active
        session.flush()
        log.record(
            session,
            actor=actor,
            action=action,
            subject_type="user",
            subject_id=found.id,
            reason=reason,
            old={"active": not active},
            new={"active": active},
            at=uow.clock(),
        )
        principal = principal_of(session, found)
        uow.commit()
    logger.info("user %s %s by %s", found.id, action, actor)
    return principal


MIN_PASSWORD_LENGTH = 12


def create_user(
    services: Services, actor: str, username: str, full_name: str, unit_id: str | None, password: str, reason: str
) -> Principal:
    """A new user (no role yet; grant_role gives them one) who signs in with `password`. Raises
    DomainError reason_required, username_invalid, username_taken, unknown_unit or
    password_too_short."""
    reason = log.require_reason(reason, log.USER_CREATE)
    username, full_name = username.strip().lower(), " ".join(full_name.split())
    if not _USERNAME.fullmatch(username) or not full_name or len(full_name) > 200:
        raise DomainError(
            "username_invalid", "a username has 3-100 letters, digits, dots, dashes or underscores, and a full name"
        )
    _require_password(password)
    with services.uow() as uow:
        session = uow.session
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise DomainError("username_taken", f"the username {username} is taken")
        if unit_id and session.get(Unit, unit_id) is None:
            raise DomainError("unknown_unit", f"no unit {unit_id!r}")
        user = User(id=username, username=username, full_name=full_name, unit_id=unit_id or None, active=True)
        user.password_hash = hash_password(password)
        session.add(user)
        session.flush()
        log.record(
            session,
            actor=actor,
            action=log.USER_CREATE,
            subject_type="user",
            subject_id=user.id,
            reason=reason,
            new={"username": username, "full_name": full_name, "unit_id": user.unit_id},
            at=uow.clock(),
        )
        principal = principal_of(session, user)
        uow.commit()
    logger.info("user %s created by %s", username, actor)
    return principal


def reset_password(services: Services, actor: str, user: str, password: str, reason: str) -> Principal:
    """Give the user (by username) a new password; their sessions and API tokens end, and a lock
    from failed sign-ins is lifted. The operation log records that it happened, never the
    password. Raises NotFoundError, DomainError reason_required or password_too_short."""
    reason = log.require_reason(reason, log.PASSWORD_RESET)
    _require_password(password)
    with services.uow() as uow:
        session = uow.session
        found = _user_named(session, user)
        found.password_hash = hash_password(password)
        found.failed_logins, found.locked_until = 0, None
        now = uow.clock()
        session.execute(
            update(AuthToken)
            .where(AuthToken.user_id == found.id, AuthToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        log.record(
            session,
            actor=actor,
            action=log.PASSWORD_RESET,
            subject_type="user",
            subject_id=found.id,
            reason=reason,
            at=now,
        )
        principal = principal_of(session, found)
        uow.commit()
    return principal


def _require_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError("password_too_short", f"a password has at least {MIN_PASSWORD_LENGTH} characters")


def _role_change(uow, actor: str, action: str, user: User, before: Principal, reason: str) -> Principal:
    after = principal_of(uow.session, user)
    log.record(
        uow.session,
        actor=actor,
        action=action,
        subject_type="user",
        subject_id=user.id,
        reason=reason,
        old={"roles": _role_names(before)},
        new={"roles": _role_names(after)},
        at=uow.clock(),
    )
    uow.commit()
    logger.info("user %s: %s by %s", user.id, action, actor)
    return after


def _role_names(principal: Principal) -> list[str]:
    """Each role the principal holds as role@scope, or the role alone where held everywhere."""
    return [f"{role}@{scope}" if scope else role for role, scope in principal.assignments]


def _user_named(session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == nfc(username.strip())))
    if user is None:
        raise NotFoundError("user", username)
    return user


def _require_role(role: str) -> None:
    if role not in ROLES:
        raise DomainError("unknown_role", f"role must be one of {', '.join(ROLES)}, not {role!r}")


_SCOPE_TABLES = {"unit": Unit, "bloc": Bloc, "jurisdiction": Jurisdiction}


def _require_scope(session, scope: str | None) -> None:
    """None, or a scope naming an existing unit, bloc or jurisdiction."""
    if scope is None:
        return
    kind, _, record_id = scope.partition(":")
    table = _SCOPE_TABLES.get(kind)
    if table is None or not record_id or session.get(table, record_id) is None:
        raise DomainError(
            "unknown_scope",
            f"scope must be unit:<id>, bloc:<id> or jurisdiction:<id> of an existing one, not {scope!r}",
        )


def _issue(services: Services, user_id: str, kind: str, name: str, ttl: timedelta | None) -> tuple[str, TokenInfo]:
    raw = secrets.token_urlsafe(32)
    with services.uow() as uow:
        now = uow.clock()
        token = AuthToken(
            user_id=user_id,
            kind=kind,
            token_hash=token_digest(raw),
            name=name,
            created_at=now,
            expires_at=now + ttl if ttl else None,
        )
        uow.session.add(token)
        uow.session.flush()
        info = _info(token)
        uow.commit()
    return raw, info


def _info(token: AuthToken) -> TokenInfo:
    return TokenInfo(
        token.id, token.name, token.kind, token.created_at, token.expires_at, token.last_used_at, token.revoked_at
    )
