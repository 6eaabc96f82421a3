"""One member cannot slow every tenant: request bodies, filter sizes, query time and concurrent
queries are all bounded, each refusal a quick, clear 4xx/503 with ``{code, message}``."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from auth_support import add_user, new_session, signed_in_client
from fastapi import FastAPI
from fastapi.testclient import TestClient

from analytics_941 import Settings, SqliteStore, setup_analytics
from analytics_941.exceptions import QueryError, QueryTimeout
from analytics_941.filters import MAX_FILTER_CHARS
from analytics_941.query import parse_query
from analytics_941.web import api
from analytics_941.web.authn import SESSION_COOKIE

MOUNT = "/admin/analytics"
V2 = f"{MOUNT}/api/v2/query"
# The case: 12 conditions x 1,000 values x 2,000 characters (24 MB of JSON).
HUGE_FILTERS = [["is", "page", ["/" + "a" * 1999] * 1000] for _ in range(12)]


def body(**extra: Any) -> dict[str, Any]:
    return {"site_id": "example.com", "metrics": ["visitors"], "date_range": "7d", **extra}


def timed(call: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


async def test_an_oversized_body_is_413_before_it_is_read(client: TestClient) -> None:
    # Straight through ASGI, so the proof is what the app read, not how fast a test client
    # copies 24 MB: a declared Content-Length past the limit is refused before any byte.
    content = json.dumps(body(filters=HUGE_FILTERS)).encode()
    session = client.cookies.get(SESSION_COOKIE)
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": V2, "raw_path": V2.encode(), "query_string": b"",
        "root_path": "", "server": ("localhost", 80), "client": ("127.0.0.1", 1234),
        "headers": [(b"host", b"localhost"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode()),
                    (b"cookie", f"{SESSION_COOKIE}={session}".encode())],
    }
    reads = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": content, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await client.app(scope, receive, send)  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    answer = json.loads(b"".join(m.get("body", b"") for m in sent
                                 if m["type"] == "http.response.body"))
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    assert (start["status"], answer["code"], reads) == (413, "body_too_large", 0)
    assert headers["x-content-type-options"] == "nosniff"


def test_a_streamed_body_is_counted_too(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        yield b'{"site_id": "example.com", "metrics": ["visitors"], "x": "'
        for _ in range(100):
            yield b"a" * 1024
        yield b'"}'

    response = client.post(V2, content=chunks())
    assert (response.status_code, response.json()["code"]) == (413, "body_too_large")


def test_a_body_under_the_limit_still_works(client: TestClient) -> None:
    assert client.post(V2, json=body()).status_code == 200


def test_the_total_size_of_filter_values_is_bounded_for_the_parser() -> None:
    # Whatever the entry point, the parser refuses the case quickly.
    start = time.perf_counter()
    with pytest.raises(QueryError) as error:
        parse_query({**body(filters=HUGE_FILTERS), "site_id": "s1"})
    assert time.perf_counter() - start < 0.1
    assert error.value.code == "invalid_filters"


def test_the_total_size_of_filter_values_is_bounded_in_the_api(client: TestClient) -> None:
    # Under the body limit, yet more filter text than any real question needs.
    filters = [["contains", "page", ["/" + "b" * 299] * 5] for _ in range(12)]
    assert MAX_FILTER_CHARS < 12 * 5 * 300
    response, elapsed = timed(lambda: client.post(V2, json=body(filters=filters)))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_filters"
    assert "characters" in response.json()["message"]
    assert elapsed < 1.0  # refused before any query; generous, as the machine may be busy


def test_the_dashboard_url_shares_the_same_limits(client: TestClient) -> None:
    long_filters = "&".join(f"f=contains,page,/{i}{'c' * 1997}" for i in range(9))
    page = client.get(f"{MOUNT}/example.com?{long_filters}")
    assert page.status_code == 400
    assert "characters" in page.text
    too_many = "&".join(f"f=is,page,/{i}" for i in range(13))
    assert client.get(f"{MOUNT}/example.com?{too_many}").status_code == 400


async def test_a_slow_query_is_stopped_by_the_progress_handler(db: Path) -> None:
    store = SqliteStore(path=db, query_timeout_s=0.05)
    endless = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
               "SELECT count(*) FROM n")
    start = time.perf_counter()
    with pytest.raises(QueryTimeout):
        await store.execute(endless)
    assert time.perf_counter() - start < 2
    # The same store answers the next query: the interruption is per call.
    assert await store.execute("SELECT 1 AS one") == [{"one": 1}]


def test_a_query_past_its_budget_is_a_503_query_timeout(db: Path, tmp_path: Path) -> None:
    app = FastAPI()
    # A budget no real stats query fits in: ten years of daily buckets.
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp_path, query_timeout_s=1e-9))
    client = signed_in_client(app, db)
    response = client.post(V2, json=body(date_range=["2016-01-01", "2025-12-31"],
                                         dimensions=["time:day"]))
    assert response.status_code == 503
    assert response.json()["code"] == "query_timeout"
    assert set(response.json()) == {"code", "message", "error", "id"}


async def test_concurrent_queries_per_user_are_bounded(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp_path,
                                  max_concurrent_queries=2, query_queue_wait_s=0))
    user, other = add_user(db), add_user(db, name="Grace")
    # Queries wait at a gate the test opens, so "at once" is exact, not timing.
    gate, entered = asyncio.Event(), asyncio.Semaphore(0)
    real = api.run_queries

    async def gated(*args: Any, **kwargs: Any) -> Any:
        entered.release()
        await gate.wait()
        return await real(*args, **kwargs)

    monkeypatch.setattr(api, "run_queries", gated)
    url = f"http://test{MOUNT}/api/stats?site=example.com&period=7d"

    def as_(user_id: str) -> httpx.AsyncClient:
        cookies = {SESSION_COOKIE: new_session(db, user_id=user_id)}
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), cookies=cookies)

    async with as_(user) as mine, as_(other) as theirs:
        running = [asyncio.create_task(mine.get(url)) for _ in range(2)]
        for _ in running:
            await entered.acquire()
        # (Bounded, so a missing limit fails the test instead of hanging it at the gate.)
        refused = await asyncio.wait_for(mine.get(url), timeout=5)
        assert refused.status_code == 429
        assert refused.json()["code"] == "too_many_queries"
        assert refused.headers["Retry-After"] == "1"
        # Another user is not slowed by this one.
        elsewhere = asyncio.create_task(theirs.get(url))
        await entered.acquire()
        gate.set()
        assert [r.status_code for r in await asyncio.gather(*running, elsewhere)] == [200] * 3
        # Slots are given back.
        assert (await mine.get(url)).status_code == 200
