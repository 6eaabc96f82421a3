"""Saved segments: saved from the dashboard's filter bar, listed in the site's settings, used in
the Stats API as ["is", "segment", [id]] (personal ones by their owner only), removed."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from auth_support import add_user, sign_in
from fastapi import FastAPI
from fastapi.testclient import TestClient

from analytics_941 import Settings, setup_analytics

MOUNT = "/admin/analytics"
SEGMENTS = f"{MOUNT}/settings/sites/example.com/segments"
V2 = f"{MOUNT}/api/v2/query"


def _app(db: Path, tmp_path: Path) -> FastAPI:
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp_path))
    return app


def _visitors(client: TestClient, filters: list[Any]) -> Any:
    response = client.post(V2, json={"site_id": "example.com", "metrics": ["visitors"],
                                     "date_range": "7d", "filters": filters})
    return response


def _ids(db: Path) -> list[int]:
    with sqlite3.connect(db) as conn:
        return [i for (i,) in conn.execute("SELECT id FROM segments ORDER BY id")]


def test_saved_from_the_filter_bar_and_used_in_the_api(client: TestClient, db: Path) -> None:
    page = client.get(f"{MOUNT}/example.com?period=7d&f=is,country,US")
    assert f'href="{SEGMENTS}?f=is%2Ccountry%2CUS"' in page.text  # "Save as segment"
    form = client.get(f"{SEGMENTS}?f=is,country,US")
    assert form.context["pending"] == (("is", "country", "US"),)
    assert "data-segment-form" in form.text
    saved = client.post(SEGMENTS, data={"name": " US  visitors ", "f": ["is,country,US"]},
                        follow_redirects=False)
    assert saved.status_code == 303, saved.text
    (segment_id,) = _ids(db)
    listing = client.get(SEGMENTS)
    (segment,) = listing.context["segments"]
    assert (segment.name, segment.personal) == ("US visitors", True)
    assert listing.context["applied"][segment_id].endswith("?f=is%2Ccountry%2CUS")
    direct = _visitors(client, [["is", "visit:country", ["US"]]]).json()
    by_segment = _visitors(client, [["is", "segment", [segment_id]]]).json()
    assert by_segment["results"] == direct["results"] and direct["results"][0]["metrics"][0]
    assert by_segment["query"]["filters"] == [["is", "segment", [segment_id]]]
    # Inside another filter too.
    negated = _visitors(client, [["not", ["is", "segment", [segment_id]]]]).json()
    everyone = _visitors(client, []).json()
    assert negated["results"][0]["metrics"][0] == (
        everyone["results"][0]["metrics"][0] - direct["results"][0]["metrics"][0])
    removed = client.post(f"{SEGMENTS}/{segment_id}/remove", follow_redirects=False)
    assert removed.status_code == 303 and _ids(db) == []
    gone = _visitors(client, [["is", "segment", [segment_id]]])
    assert gone.status_code == 400 and "no segment" in gone.json()["error"]


def test_personal_segments_are_their_owners(db: Path, tmp_path: Path) -> None:
    app = _app(db, tmp_path)
    owner, other, viewer = TestClient(app), TestClient(app), TestClient(app)
    sign_in(owner, db)
    sign_in(other, db, user_id=add_user(db, name="Bo"))
    sign_in(viewer, db, user_id=add_user(db, name="Val", is_admin=False,
                                         roles={"s1": "viewer"}))
    owner.post(SEGMENTS, data={"name": "Mine", "f": ["is,country,US"]})
    (mine,) = _ids(db)
    assert _visitors(other, [["is", "segment", [mine]]]).status_code == 400
    assert other.get(SEGMENTS).context["segments"] == []
    # Site-wide: an admin's to save, everyone's to use; a viewer may only save personal ones.
    refused = viewer.post(SEGMENTS, data={"name": "All", "scope": "site",
                                          "f": ["is,country,US"]})
    assert refused.status_code == 403 and _ids(db) == [mine]
    assert viewer.post(SEGMENTS, data={"name": "Val's", "f": ["is,country,US"]},
                       follow_redirects=False).status_code == 303
    other.post(SEGMENTS, data={"name": "Shared", "scope": "site", "f": ["is,device,Desktop"]})
    shared = _ids(db)[-1]
    assert _visitors(viewer, [["is", "segment", [shared]]]).status_code == 200
    # The viewer cannot remove a site-wide segment.
    viewer.post(f"{SEGMENTS}/{shared}/remove")
    assert shared in _ids(db)


def test_refusals(client: TestClient, db: Path) -> None:
    no_filters = client.post(SEGMENTS, data={"name": "Empty"})
    assert no_filters.status_code == 400 and "at least one filter" in no_filters.text
    bad = client.post(SEGMENTS, data={"name": "Bad", "f": ["is,planet,Mars"]})
    assert bad.status_code == 400 and _ids(db) == []
    unnamed = client.post(SEGMENTS, data={"name": "  ", "f": ["is,country,US"]})
    assert unnamed.status_code == 400 and _ids(db) == []
    wrong = _visitors(client, [["is", "segment", ["x"]]])
    assert wrong.status_code == 400


def test_stats_api_v1_names_a_segment(client: TestClient, db: Path) -> None:
    """v1's ``filters=segment==ID`` goes through the same expansion as v2's segment filter."""
    client.post(SEGMENTS, data={"name": "US visitors", "f": ["is,country,US"]})
    (segment_id,) = _ids(db)

    def v1(endpoint: str, filters: str, **params: str) -> Any:
        return client.get(f"{MOUNT}/api/v1/stats/{endpoint}",
                          params={"site_id": "example.com", "period": "7d",
                                  "filters": filters, **params})

    by_segment = v1("aggregate", f"segment=={segment_id}", metrics="visitors,pageviews")
    direct = v1("aggregate", "visit:country==US", metrics="visitors,pageviews")
    everyone = v1("aggregate", "", metrics="visitors,pageviews")
    assert by_segment.status_code == 200, by_segment.text
    assert by_segment.json() == direct.json()
    assert 0 < direct.json()["results"]["visitors"]["value"] \
        < everyone.json()["results"]["visitors"]["value"]
    # Combined with another condition, negated, and in a breakdown.
    both = v1("breakdown", f"segment=={segment_id};event:page==/", property="visit:country")
    assert both.json() == v1("breakdown", "visit:country==US;event:page==/",
                             property="visit:country").json()
    negated = v1("aggregate", f"segment!={segment_id}", metrics="visitors")
    assert negated.json() == v1("aggregate", "visit:country!=US", metrics="visitors").json()
    # The simple GET API reads the same filter (a personal segment: its owner's).
    simple = client.get(f"{MOUNT}/api/v1/stats", params={
        "site_id": "example.com", "period": "7d", "filters": f"segment=={segment_id}"})
    assert simple.status_code == 200, simple.text
    assert simple.json()["visitors"] == direct.json()["results"]["visitors"]["value"]
    assert v1("aggregate", "segment==999").status_code == 400
    wrong = v1("aggregate", "segment==US")
    assert wrong.status_code == 400 and "ids of saved segments" in wrong.text
