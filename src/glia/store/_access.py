"""Accounts, roles, tokens, sessions and access modes in the store.

Each function runs inside the caller's transaction. Secrets (API tokens,
session ids) are returned once, when made, and stored only as their SHA-256
(:func:`glia.access.digest`); passwords only as argon2 hashes.

Accounts outlive the maps: re-importing an ecosystem keeps its roles; deleting
it removes them (foreign keys cascade, and :func:`delete_access` says so
explicitly for databases that do not enforce them).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from ..access import (
    ACCESS_MODES,
    ROLES,
    AccessMode,
    Principal,
    Role,
    digest,
    hash_password,
    new_secret,
    verify_password,
)
from ..access._secrets import DUMMY_HASH
from ._reader import ecosystem_id
from ._tables import (
    ACCESS_TABLES,
    account,
    account_role,
    account_token,
    ecosystem,
    ecosystem_access,
    opportunity,
    participant,
    team_member,
)

__all__ = [
    "AccessError",
    "Account",
    "Member",
    "access_mode",
    "authenticate",
    "close_session",
    "create_account",
    "delete_access",
    "grant",
    "has_participant",
    "issue_token",
    "members",
    "open_session",
    "principal",
    "principal_for_secret",
    "revoke",
    "set_access",
    "set_password",
    "teams",
]

SESSION_PREFIX = "glias_"
TOKEN_PREFIX = "glia_"
MIN_PASSWORD = 8


class AccessError(ValueError):
    """A refused change to accounts or roles, with what was expected."""


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str | None
    admin: bool
    disabled: bool


@dataclass(frozen=True)
class Member:
    """An account's role in an ecosystem."""

    username: str
    display_name: str | None
    role: str
    participant: str | None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _account_id(conn: Connection, username: str) -> int:
    found = conn.execute(select(account.c.id).where(account.c.username == username)).scalar()
    if found is None:
        raise AccessError(f"no account named '{username}'")
    return int(found)


def create_account(
    conn: Connection,
    username: str,
    password: str,
    display_name: str | None = None,
    admin: bool = False,
) -> Account:
    """Create an account; refuses a taken or empty username and a short password."""
    name = username.strip()
    if not name or name != username or len(name) > 200:
        raise AccessError(f"username '{username}': expected 1-200 characters, no spaces around")
    if len(password) < MIN_PASSWORD:
        raise AccessError(f"password: expected at least {MIN_PASSWORD} characters")
    taken = conn.execute(select(account.c.id).where(account.c.username == name)).scalar()
    if taken is not None:
        raise AccessError(f"username '{name}' is taken")
    new_id = conn.execute(
        insert(account).values(
            username=name,
            display_name=display_name,
            password_hash=hash_password(password),
            admin=admin,
            disabled=False,
            created_at=_now(),
        )
    ).inserted_primary_key
    assert new_id is not None
    return Account(int(new_id[0]), name, display_name, admin, False)


def set_password(conn: Connection, username: str, password: str) -> None:
    """Change an account's password and end its browser sessions."""
    if len(password) < MIN_PASSWORD:
        raise AccessError(f"password: expected at least {MIN_PASSWORD} characters")
    who = _account_id(conn, username)
    conn.execute(
        update(account).where(account.c.id == who).values(password_hash=hash_password(password))
    )
    conn.execute(
        update(account_token)
        .where(account_token.c.account_id == who, account_token.c.kind == "session")
        .values(revoked_at=_now())
    )


def authenticate(conn: Connection, username: str, password: str) -> Account | None:
    """The account when the password matches; ``None`` otherwise (in the same time)."""
    row = conn.execute(select(account).where(account.c.username == username)).first()
    if row is None:
        verify_password(DUMMY_HASH, password)
        return None
    if not verify_password(row.password_hash, password) or row.disabled:
        return None
    return Account(row.id, row.username, row.display_name, row.admin, row.disabled)


def grant(
    conn: Connection,
    username: str,
    ecosystem_name: str,
    role: str,
    participant_slug: str | None = None,
) -> None:
    """Give (or change) an account's role in an ecosystem, as a participant of its map."""
    if role not in ROLES:
        raise AccessError(f"role '{role}': expected one of {', '.join(ROLES)}")
    who = _account_id(conn, username)
    eco = ecosystem_id(conn, ecosystem_name)
    if participant_slug is not None:
        known = conn.execute(
            select(participant.c.idx).where(
                participant.c.ecosystem_id == eco, participant.c.slug == participant_slug
            )
        ).scalar()
        if known is None:
            raise AccessError(
                f"participant '{participant_slug}': expected a participant of '{ecosystem_name}'"
            )
    conn.execute(
        delete(account_role).where(
            account_role.c.account_id == who, account_role.c.ecosystem_id == eco
        )
    )
    conn.execute(
        insert(account_role).values(
            account_id=who,
            ecosystem_id=eco,
            role=role,
            participant=participant_slug,
            granted_at=_now(),
        )
    )


def revoke(conn: Connection, username: str, ecosystem_name: str) -> None:
    """Take away an account's role in an ecosystem."""
    who = _account_id(conn, username)
    eco = ecosystem_id(conn, ecosystem_name)
    conn.execute(
        delete(account_role).where(
            account_role.c.account_id == who, account_role.c.ecosystem_id == eco
        )
    )


