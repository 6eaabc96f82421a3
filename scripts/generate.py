"""Write every generated file from the package's descriptions (analytics_941.generated.FILES).

    python scripts/generate.py

tests/test_generated.py fails while a file on disk differs from what this writes.
"""

from __future__ import annotations

from pathlib import Path

from analytics_941.generated import FILES

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    for path, make in FILES.items():
        target = ROOT / path
        text = make()
        if not target.exists() or target.read_text() != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            print(f"wrote {path}")
