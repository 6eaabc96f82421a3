/**
 * Raw archives (docs/archive.md): before the retention purge deletes a site-local day of raw
 * `events`, `sessions` and `web_vitals` (the pageviews' measurements, purged with them), the day
 * is written to R2 as one gzip NDJSON object, verified, and listed in `raw_archives`; the purge
 * then deletes only listed days. The same files are read back to restore a day. Version 1 files
 * (before web_vitals were archived) are still read, as holding none.
 *
 * A day that is archived again (its deletion was cut short by the purge's bounds, or rows came
 * back) is merged with its file, never overwritten by a part of it: a file only ever grows.
 */
import { EVENT_COLUMNS, SESSION_COLUMNS } from "../rows";
import { dayBounds } from "./days";

export const ARCHIVE_FORMAT = "941-raw-archive";
export const ARCHIVE_VERSION = 2;
/** Versions `parseArchive` reads: 1 had no web_vitals lines. */
const READABLE_VERSIONS: readonly number[] = [1, 2];
/** Rows one read of a day takes: a big site's day is read in short statements. */
export const ARCHIVE_PAGE_ROWS = 1000;
/** Site-days the purge archives per cron run; the rest wait (unpurged) for the next run. */
export const MAX_ARCHIVE_DAYS_PER_RUN = 8;
/** Largest JSON parameter of one restore statement (rows as a JSON array). */
const MAX_RESTORE_PARAM_BYTES = 60_000;
/** Restore statements per D1 batch. */
const RESTORE_STATEMENTS_PER_BATCH = 10;

export type RawTable = "events" | "sessions" | "web_vitals";
export type RawRow = Record<string, unknown>;
const TABLES: readonly RawTable[] = ["events", "sessions", "web_vitals"];
/** `web_vitals` columns in schema order (migration 0019; test/archive.test.ts checks them). */
export const WEB_VITALS_COLUMNS = ["site_id", "ts", "event_id", "lcp_ms", "inp_ms", "cls_e4", "fcp_ms", "ttfb_ms"] as const;
const COLUMNS: Record<RawTable, readonly string[]> = { events: EVENT_COLUMNS, sessions: SESSION_COLUMNS, web_vitals: WEB_VITALS_COLUMNS };
const TIME: Record<RawTable, string> = { events: "ts", sessions: "started_at", web_vitals: "ts" };
/** What names a row within its site and time: a pageview's measurements are keyed by its id. */
const ID: Record<RawTable, string> = { events: "id", sessions: "id", web_vitals: "event_id" };
const none = (): Record<RawTable, number> => ({ events: 0, sessions: 0, web_vitals: 0 });

/** The first line of every archive file. */
export interface ArchiveHeader {
  format: typeof ARCHIVE_FORMAT;
  /** ARCHIVE_VERSION when written; 1 for older files. */
  version: number;
  site_id: string;
  day: string;
  tz: string;
  start_ms: number;
  end_ms: number;
  events: number;
  sessions: number;
  /** Version 2 on; a version 1 file holds none. */
  web_vitals?: number;
}

/** An archive file's contents. */
export interface Archive {
  header: ArchiveHeader;
  rows: Record<RawTable, RawRow[]>;
}

/** What archiving one day did: `written` is false when the file already held every row. */
export interface ArchivedDay {
  day: string;
  key: string;
  events: number;
  sessions: number;
  web_vitals: number;
  bytes: number;
  written: boolean;
}

/** A site as the archive needs it. */
export interface ArchiveSite {
  id: string;
  timezone: string;
}

/** A file that is not a well-formed archive (or not the one expected). */
export class ArchiveError extends Error {}

/** The R2 key of a site-day's file. */
export function archiveKey(siteId: string, day: string): string {
  return `raw/${siteId}/${day}.ndjson.gz`;
}