def members(conn: Connection, ecosystem_name: str) -> list[Member]:
    """Accounts with a role in an ecosystem, by username."""
    eco = ecosystem_id(conn, ecosystem_name)
    rows = conn.execute(
        select(
            account.c.username,
            account.c.display_name,
            account_role.c.role,
            account_role.c.participant,
        )
        .join(account, account.c.id == account_role.c.account_id)
        .where(account_role.c.ecosystem_id == eco)
        .order_by(account.c.username)
    )
    return [Member(r.username, r.display_name, r.role, r.participant) for r in rows]


def principal(conn: Connection, account_id: int) -> Principal | None:
    """The account with its roles in every ecosystem, or ``None`` when unknown."""
    row = conn.execute(select(account).where(account.c.id == account_id)).first()
    if row is None:
        return None
    roles = conn.execute(
        select(ecosystem.c.name, account_role.c.role, account_role.c.participant)
        .join(ecosystem, ecosystem.c.id == account_role.c.ecosystem_id)
        .where(account_role.c.account_id == account_id)
    )
    return Principal(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        roles={r.name: Role(r.role, r.participant) for r in roles},
        admin=bool(row.admin),
        disabled=bool(row.disabled),
    )


def _issue(
    conn: Connection, username: str, kind: str, name: str, ttl: dt.timedelta | None
) -> tuple[str, str | None]:
    who = _account_id(conn, username)
    secret = new_secret(SESSION_PREFIX if kind == "session" else TOKEN_PREFIX)
    csrf = new_secret() if kind == "session" else None
    now = _now()
    conn.execute(
        insert(account_token).values(
            account_id=who,
            kind=kind,
            name=name,
            secret_hash=digest(secret),
            csrf=csrf,
            created_at=now,
            expires_at=now + ttl if ttl else None,
        )
    )
    return secret, csrf


def issue_token(conn: Connection, username: str, name: str, ttl: dt.timedelta | None = None) -> str:
    """A new API token for scripts (shown once; only its hash is kept)."""
    return _issue(conn, username, "api", name, ttl)[0]


def open_session(conn: Connection, username: str, ttl: dt.timedelta) -> tuple[str, str]:
    """A new browser session: its secret (the cookie) and its CSRF token."""
    secret, csrf = _issue(conn, username, "session", "browser", ttl)
    assert csrf is not None
    return secret, csrf


def close_session(conn: Connection, secret: str) -> None:
    """End a session or revoke a token."""
    conn.execute(
        update(account_token)
        .where(account_token.c.secret_hash == digest(secret))
        .values(revoked_at=_now())
    )


def principal_for_secret(
    conn: Connection, secret: str, kind: str
) -> tuple[Principal, str | None] | None:
    """The principal a live token or session belongs to, with the session's CSRF token."""
    row = conn.execute(
        select(
            account_token.c.account_id,
            account_token.c.expires_at,
            account_token.c.revoked_at,
            account_token.c.csrf,
        ).where(account_token.c.secret_hash == digest(secret), account_token.c.kind == kind)
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and _aware(row.expires_at) <= _now():
        return None
    found = principal(conn, row.account_id)
    if found is None or found.disabled:
        return None
    return found, row.csrf


def has_participant(conn: Connection, ecosystem_name: str, slug: str) -> bool:
    """Whether ``slug`` is a participant of the ecosystem's map (one indexed lookup)."""
    eco = ecosystem_id(conn, ecosystem_name)
    found = conn.execute(
        select(participant.c.idx).where(
            participant.c.ecosystem_id == eco, participant.c.slug == slug
        )
    ).scalar()
    return found is not None


def set_access(conn: Connection, ecosystem_name: str, mode: str, by: str) -> None:
    """Set how much members see: ``shared-access`` or ``controlled-access``."""
    if mode not in ACCESS_MODES:
        raise AccessError(f"access '{mode}': expected one of {', '.join(ACCESS_MODES)}")
    eco = ecosystem_id(conn, ecosystem_name)
    conn.execute(delete(ecosystem_access).where(ecosystem_access.c.ecosystem_id == eco))
    conn.execute(
        insert(ecosystem_access).values(ecosystem_id=eco, mode=mode, set_by=by, set_at=_now())
    )


def access_mode(conn: Connection, ecosystem_name: str) -> AccessMode:
    """The ecosystem's access mode (``shared-access`` unless set otherwise)."""
    eco = ecosystem_id(conn, ecosystem_name)
    mode = conn.execute(
        select(ecosystem_access.c.mode).where(ecosystem_access.c.ecosystem_id == eco)
    ).scalar()
    return "controlled-access" if mode == "controlled-access" else "shared-access"


def teams(conn: Connection, ecosystem_name: str) -> dict[str, frozenset[str]]:
    """Every opportunity's swarm: its picked team and its client, by opportunity id."""
    eco = ecosystem_id(conn, ecosystem_name)
    found: dict[str, set[str]] = defaultdict(set)
    clients = conn.execute(
        select(opportunity.c.slug, participant.c.slug.label("client"))
        .join(
            participant,
            (participant.c.ecosystem_id == opportunity.c.ecosystem_id)
            & (participant.c.idx == opportunity.c.client_idx),
        )
        .where(opportunity.c.ecosystem_id == eco)
    )
    for row in clients:
        found[row.slug].add(row.client)
    picked = conn.execute(
        select(team_member.c.opportunity, team_member.c.participant).where(
            team_member.c.ecosystem_id == eco
        )
    )
    for row in picked:
        found[row.opportunity].add(row.participant)
    return {k: frozenset(v) for k, v in found.items()}


def delete_access(conn: Connection, eco: int) -> None:
    """Remove an ecosystem's roles and access mode (before the ecosystem's row)."""
    for table in ACCESS_TABLES:
        conn.execute(delete(table).where(table.c.ecosystem_id == eco))
