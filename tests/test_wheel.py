"""Smoke test of the built wheel: installed into a fresh virtualenv, it renders the dashboard
from its own copy of the templates and static bundle (nothing from this source tree)."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from seeding import ROOT

pytestmark = pytest.mark.slow

SMOKE = r"""
import hashlib, re, sqlite3, sys
from pathlib import Path

import analytics_941
from analytics_941 import Settings, setup_analytics
from fastapi import FastAPI
from fastapi.testclient import TestClient

venv, schema, db = (Path(p) for p in sys.argv[1:4])
package = Path(analytics_941.__file__).resolve()
assert package.is_relative_to(venv.resolve()), f"imported from {package}, not the new venv"

conn = sqlite3.connect(db)
conn.executescript(schema.read_text())
conn.execute("INSERT INTO sites (id, domain, name, created_at) "
             "VALUES ('s1', 'example.com', 'Example', 0)")
# A logged-in administrator (sessions are stored as the SHA-256 of the cookie value).
session = "a941_s_smoke"
conn.execute("INSERT INTO users (id, name, handle, is_admin, created_at) "
             "VALUES ('u1', 'Ada', 'h1', 1, 0)")
conn.execute("INSERT INTO auth_sessions (token_hash, id, user_id, created_at, last_seen_at, "
             "expires_at) VALUES (?, 'x', 'u1', 0, 9999999999999, 9999999999999)",
             (hashlib.sha256(session.encode()).hexdigest(),))
conn.commit()
conn.close()

app = FastAPI()
setup_analytics(app, Settings(sqlite_path=db, project_dir=db.parent))
client = TestClient(app)
client.cookies.set("a941_session", session)
page = client.get("/admin/analytics/example.com?period=7d")
assert page.status_code == 200, page.text
assert page.template.name == "analytics_941/dashboard.html"
assert page.context["dashboard"].is_empty
urls = re.findall(r'(?:src|href)="([^"]*/static/[^"]+)"', page.text)
assert {u.rsplit(".", 1)[1] for u in urls} == {"css", "js", "json"}, urls  # json: the map
for url in urls:
    asset = client.get(url)
    assert asset.status_code == 200 and len(asset.content) > 1000, (url, asset.status_code)
print("ok")
"""


def _built_manifest() -> dict[str, str]:
    manifest = ROOT / "static" / "dist" / "manifest.json"
    if not manifest.exists():
        subprocess.run(["node", "scripts/build-assets.mjs"], cwd=ROOT, check=True)
    return dict(json.loads(manifest.read_text()))


def test_installed_wheel_renders_the_dashboard(tmp_path: Path) -> None:
    manifest = _built_manifest()
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheel_dir),
            "-q",
        ],
        check=True,
    )
    (wheel,) = wheel_dir.glob("analytics_941-*.whl")

    names = set(zipfile.ZipFile(wheel).namelist())
    required = {
        "analytics_941/templates/analytics_941/base.html",
        "analytics_941/templates/analytics_941/dashboard.html",
        "analytics_941/templates/analytics_941/_dashboard.html",
        "analytics_941/static/dist/manifest.json",
        *(f"analytics_941/static/dist/{file}" for file in manifest.values()),
    }
    missing = sorted(required - names)
    assert not missing, f"the wheel lacks templates/static files: {missing}"

    # A fresh venv; the dependencies (fastapi, jinja2…) come from this venv through a .pth file
    # so nothing is downloaded. The wheel's own copy is first on sys.path.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "_deps_from_dev_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        check=True,
    )

    result = subprocess.run(
        [
            str(python),
            "-c",
            SMOKE,
            str(venv),
            str(ROOT / "schema.sql"),
            str(tmp_path / "d1.sqlite"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    cli = subprocess.run(
        [str(venv / "bin" / "analytics-941"), "--help"], capture_output=True, text=True
    )
    assert cli.returncode == 0 and "sites" in cli.stdout
