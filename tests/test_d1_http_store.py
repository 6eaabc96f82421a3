"""``D1HttpStore`` against responses shaped like Cloudflare's documented ``/query`` envelopes."""

from __future__ import annotations

import json

import httpx
import pytest
from pytest_httpx import HTTPXMock

from analytics_941 import D1Error, D1HttpStore

URL = "https://api.cloudflare.com/client/v4/accounts/acc123/d1/database/db456/query"
META = {
    "changed_db": False,
    "changes": 0,
    "duration": 0.2,
    "last_row_id": 0,
    "rows_read": 1,
    "rows_written": 0,
    "served_by_primary": True,
    "size_after": 8192,
}


def ok(*results: list[dict[str, object]]) -> dict[str, object]:
    return {
        "success": True,
        "errors": [],
        "messages": [],
        "result": [{"success": True, "results": rows, "meta": META} for rows in results],
    }


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
async def d1(sleeps: list[float]):  # type: ignore[no-untyped-def]
    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    store = D1HttpStore(
        account_id="acc123",
        database_id="db456",
        api_token="tok",  # noqa: S106 (a fake token for a mocked API)
        sleep=fake_sleep,
        jitter=lambda: 0.5,
    )
    yield store
    await store.aclose()


async def test_execute_sends_sql_params_and_bearer_token(
    d1: D1HttpStore, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(method="POST", url=URL, json=ok([{"id": "s1", "domain": "a.com"}]))
    rows = await d1.execute("SELECT id, domain FROM sites WHERE domain = ?", ["a.com"])
    assert rows == [{"id": "s1", "domain": "a.com"}]
    request = httpx_mock.get_requests()[0]
    assert request.headers["Authorization"] == "Bearer tok"
    assert json.loads(request.content) == {
        "sql": "SELECT id, domain FROM sites WHERE domain = ?",
        "params": ["a.com"],
    }


async def test_batch_form_returns_one_result_per_statement(
    d1: D1HttpStore, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(method="POST", url=URL, json=ok([{"n": 1}], [{"n": 2}, {"n": 3}]))
    results = await d1.batch([("SELECT 1 AS n", []), ("SELECT ? AS n", ["2"])])
    assert results == [[{"n": 1}], [{"n": 2}, {"n": 3}]]
    assert json.loads(httpx_mock.get_requests()[0].content) == {
        "batch": [{"sql": "SELECT 1 AS n", "params": []}, {"sql": "SELECT ? AS n", "params": ["2"]}]
    }


async def test_bad_sql_raises_d1_error_with_cloudflare_code_and_message(
    d1: D1HttpStore, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    body = {
        "success": False,
        "errors": [
            {"code": 7500, "message": 'near "SELEC": syntax error at offset 0: SQLITE_ERROR'}
        ],
        "messages": [],
        "result": [],
    }
    httpx_mock.add_response(method="POST", url=URL, status_code=400, json=body)
    with pytest.raises(D1Error) as info:
        await d1.execute("SELEC 1")
    assert (info.value.code, info.value.status) == (7500, 400)
    assert "syntax error" in info.value.message
    assert sleeps == []  # a 400 is not retried


async def test_429_is_retried_with_backoff_then_succeeds(
    d1: D1HttpStore, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    limited = {
        "success": False,
        "errors": [{"code": 971, "message": "Please wait"}],
        "messages": [],
        "result": [],
    }
    httpx_mock.add_response(method="POST", url=URL, status_code=429, json=limited)
    httpx_mock.add_response(method="POST", url=URL, status_code=503, text="upstream busy")
    httpx_mock.add_response(method="POST", url=URL, json=ok([{"n": 1}]))
    assert await d1.execute("SELECT 1 AS n") == [{"n": 1}]
    # Full jitter over 0.25 * 2**attempt, with jitter pinned to 0.5.
    assert sleeps == [0.125, 0.25]


async def test_retries_are_bounded(
    d1: D1HttpStore, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    limited = {
        "success": False,
        "errors": [{"code": 971, "message": "Please wait"}],
        "messages": [],
        "result": [],
    }
    for _ in range(4):
        httpx_mock.add_response(method="POST", url=URL, status_code=429, json=limited)
    with pytest.raises(D1Error) as info:
        await d1.execute("SELECT 1")
    assert (info.value.code, info.value.status, info.value.message) == (971, 429, "Please wait")
    assert len(sleeps) == 3


async def test_transport_errors_are_retried(
    d1: D1HttpStore, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    httpx_mock.add_exception(httpx.ConnectTimeout("timed out"), method="POST", url=URL)
    httpx_mock.add_response(method="POST", url=URL, json=ok([]))
    assert await d1.execute("SELECT 1") == []
    assert len(sleeps) == 1


def failed_statement(**error: object) -> dict[str, object]:
    return {"success": False, "results": [], "meta": META, **error}


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        # The text D1's own client reports for a failed statement...
        ({"error": "D1_ERROR: no such table: nope: SQLITE_ERROR"}, 0),
        # ...or Cloudflare's {code, message} list, as the envelope carries it.
        ({"errors": [{"code": 7500, "message": "no such table: nope: SQLITE_ERROR"}]}, 7500),
    ],
)
async def test_a_failed_statement_carries_its_own_error(
    d1: D1HttpStore, httpx_mock: HTTPXMock, failure: dict[str, object], code: int
) -> None:
    body = ok([{"n": 1}])
    body["result"] = [*body["result"], failed_statement(**failure)]  # type: ignore[misc]
    httpx_mock.add_response(method="POST", url=URL, json=body)
    with pytest.raises(D1Error) as info:
        await d1.batch([("SELECT 1 AS n", []), ("SELECT * FROM nope", [])])
    assert info.value.code == code
    assert info.value.message.startswith("statement 2 of 2 failed:")
    assert "no such table: nope" in info.value.message


async def test_a_failed_statement_without_details_falls_back_to_the_envelope(
    d1: D1HttpStore, httpx_mock: HTTPXMock
) -> None:
    body = {"success": True, "errors": [{"code": 7500, "message": "SQLITE_BUSY"}],
            "messages": [], "result": [failed_statement()]}
    httpx_mock.add_response(method="POST", url=URL, json=body)
    with pytest.raises(D1Error) as info:
        await d1.execute("SELECT 1")
    assert (info.value.code, info.value.message) == (7500, "statement 1 of 1 failed: SQLITE_BUSY")


@pytest.mark.parametrize(
    ("errors", "code", "message"),
    [
        ([{"code": "7500", "message": "syntax error"}], 7500, "syntax error"),
        ([{"code": "SQLITE_ERROR", "message": "syntax error"}], 0,
         "syntax error [SQLITE_ERROR]"),
        ([{"code": None, "message": "syntax error"}], 0, "syntax error"),
        ([{"code": 7500.0, "message": "syntax error"}], 0, "syntax error [7500.0]"),
        (["a bare string"], 0, "a bare string"),
        ({"code": 7500}, 0, "HTTP 400 without details"),
        ([], 0, "HTTP 400 without details"),
    ],
)
async def test_odd_error_codes_do_not_crash_the_parser(
    d1: D1HttpStore, httpx_mock: HTTPXMock, errors: object, code: int, message: str
) -> None:
    body = {"success": False, "errors": errors, "messages": [], "result": None}
    httpx_mock.add_response(method="POST", url=URL, status_code=400, json=body)
    with pytest.raises(D1Error) as info:
        await d1.execute("SELEC 1")
    assert (info.value.code, info.value.message, info.value.status) == (code, message, 400)
