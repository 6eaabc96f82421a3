"""``SqliteStore``: rows as dicts, batches as one transaction, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from seeding import apply_schema

from analytics_941 import SqliteStore, StoreError, StoreUnavailable


async def test_execute_and_batch(tmp_path: Path) -> None:
    store = SqliteStore(path=apply_schema(tmp_path / "db.sqlite"))
    assert await store.execute("SELECT ? AS a, ? AS b", [1, "x"]) == [{"a": 1, "b": "x"}]
    assert await store.batch([("SELECT 1 AS n", []), ("SELECT COUNT(*) AS n FROM sites", [])]) == [
        [{"n": 1}],
        [{"n": 0}],
    ]


async def test_a_failing_batch_writes_nothing(tmp_path: Path) -> None:
    store = SqliteStore(path=apply_schema(tmp_path / "db.sqlite"))
    insert = "INSERT INTO sites (id, domain, name, created_at) VALUES ('a', 'a.com', 'a', 0)"
    with pytest.raises(StoreError, match="no such table"):
        await store.batch([(insert, []), ("SELECT * FROM nope", [])])
    assert await store.execute("SELECT COUNT(*) AS n FROM sites") == [{"n": 0}]


async def test_missing_file_is_unavailable_and_not_created(tmp_path: Path) -> None:
    store = SqliteStore(path=tmp_path / "missing.sqlite")
    with pytest.raises(StoreUnavailable, match=r"missing\.sqlite"):
        await store.execute("SELECT 1")
    assert not (tmp_path / "missing.sqlite").exists()
