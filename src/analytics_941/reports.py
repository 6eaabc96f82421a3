"""Email report subscriptions (docs/reports.md): who gets a site's weekly and monthly summary,
and how the last sends went. The Worker's cron sends the mails (``worker/src/reports/``) and
writes ``report_sends``; the dashboard only reads that log, and asks the Worker for previews
and test mails (``reports_client``), so every report is rendered by one renderer."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Literal

from .exceptions import AnalyticsError
from .store import Row, Store

__all__ = [
    "KINDS", "MAX_RECIPIENTS", "ReportError", "ReportKind", "ReportSend", "Subscription",
    "check_email", "list_subscriptions", "subscribe", "unsubscribe",
]

ReportKind = Literal["weekly", "monthly"]
KINDS: tuple[ReportKind, ...] = ("weekly", "monthly")
MAX_RECIPIENTS = 25
# The Worker's twin: checkAddress in worker/src/mail/message.ts (a plain ASCII mailbox).
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = re.compile(rf"[a-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+")


class ReportError(AnalyticsError):
    """A subscription the settings refuse, with a message for the form."""


@dataclass(frozen=True, kw_only=True)
class ReportSend:
    """The last sent-log row of one kind for a recipient."""

    kind: ReportKind
    period_start: str
    status: str
    attempts: int
    next_attempt_at: int
    sent_at: int | None
    last_error: str | None


@dataclass(frozen=True, kw_only=True)
class Subscription:
    """A recipient of a site's reports and the latest send of each kind."""

    email: str
    weekly: bool
    monthly: bool
    created_at: int
    last: dict[str, ReportSend] = field(default_factory=dict)

    @property
    def kinds(self) -> list[ReportKind]:
        return [k for k in KINDS if (self.weekly if k == "weekly" else self.monthly)]


def check_email(text: str) -> str:
    """The address lower-cased, or ``ReportError`` unless it is a plain mailbox."""
    email = text.strip().lower()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise ReportError(f"{text.strip()[:80]!r} is not an email address (such as "
                          "owner@example.com).")
    return email


async def list_subscriptions(store: Store, *, site_id: str) -> list[Subscription]:
    """The site's recipients by address, each with its latest send per kind."""
    rows = await store.execute(
        "SELECT email, weekly, monthly, created_at FROM report_subscriptions WHERE site_id = ? "
        "ORDER BY email", [site_id])
    # The latest row per (email, kind): one statement, bounded by the site's recipients.
    sends = await store.execute(
        "SELECT email, kind, period_start, status, attempts, next_attempt_at, sent_at, "
        "last_error FROM report_sends AS r WHERE site_id = ? AND period_start = (SELECT "
        "MAX(period_start) FROM report_sends AS m WHERE m.site_id = r.site_id AND "
        "m.email = r.email AND m.kind = r.kind)", [site_id])
    last: dict[str, dict[str, ReportSend]] = {}
    for s in sends:
        last.setdefault(str(s["email"]), {})[str(s["kind"])] = _send(s)
    return [Subscription(email=str(r["email"]), weekly=bool(r["weekly"]),
                         monthly=bool(r["monthly"]), created_at=int(r["created_at"]),
                         last=last.get(str(r["email"]), {})) for r in rows]


def _send(row: Row) -> ReportSend:
    kind: ReportKind = "monthly" if row["kind"] == "monthly" else "weekly"
    return ReportSend(kind=kind, period_start=str(row["period_start"]), status=str(row["status"]),
                      attempts=int(row["attempts"]), next_attempt_at=int(row["next_attempt_at"]),
                      sent_at=None if row["sent_at"] is None else int(row["sent_at"]),
                      last_error=None if row["last_error"] is None else str(row["last_error"]))


async def subscribe(store: Store, *, site_id: str, email: str, weekly: bool,
                    monthly: bool) -> Subscription:
    """Add the recipient (or change their kinds); ``ReportError`` for a bad address, no kind,
    or a site past ``MAX_RECIPIENTS``."""
    address = check_email(email)
    if not weekly and not monthly:
        raise ReportError("Choose weekly, monthly or both.")
    existing = {s.email for s in await list_subscriptions(store, site_id=site_id)}
    if address not in existing and len(existing) >= MAX_RECIPIENTS:
        raise ReportError(f"A site has at most {MAX_RECIPIENTS} report recipients.")
    now = int(time.time() * 1000)
    await store.execute(
        "INSERT INTO report_subscriptions (site_id, email, weekly, monthly, created_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (site_id, email) DO UPDATE SET "
        "weekly = excluded.weekly, monthly = excluded.monthly",
        [site_id, address, int(weekly), int(monthly), now])
    return Subscription(email=address, weekly=weekly, monthly=monthly, created_at=now)


async def unsubscribe(store: Store, *, site_id: str, email: str) -> bool:
    """Remove the recipient from the site's reports; whether they were subscribed. Their sent
    log stays (it is what keeps a re-subscribed address from getting a period twice)."""
    rows = await store.execute(
        "DELETE FROM report_subscriptions WHERE site_id = ? AND email = ? RETURNING email",
        [site_id, email.strip().lower()])
    return bool(rows)
