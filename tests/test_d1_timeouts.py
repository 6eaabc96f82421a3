"""``D1HttpStore`` under a query-time budget: D1's own timeouts and a read timeout on our side are
``QueryTimeout`` (503 ``query_timeout`` at the edge), and a timed-out query is not sent again."""

from __future__ import annotations

import httpx
import pytest
from pytest_httpx import HTTPXMock

from analytics_941 import D1Error, D1HttpStore
from analytics_941.exceptions import QueryTimeout

URL = "https://api.cloudflare.com/client/v4/accounts/acc/d1/database/db/query"


@pytest.fixture
async def d1():  # type: ignore[no-untyped-def]
    async def no_wait(_seconds: float) -> None:
        return None

    store = D1HttpStore(account_id="acc", database_id="db", api_token="tok",  # noqa: S106
                        timeout=3.0, sleep=no_wait)
    yield store
    await store.aclose()


@pytest.mark.parametrize("message", [
    "D1 DB storage operation exceeded timeout which caused object to be reset.",
    "D1_ERROR: Query timed out",
])
async def test_d1s_own_timeout_is_a_query_timeout(
    d1: D1HttpStore, httpx_mock: HTTPXMock, message: str
) -> None:
    httpx_mock.add_response(method="POST", url=URL, status_code=400, json={
        "success": False, "errors": [{"code": 7500, "message": message}], "result": []})
    with pytest.raises(QueryTimeout):
        await d1.execute("SELECT 1")


async def test_a_read_timeout_is_not_retried(d1: D1HttpStore, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), method="POST", url=URL)
    with pytest.raises(QueryTimeout):
        await d1.execute("SELECT 1")
    assert len(httpx_mock.get_requests()) == 1


async def test_other_errors_stay_d1_errors(d1: D1HttpStore, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="POST", url=URL, status_code=400, json={
        "success": False, "errors": [{"code": 7500, "message": "no such table: x"}],
        "result": []})
    with pytest.raises(D1Error) as info:
        await d1.execute("SELECT * FROM x")
    assert not isinstance(info.value, QueryTimeout)