/** The day's rows of `table`, `ARCHIVE_PAGE_ROWS` at a time, in (time, id) order (keyset pages). */
async function* pages(db: D1Database, table: RawTable, siteId: string, start: number, end: number): AsyncGenerator<RawRow[]> {
  const time = TIME[table];
  const id = ID[table];
  const sql = `SELECT ${COLUMNS[table].join(", ")} FROM ${table}
    WHERE site_id = ?1 AND ${time} >= ?2 AND ${time} < ?3 AND (${time} > ?4 OR (${time} = ?4 AND ${id} > ?5))
    ORDER BY ${time}, ${id} LIMIT ${ARCHIVE_PAGE_ROWS}`;
  let after: [number, string] = [start - 1, ""];
  for (;;) {
    const { results } = await db.prepare(sql).bind(siteId, start, end, ...after).all<RawRow>();
    if (results.length > 0) yield results;
    if (results.length < ARCHIVE_PAGE_ROWS) return;
    const last = results[results.length - 1] as RawRow;
    after = [last[time] as number, last[id] as string];
  }
}

async function dayCounts(db: D1Database, siteId: string, start: number, end: number): Promise<Record<RawTable, number>> {
  const row = await db
    .prepare(`SELECT (SELECT count(*) FROM events WHERE site_id = ?1 AND ts >= ?2 AND ts < ?3) AS events,
                     (SELECT count(*) FROM sessions WHERE site_id = ?1 AND started_at >= ?2 AND started_at < ?3) AS sessions,
                     (SELECT count(*) FROM web_vitals WHERE site_id = ?1 AND ts >= ?2 AND ts < ?3) AS web_vitals`)
    .bind(siteId, start, end)
    .first<Record<RawTable, number>>();
  return { events: row?.events ?? 0, sessions: row?.sessions ?? 0, web_vitals: row?.web_vitals ?? 0 };
}

function line(table: RawTable, row: RawRow): string {
  return `${JSON.stringify({ table, row })}\n`;
}

