"""The install snippet: ticked tracker features build the script tag, on the server, through a
GET form (so it works without JavaScript)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from auth_support import MOUNT, one_site_db, signed_in_admin
from fastapi.testclient import TestClient

from analytics_941.web.account.snippet import FEATURES, Install, script_tag

ROOT = Path(__file__).resolve().parents[1]
COLLECTOR = "https://collector.example.net"


def test_the_features_offered_are_the_ones_the_collector_serves() -> None:
    # The tracker build names the variants (scripts/build-tracker.mjs); same names, same order.
    source = (ROOT / "scripts" / "build-tracker.mjs").read_text()
    block = source[source.index("export const FEATURES = {"):]
    served = re.findall(r'^\s+"([a-z-]+)":', block[:block.index("};")], re.MULTILINE)
    assert [name for name, _label in FEATURES] == served


@pytest.mark.parametrize(
    ("features", "hash_routing", "consent", "tag"),
    [
        ((), False, False,
         f'<script defer data-domain="example.com" src="{COLLECTOR}/script.js"></script>'),
        (("form-submissions", "outbound-links"), False, False,
         f'<script defer data-domain="example.com" '
         f'src="{COLLECTOR}/script.outbound-links.form-submissions.js"></script>'),
        (("tagged-events", "bogus"), True, False,
         f'<script defer data-domain="example.com" data-hash '
         f'src="{COLLECTOR}/script.tagged-events.js"></script>'),
        (("errors",), False, True,
         f'<script defer data-domain="example.com" data-consent="required" '
         f'src="{COLLECTOR}/script.errors.js"></script>'),
    ],
)
def test_the_tag(features: tuple[str, ...], hash_routing: bool, consent: bool, tag: str) -> None:
    install = Install.chosen(features, hash_routing=hash_routing, consent=consent)
    assert script_tag(collector_url=COLLECTOR, domain="example.com", install=install) == tag


@pytest.fixture
def admin(tmp_path: Path) -> TestClient:
    return signed_in_admin(one_site_db(tmp_path))


def test_the_settings_page_builds_it_from_a_get_form(admin: TestClient) -> None:
    page = admin.get(f"{MOUNT}/settings/sites/example.com",
                     params=[("feature", "file-downloads"), ("feature", "outbound-links"),
                             ("hash", "on"), ("consent", "on")])
    context = page.context  # type: ignore[attr-defined]
    assert context["install"] == Install(features=("outbound-links", "file-downloads"),
                                         hash_routing=True, consent=True)
    assert "script.outbound-links.file-downloads.js" in context["snippet"]
    assert "data-hash" in context["snippet"]
    assert 'data-consent="required"' in context["snippet"]
    html = page.text
    assert re.search(r'<form method="get" action="[^"]+/settings/sites/example.com#snippet"', html)
    for box in ("feature-outbound-links", "feature-file-downloads", "feature-hash",
                "feature-consent"):
        assert re.search(rf'id="{box}" checked', html), box
    assert not re.search(r'id="feature-tagged-events" checked', html)
    # With no options, the basic script.
    plain = admin.get(f"{MOUNT}/settings/sites/example.com")
    assert plain.context["snippet"].endswith('/script.js"></script>')  # type: ignore[attr-defined]
