"""Funnels: named sequences of 2 to 8 steps a visit completes in order, stored per site in the
``funnels`` table (migration 0020).

A step is a **page** (a pattern with the wildcards of page goals: ``*`` within one path segment,
``**`` across) or one of the site's **goals**, by name. Like goals, funnels are definitions:
``sql.funnel`` evaluates them against raw events when a report runs, so a funnel saved today
reports the past. The API spells a step ``{"page": "/pricing*"}`` or ``{"goal": "Signup"}``,
the command line and the settings form ``page:/pricing*`` or ``goal:Signup`` (a bare ``/…`` is
a page, any other bare text a goal's name). docs/goals.md describes them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .auth.crypto import new_id
from .exceptions import ConfigError
from .goals import Goal, GoalError, check_pattern, list_goals, plain_text
from .store import Row, Store

__all__ = [
    "MAX_FUNNELS",
    "MAX_STEPS",
    "MIN_STEPS",
    "Funnel",
    "FunnelError",
    "Step",
    "add_funnel",
    "check_steps",
    "get_funnel",
    "list_funnels",
    "parse_step",
    "remove_funnel",
    "step_goals",
]

StepKind = Literal["page", "goal"]
MIN_STEPS = 2
MAX_STEPS = 8
MAX_FUNNELS = 100
MAX_NAME = 120
_COLUMNS = "id, site_id, name, steps, created_at"


class FunnelError(ConfigError):
    """A funnel was refused; ``field`` names the form field (or API field) it came from."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, kw_only=True)
class Step:
    """One step: a page pattern (``kind`` page) or a goal's name (``kind`` goal)."""

    kind: StepKind
    target: str

    @property
    def text(self) -> str:
        """The step as the command line and the settings form write it."""
        return f"{self.kind}:{self.target}"

    def to_json(self) -> dict[str, str]:
        """The step as the API and the ``funnels.steps`` column spell it."""
        return {self.kind: self.target}


def _text(value: str, *, what: str, field: str) -> str:
    return plain_text(value, what=what, field=field, max_len=MAX_NAME, error=FunnelError)


def _page(pattern: str) -> Step:
    try:
        return Step(kind="page", target=check_pattern(pattern))
    except GoalError as exc:
        raise FunnelError(str(exc), field="steps") from None


def parse_step(value: Any) -> Step:
    """A step from ``{"page": PATTERN}`` / ``{"goal": NAME}``, or from text: ``page:PATTERN``,
    ``goal:NAME``, a bare ``/…`` (a page) or a bare goal name. Raises ``FunnelError``."""
    if isinstance(value, Mapping):
        if len(value) != 1 or not set(value) <= {"page", "goal"}:
            raise FunnelError('A step is {"page": "/pricing*"} or {"goal": "Signup"}.',
                              field="steps")
        ((kind, target),) = value.items()
        if not isinstance(target, str):
            raise FunnelError(f"A {kind} step takes a string.", field="steps")
        value = f"{kind}:{target}"
    if not isinstance(value, str):
        raise FunnelError('A step is {"page": "/pricing*"} or {"goal": "Signup"}.',
                          field="steps")
    text = value.strip()
    if text.startswith("page:"):
        return _page(text.removeprefix("page:"))
    if text.startswith("goal:"):
        name = _text(text.removeprefix("goal:"), what="A goal step's name", field="steps")
        return Step(kind="goal", target=name)
    if text.startswith("/"):
        return _page(text)
    return Step(kind="goal", target=_text(text, what="A step", field="steps"))


def check_steps(values: Sequence[Any]) -> tuple[Step, ...]:
    """The steps, parsed and counted (2 to 8). Raises ``FunnelError`` naming the step."""
    if isinstance(values, str | bytes | Mapping):
        raise FunnelError("steps must be a list of steps.", field="steps")
    if not MIN_STEPS <= len(values) <= MAX_STEPS:
        raise FunnelError(f"A funnel has {MIN_STEPS} to {MAX_STEPS} steps, not {len(values)}.",
                          field="steps")
    steps = []
    for i, value in enumerate(values, start=1):
        try:
            steps.append(parse_step(value))
        except FunnelError as exc:
            raise FunnelError(f"Step {i}: {exc}", field="steps") from None
    return tuple(steps)


