/**
 * The per-site rules of the pipeline: which hostnames may send events for a site (origin), and
 * which paths the owner excluded from counting.
 */
import { stripWww } from "../enrich/referrer";
import type { Site } from "../site-lookup";

/**
 * True when `hostname` belongs to the site: its domain or one of its registered `domains`, with
 * or without `www.`, or any subdomain of them when the site allows subdomains.
 */
export function isSiteHost(site: Site, hostname: string): boolean {
  const host = stripWww(hostname.toLowerCase().replace(/\.$/, ""));
  for (const domain of [site.domain, ...site.domains]) {
    const allowed = stripWww(domain.toLowerCase());
    if (host === allowed) return true;
    if (site.allowSubdomains && host.endsWith(`.${allowed}`)) return true;
  }
  return false;
}

const compiled = new WeakMap<string[], RegExp[]>();

/**
 * Compiles a path pattern: `*` matches within one segment, `**` across segments, anything else
 * literally ("/admin/**", "/drafts/*", "/preview").
 */
export function pathPattern(pattern: string): RegExp {
  // "/admin/**" covers "/admin" itself too, as a user means "the admin section".
  const source = pattern
    .split("/**")
    .join("\u0000")
    .split("**")
    .map((part) => part.split("*").map((text) => text.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*"))
    .join(".*")
    .split("\u0000")
    .join("(?:/.*)?");
  return new RegExp(`^${source}$`);
}

/** True when `pathname` matches one of the site's excluded path patterns. */
export function isExcludedPath(site: Site, pathname: string): boolean {
  if (site.excludedPaths.length === 0) return false;
  let patterns = compiled.get(site.excludedPaths);
  if (!patterns) {
    patterns = site.excludedPaths.map(pathPattern);
    compiled.set(site.excludedPaths, patterns);
  }
  return patterns.some((pattern) => pattern.test(pathname));
}
