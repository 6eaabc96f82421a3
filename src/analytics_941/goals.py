"""Goals: what counts as a conversion on a site, stored in the ``goals`` table (migration 0017).

A **page goal** is a pageview whose pathname matches a pattern with Plausible's wildcards: ``*``
stands for any run of characters within one path segment, ``**`` for any run across segments.
An **event goal** is an event with a name, optionally with one property equal to a value
(``plan=pro``); with a **currency** (ISO 4217) it is a revenue goal, whose total and average
count the amounts sent in that currency only (migration 0024). Goals are matched against raw
events when a query runs (``sql.goals``), so a goal added today counts every raw event already
stored. docs/goals.md describes them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .auth.crypto import new_id
from .exceptions import ConfigError
from .sql.glob import GLOB_BYTES, glob_fits, wildcard_tail
from .store import Row, Store
from .unsafe_chars import unsafe_char

__all__ = [
    "MAX_GOALS",
    "Goal",
    "GoalError",
    "add_goal",
    "check_currency",
    "check_event_name",
    "check_pattern",
    "list_goals",
    "parse_prop",
    "plain_text",
    "remove_goal",
]

GoalKind = Literal["page", "event"]
# A site's goals travel with every goal query as one JSON parameter; a few hundred keep it small.
MAX_GOALS = 200
MAX_NAME = 120
MAX_PATTERN = 2000
# The same keys ``event:props:<key>`` accepts (``query._PROP_KEY``).
_PROP_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_COLUMNS = "id, site_id, name, kind, target, prop_key, prop_value, created_at, currency"
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class GoalError(ConfigError):
    """A goal was refused; ``field`` names the form field it came from."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, kw_only=True)
class Goal:
    """One goal. ``target`` is the page pattern or the event name; ``prop_key`` is '' when the
    goal matches any properties."""

    id: str
    site_id: str
    name: str
    kind: GoalKind
    target: str
    prop_key: str = ""
    prop_value: str = ""
    created_at: int = 0
    # An event goal's ISO 4217 currency: a revenue goal. None: not one.
    currency: str | None = None

    @property
    def definition(self) -> str:
        """What the goal matches, in words a table can show."""
        if self.kind == "page":
            return f"pageview of {self.target}"
        prop = f" with {self.prop_key}={self.prop_value}" if self.prop_key else ""
        money = f", revenue in {self.currency}" if self.currency else ""
        return f"event {self.target}{prop}{money}"

    @classmethod
    def from_row(cls, row: Row) -> Goal:
        """Build from a ``goals`` row."""
        kind = str(row["kind"])
        assert kind in ("page", "event"), "the table's CHECK allows no other kind"
        return cls(
            id=str(row["id"]), site_id=str(row["site_id"]), name=str(row["name"]),
            kind="page" if kind == "page" else "event", target=str(row["target"]),
            prop_key=str(row["prop_key"] or ""), prop_value=str(row["prop_value"] or ""),
            created_at=int(row["created_at"] or 0),
            currency=str(row["currency"]) if row.get("currency") else None,
        )


def plain_text(value: str, *, what: str, field: str, max_len: int,
               error: Callable[..., ConfigError] = GoalError) -> str:
    """``value`` stripped; raises ``error(message, field=field)`` when it is empty, longer than
    ``max_len`` or holds an unsafe character (``unsafe_chars``): goals' and funnels' texts."""
    value = value.strip()
    if not value:
        raise error(f"{what} is empty.", field=field)
    if len(value) > max_len:
        raise error(f"{what} is longer than {max_len} characters.", field=field)
    if any(unsafe_char(char) for char in value):
        raise error(f"{what} may not contain control characters.", field=field)
    return value


def check_pattern(pattern: str) -> str:
    """A page pattern, checked: starts with ``/``, no spaces, and wildcards ``*`` (one segment)
    or ``**`` (any depth) — not both in one pattern, which GLOB cannot tell apart exactly."""
    pattern = plain_text(pattern, what="The page pattern", field="page", max_len=MAX_PATTERN)
    if not pattern.startswith("/"):
        raise GoalError(f"The page pattern {pattern!r} must start with / (such as /pricing "
                        "or /blog/**).", field="page")
    if any(char.isspace() for char in pattern):
        raise GoalError(f"The page pattern {pattern!r} contains a space.", field="page")
    if "***" in pattern:
        raise GoalError(f"The page pattern {pattern!r} has ***: use * for one path segment "
                        "or ** for any depth.", field="page")
    if "**" in pattern and "*" in pattern.replace("**", ""):
        raise GoalError(f"The page pattern {pattern!r} mixes * and **: use * (within one path "
                        "segment) or ** (across segments) in one pattern, not both.",
                        field="page")
    if not glob_fits(wildcard_tail(pattern)):
        raise GoalError(f"The page pattern {pattern!r} is too long from its first * on: "
                        f"the database matches at most {GLOB_BYTES} bytes there (the start "
                        "before it may be longer).", field="page")
    return pattern


