/**
 * SiteDO: one Durable Object per site, the only writer of that site's sessions. It turns
 * (ip, user agent) into the daily visitor hash, assigns the event to a session, and keeps both in
 * its outbox until an alarm has flushed them to D1. All state is in SQLite storage.
 */
import { DurableObject } from "cloudflare:workers";
import { drop, isDrop } from "../collector/ingest/drop";
import type { ClientInfo, CollectedEvent, Drop, IngestResult, SiteSettings } from "../contract";
import { ENGAGEMENT } from "../collector/ingest/payload";
import { WEB_VITALS } from "../collector/ingest/vitals";
import { enqueue, enqueueEngagement, enqueueVitals, flushOutbox, type FlushResult, migrateOutbox, OutboxSeq } from "./outbox";
import { flushDestination, FlushTargets, migrateFlushTarget } from "./flush-target";
import { HOME_DATABASE } from "../databases";
import { IpKeys, RateLimiter } from "./rate-limit";
import { enqueueTitle } from "./titles";
import { type IngestAnswer, packAnswer } from "./ingest-answer";
import { applyEngagement, applyEvent, continues, DEFAULT_BOUNCE_THRESHOLD_MS, eventRow, SESSION_TIMEOUT_MS, sessionRow, switchesUser, vitalsPage } from "./session";
import { UserIds } from "./user-ids";
import { forgetUser, type Forgotten } from "./forget-user";
import { type BulkItem, type BulkOutcome, migrateBulkKeys, pruneKeys, rememberKey, seenKey } from "./bulk-keys";
import { closeIfExpired, expireSockets, type RealtimeAttachment, socketDue } from "./realtime/sockets";
import { migrateRealtime, pruneRealtime } from "./realtime/state";
import { RealtimeFeed } from "./realtime/feed";
import { LiveSessions, migrateSiteStorage, pruneSalts, saltsFor } from "./site-storage";
import { utcDay, visitorHash } from "./visitor-hash";
import { numberVar } from "../vars";
import { bucketMessage } from "../words";

/**
 * How long the first event of a group commit waits for others (see SiteDO.inBatch). A commit is
 * a durable write (an fsync of the DO's SQLite file locally, that blocks the whole isolate):
 * with the next macrotask as the window, ~11 events shared one under the ingest bench's load;
 * waiting 2 ms lets more share it, +15 % events/s and -9 % CPU per event in a simultaneous A/B.
 */
export const GROUP_COMMIT_WINDOW_MS = 2;

/** Longest wait between two flush attempts while D1 keeps failing. */
export const MAX_FLUSH_BACKOFF_MS = 5 * 60 * 1000;

/**
 * The bindings SiteDO reads. The collector's Env (env.ts) extends it; declared here so this
 * module needs nothing from env.ts, which names SiteDO for the namespace binding.
 */
export interface SiteEnv {
  /** The home database (schema.sql); data databases are `DB_2`, `DB_3`, … (databases.ts). */
  DB: D1Database;
  /** Milliseconds between an accepted event and the outbox flush to D1. */
  FLUSH_DELAY_MS: string;
}

/** Without settings (tests) no limit applies; the Worker always passes the site's (collector/ingest/pipeline.ts). */
const DEFAULT_SETTINGS: SiteSettings = { rateLimitVisitor: 0, rateLimitIp: 0, rateLimitSite: 0, bounceThresholdMs: DEFAULT_BOUNCE_THRESHOLD_MS, database: HOME_DATABASE };

/** The per-site Durable Object; see the module comment. */
export class SiteDO extends DurableObject<SiteEnv> {
  /**
   * The home database as flushes use it. Always `env.DB` in production; tests replace it (via
   * runInDurableObject) with a wrapper that fails, to prove the outbox loses nothing. A site
   * placed in a data database is flushed there (flush-target.ts).
   */
  flushDb: D1Database;
  /**
   * The time realtime sockets' token expiry is judged by (ms). Always the clock in production;
   * tests move it forward (via runInDurableObject) instead of waiting for a token to expire.
   */
  clock: () => number = () => Date.now();
  /** Per-visitor, per-IP and per-site event counts of the current minute (memory only, see rate-limit.ts). */
  private readonly limiter = new RateLimiter();
  /** The IP bucket keys, under a key of this instance's memory only. */
  private readonly ipKeys = new IpKeys();
  /** A flush alarm is known to be pending, so ingest need not ask storage. */
  private alarmArmed = false;
  /** Events waiting for the next group commit (see inBatch). */
  private batch: { work: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }[] = [];
  /** When live sessions were last pruned (wall clock, ms). */
  private prunedAt = 0;
  /** The salts of the last event's UTC day. */
  private salts: { day: string; today: string; yesterday: string | null } | null = null;
  /** Sightings, pushes to dashboards and the realtime windows (see RealtimeFeed). */
  private readonly realtime: RealtimeFeed;
  /** The outbox sequence (written back once per group commit, see OutboxSeq). */
  private readonly seqs = new OutboxSeq();
  /** Live sessions: storage behind an in-memory cache (see LiveSessions). */
  private readonly liveSessions: LiveSessions;
  /** The database the outbox goes to, from the latest settings (see FlushTargets). */
  private readonly flushTargets: FlushTargets;
  /** identify() ids to their keyed hashes, and their traits to the outbox. */
  private readonly userIds: UserIds;
  /** The alarm's flush while it waits for D1 (forgetUser waits for it, see there). */
  private flushing: Promise<void> | null = null;

