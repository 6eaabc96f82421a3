"""The API token hash contract: the dashboard stores ``hash_token(secret)``, the collector's bulk
ingestion looks tokens up by its own hash of the bearer secret. The hashes in
tests/fixtures/contracts/api_token_hashes.json are what ``hash_token`` makes; the Worker's twin
test (worker/test/bulk-token-contract.test.ts) computes the same with its own code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from analytics_941.auth.crypto import hash_token

CONTRACT: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "contracts" / "api_token_hashes.json").read_text("utf-8")
)


@pytest.mark.parametrize("case", CONTRACT["cases"], ids=[c["secret"] for c in CONTRACT["cases"]])
def test_the_dashboard_hashes_tokens_as_the_contract_says(case: dict[str, Any]) -> None:
    assert hash_token(case["secret"]) == case["hash"]
