"""``analytics-941 goals`` and ``analytics-941 funnels``: a site's goals and funnels, as the
settings sections change them (docs/goals.md). Changes are audited like the forms'."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from . import audit
from .exceptions import ConfigError
from .funnels import MAX_STEPS, MIN_STEPS, add_funnel, list_funnels, remove_funnel
from .goals import GoalError, add_goal, list_goals, parse_prop, remove_goal
from .sites import Site
from .store import Store

__all__ = ["add_goal_parsers", "run_goals"]

PrintTable = Callable[[Iterable[Sequence[object]]], None]


def add_goal_parsers(commands: Any) -> None:
    """Register ``goals`` and ``funnels`` on the top-level subparsers."""
    goals = commands.add_parser("goals", help="a site's goals (docs/goals.md)").add_subparsers(
        dest="action", required=True
    )
    goal_add = goals.add_parser("add", help="add a page or event goal; it counts the past too")
    goal_add.add_argument("--site", required=True, metavar="DOMAIN")
    what = goal_add.add_mutually_exclusive_group(required=True)
    what.add_argument("--page", metavar="PATTERN",
                      help="a pageview of a path: * within a segment, ** across (/blog/**)")
    what.add_argument("--event", metavar="NAME", help="a custom event with this name")
    goal_add.add_argument("--prop", metavar="KEY=VALUE",
                          help="only events with this property (with --event)")
    goal_add.add_argument("--currency", metavar="CODE",
                          help="a revenue goal: revenue in this ISO 4217 code (with --event)")
    goal_add.add_argument("--name", help="display name (default: 'Visit PATTERN' or the event)")
    goals.add_parser("list", help="list a site's goals (name, kind, match, property)") \
        .add_argument("--site", required=True, metavar="DOMAIN")
    goal_remove = goals.add_parser("remove", help="remove a goal (its events stay)")
    goal_remove.add_argument("--site", required=True, metavar="DOMAIN")
    goal_remove.add_argument("name", metavar="NAME", help="the goal's name, as goals list shows")

    funnels = commands.add_parser("funnels", help="a site's funnels (docs/goals.md)") \
        .add_subparsers(dest="action", required=True)
    funnel_add = funnels.add_parser("add", help="save a funnel; it reports the past too")
    funnel_add.add_argument("--site", required=True, metavar="DOMAIN")
    funnel_add.add_argument("--name", required=True)
    funnel_add.add_argument("--step", action="append", required=True, metavar="STEP",
                            help=f"in order, {MIN_STEPS} to {MAX_STEPS} times: page:PATTERN "
                            "(* within a segment, ** across) or goal:NAME")
    funnels.add_parser("list", help="list a site's funnels (name, steps)") \
        .add_argument("--site", required=True, metavar="DOMAIN")
    funnel_remove = funnels.add_parser("remove", help="remove a funnel")
    funnel_remove.add_argument("--site", required=True, metavar="DOMAIN")
    funnel_remove.add_argument("name", metavar="NAME", help="the funnel's name")


async def run_goals(args: argparse.Namespace, store: Store, *,
                    find_site: Callable[[list[str]], Awaitable[list[Site]]],
                    print_table: PrintTable) -> None:
    """Run ``goals …`` or ``funnels …`` for the site named by ``--site``."""
    (site,) = await find_site([args.site])
    run = _goals if args.command == "goals" else _funnels
    await run(args, store, site, print_table)


async def _goals(args: argparse.Namespace, store: Store, site: Site,
                 print_table: PrintTable) -> None:
    if args.action == "add":
        if args.prop is not None and args.event is None:
            raise GoalError("--prop goes with --event: a page goal matches no property.",
                            field="prop")
        goal = await add_goal(store, site_id=site.id, page=args.page, event=args.event,
                              prop=parse_prop(args.prop) if args.prop is not None else None,
                              name=args.name, currency=args.currency)
        await audit.record(store, "goal_create", actor=audit.CLI, sites=[site.id],
                           detail=audit.goal_detail(goal))
        print(goal.name)
    elif args.action == "list":
        print_table([("name", "kind", "matches", "property", "currency")] + [
            (g.name, g.kind, g.target, f"{g.prop_key}={g.prop_value}" if g.prop_key else "-",
             g.currency or "-")
            for g in await list_goals(store, site_id=site.id)
        ])
    else:
        removed = await remove_goal(store, site_id=site.id, name=args.name)
        if removed is None:
            raise ConfigError(f"{site.domain} has no goal named {args.name!r}; "
                              f"`analytics-941 goals list --site {site.domain}` lists them")
        await audit.record(store, "goal_remove", actor=audit.CLI, sites=[site.id],
                           detail=audit.goal_detail(removed))
        print(f"removed {removed.name}")


async def _funnels(args: argparse.Namespace, store: Store, site: Site,
                   print_table: PrintTable) -> None:
    if args.action == "add":
        funnel = await add_funnel(store, site_id=site.id, name=args.name, steps=args.step)
        await audit.record(store, "funnel_create", actor=audit.CLI, sites=[site.id],
                           detail={"funnel": funnel.name, "steps": len(funnel.steps)})
        print(funnel.name)
    elif args.action == "list":
        print_table([("name", "steps")] + [
            (f.name, " > ".join(step.text for step in f.steps))
            for f in await list_funnels(store, site_id=site.id)
        ])
    else:
        removed = await remove_funnel(store, site_id=site.id, name=args.name)
        if removed is None:
            raise ConfigError(f"{site.domain} has no funnel named {args.name!r}; "
                              f"`analytics-941 funnels list --site {site.domain}` lists them")
        await audit.record(store, "funnel_remove", actor=audit.CLI, sites=[site.id],
                           detail={"funnel": removed.name, "steps": len(removed.steps)})
        print(f"removed {removed.name}")
