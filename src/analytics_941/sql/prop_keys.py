"""The custom property keys a site's events carry in a period, with bound parameters only.

Property keys are open-ended (whatever the site sends), so no rollup holds them: this reads the
period's raw events that have props and counts each key (SQLite's ``json_each``). The values of
one key are then an ordinary breakdown (``event:props:<key>``) through the one query path.
"""

from __future__ import annotations

from datetime import date

from ..periods import bounds_ms
from ..query import Query
from ..store import Param
from .params import Params

__all__ = ["prop_keys_sql"]


def prop_keys_sql(query: Query, *, period: tuple[date, date], limit: int = 50
                  ) -> tuple[str, list[Param]]:
    """Rows ``key``, ``events``: the keys of the period's event props, most used first."""
    params = Params()
    start, end = bounds_ms(*period, tz=query.zone)
    sql = (
        "SELECT p.key AS key, COUNT(*) AS events FROM events AS e, json_each(e.props) AS p "
        f"WHERE e.site_id = {params.ref(query.site_id)} AND e.ts >= {params.ref(start)} "
        f"AND e.ts < {params.ref(end)} AND e.props IS NOT NULL AND json_valid(e.props) "
        f"AND json_type(e.props) = 'object' GROUP BY p.key ORDER BY events DESC, p.key "
        f"LIMIT {params.ref(limit)}"
    )
    return sql, params.check()
