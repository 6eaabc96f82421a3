"""The audit log: who changed what on which site and when, every data export, and how much each
API token read (one counter row per token, site and UTC day, not one row per request).

Writers call ``record`` (or batch ``entry_statements`` with the write they describe); readers call
``list_entries``. ``KINDS`` is the one list of what can be recorded, with the words pages and the
CLI show for it. Rows are kept ``RETENTION_DAYS``: about one write in a hundred also deletes up to
``PURGE_ROWS`` older rows, in the same round trip (like ``auth.rate_limit``). The columns are
described in ``migrations/0013_audit_log.sql``; ``detail`` never holds a secret.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from .auth.api_tokens import ApiToken
from .auth.crypto import now_ms
from .auth.principal import Principal
from .auth.users import User
from .goals import Goal
from .store import Param, Row, Statement, Store

__all__ = [
    "CLI",
    "KINDS",
    "PURGE_CHANCE",
    "PURGE_ROWS",
    "RETENTION_DAYS",
    "Actor",
    "AuditEntry",
    "actor_of",
    "entry_statements",
    "goal_detail",
    "list_entries",
    "parse_cursor",
    "purge_statement",
    "record",
    "token_detail",
    "token_read_statements",
]

# Kind -> what the actor did, as pages and the CLI say it. Adding a kind needs a test that
# performs it (tests/test_audit.py walks this list).
KINDS: dict[str, str] = {
    "setup": "registered as the first administrator",
    "login": "signed in",
    "session_revoke": "ended a session",
    "passkey_add": "added a passkey",
    "passkey_rename": "renamed a passkey",
    "passkey_remove": "removed a passkey",
    "site_create": "added the site",
    "site_update": "changed the site's settings",
    "site_delete": "deleted the site and its data",
    "site_move": "moved the site's data to another database",
    "member_remove": "removed a member",
    "invite_create": "created an invite",
    "invite_use": "joined through an invite",
    "invite_revoke": "revoked an invite",
    "share_create": "created a share link",
    "share_revoke": "revoked a share link",
    "token_create": "created an API token",
    "token_revoke": "revoked an API token",
    "token_read": "read data with an API token",
    "export": "exported the reports as CSV",
    "goal_create": "added a goal",
    "goal_remove": "removed a goal",
    "funnel_create": "added a funnel",
    "funnel_remove": "removed a funnel",
    "report_subscribe": "subscribed an address to email reports",
    "report_unsubscribe": "unsubscribed an address from email reports",
    "webhook_create": "added a webhook endpoint",
    "webhook_remove": "removed a webhook endpoint",
    "import_create": "imported history from a CSV export",
    "import_remove": "removed imported history",
    "segment_create": "saved a segment",
    "segment_remove": "removed a segment",
    "alert_create": "added an alert rule",
    "alert_remove": "removed an alert rule",
    "alert_settings": "changed the alert recipients or commerce goals",
    "user_erase": "erased an identified user's visits",
    "user_export": "exported an identified user's visits",
}
RETENTION_DAYS = 365
PURGE_CHANCE = 0.01
PURGE_ROWS = 500
_DAY_MS = 86_400_000
_DETAIL_VALUE_MAX = 200
_COLUMNS = "id, at, kind, site_ref, actor_kind, actor_id, actor_name, detail, count"
_INSERT = (
    "INSERT INTO audit_log (at, kind, site_ref, actor_kind, actor_id, actor_name, detail) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# One row per site the token reaches, per UTC day; later requests that day only count.
_COUNT_READS = (
    "INSERT INTO audit_log (at, kind, site_ref, actor_kind, actor_id, actor_name, detail, "
    "counter_key) SELECT ?, 'token_read', value, 'token', ?, ?, ?, ? || value FROM json_each(?) "
    "WHERE true ON CONFLICT (counter_key) DO UPDATE SET count = audit_log.count + 1, at = "
    "excluded.at"
)


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Who acted: a user (id, name at the time), an API token (id, prefix) or the CLI."""

    kind: Literal["user", "token", "cli"]
    id: str | None
    name: str

    @classmethod
    def of_user(cls, user: User) -> Actor:
        """A logged-in user."""
        return cls(kind="user", id=user.id, name=user.name)

    @classmethod
    def of_token(cls, token: ApiToken) -> Actor:
        """An API token, named by its prefix (never the secret)."""
        return cls(kind="token", id=token.id, name=f"{token.prefix}…")


CLI = Actor(kind="cli", id=None, name="command line")


def token_detail(token: ApiToken) -> dict[str, Any]:
    """What the log says about a token: prefix, name and scopes (never the secret)."""
    return {"token": f"{token.prefix}…", "name": token.name, "scopes": list(token.scopes)}


def goal_detail(goal: Goal) -> dict[str, Any]:
    """What the log says about a goal: its name and what it matches."""
    return {"goal": goal.name, "matches": goal.definition}


def actor_of(principal: Principal) -> Actor:
    """The actor behind an authenticated request (a user or an API token)."""
    if principal.user is not None:
        return Actor.of_user(principal.user)
    if principal.token is not None:
        return Actor.of_token(principal.token)
    # Share-link visitors change nothing and export nothing: no route records them.
    raise ValueError("only users and API tokens act")


def _clean(detail: dict[str, Any] | None) -> str:
    # Small by construction: long strings (a site name, a user agent) are cut.
    def short(value: Any) -> Any:
        if isinstance(value, str):
            return value[:_DETAIL_VALUE_MAX]
        if isinstance(value, list | tuple):
            return [short(v) for v in value[:20]]
        if isinstance(value, dict):
            return {str(k)[:_DETAIL_VALUE_MAX]: short(v) for k, v in list(value.items())[:20]}
        return value

    return json.dumps({k: short(v) for k, v in (detail or {}).items()})


