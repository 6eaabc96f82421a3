"""Smoke tests of the installed package, each in a fresh virtualenv with nothing from this
source tree: the built wheel renders the dashboard from its own templates and static bundle, and
a clean clone (as a checkout, a git URL or an sdist) installs with pip on a machine without Node
and serves the committed dashboard bundle."""

from __future__ import annotations

import json
import shutil
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


def _fresh_venv(venv: Path) -> Path:
    """A new venv without pip (this venv's pip installs into it with ``--python``).

    The dependencies (fastapi, jinja2…, and hatchling to build from source) come from this venv
    through a .pth file, so nothing is downloaded; the package installed into the new venv is
    first on its sys.path.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "_deps_from_dev_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def _smoke(
    script: str, *, venv: Path, schema: Path, db: Path, env: dict[str, str] | None = None
) -> None:
    """Run a smoke ``script`` (argv: venv, schema, database) with the new venv's Python, in the
    database's folder; it prints ``ok`` when every check held."""
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script, str(venv), str(schema), str(db)],
        env=env,
        cwd=db.parent,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def _built_manifest() -> dict[str, str]:
    """The committed bundle's manifest (static/dist is in git; `make build` refreshes it)."""
    return dict(json.loads((ROOT / "static" / "dist" / "manifest.json").read_text()))


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

    venv = _fresh_venv(tmp_path / "venv")
    python = venv / "bin" / "python"
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

    _smoke(SMOKE, venv=venv, schema=ROOT / "schema.sql", db=tmp_path / "d1.sqlite")
    cli = subprocess.run(
        [str(venv / "bin" / "analytics-941"), "--help"], capture_output=True, text=True
    )
    assert cli.returncode == 0 and "sites" in cli.stdout


# Run inside the new venv: a bare FastAPI app with the dashboard mounted over an empty SQLite
# store fetches the bundle named in the installed manifest.
ASSET_SMOKE = r"""
import json, sqlite3, sys
from pathlib import Path

import analytics_941
from analytics_941 import Settings, setup_analytics
from fastapi import FastAPI
from fastapi.testclient import TestClient

venv, schema, db = (Path(p) for p in sys.argv[1:4])
package = Path(analytics_941.__file__).resolve().parent
assert package.is_relative_to(venv.resolve()), f"imported from {package}, not the new venv"
manifest = json.loads((package / "static" / "dist" / "manifest.json").read_text())
with sqlite3.connect(db) as conn:
    conn.executescript(schema.read_text())
app = FastAPI()
setup_analytics(app, Settings(sqlite_path=db, project_dir=db.parent))
client = TestClient(app)
assert {"dashboard.js", "dashboard.css"} <= manifest.keys(), manifest
for logical, name in manifest.items():
    asset = client.get(f"/admin/analytics/static/{name}")
    assert asset.status_code == 200 and asset.content, (logical, asset.status_code)
print("ok")
"""


def _git_only_path(bin_dir: Path) -> str:
    """A PATH holding git (for the git URL) and nothing else: no node, npm or npx."""
    bin_dir.mkdir()
    git = shutil.which("git")
    assert git, "git is needed to clone the repository"
    (bin_dir / "git").symlink_to(git)
    path = str(bin_dir)
    for tool in ("node", "npm", "npx"):
        assert shutil.which(tool, path=path) is None
    return path


@pytest.mark.parametrize("source", ["checkout", "git URL", "sdist"])
def test_clean_clone_installs_without_node(tmp_path: Path, source: str) -> None:
    """A user's project pip-installs a clean clone of HEAD with no Node anywhere on PATH, offline,
    and the installed package serves the dashboard bundle (committed in static/dist)."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {
        "PATH": _git_only_path(tmp_path / "bin"),
        "HOME": str(tmp_path),
        "PIP_NO_CACHE_DIR": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    if source == "checkout":
        target = str(clone)
    elif source == "git URL":
        target = f"git+{clone.as_uri()}"
    else:
        sdist = subprocess.run(
            [
                sys.executable,
                "-c",
                "from hatchling.build import build_sdist; print(build_sdist('sd'))",
            ],
            cwd=clone,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        target = str(clone / "sd" / sdist)

    venv = _fresh_venv(tmp_path / "venv")
    python = venv / "bin" / "python"
    # Built from source by hatchling without build isolation (no index to fetch it from); the
    # dependencies are already satisfied through the .pth file, so --no-index finds nothing to get.
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-index",
            "--no-build-isolation",
            "-q",
            target,
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr

    _smoke(ASSET_SMOKE, venv=venv, schema=clone / "schema.sql", db=tmp_path / "a.db", env=env)
