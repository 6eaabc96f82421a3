"""The generated files are what their descriptions make now (run scripts/generate.py), and the
descriptions match what they describe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analytics_941.generated import FILES

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("path", sorted(FILES))
def test_generated_file_is_fresh(path: str) -> None:
    stale = f"stale: run python scripts/generate.py ({path})"
    assert (ROOT / path).read_text() == FILES[path](), stale


def test_each_generated_file_names_its_generator() -> None:
    for path in FILES:
        named = set(re.findall(r"scripts/[\w.-]+\.py", (ROOT / path).read_text()[:300]))
        assert named == {"scripts/generate.py"}, path
    assert (ROOT / "scripts" / "generate.py").is_file()
