"""``sql.compound.union_all`` against D1's limit of five terms per compound SELECT, on a SQLite
connection holding that limit, as D1 and ``SqliteStore`` do."""

from __future__ import annotations

import sqlite3

import pytest

from analytics_941.sql.compound import union_all


@pytest.mark.parametrize("n", [1, 5, 6, 12, 26, 130])
@pytest.mark.parametrize("op", ["UNION ALL", "UNION"])
def test_every_arm_answers_once_within_the_limit(n: int, op: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.setlimit(sqlite3.SQLITE_LIMIT_COMPOUND_SELECT, 5)
    arms = [f"SELECT {i} AS k, 'x' AS v" for i in range(n)]
    if n > 5:
        with pytest.raises(sqlite3.OperationalError, match="too many terms"):
            conn.execute(" UNION ALL ".join(arms))
    rows = conn.execute(f"SELECT k, v FROM ({union_all(arms, op=op)}) ORDER BY k").fetchall()
    assert rows == [(i, "x") for i in range(n)]