  constructor(ctx: DurableObjectState, env: SiteEnv) {
    super(ctx, env);
    this.flushDb = env.DB;
    migrateSiteStorage(ctx.storage.sql);
    migrateOutbox(ctx.storage.sql);
    migrateRealtime(ctx.storage.sql);
    migrateFlushTarget(ctx.storage.sql);
    migrateBulkKeys(ctx.storage.sql);
    this.liveSessions = new LiveSessions(ctx.storage.sql);
    this.flushTargets = new FlushTargets(ctx.storage.sql);
    this.userIds = new UserIds(ctx.storage.sql);
    this.realtime = new RealtimeFeed(ctx, () => this.clock());
    // Answered by the runtime without waking a hibernated DO (realtime.js pings every 30 s).
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  /**
   * Realtime WebSocket (the Worker has already checked the token, see collector/realtime/routes.ts): accepted with
   * the hibernation API, so an idle dashboard costs nothing; the current state is sent at once,
   * and the alarm is set for the socket's reauth message (realtime/sockets.ts).
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({ code: "upgrade_required", message: "expected a WebSocket upgrade" }, { status: 426 });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    const attachment: RealtimeAttachment = {
      site: request.headers.get("X-Realtime-Site") ?? "",
      exp: Number(request.headers.get("X-Realtime-Exp") ?? 0),
      connectedAt: Date.now(),
    };
    server.serializeAttachment(attachment);
    server.send(JSON.stringify({ type: "snapshot", ...this.snapshot() }));
    await this.armBy(socketDue(attachment));
    return new Response(null, { status: 101, webSocket: client });
  }

  /** The realtime state now (RPC: the snapshot endpoint). */
  snapshot(now = Date.now()) {
    return this.realtime.snapshot(now);
  }

  /** A client may ask for a fresh snapshot with the text "snapshot"; anything else is ignored. */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (closeIfExpired(ws, this.clock())) return;
    if (message === "snapshot") ws.send(JSON.stringify({ type: "snapshot", ...this.snapshot() }));
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed (the runtime may have answered the close frame itself).
    }
  }

  /** The stored form of an identify() id on this site (RPC: collector/user-hash-route.ts; the caller checked it with userIdProblem). */
  async hashUserId(id: string): Promise<string> {
    return this.userIds.hash(id);
  }

  /**
   * Forgets a user's live visits and waiting rows before an erasure deletes theirs from D1 (RPC:
   * collector/user-hash-route.ts; forget-user.ts). In the group commit, after the events that
   * arrived before it; answers once a flush that read the user's rows before has landed, so the
   * D1 deletion that follows also takes what that flush wrote.
   */
  async forgetUser(userId: string): Promise<Forgotten> {
    const forgotten = await this.inBatch(() => forgetUser(this.ctx.storage.sql, this.liveSessions, userId));
    await this.flushing?.catch(() => {});
    return forgotten;
  }

  /**
   * Registers an accepted event (RPC from the Worker). When this resolves, the event and its
   * session snapshot are in durable storage and a flush alarm is pending. `client` is used for
   * the visitor hash only and is never stored. Time comes from `event.ts`, not the clock.
   * Answers a `rate_limited` drop instead when the visitor, the client IP or the site is over
   * its limit (the drop's category names which). The answer is JSON text (ingest-answer.ts:
   * `readAnswer` turns it back into the result or the drop).
   */
  async ingest(event: CollectedEvent, client: ClientInfo, settings: SiteSettings = DEFAULT_SETTINGS): Promise<IngestAnswer> {
    const salts = this.saltsFor(event.ts);
    const [today, yesterday, ipKey, userId] = await Promise.all([
      visitorHash(salts.today, event.site_id, client.ip, client.userAgent),
      salts.yesterday ? visitorHash(salts.yesterday, event.site_id, client.ip, client.userAgent) : null,
      this.ipKeys.keyFor(client.ip),
      this.userIds.of(event),
    ]);

    return packAnswer(await this.inBatch(() => this.register(event, today, yesterday, ipKey, settings, userId)));
  }

  /**
   * Registers a bulk batch's events of this site (RPC from collector/bulk), in the order given
   * (the Worker sorts them by time) and in one storage commit with their idempotency keys
   * (bulk-keys.ts). Each event's visitor hash uses the salt of its own UTC day. An event of a
   * key already stored is a `duplicate`; one older than its visitor's live visit by more than
   * the session timeout is `out_of_order` (that earlier visit is flushed and closed: joining the
   * live one would be wrong, and starting a new one would cut the live one off).
   */
  async ingestBulk(items: BulkItem[], settings: SiteSettings = DEFAULT_SETTINGS): Promise<BulkOutcome[]> {
    const salts = items.map((item) => this.saltsFor(item.event.ts));
    const hashes = await Promise.all(items.map(({ event, client }, i) => {
      const { today, yesterday } = salts[i] as { today: string; yesterday: string | null };
      return Promise.all([
        visitorHash(today, event.site_id, client.ip, client.userAgent),
        yesterday ? visitorHash(yesterday, event.site_id, client.ip, client.userAgent) : null,
        this.ipKeys.keyFor(client.ip),
        this.userIds.of(event),
      ]);
    }));
    return this.inBatch(() => items.map((item, i) => {
      const [today, yesterday, ipKey, userId] = hashes[i] as [string, string | null, string, string | null];
      const sql = this.ctx.storage.sql;
      if (item.key !== null && seenKey(sql, item.key)) return { outcome: "duplicate", message: "an event with this idempotency key was stored already" };
      const current = this.liveSessions.find(yesterday ? [today, yesterday] : [today]);
      if (current && item.event.ts < current.started_at - SESSION_TIMEOUT_MS) {
        return { outcome: "out_of_order", message: "this visitor has a later visit already; send a visitor's events in time order" };
      }
      const result = this.register(item.event, today, yesterday, ipKey, settings, userId);
      if (isDrop(result)) return { outcome: result.reason, message: result.message };
      if (item.key !== null) rememberKey(sql, item.key, item.event.ts);
      return { outcome: "accepted" };
    }));
  }

  /**
   * The synchronous part of ingest: rate limits, session, outbox. No await from the session read
   * to the outbox writes, so the read-modify-write of a session cannot interleave with another
   * event of the same visitor.
   */
  private register(event: CollectedEvent, today: string, yesterday: string | null, ipKey: string, settings: SiteSettings, userId: string | null = null): IngestResult | Drop {
    const sql = this.ctx.storage.sql;
    const limits = { visitor: settings.rateLimitVisitor, ip: settings.rateLimitIp, site: settings.rateLimitSite };
    const limited = this.limiter.hit(today, ipKey, event.ts, limits);
    if (limited) return drop("rate_limited", `too many events ${bucketMessage(limited)} this minute; retry later`, limited);
    // A Worker of the previous version (during a deploy) sends no database: its sites are in DB.
    this.flushTargets.set(event.site_id, settings.database || HOME_DATABASE);

    // Yesterday's hash lets a visit that spans midnight (UTC) continue instead of splitting.
    const current = this.liveSessions.find(yesterday ? [today, yesterday] : [today]);
    if (event.name === WEB_VITALS) {
      // Stored per page view (last report wins), never as an event: it counts nowhere.
      const page = event.vitals ? vitalsPage(current, event) : null;
      if (!page || !current || !event.vitals) return { visitorId: null, sessionId: null };
      enqueueVitals(sql, this.seqs, { id: page.id, ts: page.ts, site_id: event.site_id }, event.vitals);
      return { visitorId: current.visitor_id, sessionId: current.id };
    }
    if (event.name === ENGAGEMENT) {
      const engaged = applyEngagement(current, event, settings.bounceThresholdMs, userId);
      if (!engaged) return { visitorId: null, sessionId: null };
      this.liveSessions.save(engaged.session);
      this.userIds.storeTraits(event, userId);
      enqueueEngagement(sql, this.seqs, engaged.page, engaged.page.engaged, engaged.page.scroll, sessionRow(engaged.session));
      return { visitorId: engaged.session.visitor_id, sessionId: engaged.session.id };
    }
    // Another user's id starts a visit of its own (switchesUser), under today's visitor hash.
    const continuing = continues(current, event) && !switchesUser(current, userId);
    const session = applyEvent(current, event, continuing ? current.visitor_id : today, settings.bounceThresholdMs, userId);
    this.liveSessions.save(session);
    this.userIds.storeTraits(event, userId);
    const row = eventRow(event, session);
    enqueue(sql, this.seqs, row, sessionRow(session));
    if (event.page_title) enqueueTitle(sql, event, event.page_title);
    this.realtime.see({
      ts: event.ts,
      event: { name: event.name, path: event.pathname, source: row.source, country: row.country, device: row.device },
    });
    return { visitorId: session.visitor_id, sessionId: session.id };
  }

  /**
   * Group commit. Storage writes made in one synchronous stretch are committed together, and a
   * commit, not a statement, is what an event costs. So events whose hashes are ready wait up to
   * GROUP_COMMIT_WINDOW_MS and are then registered in one go: under load dozens share one
   * commit, alone an event waits those milliseconds. Each caller is answered only after the
   * batch's writes and the flush alarm are durable (the output gate holds the RPC answers until
   * then).
   */
  private inBatch<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.batch.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.batch.length === 1) setTimeout(() => void this.drainBatch(), GROUP_COMMIT_WINDOW_MS);
    });
  }

  private async drainBatch(): Promise<void> {
    const items = this.batch;
    this.batch = [];
    const results = items.map(({ work }) => {
      try {
        return { ok: true as const, value: work() };
      } catch (error) {
        return { ok: false as const, error };
      }
    });
    this.realtime.record();
    try {
      // Still in the batch's synchronous stretch: the counter commits with the rows that used it.
      this.seqs.persist(this.ctx.storage.sql);
      await this.armFlush();
    } catch (error) {
      for (const item of items) item.reject(error);
      return;
    }
    results.forEach((result, i) => (result.ok ? items[i]?.resolve(result.value) : items[i]?.reject(result.error)));
  }

  /** Today's and yesterday's salt for `ts`, read from storage once per UTC day (see saltsFor). */
  private saltsFor(ts: number): { today: string; yesterday: string | null } {
    const day = utcDay(ts);
    if (this.salts?.day !== day) this.salts = { day, ...saltsFor(this.ctx.storage.sql, ts) };
    return this.salts;
  }

  private async armFlush(): Promise<void> {
    // Cached in memory: getAlarm() on every event would be a storage read on the hot path.
    if (this.alarmArmed) return;
    await this.armBy(Date.now() + this.flushDelayMs());
    this.alarmArmed = true;
  }

  /**
   * Makes sure the alarm fires by `at`: one alarm serves both the flush and the salt expiry, so
   * a pending later alarm (a salt expiry hours away) is moved forward, an earlier one kept.
   */
  private async armBy(at: number): Promise<void> {
    const pending = await this.ctx.storage.getAlarm();
    if (pending === null || pending > at) await this.ctx.storage.setAlarm(at);
  }

  /**
   * Serves the realtime sockets' token expiry (reauth messages, closes), deletes expired salts,
   * then flushes the outbox to D1. A D1 failure never makes it throw: the rows stay and the
   * alarm is re-armed with exponential backoff (a DO storage failure does throw, and the runtime
   * retries the alarm); when a full batch went out, it is re-armed at once for the rest;
   * otherwise for the next salt expiry, so a site that has gone idle still loses yesterday's
   * salt on time. In every case the alarm also fires by the next socket's moment: one alarm
   * serves all three, at the earliest of them (armBy).
   */
  override async alarm(): Promise<void> {
    // From here on a new event must check (and maybe set) the alarm again.
    this.alarmArmed = false;
    const socketsDue = expireSockets(this.ctx.getWebSockets(), this.clock());
    try {
      this.flushing = this.flushAndPrune();
      await this.flushing;
    } finally {
      this.flushing = null;
      if (socketsDue !== null) await this.armBy(socketsDue);
    }
  }

  /** The alarm's flush and pruning, which arm their own next alarm (see alarm). */
  private async flushAndPrune(): Promise<void> {
    // Before the flush: deleting a salt must not wait for D1 to come back.
    const salts = pruneSalts(this.ctx.storage.sql, Date.now());
    if (salts.deleted > 0) this.salts = null;
    let result: FlushResult;
    try {
      // An unknown binding throws here: the rows stay and the flush backs off as for a D1 failure.
      const destination = await flushDestination(this.env, this.flushDb, this.flushTargets.get());
      result = await flushOutbox(this.ctx.storage.sql, destination.db, destination.before);
    } catch (error) {
      const attempts = this.flushAttempts() + 1;
      this.setFlushAttempts(attempts);
      const delay = Math.min(this.flushDelayMs() * 2 ** attempts, MAX_FLUSH_BACKOFF_MS);
      console.error(`outbox flush failed (attempt ${attempts}), retrying in ${delay} ms`, error);
      await this.ctx.storage.setAlarm(Date.now() + delay);
      return;
    }
    this.setFlushAttempts(0);
    // Pruning scans every live session: once a minute is enough, not after every flush.
    if (Date.now() - this.prunedAt >= 60_000) {
      this.liveSessions.prune();
      pruneRealtime(this.ctx.storage.sql, Date.now());
      pruneKeys(this.ctx.storage.sql, Date.now());
      this.prunedAt = Date.now();
    }
    if (result.remaining) await this.ctx.storage.setAlarm(Date.now());
    else if (salts.nextExpiry !== null) await this.armBy(salts.nextExpiry);
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
