"""A site's alert rules and alert settings (docs/alerts.md), and the log of fired alerts the
Worker writes. The collector's cron measures and delivers (``worker/src/alerts/``); the dashboard
keeps the rules, the recipients and the two commerce goals, shows the log and asks the collector
for a test alert (``reports_client``)."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Literal, get_args

from .auth.crypto import new_id
from .exceptions import AnalyticsError
from .store import Store

__all__ = [
    "KIND_LABELS", "MAX_RECIPIENTS", "MAX_RULES", "AlertError", "AlertSettings", "FiredAlert",
    "Rule", "RuleKind", "add_rule", "get_settings", "list_log", "list_rules", "parse_rule",
    "remove_recipient", "remove_rule", "save_settings",
]

RuleKind = Literal["spike", "drop", "no_events", "goal_above", "goal_below", "error_rate"]
KINDS: tuple[RuleKind, ...] = get_args(RuleKind)
KIND_LABELS: dict[str, str] = {
    "spike": "Traffic spike", "drop": "Traffic drop", "no_events": "No events",
    "goal_above": "Goal conversions above", "goal_below": "Goal conversions below",
    "error_rate": "JS error rate above",
}
MAX_RULES = 20
MAX_RECIPIENTS = 5
# What each kind's threshold means, its default and its bounds (the form says the same).
_THRESHOLDS: dict[str, tuple[float, float, float]] = {
    "spike": (100, 10, 10_000), "drop": (50, 10, 100), "no_events": (0, 0, 0),
    "goal_above": (10, 0, 1_000_000), "goal_below": (1, 1, 1_000_000), "error_rate": (5, 0.1, 100),
}
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class AlertError(AnalyticsError):
    """A rule or setting the form refuses, with a message for it."""


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One alert rule as stored (``alert_rules``)."""

    id: str
    kind: str
    goal: str
    threshold: float
    window_hours: int
    min_volume: int
    cooldown_minutes: int
    last_fired_at: int

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True, kw_only=True)
class AlertSettings:
    """Who receives a site's alerts, and its add-to-cart and purchase goals."""

    recipients: tuple[str, ...] = ()
    cart_goal: str = "Add to cart"
    purchase_goal: str = "Purchase"


@dataclass(frozen=True, kw_only=True)
class FiredAlert:
    """One line of the alert log."""

    rule_id: str
    fired_at: int
    test: bool
    summary: str
    mail: str
    mail_error: str | None


def _number(raw: str, name: str, low: float, high: float, default: float) -> float:
    raw = raw.strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise AlertError(f"{name} must be a number.") from None
    if not low <= value <= high:
        raise AlertError(f"{name} must be between {low:g} and {high:g}.")
    return value


def parse_rule(*, kind: str, goal: str, threshold: str, window_hours: str, min_volume: str,
               cooldown_minutes: str, goals: list[str]) -> Rule:
    """A new rule from the form's fields, or ``AlertError`` saying what is wrong."""
    if kind not in KINDS:
        raise AlertError(f"Choose a kind of alert ({', '.join(KINDS)}).")
    goal = goal.strip()
    if kind in ("goal_above", "goal_below"):
        if goal not in goals:
            raise AlertError("Choose one of the site's goals for a goal alert." if goals else
                             "This site has no goals yet: add one under Goals first.")
    else:
        goal = ""
    default, low, high = _THRESHOLDS[kind]
    value = _number(threshold, "The threshold", low, high, default) if high else 0.0
    window = _number(window_hours, "The window (hours)", 1, 168 if kind == "no_events" else 24,
                     3 if kind == "no_events" else 1)
    if window != int(window):
        raise AlertError("The window is a whole number of hours.")
    volume = _number(min_volume, "The minimum volume", 0, 1_000_000, 50)
    cooldown = _number(cooldown_minutes, "The cooldown (minutes)", 15, 10_080, 360)
    return Rule(id=new_id(), kind=kind, goal=goal, threshold=value, window_hours=int(window),
                min_volume=int(volume), cooldown_minutes=int(cooldown), last_fired_at=0)


def _rule(row: dict[str, object]) -> Rule:
    return Rule(id=str(row["id"]), kind=str(row["kind"]), goal=str(row["goal"]),
                threshold=float(str(row["threshold"])), window_hours=int(str(row["window_hours"])),
                min_volume=int(str(row["min_volume"])),
                cooldown_minutes=int(str(row["cooldown_minutes"])),
                last_fired_at=int(str(row["last_fired_at"])))


async def list_rules(store: Store, *, site_id: str) -> list[Rule]:
    """The site's rules, oldest first."""
    rows = await store.execute(
        "SELECT id, kind, goal, threshold, window_hours, min_volume, cooldown_minutes, "
        "last_fired_at FROM alert_rules WHERE site_id = ? ORDER BY created_at, id", [site_id])
    return [_rule(row) for row in rows]


