"""Bounded rebuilds of a raw table into a new layout, for tables too big to copy in one statement.

A migration creates the new table beside the old one, with triggers that mirror every write of
the old table into it, and lists the rebuild in ``table_rebuilds`` (migration 0016 does so for
the lean ``events``). Then each run of the job (the Worker's cron, ``worker/src/rollup/
rebuilds.ts``, with the SQL generated here; ``rebuild_tables`` is its Python twin):

- ``copy``: copies the next ``COPY_ROWS`` old rows, in rowid order, past the cursor;
- when none is left, swaps in one transaction: drops the mirrors and the old table's own
  triggers, renames the old table away and the new one to the name, recreates the triggers;
- ``retire``: deletes ``RETIRE_ROWS`` rows of the renamed old table a step, then drops it.

Readers read the old table until the swap and the new one after it: never a mix, never a gap.
Every statement touches a bounded number of rows, so none nears D1's 30 s limit, and D1 answers
readers and ingest between the steps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .dimensions import COLUMN_TYPES, EVENT_COLUMNS
from .store import Statement, Store

__all__ = [
    "COPY_ROWS", "REBUILDS", "RETIRE_ROWS", "Rebuild", "next_step", "rebuild_tables",
    "typescript_module",
]

# Rows a step copies or deletes: well under a second of work, which D1 spends on nothing else.
COPY_ROWS = 10_000
RETIRE_ROWS = 10_000
# Steps per run of the job: a year of a busy site (10 M rows) is copied in about eight hours of
# quarter-hourly cron runs, and deleted in as many again.
STEPS_PER_RUN = 30

# Whether the job has a table to read at all (a database migrated before 0016 has none).
HAS_REBUILDS_SQL = (
    "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'table_rebuilds'"
)
PENDING_SQL = "SELECT name, phase, cursor FROM table_rebuilds WHERE phase != 'done' ORDER BY name"

# A step's statement and the names of its parameters, in ?1..?N order.
Step = list[tuple[str, tuple[str, ...]]]


@dataclass(frozen=True)
class Rebuild:
    """A table rebuilt into ``new`` and renamed back; ``triggers`` are its own, recreated."""

    table: str
    new: str
    columns: tuple[str, ...]
    mirrors: tuple[str, ...]
    triggers: dict[str, str]
    # Columns a later migration added to the table while the rebuild may still be under way:
    # the new table gets them at the swap, their values copied from the old rows that have one.
    added: tuple[str, ...] = ()

    @property
    def _named(self) -> str:
        return f"WHERE name = '{self.table}'"

    @property
    def retired(self) -> str:
        return f"{self.table}_retired"

    def more(self) -> dict[str, str]:
        """Per phase, whether a step has rows left to move (``?1``: the cursor)."""
        return {
            "copy": f"SELECT EXISTS (SELECT 1 FROM {self.table} WHERE rowid > ?1 AND rowid <= "
                    f"(SELECT last_row FROM table_rebuilds {self._named})) AS more",
            "retire": f"SELECT EXISTS (SELECT 1 FROM {self.retired}) AS more",
        }

    def steps(self) -> dict[str, Step]:
        """``copy`` and ``retire`` while rows are left, then ``swap`` and ``finish``."""
        cols = ", ".join(self.columns)
        # Rows after last_row were mirrored as they came: the copy has an end although ingest
        # goes on.
        rows = (f"FROM {self.table} WHERE rowid > ?1 AND rowid <= "
                f"(SELECT last_row FROM table_rebuilds {self._named}) ORDER BY rowid LIMIT ?2")
        window = f"SELECT rowid {rows}"
        done = self._named
        return {
            "copy": [
                (f"INSERT OR IGNORE INTO {self.new} ({cols}) SELECT {cols} {rows}",
                 ("cursor", "rows")),
                # `cursor = ?1`: of two overlapping runs, the second moves nothing twice.
                (f"UPDATE table_rebuilds SET cursor = (SELECT MAX(rowid) FROM ({window})), "
                 f"updated_at = ?3 {done} AND phase = 'copy' AND cursor = ?1",
                 ("cursor", "rows", "now")),
            ],
            # One transaction: a reader sees the old table or the new one, never neither.
            "swap": [
                *((f"DROP TRIGGER {name}", ()) for name in (*self.mirrors, *self.triggers)),
                *((f"ALTER TABLE {self.new} ADD COLUMN {c} {COLUMN_TYPES[c][0]}", ())
                  for c in self.added),
                *((f"UPDATE {self.new} SET {c} = o.{c} FROM {self.table} AS o "
                   f"WHERE o.{c} IS NOT NULL AND {self.new}.site_id = o.site_id "
                   f"AND {self.new}.ts = o.ts AND {self.new}.id = o.id", ())
                  for c in self.added),
                (f"ALTER TABLE {self.table} RENAME TO {self.retired}", ()),
                (f"ALTER TABLE {self.new} RENAME TO {self.table}", ()),
                *((sql, ()) for sql in self.triggers.values()),
                (f"UPDATE table_rebuilds SET phase = 'retire', cursor = 0, updated_at = ?1 {done}",
                 ("now",)),
            ],
            "retire": [
                (f"DELETE FROM {self.retired} WHERE rowid IN "
                 f"(SELECT rowid FROM {self.retired} ORDER BY rowid LIMIT ?1)", ("rows",)),
                (f"UPDATE table_rebuilds SET updated_at = ?1 {done}", ("now",)),
            ],
            "finish": [
                (f"DROP TABLE {self.retired}", ()),
                (f"UPDATE table_rebuilds SET phase = 'done', updated_at = ?1 {done}", ("now",)),
            ],
        }


def _rollup_trigger(event: str) -> str:
    """The rollup trigger of ``events`` as schema.sql has it (tests/test_schema.py compares)."""
    return (
        f"CREATE TRIGGER events_rollup_{event.lower()} AFTER {event} ON events BEGIN\n"
        "  INSERT OR IGNORE INTO rollup_dirty (site_id, slot) "
        "VALUES (NEW.site_id, NEW.ts / 900000);\n"
        "  DELETE FROM rollup_days WHERE site_id = NEW.site_id AND start_ms <= NEW.ts AND "
        "end_ms > NEW.ts;\nEND"
    )


# The columns migration 0016 copies; later ones are ``added`` (0024: revenue_currency).
_LEAN_COLUMNS = EVENT_COLUMNS[: EVENT_COLUMNS.index("timezone") + 1]
EVENTS = Rebuild(
    table="events",
    new="events_lean",
    columns=_LEAN_COLUMNS,
    added=EVENT_COLUMNS[len(_LEAN_COLUMNS):],
    mirrors=tuple(f"events_lean_mirror_{w}" for w in ("insert", "update", "delete")),
    triggers={f"events_rollup_{e.lower()}": _rollup_trigger(e) for e in ("INSERT", "UPDATE")},
)
REBUILDS = {r.table: r for r in (EVENTS,)}


def next_step(phase: str, more: bool) -> str:
    """The step to run: move rows while some are left, else end the phase."""
    if phase == "copy":
        return "copy" if more else "swap"
    return "retire" if more else "finish"


async def rebuild_tables(store: Store, *, now_ms: int, max_steps: int = STEPS_PER_RUN) -> int:
    """Run up to ``max_steps`` steps of the pending rebuilds; returns the steps run."""
    (has,) = await store.execute(HAS_REBUILDS_SQL)
    steps = 0
    while has["n"] and steps < max_steps:
        pending = await store.execute(PENDING_SQL)
        if not pending:
            break
        name, phase, cursor = pending[0]["name"], pending[0]["phase"], int(pending[0]["cursor"])
        rebuild = REBUILDS[name]
        rows = COPY_ROWS if phase == "copy" else RETIRE_ROWS
        values: dict[str, int] = {"cursor": cursor, "rows": rows, "now": now_ms}
        (more,) = await store.execute(rebuild.more()[phase], [cursor] if phase == "copy" else [])
        step = rebuild.steps()[next_step(phase, bool(more["more"]))]
        statements: list[Statement] = [
            (sql, [values[name] for name in params]) for sql, params in step
        ]
        await store.batch(statements)
        steps += 1
    return steps


def typescript_module() -> str:
    """The text of ``worker/src/rollup/rebuild-statements.ts``."""
    rebuilds = {
        name: {
            "more": r.more(),
            "steps": {k: [{"sql": sql, "params": list(p)} for sql, p in v]
                      for k, v in r.steps().items()},
        }
        for name, r in REBUILDS.items()
    }
    return (
        "// GENERATED by scripts/generate.py from src/analytics_941/rebuilds.py: do not edit.\n"
        "// Bounded rebuilds of raw tables (see that module); rebuilds.ts runs them.\n\n"
        f"export const COPY_ROWS = {COPY_ROWS};\nexport const RETIRE_ROWS = {RETIRE_ROWS};\n"
        f"export const STEPS_PER_RUN = {STEPS_PER_RUN};\n"
        f"export const HAS_REBUILDS_SQL = {json.dumps(HAS_REBUILDS_SQL)};\n"
        f"export const PENDING_SQL = {json.dumps(PENDING_SQL)};\n\n"
        'export type RebuildParam = "cursor" | "rows" | "now";\n'
        "export interface RebuildStatement {\n  sql: string;\n  params: RebuildParam[];\n}\n"
        "export interface Rebuild {\n  more: { copy: string; retire: string };\n"
        "  steps: Record<\"copy\" | \"swap\" | \"retire\" | \"finish\", RebuildStatement[]>;\n}\n\n"
        f"export const REBUILDS: Record<string, Rebuild> = {json.dumps(rebuilds, indent=2)};\n"
    )
