/**
 * SiteDO: one Durable Object per site, the only writer of that site's sessions. It turns
 * (ip, user agent) into the daily visitor hash, assigns the event to a session, and keeps both in
 * its outbox until an alarm has flushed them to D1. All state is in SQLite storage.
 */
import { DurableObject } from "cloudflare:workers";
import { numberVar, type Env } from "./env";
import type { ClientInfo, CollectedEvent } from "./ingest/event";
import { enqueue, flushOutbox, type FlushResult, migrateOutbox } from "./outbox";
import { applyEvent, continues, eventRow, sessionRow } from "./session";
import { findLiveSession, migrateSiteStorage, pruneLiveSessions, saltsFor, saveLiveSession } from "./site-storage";
import { visitorHash } from "./visitor-hash";

/** Longest wait between two flush attempts while D1 keeps failing. */
export const MAX_FLUSH_BACKOFF_MS = 5 * 60 * 1000;

/** What `ingest` tells the Worker about an accepted event. */
export interface IngestResult {
  visitorId: string;
  sessionId: string;
}

/** The per-site Durable Object; see the module comment. */
export class SiteDO extends DurableObject<Env> {
  /**
   * Where flushes write. Always `env.DB` in production; tests replace it (via
   * runInDurableObject) with a wrapper that fails, to prove the outbox loses nothing.
   */
  flushDb: D1Database;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.flushDb = env.DB;
    migrateSiteStorage(ctx.storage.sql);
    migrateOutbox(ctx.storage.sql);
  }

  /**
   * Registers an accepted event (RPC from the Worker). When this resolves, the event and its
   * session snapshot are in durable storage and a flush alarm is pending. `client` is used for
   * the visitor hash only and is never stored. Time comes from `event.ts`, not the clock.
   */
  async ingest(event: CollectedEvent, client: ClientInfo): Promise<IngestResult> {
    const sql = this.ctx.storage.sql;
    const salts = saltsFor(sql, event.ts);
    const [today, yesterday] = await Promise.all([
      visitorHash(salts.today, event.site_id, client.ip, client.userAgent),
      salts.yesterday ? visitorHash(salts.yesterday, event.site_id, client.ip, client.userAgent) : null,
    ]);

    // From here to enqueue there is no await: the read-modify-write of the session cannot
    // interleave with another event of the same visitor.
    // Yesterday's hash lets a visit that spans midnight (UTC) continue instead of splitting.
    const current = findLiveSession(sql, yesterday ? [today, yesterday] : [today]);
    const session = applyEvent(current, event, continues(current, event) ? current.visitor_id : today);
    saveLiveSession(sql, session);
    enqueue(sql, eventRow(event, session), sessionRow(session));

    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now() + this.flushDelayMs());
    }
    return { visitorId: session.visitor_id, sessionId: session.id };
  }

  /**
   * Flushes the outbox to D1. Never throws: on failure the rows stay and the alarm is re-armed
   * with exponential backoff; when a full batch went out, it is re-armed at once for the rest.
   */
  override async alarm(): Promise<void> {
    let result: FlushResult;
    try {
      result = await flushOutbox(this.ctx.storage.sql, this.flushDb);
    } catch (error) {
      const attempts = this.flushAttempts() + 1;
      this.setFlushAttempts(attempts);
      const delay = Math.min(this.flushDelayMs() * 2 ** attempts, MAX_FLUSH_BACKOFF_MS);
      console.error(`outbox flush failed (attempt ${attempts}), retrying in ${delay} ms`, error);
      await this.ctx.storage.setAlarm(Date.now() + delay);
      return;
    }
    this.setFlushAttempts(0);
    pruneLiveSessions(this.ctx.storage.sql);
    if (result.remaining) await this.ctx.storage.setAlarm(Date.now());
  }

  private flushDelayMs(): number {
    return Math.max(0, numberVar(this.env.FLUSH_DELAY_MS, 1000));
  }

  private flushAttempts(): number {
    return this.ctx.storage.sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = 'flush_attempts'").toArray()[0]?.value ?? 0;
  }

  private setFlushAttempts(attempts: number): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO meta (key, value) VALUES ('flush_attempts', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      attempts,
    );
  }
}
