"""``TtlCache``, the one time-limited cache the result and lookup caches are built on."""

from __future__ import annotations

from analytics_941.cache import ResultCache
from analytics_941.query import parse_query
from analytics_941.ttl_cache import TtlCache


def test_an_entry_lives_its_own_ttl_when_given_one() -> None:
    now = [0.0]
    cache: TtlCache[str, int] = TtlCache(ttl_s=3600, max_entries=4, clock=lambda: now[0])
    cache.put("short", 1, ttl_s=30)
    cache.put("long", 2)
    now[0] = 30.0
    assert cache.get("short") is None and cache.get("long") == 2
    now[0] = 3600.0
    assert cache.get("long") is None and len(cache) == 0


def test_a_put_renews_an_entry_and_discard_counts_what_it_forgot() -> None:
    now = [0.0]
    cache: TtlCache[str, int] = TtlCache(ttl_s=10, max_entries=2, clock=lambda: now[0])
    cache.put("a", 1)
    cache.put("b", 2)
    now[0] = 9.0
    cache.put("a", 3)  # renewed and most recently used: "b" goes first
    cache.put("c", 4)
    assert [cache.get(k) for k in "abc"] == [3, None, 4]
    now[0] = 18.9
    assert cache.get("a") == 3
    assert cache.discard(lambda _key, value: value > 2) == 2
    assert len(cache) == 0


def test_results_of_a_period_reaching_today_expire_first() -> None:
    now = [0.0]
    cache = ResultCache(open_ttl_s=30, closed_ttl_s=3600, clock=lambda: now[0])
    spec = {"site_id": "s1", "metrics": ["visitors"]}
    live = parse_query({**spec, "date_range": "day"}, timezone="UTC")
    closed = parse_query({**spec, "date_range": ["2024-01-01", "2024-01-31"]}, timezone="UTC")
    cache.put(live, {"results": [1]})
    cache.put(closed, {"results": [2]})
    now[0] = 30.0
    assert cache.get(live) is None and cache.get(closed) == {"results": [2]}
    now[0] = 3600.0
    assert cache.get(closed) is None
