/**
 * Identified users as the site's DO records them (issue 17, opt-in identity): an event's
 * identify() id becomes its keyed hash (user-hash.ts) before anything is stored, and its
 * declared traits wait in the trait outbox under that hash (traits.ts).
 */
import type { CollectedEvent } from "../contract";
import { enqueueTraits } from "./traits";
import { userHash, userIdProblem, userSecret } from "./user-hash";

/** One per SiteDO instance; see the module comment. */
export class UserIds {
  /** The site's secret once read: it never changes once created. */
  private secret: string | null = null;

  constructor(private readonly sql: SqlStorage) {}

  /**
   * The stored form of the event's identify() id, null for an anonymous event. The Worker sends
   * an id only for a site with identity on and checked it; checked again here, as a refused id
   * must never be stored in any form.
   */
  async of(event: CollectedEvent): Promise<string | null> {
    const id = event.identity?.id;
    if (id === undefined || userIdProblem(id) !== null) return null;
    return this.hash(id);
  }

  /** The stored form of a checked id (also the erasure route's, through SiteDO.hashUserId). */
  hash(id: string): Promise<string> {
    this.secret ??= userSecret(this.sql);
    return userHash(this.secret, id);
  }

  /** Puts the event's declared traits in the outbox under `userId` (nothing for an anonymous event). */
  storeTraits(event: CollectedEvent, userId: string | null): void {
    const traits = event.identity?.traits;
    if (userId !== null && traits) enqueueTraits(this.sql, event, userId, traits);
  }
}
