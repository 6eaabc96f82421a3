"""The site settings' imports section: upload (multipart, CSRF as a form field), the listing,
removal, refusals with a clear message, and the size bound; plus the CLI."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from pathlib import Path

import pytest
from auth_support import add_user, sign_in
from fastapi import FastAPI
from fastapi.testclient import TestClient

from analytics_941 import Settings, setup_analytics
from analytics_941.cli import main
from analytics_941.imports_csv import MAX_FILE_BYTES

URL = "/admin/analytics/settings/sites/example.com/imports"
CSV = (b'"date","visitors","pageviews","bounces","visits","visit_duration"\n'
       b'"2024-05-01",3,7,1,4,120\n"2024-05-02",2,2,2,2,0\n')


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("imported_visitors_20240501_20240502.csv", CSV)
    return out.getvalue()


def _client(db: Path, tmp_path: Path) -> tuple[TestClient, str]:
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp_path))
    client = TestClient(app)
    csrf = sign_in(client, db)
    # A plain HTML form sends its token as a field, not as a header.
    del client.headers["X-CSRF-Token"]
    return client, csrf


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_upload_lists_audits_and_removes(db: Path, tmp_path: Path) -> None:
    client, csrf = _client(db, tmp_path)
    sent = client.post(URL, data={"csrf_token": csrf},
                       files={"file": ("plausible-export.zip", _zip(), "application/zip")},
                       follow_redirects=False)
    assert sent.status_code == 303, sent.text
    page = client.get(URL)
    assert page.status_code == 200
    assert "plausible-export.zip" in page.text and "2024-05-01 to 2024-05-02" in page.text
    assert page.context["imports"][0].pageviews == 9
    again = client.post(URL, data={"csrf_token": csrf},
                        files={"file": ("again.zip", _zip(), "application/zip")})
    assert again.status_code == 200 and "already imported" in again.text
    (import_id,) = [i.id for i in page.context["imports"]]
    removed = client.post(f"{URL}/{import_id}/remove", data={"csrf_token": csrf},
                          follow_redirects=False)
    assert removed.status_code == 303
    assert _rows(db, "SELECT COUNT(*) FROM imported_daily") == [(0,)]
    kinds = [k for (k,) in _rows(db, "SELECT kind FROM audit_log ORDER BY id")]
    assert kinds[-2:] == ["import_create", "import_remove"]


def test_refusals_say_what_to_fix(db: Path, tmp_path: Path) -> None:
    client, csrf = _client(db, tmp_path)
    bad = CSV.replace(b"2024-05-02", b"2024-13-02")
    refused = client.post(URL, data={"csrf_token": csrf}, files={
        "file": ("imported_visitors_20240501_20240502.csv", bad, "text/csv")})
    assert refused.status_code == 400
    assert refused.context["import_error"] == (
        "Not imported: imported_visitors_20240501_20240502.csv line 3: the date is not "
        "YYYY-MM-DD.")
    assert _rows(db, "SELECT COUNT(*) FROM imports") == [(0,)]
    empty = client.post(URL, data={"csrf_token": csrf})
    assert empty.status_code == 400 and "Choose the export" in empty.text


def test_without_the_token_nothing_is_imported(db: Path, tmp_path: Path) -> None:
    client, _csrf = _client(db, tmp_path)
    refused = client.post(URL, files={"file": ("x.zip", _zip(), "application/zip")})
    assert refused.status_code == 403
    assert _rows(db, "SELECT COUNT(*) FROM imports") == [(0,)]


def test_a_viewer_cannot_import(db: Path, tmp_path: Path) -> None:
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp_path))
    client = TestClient(app)
    viewer = add_user(db, name="Val", is_admin=False, roles={"s1": "viewer"})
    sign_in(client, db, user_id=viewer)
    refused = client.post(URL, files={"file": ("x.zip", _zip(), "application/zip")})
    assert refused.status_code in (403, 404)
    assert _rows(db, "SELECT COUNT(*) FROM imports") == [(0,)]


def test_an_upload_past_the_bound_is_refused(db: Path, tmp_path: Path) -> None:
    client, csrf = _client(db, tmp_path)
    big = b"0" * (MAX_FILE_BYTES + 1)
    refused = client.post(URL, data={"csrf_token": csrf},
                          files={"file": ("big.zip", big, "application/zip")})
    assert refused.status_code == 413
    assert "larger than 50 MB" in refused.text


def test_cli_imports_lists_and_removes(db: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ANALYTICS_941_SQLITE_PATH", str(db))
    export = tmp_path / "export.zip"
    export.write_bytes(_zip())
    assert main(["import", "plausible", "--site", "example.com", str(export)]) == 0
    assert "imported" in capsys.readouterr().out
    assert main(["import", "plausible", "--site", "example.com", str(export)]) == 0
    assert "already imported, nothing changed" in capsys.readouterr().out
    assert main(["import", "list", "--site", "example.com"]) == 0
    listing = capsys.readouterr().out.splitlines()
    import_id = listing[1].split("\t")[0]
    assert "2024-05-01\t2024-05-02\t9\tdone" in listing[1]
    assert main(["import", "remove", "--site", "example.com", import_id]) == 0
    assert _rows(db, "SELECT COUNT(*) FROM imported_daily") == [(0,)]
    bad = tmp_path / "imported_visitors_20240501_20240501.csv"
    bad.write_bytes(CSV.replace(b"3,7", b"-3,7"))
    assert main(["import", "plausible", "--site", "example.com", str(bad)]) == 1
    assert "line 2" in capsys.readouterr().err


def test_the_dashboard_says_when_imported_days_count_and_toggles_them(
    db: Path, tmp_path: Path
) -> None:
    client, csrf = _client(db, tmp_path)
    client.headers["X-CSRF-Token"] = csrf
    sent = client.post(URL, files={"file": ("export.zip", _zip(), "application/zip")},
                       follow_redirects=False)
    assert sent.status_code == 303
    view = "/admin/analytics/example.com?period=custom&from=2024-04-28&to=2024-05-03"
    shown = client.get(view)
    dashboard = shown.context["dashboard"]
    assert dashboard.imported == ("2024-05-01", "2024-05-02")
    assert {s.key: s.value for s in dashboard.stats}["visitors"] == 5
    assert 'data-imports-note="on"' in shown.text and "Exclude imported data" in shown.text
    off = client.get(view + "&imports=0")
    dashboard = off.context["dashboard"]
    assert {s.key: s.value for s in dashboard.stats}["visitors"] == 0
    assert 'data-imports-note="off"' in off.text and "Include imported data" in off.text
    # A period without imported days says nothing about them.
    assert "data-imports-note" not in client.get("/admin/analytics/example.com").text
