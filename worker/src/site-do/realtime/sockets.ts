/**
 * Realtime sockets live no longer than their token. Each socket keeps its token's expiry in its
 * attachment (serializeAttachment, so it survives hibernation). Shortly before it the DO sends
 * `{"type": "reauth", "exp": <unix s>}`: the page fetches a new token and opens a second socket,
 * and drops the first once the second has its snapshot (no gap). At the expiry the DO closes the
 * socket with 1008 `token expired`, whether or not the page renewed: so removing a member or a
 * site ends their live view within one token lifetime (the dashboard signs no new token).
 * The DO's alarm fires at the next socket's moment (see nextSocketDue) as well as for the flush.
 */

/** How long before its token's expiry a socket is told to reauthenticate. */
export const REAUTH_LEAD_MS = 30_000;
/** The close code and reason of a socket whose token expired (the page fetches a new token). */
export const EXPIRED_CODE = 1008;
export const EXPIRED_REASON = "token expired";

/** Per-socket state kept with the WebSocket across hibernation (serializeAttachment). */
export interface RealtimeAttachment {
  site: string;
  /** Expiry of the token the socket was opened with (Unix seconds): the socket is closed then. */
  exp: number;
  connectedAt: number;
  /** The reauth message has been sent. */
  reauthSent?: boolean;
}

/**
 * When the socket is told to reauthenticate: REAUTH_LEAD_MS before expiry, but never in the
 * first half of its lifetime (a token of 10 s would otherwise be told at once, again and again).
 */
export function reauthAt(attachment: RealtimeAttachment): number {
  const expMs = attachment.exp * 1000;
  return Math.max(expMs - REAUTH_LEAD_MS, attachment.connectedAt + (expMs - attachment.connectedAt) / 2);
}

/** The next moment the socket needs the DO: its reauth message, then its expiry. */
export function socketDue(attachment: RealtimeAttachment): number {
  return attachment.reauthSent ? attachment.exp * 1000 : reauthAt(attachment);
}

function attachmentOf(ws: WebSocket): RealtimeAttachment | null {
  const value: unknown = ws.deserializeAttachment();
  return typeof value === "object" && value !== null && typeof (value as RealtimeAttachment).exp === "number"
    ? (value as RealtimeAttachment)
    : null;
}

/** Closes the socket when its token has expired at `now` (ms) and says whether it did. */
export function closeIfExpired(ws: WebSocket, now: number): boolean {
  const attachment = attachmentOf(ws);
  if (attachment === null || now < attachment.exp * 1000) return false;
  try {
    ws.close(EXPIRED_CODE, EXPIRED_REASON);
  } catch {
    // Already closing.
  }
  return true;
}

/**
 * Sends the reauth messages that are due and closes the sockets whose token expired, at `now`
 * (ms); returns when the next remaining socket is due, or null when none is left.
 */
export function expireSockets(sockets: readonly WebSocket[], now: number): number | null {
  let next: number | null = null;
  for (const ws of sockets) {
    if (closeIfExpired(ws, now)) continue;
    const attachment = attachmentOf(ws);
    if (attachment === null) continue;
    if (!attachment.reauthSent && now >= reauthAt(attachment)) {
      try {
        ws.send(JSON.stringify({ type: "reauth", exp: attachment.exp }));
        attachment.reauthSent = true;
        ws.serializeAttachment(attachment);
      } catch {
        continue; // closing under us
      }
    }
    const due = socketDue(attachment);
    next = next === null ? due : Math.min(next, due);
  }
  return next;
}
