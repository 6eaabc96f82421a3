"""The words the dashboard shares with the collector, read from ``words.json`` beside this module
(the Worker imports the same file): drop reasons, bot categories, rate-limit buckets, and the
labels pages show for them."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

__all__ = ["BOT_CATEGORIES", "DROP_REASONS", "RATE_LIMIT_BUCKETS", "category_label", "reason_label"]

_WORDS: dict[str, Any] = json.loads(files(__package__).joinpath("words.json").read_text("utf-8"))

#: drop reason -> {"status", "label", and "one" where the label is a plural noun}
DROP_REASONS: dict[str, dict[str, Any]] = _WORDS["drop_reasons"]
#: bot category -> label
BOT_CATEGORIES: dict[str, str] = _WORDS["bot_categories"]
#: rate-limit bucket -> {"label", "message"}
RATE_LIMIT_BUCKETS: dict[str, dict[str, str]] = _WORDS["rate_limit_buckets"]

_CATEGORY_LABELS: dict[str, dict[str, str]] = {
    "bot": BOT_CATEGORIES,
    "rate_limited": {key: value["label"] for key, value in RATE_LIMIT_BUCKETS.items()},
}


def _fallback(key: str) -> str:
    # A word a newer collector stored that this dashboard does not know yet.
    return key.replace("_", " ") or "unknown"


def reason_label(reason: str, *, count: int = 2) -> str:
    """How pages name a drop reason ("bots", or "bot" for one)."""
    entry = DROP_REASONS.get(reason)
    if entry is None:
        return _fallback(reason)
    return str(entry.get("one", entry["label"]) if count == 1 else entry["label"])


def category_label(reason: str, category: str) -> str:
    """How pages name the category of a drop (a bot category, a rate-limit bucket)."""
    return _CATEGORY_LABELS.get(reason, {}).get(category) or _fallback(category)
