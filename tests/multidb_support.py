"""A project with two local databases, as ``wrangler dev`` keeps them: ``DB`` (home) and ``DB_2``.

Both files are seeded with ``seeding.seed`` (sites s1 example.com and s2 other.org); s1 is then
placed in ``DB_2``, whose copy of it lacks visit A, so DB_2's numbers differ from home's (which
keep s1's rows as a decoy: reading them there would show the wrong numbers).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from seeding import seed

from analytics_941.local_d1 import local_d1_path

WRANGLER_TOML = """name = "analytics-941-test"

[[d1_databases]]
binding = "DB"
database_name = "analytics-941"
database_id = "00000000-0000-0000-0000-000000000000"
migrations_dir = "migrations"

[[d1_databases]]
binding = "DB_2"
database_name = "analytics-941-2"
database_id = "00000000-0000-0000-0000-000000000002"
migrations_dir = "migrations"
"""


@dataclass(frozen=True)
class TwoDatabases:
    project: Path
    home: Path
    db2: Path


def local_file(project: Path, binding: str, state_dir: Path | None = None) -> Path:
    path = local_d1_path(project_dir=project, binding=binding, state_dir=state_dir,
                         must_exist=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def two_databases(project: Path, *, today: date, timezone: str,
                  state_dir: Path | None = None) -> TwoDatabases:
    """Seed DB and DB_2 of ``project`` (see the module doc), in wrangler's ``--persist-to``
    folder ``state_dir`` (default ``.wrangler/state``); s2 stays in DB."""
    (project / "wrangler.toml").write_text(WRANGLER_TOML)
    home = seed(local_file(project, "DB", state_dir), today=today, timezone=timezone)
    db2 = seed(local_file(project, "DB_2", state_dir), today=today, timezone=timezone)
    with sqlite3.connect(home) as conn:
        conn.execute("UPDATE sites SET database = 'DB_2' WHERE id = 's1'")
    conn.close()
    with sqlite3.connect(db2) as conn:
        conn.execute("DELETE FROM events WHERE session_id = 'A'")
        conn.execute("DELETE FROM sessions WHERE id = 'A'")
        conn.execute("DELETE FROM sites WHERE id = 's2'")
        conn.execute("UPDATE sites SET database = 'DB_2'")
    conn.close()
    return TwoDatabases(project=project, home=home, db2=db2)
