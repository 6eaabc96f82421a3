"""The Journeys page: how visits move around one page, and from entry to exit.

The page runs the dashboard's state (period, filters) through ``journey_report``; without a
page chosen it takes the period's top page. The entry → exit flow is drawn server-side as an
SVG Sankey (no script, nothing to lazy-load): the busiest pages on each side, the rest folded
into one node, bands as wide as their visits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ...cache import cache_for
from ...journey_report import Journey, run_journey
from ...runner import run_queries
from ...sites import Site
from ...store import Store
from .state import DashboardState

__all__ = ["Band", "Flow", "JourneysPage", "Node", "layout_flow", "load_journeys_page"]

NODES_PER_SIDE = 8
OTHER = "(other pages)"
TOP_PAGES = 25
# The drawing's size in SVG units (it scales to the card's width).
WIDTH, HEIGHT, NODE_WIDTH, GAP = 640.0, 360.0, 12.0, 10.0


@dataclass(frozen=True, kw_only=True)
class Node:
    label: str
    visits: int
    x: float
    y: float
    height: float
    left: bool


@dataclass(frozen=True, kw_only=True)
class Band:
    """A link as a closed SVG path from an entry node to an exit node."""

    entry: str
    exit: str
    visits: int
    path: str


@dataclass(frozen=True, kw_only=True)
class Flow:
    nodes: list[Node] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    width: float = WIDTH
    height: float = HEIGHT


@dataclass(frozen=True, kw_only=True)
class JourneysPage:
    journey: Journey | None
    flow: Flow
    top_pages: list[str]


def _folded(pairs: list[tuple[str, str, int]], *, entries: bool) -> set[str]:
    """The busiest pages of one side (entries or exits): the nodes kept apart."""
    totals: Counter[str] = Counter()
    for entry, leave, visits in pairs:
        totals[entry if entries else leave] += visits
    return {name for name, _n in totals.most_common(NODES_PER_SIDE)}


def _column(totals: Counter[str], *, left: bool, scale: float) -> dict[str, Node]:
    x = 0.0 if left else WIDTH - NODE_WIDTH
    y, nodes = 0.0, {}
    # Largest first, the folded rest last.
    for name, visits in sorted(totals.items(), key=lambda item: (item[0] == OTHER, -item[1])):
        height = max(visits * scale, 1.0)
        nodes[name] = Node(label=name, visits=visits, x=x, y=y, height=height, left=left)
        y += height + GAP
    return nodes


def layout_flow(pairs: list[tuple[str, str, int]]) -> Flow:
    """Place the (entry, exit, visits) pairs: nodes in two columns, bands between them."""
    if not pairs:
        return Flow()
    keep_in, keep_out = _folded(pairs, entries=True), _folded(pairs, entries=False)
    links: Counter[tuple[str, str]] = Counter()
    for entry, leave, visits in pairs:
        links[(entry if entry in keep_in else OTHER, leave if leave in keep_out else OTHER)] += (
            visits)
    ins: Counter[str] = Counter()
    outs: Counter[str] = Counter()
    for (entry, leave), visits in links.items():
        ins[entry] += visits
        outs[leave] += visits
    total = sum(links.values())
    gaps = GAP * (max(len(ins), len(outs)) - 1)
    scale = (HEIGHT - gaps) / total
    left, right = _column(ins, left=True, scale=scale), _column(outs, left=False, scale=scale)
    used_in: dict[str, float] = dict.fromkeys(left, 0.0)
    used_out: dict[str, float] = dict.fromkeys(right, 0.0)
    bands = []
    x0, x1 = NODE_WIDTH, WIDTH - NODE_WIDTH
    middle = WIDTH / 2
    order = sorted(links.items(), key=lambda item: (list(left).index(item[0][0]),
                                                     list(right).index(item[0][1])))
    for (entry, leave), visits in order:
        thick = visits * scale
        y0 = left[entry].y + used_in[entry]
        y1 = right[leave].y + used_out[leave]
        used_in[entry] += thick
        used_out[leave] += thick
        path = (f"M{x0:.1f},{y0:.1f} C{middle:.1f},{y0:.1f} {middle:.1f},{y1:.1f} {x1:.1f},"
                f"{y1:.1f} L{x1:.1f},{y1 + thick:.1f} C{middle:.1f},{y1 + thick:.1f} "
                f"{middle:.1f},{y0 + thick:.1f} {x0:.1f},{y0 + thick:.1f} Z")
        bands.append(Band(entry=entry, exit=leave, visits=visits, path=path))
    height = max(max(n.y + n.height for n in (*left.values(), *right.values())), 1.0)
    return Flow(nodes=[*left.values(), *right.values()], bands=bands, height=height)


async def load_journeys_page(
    store: Store, *, site: Site, state: DashboardState, page: str | None
) -> JourneysPage:
    """The page's data: the top pages (to choose from), the journey of ``page`` (default: the
    top page) and the flow."""
    pages_query = state.query(site, metrics=("visitors",), dimensions=("page",),
                              compare=False, limit=TOP_PAGES)
    (pages,) = await run_queries(store, [pages_query], cache=cache_for(store))
    top = [str(r["dimensions"][0]) for r in pages["results"]]
    chosen = page or (top[0] if top else None)
    if chosen is None:
        return JourneysPage(journey=None, flow=Flow(), top_pages=top)
    journey = await run_journey(store, pages_query, chosen)
    return JourneysPage(journey=journey, flow=layout_flow(journey.flow), top_pages=top)
