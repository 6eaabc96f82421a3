"""``D1HttpStore``: the ``Store`` over Cloudflare D1's REST API (``/d1/database/{id}/query``).

Owns the wire format (single and batch bodies, the ``{success, errors, result}`` envelope), the
retry policy (bounded exponential backoff with full jitter on 429, 5xx and transport errors) and
turning Cloudflare's errors into ``D1Error``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

from .cache import StoreCaches
from .exceptions import D1Error, QueryTimeout
from .store import Param, Row, Statement

__all__ = ["D1HttpStore"]

API_BASE = "https://api.cloudflare.com/client/v4"
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class D1HttpStore:
    """Run SQL on a Cloudflare D1 database through the HTTP API with an API token.

    ``max_attempts`` bounds the retries; the wait before attempt *n* is a random fraction of
    ``min(backoff_cap, backoff_base * 2**n)`` (full jitter), or Cloudflare's ``Retry-After`` when
    it is shorter than the cap. ``sleep`` and ``jitter`` are injectable so tests need no waiting.

    Cloudflare allows 1,200 REST requests per 5 minutes per token, so the store carries its own
    caches (``caches``, fresh ones unless given): results, sessions, tokens and sites.
    """

    def __init__(
        self,
        *,
        account_id: str,
        database_id: str,
        api_token: str,
        client: httpx.AsyncClient | None = None,
        base_url: str = API_BASE,
        timeout: float = 30.0,
        max_attempts: int = 4,
        backoff_base: float = 0.25,
        backoff_cap: float = 4.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        caches: StoreCaches | None = None,
    ) -> None:
        self.caches = caches if caches is not None else StoreCaches()
        self._url = f"{base_url}/accounts/{account_id}/d1/database/{database_id}/query"
        self._headers = {"Authorization": f"Bearer {api_token}"}
        self._owns_client = client is None
        # D1 caps a query at 30 s server-side; ``timeout`` (``query_timeout_s``) is our own
        # budget, usually shorter: past it the caller gets ``QueryTimeout``, not a retry.
        self._timeout_s = timeout
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._max_attempts = max(1, max_attempts)
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        self._jitter = jitter

    async def execute(self, sql: str, params: Sequence[Param] = ()) -> list[Row]:
        """Run one statement and return its rows as dicts."""
        (rows,) = await self._post({"sql": sql, "params": list(params)}, expected=1)
        return rows

    async def batch(self, statements: Sequence[Statement]) -> list[list[Row]]:
        """Run several statements in one request (D1 runs a batch as one transaction)."""
        if not statements:
            return []
        body = {"batch": [{"sql": sql, "params": list(params)} for sql, params in statements]}
        return await self._post(body, expected=len(statements))

    async def aclose(self) -> None:
        """Close the HTTP client if this store created it."""
        if self._owns_client:
            await self._client.aclose()

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        ceiling = min(self._backoff_cap, self._backoff_base * 2**attempt)
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after is not None and retry_after.isdigit():
            return min(self._backoff_cap, float(retry_after))
        return float(ceiling * self._jitter())

    async def _post(self, body: dict[str, Any], *, expected: int) -> list[list[Row]]:
        for attempt in range(self._max_attempts):
            last = attempt == self._max_attempts - 1
            try:
                response = await self._client.post(self._url, json=body, headers=self._headers)
            except httpx.ReadTimeout as exc:
                # The query may still be running at D1: retrying would only pile more work on.
                raise QueryTimeout(f"D1 did not answer within {self._timeout_s} s") from exc
            except httpx.TransportError as exc:
                # Connection resets and timeouts are transient on Cloudflare's edge: retry.
                if last:
                    raise D1Error(code=0, message=f"request failed: {exc!r}", status=0) from exc
                await self._sleep(self._delay(attempt, None))
                continue
            if response.status_code in _RETRY_STATUSES and not last:
                await self._sleep(self._delay(attempt, response))
                continue
            try:
                return _parse_envelope(response, expected=expected)
            except D1Error as exc:
                if _is_timeout(exc.message):
                    raise QueryTimeout(f"D1 stopped the query: {exc.message}") from exc
                raise
        raise AssertionError("unreachable: the last attempt always returns or raises")


def _is_timeout(message: str) -> bool:
    """True for D1's own time-limit errors ("…timed out", "…exceeded timeout…")."""
    text = message.lower()
    return "timed out" in text or "timeout" in text


def _code(value: Any) -> int:
    """Cloudflare's numeric error code; 0 for a missing or non-numeric one (never a crash)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return 0


def _first_error(errors: Any) -> tuple[int, str | None]:
    """``(code, message)`` of the first ``{code, message}`` in Cloudflare's ``errors`` list.

    A non-numeric code stays visible in the message, since ``D1Error.code`` is a number.
    """
    first = errors[0] if isinstance(errors, list) and errors else None
    if isinstance(first, str):
        return 0, first
    if not isinstance(first, dict):
        return 0, None
    raw_code, message = first.get("code"), first.get("message")
    code = _code(raw_code)
    text = None if message is None else str(message)
    if raw_code is not None and code == 0 and str(raw_code) not in ("", "0"):
        text = f"{text or 'error'} [{raw_code}]"
    return code, text


def _statement_error(result: dict[str, Any]) -> tuple[int, str | None]:
    """What a failed statement's result says about itself: ``error`` (the text D1's own client
    reports), an ``errors`` list like the envelope's, or a ``message``."""
    if isinstance(result.get("error"), str) and result["error"]:
        return _code(result.get("code")), result["error"]
    code, message = _first_error(result.get("errors"))
    if message is None and result.get("message") is not None:
        message = str(result["message"])
    return code, message


def _parse_envelope(response: httpx.Response, *, expected: int) -> list[list[Row]]:
    """Turn Cloudflare's ``{success, errors, result}`` envelope into rows, or raise ``D1Error``."""
    try:
        envelope = response.json()
    except ValueError:
        text = f"non-JSON response: {response.text[:200]!r}"
        raise D1Error(code=0, message=text, status=response.status_code) from None
    if not isinstance(envelope, dict):
        raise D1Error(code=0, message="unexpected response shape", status=response.status_code)
    if not envelope.get("success") or response.is_error:
        code, detail = _first_error(envelope.get("errors"))
        raise D1Error(
            code=code,
            message=detail or f"HTTP {response.status_code} without details",
            status=response.status_code,
        )
    results = envelope.get("result") or []
    if not isinstance(results, list) or len(results) != expected:
        count = len(results) if isinstance(results, list) else "no list of"
        raise D1Error(
            code=0,
            message=f"expected {expected} statement results, got {count}",
            status=response.status_code,
        )
    for index, result in enumerate(results, start=1):
        if not isinstance(result, dict):
            raise D1Error(
                code=0,
                message=f"statement {index} of {expected}: unexpected result shape",
                status=response.status_code,
            )
        if not result.get("success", True):
            code, detail = _statement_error(result)
            if detail is None:
                # Nothing on the statement itself: the envelope's errors may still say why.
                code, detail = _first_error(envelope.get("errors"))
            raise D1Error(
                code=code,
                message=f"statement {index} of {expected} failed: {detail or 'no details given'}",
                status=response.status_code,
            )
    return [list(result.get("results") or []) for result in results]