async def add_rule(store: Store, *, site_id: str, rule: Rule) -> Rule:
    """Store ``rule`` (``AlertError`` past MAX_RULES)."""
    if len(await list_rules(store, site_id=site_id)) >= MAX_RULES:
        raise AlertError(f"A site has at most {MAX_RULES} alert rules.")
    await store.execute(
        "INSERT INTO alert_rules (id, site_id, kind, goal, threshold, window_hours, min_volume, "
        "cooldown_minutes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [rule.id, site_id, rule.kind, rule.goal, rule.threshold, rule.window_hours,
         rule.min_volume, rule.cooldown_minutes, int(time.time() * 1000)])
    return rule


async def remove_rule(store: Store, *, site_id: str, rule_id: str) -> Rule | None:
    """Delete the rule and its log lines; the rule, or None when the site has no such rule."""
    for rule in await list_rules(store, site_id=site_id):
        if rule.id == rule_id:
            await store.batch([
                ("DELETE FROM alert_log WHERE site_id = ? AND rule_id = ?", [site_id, rule_id]),
                ("DELETE FROM alert_rules WHERE site_id = ? AND id = ?", [site_id, rule_id]),
            ])
            return rule
    return None


async def get_settings(store: Store, *, site_id: str) -> AlertSettings:
    """The site's alert settings (the defaults when it never saved any)."""
    rows = await store.execute("SELECT recipients, cart_goal, purchase_goal FROM alert_settings "
                               "WHERE site_id = ?", [site_id])
    if not rows:
        return AlertSettings()
    row = rows[0]
    recipients = json.loads(str(row["recipients"]))
    return AlertSettings(recipients=tuple(str(r) for r in recipients),
                         cart_goal=str(row["cart_goal"]), purchase_goal=str(row["purchase_goal"]))


def _recipients(raw: str) -> tuple[str, ...]:
    found: list[str] = []
    for part in re.split(r"[\s,;]+", raw.strip()):
        if not part:
            continue
        if len(part) > 254 or not _EMAIL.match(part):
            raise AlertError(f"{part[:80]!r} is not an email address.")
        if part.lower() not in found:
            found.append(part.lower())
    if len(found) > MAX_RECIPIENTS:
        raise AlertError(f"Alerts go to at most {MAX_RECIPIENTS} addresses.")
    return tuple(found)


def _goal_name(raw: str, what: str, default: str) -> str:
    name = raw.strip() or default
    if len(name) > 120 or any(ord(c) < 32 for c in name):
        raise AlertError(f"The {what} goal is a goal's name (at most 120 characters).")
    return name


async def save_settings(store: Store, *, site_id: str, recipients: str, cart_goal: str,
                        purchase_goal: str) -> AlertSettings:
    """Store the recipients and the two commerce goals (``AlertError`` on bad input). A row made
    here starts the commerce cursors now, so a later endpoint is not sent the site's history."""
    chosen = AlertSettings(recipients=_recipients(recipients),
                           cart_goal=_goal_name(cart_goal, "add-to-cart", "Add to cart"),
                           purchase_goal=_goal_name(purchase_goal, "purchase", "Purchase"))
    if chosen.cart_goal == chosen.purchase_goal:
        raise AlertError("The add-to-cart and purchase goals must differ.")
    now = int(time.time() * 1000)
    await store.execute(
        "INSERT INTO alert_settings (site_id, recipients, cart_goal, purchase_goal, "
        "conversion_ts, cart_ts) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (site_id) DO UPDATE SET "
        "recipients = excluded.recipients, cart_goal = excluded.cart_goal, "
        "purchase_goal = excluded.purchase_goal",
        [site_id, json.dumps(list(chosen.recipients)), chosen.cart_goal, chosen.purchase_goal,
         now, now])
    return chosen


async def remove_recipient(store: Store, *, site_id: str, email: str) -> bool:
    """Take ``email`` off the site's alert recipients (an alert mail's unsubscribe link); whether
    it was there."""
    chosen = await get_settings(store, site_id=site_id)
    kept = [r for r in chosen.recipients if r != email.lower()]
    if len(kept) == len(chosen.recipients):
        return False
    await store.execute("UPDATE alert_settings SET recipients = ? WHERE site_id = ?",
                        [json.dumps(kept), site_id])
    return True


async def list_log(store: Store, *, site_id: str, limit: int = 20) -> list[FiredAlert]:
    """The site's latest fired (and test) alerts, newest first."""
    rows = await store.execute(
        "SELECT rule_id, fired_at, test, summary, mail, mail_error FROM alert_log "
        f"WHERE site_id = ? ORDER BY fired_at DESC, id DESC LIMIT {int(limit)}", [site_id])
    return [FiredAlert(rule_id=str(r["rule_id"]), fired_at=int(str(r["fired_at"])),
                       test=bool(r["test"]), summary=str(r["summary"]), mail=str(r["mail"]),
                       mail_error=None if r["mail_error"] is None else str(r["mail_error"]))
            for r in rows]
