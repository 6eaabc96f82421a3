"""Compound SELECTs D1 accepts: it refuses one of more than five terms ("too many terms in
compound SELECT"; SQLite's own default is 500), so longer lists of arms are nested."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["D1_COMPOUND_TERMS", "union_all"]

D1_COMPOUND_TERMS = 5


def union_all(arms: Sequence[str], *, op: str = "UNION ALL") -> str:
    """``arms`` joined by ``op``, runs of up to five each wrapped as ``SELECT * FROM (…)`` (and
    those again) so that no compound has more than five terms. Columns are named by the first
    arm, as in one flat compound; each arm must be valid as a term of one."""
    if len(arms) <= D1_COMPOUND_TERMS:
        return f" {op} ".join(arms)
    runs = [arms[i:i + D1_COMPOUND_TERMS] for i in range(0, len(arms), D1_COMPOUND_TERMS)]
    return union_all([run[0] if len(run) == 1 else f"SELECT * FROM ({union_all(run, op=op)})"
                      for run in runs], op=op)
