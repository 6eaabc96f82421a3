/**
 * Where webhooks may go: https to a public host. Loopback, private, link-local and local names
 * are refused (a webhook must not become a way into the network the collector runs next to), as
 * is plain http, unless WEBHOOK_DEV is set (local development and tests).
 */
import { isPrivateHost } from "../mail/hosts";

/** Why `url` may not receive webhooks, or null. */
export function destinationProblem(url: string, dev: boolean): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "not a URL";
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return "only http(s) URLs receive webhooks";
  if (parsed.username || parsed.password) return "a webhook URL may not carry a user or password";
  if (dev) return null;
  if (parsed.protocol !== "https:") return "webhooks go to https URLs only";
  if (isPrivateHost(parsed.hostname)) return "webhooks never go to loopback, private or local addresses";
  return null;
}
