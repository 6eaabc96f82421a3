"""Send believable demo traffic through the real collector's public endpoint.

Visitors differ by IP and user agent (the two inputs of the visitor hash), arrive from search,
social, a newsletter or directly, read one to four pages, and come from one of a few cities
(simulated: see PLACES). Used by `make demo`; the
end-to-end tests use a real browser instead.
"""

from __future__ import annotations

import json
import random
from urllib.parse import urlencode

import httpx

USER_AGENTS = [
    # desktop
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    # mobile
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    # tablet
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Mobile/15E148 Safari/604.1",
]

ARRIVALS = [
    (None, ""),
    ("https://www.google.com/", ""),
    ("https://www.google.com/", ""),
    ("https://news.ycombinator.com/item?id=1", ""),
    ("https://t.co/abc", ""),
    (None, "?utm_source=newsletter&utm_medium=email&utm_campaign=launch"),
]

# Where the simulated visitors are: `wrangler dev` would place every one in its placeholder
# location, so the demo sends one of these in the header a development collector reads
# (SIMULATED_GEO, worker/src/collector/enrich/geo.ts); a deployed collector ignores it. The
# region code is Cloudflare's `regionCode` (the part after the country in ISO 3166-2).
PLACES = [
    ("US", "California", "CA", "San Francisco", "America/Los_Angeles"),
    ("US", "New York", "NY", "New York", "America/New_York"),
    ("US", "Texas", "TX", "Austin", "America/Chicago"),
    ("DE", "Berlin", "BE", "Berlin", "Europe/Berlin"),
    ("DE", "Bavaria", "BY", "Munich", "Europe/Berlin"),
    ("GB", "England", "ENG", "London", "Europe/London"),
    ("FR", "Île-de-France", "IDF", "Paris", "Europe/Paris"),
    ("NL", "North Holland", "NH", "Amsterdam", "Europe/Amsterdam"),
    ("IN", "Karnataka", "KA", "Bengaluru", "Asia/Kolkata"),
    ("JP", "Tokyo", "13", "Tokyo", "Asia/Tokyo"),
    ("BR", "São Paulo", "SP", "São Paulo", "America/Sao_Paulo"),
    ("CA", "Ontario", "ON", "Toronto", "America/Toronto"),
    ("AU", "New South Wales", "NSW", "Sydney", "Australia/Sydney"),
    ("ZA", "Western Cape", "WC", "Cape Town", "Africa/Johannesburg"),
    ("SE", "Stockholm County", "AB", "Stockholm", "Europe/Stockholm"),
]
PLACE_WEIGHTS = [9, 6, 4, 6, 3, 6, 4, 3, 4, 3, 3, 3, 2, 1, 2]
SIMULATED_GEO_HEADER = "X-941-Simulated-Geo"

PAGES = ["/", "/pricing", "/blog/hello-world", "/blog/privacy", "/docs/install", "/app"]
WIDTHS = [390, 820, 1280, 1920]


def send_demo_traffic(*, collector_url: str, domain: str, site_url: str, visitors: int = 40,
                      seed: int = 941) -> int:
    """Send pageviews for `visitors` simulated visitors; return how many the collector accepted."""
    rng = random.Random(seed)  # noqa: S311 - repeatable demo data, nothing secret
    accepted = 0
    with httpx.Client(base_url=collector_url, timeout=10.0) as client:
        for n in range(visitors):
            ip = f"198.51.100.{n % 250 + 1}"  # TEST-NET-2 documentation range: never a real visitor
            ua = rng.choice(USER_AGENTS)
            referrer, query = rng.choice(ARRIVALS)
            path = rng.choices(PAGES, weights=[8, 4, 3, 2, 2, 1])[0]
            width = rng.choice(WIDTHS)
            country, region, code, city, timezone = rng.choices(PLACES, weights=PLACE_WEIGHTS)[0]
            # URL-encoded: a header carries ASCII only ("São Paulo").
            place = urlencode({"country": country, "region": region, "regionCode": code,
                               "city": city, "timezone": timezone})
            for step in range(rng.choice([1, 1, 2, 3, 4])):
                body = {"n": "pageview", "u": f"{site_url}{path}{query if step == 0 else ''}",
                        "d": domain, "r": referrer if step == 0 else f"{site_url}/", "w": width}
                response = client.post(
                    "/api/event", content=json.dumps(body),
                    headers={"Content-Type": "text/plain", "User-Agent": ua,
                             "CF-Connecting-IP": ip, "X-Forwarded-For": ip,
                             SIMULATED_GEO_HEADER: place},
                )
                accepted += response.status_code == 202
                path = rng.choice(PAGES)
    return accepted