/** Gzips text chunks as they come (CompressionStream), so only the compressed file is held. */
async function gzip(chunks: AsyncIterable<string>): Promise<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = chunks[Symbol.asyncIterator]();
  const source = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
  });
  return new Uint8Array(await new Response(source.pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
}

/** Parses a file's text; checks the header, every line, and the header's counts. */
export function parseArchive(text: string): Archive {
  const lines = text.split("\n").filter((l) => l !== "");
  let header: ArchiveHeader;
  try {
    header = JSON.parse(lines[0] ?? "") as ArchiveHeader;
  } catch {
    throw new ArchiveError("the first line is not an archive header");
  }
  if (header?.format !== ARCHIVE_FORMAT || !READABLE_VERSIONS.includes(header.version)) {
    throw new ArchiveError(`not a ${ARCHIVE_FORMAT} file of version ${READABLE_VERSIONS.join(" or ")}`);
  }
  const tables = header.version === 1 ? ["events", "sessions"] : TABLES;
  const rows: Record<RawTable, RawRow[]> = { events: [], sessions: [], web_vitals: [] };
  for (const text of lines.slice(1)) {
    const { table, row } = JSON.parse(text) as { table?: unknown; row?: unknown };
    if (!tables.includes(table as RawTable) || typeof row !== "object" || row === null) {
      throw new ArchiveError("a line is not {table, row}");
    }
    if ((row as RawRow).site_id !== header.site_id) throw new ArchiveError("a row of another site");
    rows[table as RawTable].push(row as RawRow);
  }
  if (rows.events.length !== header.events || rows.sessions.length !== header.sessions || rows.web_vitals.length !== (header.web_vitals ?? 0)) {
    throw new ArchiveError("the row counts differ from the header's");
  }
  return { header, rows };
}

/** Reads and parses a file; null when there is no such object. */
export async function readArchive(bucket: R2Bucket, key: string): Promise<Archive | null> {
  const object = await bucket.get(key);
  if (!object) return null;
  return parseArchive(await new Response(object.body.pipeThrough(new DecompressionStream("gzip"))).text());
}

/**
 * Writes the file, then proves it is stored (R2 resolves `put` once the object is durable; the
 * SHA-256 makes R2 refuse a damaged upload; `head` checks size and counts), then lists it.
 */
async function store(db: D1Database, bucket: R2Bucket, header: ArchiveHeader, bytes: Uint8Array, nowMs: number): Promise<ArchivedDay> {
  const key = archiveKey(header.site_id, header.day);
  const counts = { events: String(header.events), sessions: String(header.sessions), web_vitals: String(header.web_vitals ?? 0) };
  await bucket.put(key, bytes, {
    sha256: await crypto.subtle.digest("SHA-256", bytes),
    httpMetadata: { contentType: "application/gzip" },
    customMetadata: { format: ARCHIVE_FORMAT, version: String(ARCHIVE_VERSION), ...counts },
  });
  const stored = await bucket.head(key);
  if (!stored || stored.size !== bytes.byteLength || stored.customMetadata?.events !== counts.events || stored.customMetadata?.sessions !== counts.sessions
    || stored.customMetadata?.web_vitals !== counts.web_vitals) {
    throw new Error(`R2 object ${key} did not verify after put`);
  }
  await db
    .prepare(`INSERT INTO raw_archives (site_id, day, key, events, sessions, bytes, archived_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
      ON CONFLICT (site_id, day) DO UPDATE SET key = excluded.key, events = excluded.events, sessions = excluded.sessions,
        bytes = excluded.bytes, archived_at = excluded.archived_at`)
    .bind(header.site_id, header.day, key, header.events, header.sessions, bytes.byteLength, nowMs)
    .run();
  return { day: header.day, key, events: header.events, sessions: header.sessions, web_vitals: header.web_vitals ?? 0, bytes: bytes.byteLength, written: true };
}

/**
 * Archives one local day of a site (see the module comment). Null when the day has no raw rows
 * and no file. Throws when the file cannot be written and verified: the day must then stay.
 */
export async function archiveDay(db: D1Database, bucket: R2Bucket, site: ArchiveSite, day: string, nowMs: number): Promise<ArchivedDay | null> {
  const [start, end] = dayBounds(day, site.timezone);
  const base = { format: ARCHIVE_FORMAT, version: ARCHIVE_VERSION, site_id: site.id, day, tz: site.timezone, start_ms: start, end_ms: end } as const;
  const existing = await readArchive(bucket, archiveKey(site.id, day));
  if (existing && existing.header.tz !== site.timezone) {
    // Its bounds are not the day's any more: merging could miss rows; keep them (rare, logged).
    throw new ArchiveError(`${archiveKey(site.id, day)} was archived in ${existing.header.tz}, the site is now in ${site.timezone}`);
  }
  if (existing) return mergeDay(db, bucket, existing, nowMs);

  const counts = await dayCounts(db, site.id, start, end);
  if (counts.events + counts.sessions + counts.web_vitals === 0) return null;
  const read = none();
  async function* text(): AsyncGenerator<string> {
    yield `${JSON.stringify({ ...base, ...counts })}\n`;
    for (const table of TABLES) {
      for await (const page of pages(db, table, site.id, start, end)) {
        read[table] += page.length;
        yield page.map((row) => line(table, row)).join("");
      }
    }
  }
  const bytes = await gzip(text());
  // D1 reads are not one snapshot: a row that came or went meanwhile makes the header wrong.
  if (TABLES.some((t) => read[t] !== counts[t])) throw new Error(`rows of ${site.id} ${day} changed while archiving`);
  return store(db, bucket, { ...base, ...counts }, bytes, nowMs);
}

/** Adds the day's rows that the file lacks (or that changed since) to it; no write when none. */
async function mergeDay(db: D1Database, bucket: R2Bucket, archive: Archive, nowMs: number): Promise<ArchivedDay> {
  const { header } = archive;
  let changed = 0;
  const merged = {} as Record<RawTable, Map<string, RawRow>>;
  for (const table of TABLES) {
    const id = ID[table];
    const byId = new Map(archive.rows[table].map((row) => [row[id] as string, row]));
    for await (const page of pages(db, table, header.site_id, header.start_ms, header.end_ms)) {
      for (const row of page) {
        const old = byId.get(row[id] as string);
        if (!old || JSON.stringify(old) !== JSON.stringify(row)) changed++;
        byId.set(row[id] as string, row);
      }
    }
    merged[table] = byId;
  }
  const key = archiveKey(header.site_id, header.day);
  if (changed === 0) {
    const stored = await bucket.head(key);
    return { day: header.day, key, events: header.events, sessions: header.sessions, web_vitals: header.web_vitals ?? 0, bytes: stored?.size ?? 0, written: false };
  }
  // Written in the current version (a version 1 file gains its web_vitals lines).
  const next: ArchiveHeader = { ...header, version: ARCHIVE_VERSION, events: merged.events.size, sessions: merged.sessions.size, web_vitals: merged.web_vitals.size };
  async function* text(): AsyncGenerator<string> {
    yield `${JSON.stringify(next)}\n`;
    for (const table of TABLES) for (const row of merged[table].values()) yield line(table, row);
  }
  return store(db, bucket, next, await gzip(text()), nowMs);
}

/**
 * Archives the rolled-up days of `site` before `cutoff` that still hold raw rows, oldest first,
 * at most `maxDays`. Returns `until`: every such day before it is archived, so the purge may
 * delete before it (and, to be sure, only days listed in raw_archives). A failure stops at that day.
 */
export async function archiveBefore(
  db: D1Database, bucket: R2Bucket, site: ArchiveSite, cutoff: number, nowMs: number, maxDays: number,
): Promise<{ until: number; days: ArchivedDay[] }> {
  // Only days with rows: purged days stay listed in rollup_days, and an older day that is never
  // purged (not rolled up) must not make every run look at them again.
  const { results } = await db
    .prepare(`SELECT d.day, d.start_ms FROM rollup_days AS d WHERE d.site_id = ?1 AND d.tz = ?2 AND d.start_ms < ?3
      AND (EXISTS (SELECT 1 FROM events AS e WHERE e.site_id = ?1 AND e.ts >= d.start_ms AND e.ts < d.end_ms)
        OR EXISTS (SELECT 1 FROM sessions AS s WHERE s.site_id = ?1 AND s.started_at >= d.start_ms AND s.started_at < d.end_ms))
      ORDER BY d.start_ms LIMIT ?4`)
    .bind(site.id, site.timezone, cutoff, maxDays + 1)
    .all<{ day: string; start_ms: number }>();
  const days: ArchivedDay[] = [];
  for (const [i, row] of results.entries()) {
    if (i === maxDays) return { until: row.start_ms, days };
    try {
      const done = await archiveDay(db, bucket, site, row.day, nowMs);
      if (done) days.push(done);
    } catch (error) {
      console.error(`raw archive of site ${site.id} day ${row.day} failed; its rows are kept`, error);
      return { until: row.start_ms, days };
    }
  }
  return { until: cutoff, days };
}

function restoreSql(table: RawTable): string {
  const columns = COLUMNS[table];
  return `INSERT OR IGNORE INTO ${table} (${columns.join(", ")})
    SELECT ${columns.map((c) => `json_extract(value, '$.${c}')`).join(", ")} FROM json_each(?1) WHERE true
    RETURNING 1`;
}

/**
 * Inserts an archive's rows back (rows still present are kept as they are). The rollup triggers
 * mark the day for recomputing, as for any late row. Returns the rows inserted per table.
 */
export async function restoreArchive(db: D1Database, archive: Archive): Promise<Record<RawTable, number>> {
  const statements: { table: RawTable; param: string }[] = [];
  for (const table of TABLES) {
    let chunk: string[] = [];
    let bytes = 2;
    for (const row of archive.rows[table]) {
      const text = JSON.stringify(row);
      if (bytes + text.length + 1 > MAX_RESTORE_PARAM_BYTES && chunk.length > 0) {
        statements.push({ table, param: `[${chunk.join(",")}]` });
        chunk = [];
        bytes = 2;
      }
      chunk.push(text);
      bytes += text.length + 1;
    }
    if (chunk.length > 0) statements.push({ table, param: `[${chunk.join(",")}]` });
  }
  const inserted = none();
  for (let i = 0; i < statements.length; i += RESTORE_STATEMENTS_PER_BATCH) {
    const group = statements.slice(i, i + RESTORE_STATEMENTS_PER_BATCH);
    const answers = await db.batch(group.map((s) => db.prepare(restoreSql(s.table)).bind(s.param)));
    // Rows returned, not meta.changes: that also counts what the rollup triggers write.
    group.forEach((s, j) => (inserted[s.table] += answers[j]?.results.length ?? 0));
  }
  return inserted;
}
