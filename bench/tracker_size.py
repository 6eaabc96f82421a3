"""Tracker bytes: raw, gzip -9 and brotli for every built variant, against the 1 KB budget."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

from bench.report import figure
from scripts.devstack import BIN, ROOT

BUDGET_GZIP = 1024
# scripts/build-tracker.mjs writes each built variant here as well as into the Worker's module.
TRACKER_DIR = ROOT / "worker" / "tracker" / "dist"


def _brotli_size(path: Path) -> int:
    # Node's zlib has brotli built in, so no extra Python package is needed for this figure.
    script = ("const z=require('zlib'),f=require('fs');"
              "process.stdout.write(String(z.brotliCompressSync(f.readFileSync(process.argv[1]),"
              "{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}}).length))")
    done = subprocess.run([str(BIN / "node"), "-e", script, str(path)], capture_output=True,
                          text=True, check=True)
    return int(done.stdout)


def bench_tracker_size() -> None:
    """Print the size figures of each built tracker variant."""
    variants = sorted(TRACKER_DIR.glob("*.js"))
    if not variants:
        raise SystemExit(f"no built tracker in {TRACKER_DIR}: run `make build` first")
    for path in variants:
        raw = path.read_bytes()
        figure(f"{path.name} raw", len(raw), "bytes")
        figure(f"{path.name} gzip -9", len(gzip.compress(raw, compresslevel=9)), "bytes",
               target=BUDGET_GZIP)
        figure(f"{path.name} brotli", _brotli_size(path), "bytes")
