"""Tracker bytes: raw, gzip -9 and brotli for every built variant, against its budget.

The default script.js must stay within 1,024 bytes gzip -9; each opt-in feature may add at most
300 bytes, the errors add-on 700, the web-vitals add-on 1,000, the clicks add-on 400, identify
100 and returning 160 (issue 17), so a variant is held to 1,024 plus the budgets of its features
(and, feature by feature, to its budget over script.js — the build itself fails when one does
not; FEATURE_GZIP_BUDGETS in scripts/build-tracker.mjs holds the same numbers).
"""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

from scripts.devstack import BIN, ROOT

BUDGET_GZIP = 1024
BUDGET_PER_FEATURE = 300
# Features allowed more than BUDGET_PER_FEATURE.
FEATURE_BUDGETS = {"errors": 700, "web-vitals": 1000, "clicks": 400, "identify": 100,
                   "returning": 160}
# scripts/build-tracker.mjs writes each built variant here as well as into the Worker's module.
TRACKER_DIR = ROOT / "worker" / "tracker" / "dist"


def _brotli_sizes(paths: list[Path]) -> dict[str, int]:
    # Node's zlib has brotli built in, so no extra Python package is needed for this figure.
    script = ("const z=require('zlib'),f=require('fs'),o={};"
              "for(const p of process.argv.slice(1))o[p]=z.brotliCompressSync(f.readFileSync(p),"
              "{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}}).length;"
              "process.stdout.write(JSON.stringify(o))")
    done = subprocess.run([str(BIN / "node"), "-e", script, *map(str, paths)],
                          capture_output=True, text=True, check=True)
    sizes: dict[str, int] = json.loads(done.stdout)
    return sizes


def _features(path: Path) -> list[str]:
    return path.name.split(".")[1:-1]


def bench_tracker_size() -> None:
    """Print a table of every built tracker variant: raw, gzip -9, brotli, budget, verdict."""
    variants = sorted(TRACKER_DIR.glob("*.js"), key=lambda p: (len(_features(p)), p.name))
    if not variants:
        raise SystemExit(f"no built tracker in {TRACKER_DIR}: run `make build` first")
    brotli = _brotli_sizes(variants)
    base = len(gzip.compress((TRACKER_DIR / "script.js").read_bytes(), compresslevel=9))
    width = max(len(p.name) for p in variants)
    header = f"{'raw':>7} {'gzip -9':>8} {'brotli':>7} {'+gzip':>6} {'budget':>7}"
    print(f"  {'variant':<{width}} {header}")
    for path in variants:
        raw = path.read_bytes()
        packed = len(gzip.compress(raw, compresslevel=9))
        budget = BUDGET_GZIP + sum(FEATURE_BUDGETS.get(f, BUDGET_PER_FEATURE)
                                   for f in _features(path))
        verdict = "OK" if packed <= budget else "MISSED"
        print(f"  {path.name:<{width}} {len(raw):>7,} {packed:>8,} {brotli[str(path)]:>7,} "
              f"{packed - base:>+6} {budget:>7,} {verdict}", flush=True)
