"""The tracker's variants ship as static assets, not in the Worker's bundle (wrangler.toml
[assets], worker/src/collector/tracker.ts): these checks keep the pieces pointing at each other."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wrangler_serves_the_folder_the_build_writes_and_builds_it_first() -> None:
    config = tomllib.loads((ROOT / "wrangler.toml").read_text())
    build_script = (ROOT / "scripts/build-tracker.mjs").read_text()
    dist = re.search(r'const distDir = join\(root, "([^"]+)"\)', build_script)
    assert dist is not None
    assert config["assets"]["directory"] == dist.group(1)
    assert config["assets"]["binding"] == "ASSETS"
    # Without it the assets would answer first, without the tracker's cache and CORS headers.
    assert config["assets"]["run_worker_first"] is True
    assert config["build"]["command"].startswith("node scripts/build.mjs tracker")


def test_the_worker_never_imports_the_test_only_variant_module() -> None:
    importers = [path.relative_to(ROOT) for path in (ROOT / "worker/src").rglob("*.ts")
                 if "tracker-variants" in path.read_text() and path.name != "tracker-variants.ts"]
    assert importers == []
