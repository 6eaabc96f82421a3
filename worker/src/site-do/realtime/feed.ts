/**
 * The realtime side of a SiteDO: each batch's sightings are written with its events, connected
 * dashboards get one coalesced push per burst, and the time windows are pruned now and then.
 */
import { closeIfExpired } from "./sockets";
import { FEED_SIZE, type FeedItem, pruneRealtime, readSnapshot, recordSightings, type Sighting } from "./state";

/** Realtime pushes after events are coalesced over this window (the issue allows ≤ 100 ms). */
export const REALTIME_COALESCE_MS = 50;

export class RealtimeFeed {
  /** The current batch's accepted events (see record). */
  private sightings: Sighting[] = [];
  /** Feed items registered since the last push; non-null while a push is scheduled. */
  private pending: FeedItem[] | null = null;
  /** When the windows were last pruned (wall clock, ms). */
  private prunedAt = 0;

  /** `clock` judges sockets' token expiry (the DO's, which tests move forward). */
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly clock: () => number,
  ) {}

  /** Notes an accepted event of the current batch. */
  see(sighting: Sighting): void {
    this.sightings.push(sighting);
  }

  /** The realtime state now (the snapshot endpoint, a new socket, a "snapshot" message). */
  snapshot(now = Date.now()) {
    this.pruneSometimes(now);
    return readSnapshot(this.ctx.storage.sql, now);
  }

  /**
   * Writes the batch's sightings to the realtime tables, in the same synchronous stretch (so the
   * same commit) as the events, then schedules a push. Best effort: a failure here is logged and
   * never fails ingestion.
   */
  record(): void {
    const sightings = this.sightings;
    this.sightings = [];
    if (sightings.length === 0) return;
    try {
      this.schedulePush(recordSightings(this.ctx.storage.sql, sightings));
    } catch (error) {
      console.error("realtime state update failed", error);
    }
  }

  /**
   * Schedules one push to the connected dashboards within REALTIME_COALESCE_MS: a burst of events
   * becomes one message. The timer keeps the DO awake for that long, which is fine.
   */
  private schedulePush(items: readonly FeedItem[]): void {
    if (this.pending === null) {
      // No socket, no work: skip the timer and the queries entirely.
      if (this.ctx.getWebSockets().length === 0) return;
      this.pending = [];
      setTimeout(() => this.push(), REALTIME_COALESCE_MS);
    }
    this.pending.push(...items);
    // A dashboard shows FEED_SIZE events: a burst need not send more.
    if (this.pending.length > FEED_SIZE) this.pending.splice(0, this.pending.length - FEED_SIZE);
  }

  /** Sends the delta: fresh aggregates plus the feed items since the last push, newest first. */
  private push(): void {
    const feed = this.pending ?? [];
    this.pending = null;
    const sockets = this.ctx.getWebSockets();
    if (sockets.length === 0) return;
    const now = Date.now();
    this.pruneSometimes(now);
    const message = JSON.stringify({ type: "delta", ...readSnapshot(this.ctx.storage.sql, now, false), events: feed.reverse() });
    const clock = this.clock();
    for (const ws of sockets) {
      // An expired token gets nothing more, even if the alarm that closes it is late.
      if (closeIfExpired(ws, clock)) continue;
      try {
        ws.send(message);
      } catch {
        // A socket closing under us: its close handler cleans up.
      }
    }
  }

  private pruneSometimes(now: number): void {
    if (now - this.prunedAt < 10_000) return;
    pruneRealtime(this.ctx.storage.sql, now);
    this.prunedAt = now;
  }
}