def purge_statement(now: int) -> Statement:
    """Delete up to ``PURGE_ROWS`` of the oldest rows past retention (bounded: one short write)."""
    return (
        "DELETE FROM audit_log WHERE id IN "
        "(SELECT id FROM audit_log WHERE at < ? ORDER BY at LIMIT ?)",
        [now - RETENTION_DAYS * _DAY_MS, PURGE_ROWS],
    )


def _maybe_purge(now: int) -> list[Statement]:
    return [purge_statement(now)] if random.random() < PURGE_CHANCE else []  # noqa: S311


def entry_statements(
    kind: str,
    *,
    actor: Actor,
    sites: Sequence[str | None] = (None,),
    detail: dict[str, Any] | None = None,
    now: int | None = None,
) -> list[Statement]:
    """The INSERTs recording ``kind`` by ``actor``: one row per site in ``sites`` (None: an
    account action), so each site's owners see their own; to batch with the write itself."""
    if kind not in KINDS or kind == "token_read":
        raise ValueError(f"unknown audit kind {kind!r}")
    now = now_ms() if now is None else now
    text = _clean(detail)
    statements: list[Statement] = [
        (_INSERT, [now, kind, site, actor.kind, actor.id, actor.name, text]) for site in sites
    ]
    return statements + _maybe_purge(now)


async def record(
    store: Store,
    kind: str,
    *,
    actor: Actor,
    sites: Sequence[str | None] = (None,),
    detail: dict[str, Any] | None = None,
) -> None:
    """Record ``kind`` by ``actor`` (see ``entry_statements``) in one round trip."""
    statements = entry_statements(kind, actor=actor, sites=sites, detail=detail)
    if len(statements) == 1:
        await store.execute(*statements[0])
    elif statements:
        await store.batch(statements)


def token_read_statements(
    token: ApiToken, *, sites: Sequence[str], now: int | None = None
) -> list[Statement]:
    """Count one request by ``token`` on today's (UTC) counter row of each site it reaches."""
    if not sites:
        return []
    now = now_ms() if now is None else now
    day = datetime.fromtimestamp(now / 1000, UTC).date().isoformat()
    actor = Actor.of_token(token)
    params: list[Param] = [now, actor.id, actor.name, _clean({"name": token.name}),
                           f"token:{token.id}:{day}:", json.dumps(list(sites))]
    return [(_COUNT_READS, params), *_maybe_purge(now)]


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    """One row of the log; ``count`` > 1 only on token-read counters."""

    id: int
    at: int
    kind: str
    site_ref: str | None
    actor_kind: str
    actor_id: str | None
    actor_name: str
    detail: dict[str, Any] = field(default_factory=dict)
    count: int = 1

    @property
    def action(self) -> str:
        """What happened, in words."""
        return KINDS.get(self.kind, self.kind)

    @property
    def summary(self) -> str:
        """``detail`` as ``key: value`` text (a change as ``old → new``), for pages."""

        def text(value: Any) -> str:
            if isinstance(value, list):
                return ", ".join(text(v) for v in value) or "none"
            if value is None:
                return "none"
            return str(value).lower() if isinstance(value, bool) else str(value)

        parts = []
        for key, value in self.detail.items():
            if isinstance(value, dict):  # site_update: {field: [old, new]}
                parts += [f"{k}: {text(v[0])} → {text(v[1])}" if isinstance(v, list) and len(v) == 2
                          else f"{k}: {text(v)}" for k, v in value.items()]
            else:
                parts.append(f"{key}: {text(value)}")
        return "; ".join(parts)

    @property
    def cursor(self) -> str:
        """The ``before`` value of the page after this entry."""
        return f"{self.at}.{self.id}"

    @classmethod
    def from_row(cls, row: Row) -> AuditEntry:
        """Build from an ``audit_log`` row."""
        try:
            detail = json.loads(str(row["detail"]))
        except ValueError:
            detail = {}
        return cls(
            id=int(row["id"]), at=int(row["at"]), kind=str(row["kind"]),
            site_ref=None if row["site_ref"] is None else str(row["site_ref"]),
            actor_kind=str(row["actor_kind"]),
            actor_id=None if row["actor_id"] is None else str(row["actor_id"]),
            actor_name=str(row["actor_name"]),
            detail=detail if isinstance(detail, dict) else {}, count=int(row["count"]),
        )


def parse_cursor(value: str | None) -> tuple[int, int] | None:
    """A ``before`` cursor (``<at>.<id>``) as numbers; None when absent or malformed."""
    at, _, row_id = (value or "").partition(".")
    if not (at.isdigit() and row_id.isdigit() and len(at) < 16 and len(row_id) < 19):
        return None
    return int(at), int(row_id)


async def list_entries(
    store: Store,
    *,
    sites: Sequence[str] | None,
    own_user_id: str | None = None,
    before: tuple[int, int] | None = None,
    limit: int = 50,
) -> list[AuditEntry]:
    """Entries newest first: of ``sites`` (None: every entry), plus the account actions of
    ``own_user_id``; ``before`` continues after a previous page's last ``cursor``."""
    where: list[str] = []
    params: list[Param] = []
    if sites is not None:
        where.append("(site_ref IN (SELECT value FROM json_each(?))"
                     " OR (site_ref IS NULL AND actor_id = ?))")
        params += [json.dumps(list(sites)), own_user_id]
    if before is not None:
        where.append("(at < ? OR (at = ? AND id < ?))")
        params += [before[0], before[0], before[1]]
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = await store.execute(
        f"SELECT {_COLUMNS} FROM audit_log {clause} ORDER BY at DESC, id DESC LIMIT ?",
        [*params, max(1, min(limit, 1000))],
    )
    return [AuditEntry.from_row(r) for r in rows]