def step_goals(steps: Sequence[Step], goals: Sequence[Goal]) -> tuple[Goal, ...]:
    """What each step matches, as a goal (a page step as a page goal of its pattern), for the
    SQL of ``sql.funnel``. Raises ``FunnelError`` for a goal the site does not have."""
    by_name = {goal.name: goal for goal in goals}
    out = []
    for i, step in enumerate(steps, start=1):
        if step.kind == "page":
            out.append(Goal(id=f"step{i}", site_id="", name=f"Step {i}", kind="page",
                            target=step.target))
            continue
        goal = by_name.get(step.target)
        if goal is None:
            known = ", ".join(sorted(by_name)) or "none yet"
            raise FunnelError(f"Step {i}: the site has no goal named {step.target!r} "
                              f"(its goals: {known}).", field="steps")
        out.append(goal)
    return tuple(out)


@dataclass(frozen=True, kw_only=True)
class Funnel:
    """One saved funnel."""

    id: str
    site_id: str
    name: str
    steps: tuple[Step, ...]
    created_at: int = 0

    @classmethod
    def from_row(cls, row: Row) -> Funnel:
        """Build from a ``funnels`` row (its steps were checked when saved)."""
        steps = tuple(parse_step(item) for item in json.loads(str(row["steps"])))
        return cls(id=str(row["id"]), site_id=str(row["site_id"]), name=str(row["name"]),
                   steps=steps, created_at=int(row["created_at"] or 0))


async def list_funnels(store: Store, *, site_id: str) -> list[Funnel]:
    """The site's funnels, by name."""
    rows = await store.execute(
        f"SELECT {_COLUMNS} FROM funnels WHERE site_id = ? ORDER BY name", [site_id]
    )
    return [Funnel.from_row(row) for row in rows]


async def get_funnel(store: Store, *, site_id: str, name: str) -> Funnel | None:
    """The site's funnel named ``name``, or None."""
    rows = await store.execute(
        f"SELECT {_COLUMNS} FROM funnels WHERE site_id = ? AND name = ?", [site_id, name]
    )
    return Funnel.from_row(rows[0]) if rows else None


async def add_funnel(store: Store, *, site_id: str, name: str,
                     steps: Sequence[Any]) -> Funnel:
    """Save a funnel of ``steps`` (``Step``s, or what ``parse_step`` takes) named ``name``.

    Raises ``FunnelError`` for a bad name or step, a goal the site lacks, or a name taken.
    """
    label = _text(name, what="The funnel's name", field="name")
    checked = check_steps([s.to_json() if isinstance(s, Step) else s for s in steps])
    step_goals(checked, await list_goals(store, site_id=site_id))
    existing = await list_funnels(store, site_id=site_id)
    if len(existing) >= MAX_FUNNELS:
        raise FunnelError(f"A site has at most {MAX_FUNNELS} funnels.", field="name")
    if any(funnel.name == label for funnel in existing):
        raise FunnelError(f"This site already has a funnel named {label!r}.", field="name")
    funnel = Funnel(id=new_id(), site_id=site_id, name=label, steps=checked,
                    created_at=int(time.time() * 1000))
    encoded = json.dumps([s.to_json() for s in checked], ensure_ascii=False)
    # A concurrent twin hits the UNIQUE index instead (a store error, not a second row).
    await store.execute(
        f"INSERT INTO funnels ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
        [funnel.id, site_id, label, encoded, funnel.created_at],
    )
    return funnel


async def remove_funnel(store: Store, *, site_id: str, name: str = "",
                        funnel_id: str = "") -> Funnel | None:
    """Delete the site's funnel named ``name`` (or with id ``funnel_id``); return it, or None
    when the site has no such funnel."""
    for funnel in await list_funnels(store, site_id=site_id):
        if (funnel_id and funnel.id == funnel_id) or (not funnel_id and funnel.name == name):
            await store.execute("DELETE FROM funnels WHERE site_id = ? AND id = ?",
                                [site_id, funnel.id])
            return funnel
    return None