def check_event_name(name: str) -> str:
    """An event name, checked (``pageview`` is what page goals are for)."""
    name = plain_text(name, what="The event name", field="event", max_len=MAX_NAME)
    if name == "pageview":
        raise GoalError("Pageviews are counted by page goals: give a page pattern instead.",
                        field="event")
    return name


def check_currency(code: str) -> str:
    """An ISO 4217 code such as ``EUR``, upper-cased (the collector stores it so)."""
    code = code.strip().upper()
    if not _CURRENCY.match(code):
        raise GoalError(f"The currency {code!r} must be a three-letter ISO 4217 code such as "
                        "EUR or USD.", field="currency")
    return code


def parse_prop(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` → (key, value); ``GoalError`` unless both are there and the key is plain."""
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not key or not value:
        raise GoalError(f"The property {text!r} must read KEY=VALUE (such as plan=pro).",
                        field="prop")
    if not _PROP_KEY.match(key):
        raise GoalError(f"The property key {key!r} may hold letters, digits and _ . : - "
                        "(at most 64).", field="prop")
    value = plain_text(value, what="The property value", field="prop", max_len=MAX_NAME)
    return key, value


async def list_goals(store: Store, *, site_id: str) -> list[Goal]:
    """The site's goals, by name."""
    rows = await store.execute(
        f"SELECT {_COLUMNS} FROM goals WHERE site_id = ? ORDER BY name", [site_id]
    )
    return [Goal.from_row(row) for row in rows]


async def add_goal(
    store: Store,
    *,
    site_id: str,
    page: str | None = None,
    event: str | None = None,
    prop: tuple[str, str] | None = None,
    name: str | None = None,
    currency: str | None = None,
) -> Goal:
    """Insert a page goal (``page``) or an event goal (``event``, optionally ``prop`` and a
    ``currency``, which makes it a revenue goal) and return it. ``name`` defaults to
    ``Visit <pattern>`` or the event name (with the property).

    Raises ``GoalError`` for a bad pattern or name, or a goal the site already has.
    """
    if (page is None) == (event is None):
        raise GoalError("A goal is either a page pattern or an event name.", field="page")
    if page is not None:
        if prop is not None:
            raise GoalError("Only event goals match a property.", field="prop")
        if currency:
            raise GoalError("Only event goals carry revenue.", field="currency")
        kind: GoalKind = "page"
        target = check_pattern(page)
        default = f"Visit {target}"
    else:
        kind, target = "event", check_event_name(event or "")
        default = f"{target} ({prop[0]}={prop[1]})" if prop else target
    label = plain_text(name or default, what="The goal's name", field="name", max_len=MAX_NAME)
    key, value = prop or ("", "")
    existing = await list_goals(store, site_id=site_id)
    if len(existing) >= MAX_GOALS:
        raise GoalError(f"A site has at most {MAX_GOALS} goals.", field="name")
    for goal in existing:
        if (goal.kind, goal.target, goal.prop_key, goal.prop_value) == (kind, target, key, value):
            raise GoalError(f"This site already has this goal, named {goal.name!r}.",
                            field="page" if kind == "page" else "event")
    if any(goal.name == label for goal in existing):
        raise GoalError(f"This site already has a goal named {label!r}.", field="name")
    goal = Goal(id=new_id(), site_id=site_id, name=label, kind=kind, target=target,
                prop_key=key, prop_value=value, created_at=int(time.time() * 1000),
                currency=check_currency(currency) if currency else None)
    # A concurrent twin hits the UNIQUE constraints instead (a store error, not a second row).
    await store.execute(
        f"INSERT INTO goals ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [goal.id, goal.site_id, goal.name, goal.kind, goal.target, goal.prop_key,
         goal.prop_value, goal.created_at, goal.currency],
    )
    return goal


async def remove_goal(store: Store, *, site_id: str, name: str = "",
                      goal_id: str = "") -> Goal | None:
    """Delete the site's goal named ``name`` (or with id ``goal_id``); return it, or None when
    the site has no such goal. Its conversions stay in the events: adding it again counts them."""
    for goal in await list_goals(store, site_id=site_id):
        if (goal_id and goal.id == goal_id) or (not goal_id and goal.name == name):
            await store.execute("DELETE FROM goals WHERE site_id = ? AND id = ?",
                                [site_id, goal.id])
            return goal
    return None
