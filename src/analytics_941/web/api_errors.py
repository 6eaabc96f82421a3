"""Stats API error messages a person can act on: a refusal worded by the validator itself
(``date_range.literal['day',…]: Input should be …``) becomes one sentence naming the field and
what it takes. The ``code`` is kept as it was: clients branch on it.
"""

from __future__ import annotations

import re
from typing import get_args

from ..exceptions import QueryError
from ..periods import Preset
from ..query import MAX_LIMIT, METRICS

__all__ = ["readable"]

_DATES = '["YYYY-MM-DD", "YYYY-MM-DD"]'
# What each field takes, for the messages whose own wording is the validator's.
_TAKES = {
    "date_range": f"one of {', '.join(get_args(Preset))}, 24h, or two dates {_DATES} "
    'or date-times ["YYYY-MM-DDThh:mm:ss+00:00", …]',
    "comparison": f"previous_period, year_over_year or two dates {_DATES}",
    "metrics": f"a list of one or more of {', '.join(METRICS)}",
    "dimensions": "a list of up to three dimensions, such as visit:source or event:page",
    "order_by": 'a list of [metric or dimension, "asc" or "desc"] pairs',
    "pagination": 'an object such as {"limit": 10000, "offset": 0}',
    "limit": f"a whole number from 1 to {MAX_LIMIT:,}",
    "offset": "a whole number from 0 to 1,000,000",
}
_SHOWN_AS = {"limit": "pagination.limit", "offset": "pagination.offset"}
# Wording that comes from the validator rather than from our own checks.
_VALIDATOR = re.compile(
    r"Input should|should have at least|should have at most|Extra inputs|Field required|"
    r"literal\[|function-|valid (integer|tuple|list|string|date|dictionary)"
)
_ITEM = re.compile(r"^[a-z_]+\.(\d+)")


def readable(exc: QueryError) -> QueryError:
    """``exc`` itself when its message is already ours, else the same code with a sentence."""
    if not _VALIDATOR.search(exc.message):
        return exc
    field = exc.code.removeprefix("invalid_")
    name = _SHOWN_AS.get(field, field)
    takes = _TAKES.get(field)
    item = _ITEM.match(exc.message)
    # "metrics.2: …" points at one entry of a list: say which, counting from 1.
    where = f"{name} (entry {int(item.group(1)) + 1})" if item else name
    if takes is None:
        return QueryError(code=exc.code, message=f"{where} has a value this API does not take.")
    return QueryError(code=exc.code, message=f"{where} must be {takes}.")
