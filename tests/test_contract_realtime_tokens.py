"""The realtime token contract: the dashboard signs, the collector verifies. The tokens in
tests/fixtures/contracts/realtime_tokens.json are what ``realtime_token`` makes; the Worker's
twin test (worker/test/realtime-token-contract.test.ts) verifies the same tokens with its own
code, so neither side can change the format alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from analytics_941.realtime import realtime_token

CONTRACT: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "contracts" / "realtime_tokens.json").read_text("utf-8")
)


@pytest.mark.parametrize("case", CONTRACT["cases"], ids=[c["site"] for c in CONTRACT["cases"]])
def test_the_dashboard_signs_tokens_as_the_contract_says(case: dict[str, Any]) -> None:
    token = realtime_token(case["site"], CONTRACT["secret"], case["ttl"], now=case["now"])
    assert token == case["token"]
