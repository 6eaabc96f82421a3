"""One line per figure: name, value, target, and whether the target holds."""

from __future__ import annotations


def figure(name: str, value: float, unit: str, *, target: float | None = None,
           higher_is_better: bool = False) -> None:
    """Print a figure; with a target, say whether it is met."""
    whole = not isinstance(value, float) or value.is_integer()
    shown = f"{value:,.0f}" if whole else f"{value:,.1f}"
    line = f"  {name:<44} {shown:>12} {unit:<8}"
    if target is not None:
        met = value >= target if higher_is_better else value <= target
        sign = "≥" if higher_is_better else "≤"
        line += f" target {sign} {target:,.0f} {unit:<8} {'OK' if met else 'MISSED'}"
    print(line, flush=True)
