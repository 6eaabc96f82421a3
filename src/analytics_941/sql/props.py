"""An events row's props as every statement reads them."""

from __future__ import annotations

__all__ = ["PROPS"]

# SQL: the row's props, NULL when they are not valid JSON. The collector writes only valid JSON,
# but one row written otherwise must not fail every statement reading props (json_extract raises
# on malformed JSON): such a row reads as having no props.
PROPS = "(CASE WHEN json_valid(props) THEN props END)"
