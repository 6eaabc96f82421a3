"""Write worker/src/rollup/statements.ts from analytics_941.rollups (the one source of the SQL).

    python scripts/gen_rollup_statements.py
"""

from __future__ import annotations

from pathlib import Path

from analytics_941.rollups.typescript import typescript_module

TARGET = Path(__file__).resolve().parent.parent / "worker" / "src" / "rollup" / "statements.ts"

if __name__ == "__main__":
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(typescript_module())
    print(f"wrote {TARGET}")
