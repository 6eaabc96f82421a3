/**
 * SiteDO.ingest's answer on the wire: JSON text, not an object. The runtime gives every object an
 * RPC method returns a disposer function on the caller's side and a pipeline capability on the
 * callee's (so stubs inside it could be used or released); a string gets neither. Per event that
 * was a few per cent of the collector's CPU in the ingest bench (bench/ingest.py).
 */
import type { Drop, IngestResult } from "../contract";

/** The answer as SiteDO.ingest sends it. */
export type IngestAnswer = string;

export function packAnswer(result: IngestResult | Drop): IngestAnswer {
  return JSON.stringify(result);
}

/** The accepted event's ids, or the drop the DO answered (a `rate_limited`). */
export function readAnswer(answer: IngestAnswer): IngestResult | Drop {
  return JSON.parse(answer) as IngestResult | Drop;
}
