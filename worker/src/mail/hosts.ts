/**
 * Hosts a production mailer may not connect to: names that only a local network resolves and
 * literal loopback, private, link-local, CGNAT and unique-local addresses. (Names resolving to
 * such addresses cannot be checked here: Workers have no resolver API, and Cloudflare's own
 * network does not route to private ranges.)
 */

function ipv4(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null;
  const bytes = parts.map(Number);
  return bytes.every((b) => b <= 255) ? bytes : null;
}

/** True for localhost-like names and for loopback, private and link-local IP literals. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.trim().toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "");
  if (!host) return true;
  if (host === "localhost" || /\.(localhost|local|internal|lan|home\.arpa)$/.test(host)) return true;
  const v4 = ipv4(host);
  if (v4) {
    const [a = 0, b = 0] = v4;
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31)
      || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224;
  }
  if (host.includes(":")) {
    // ::, ::1, IPv4-mapped, fc00::/7 (unique local), fe80::/10 (link-local)
    if (host === "::" || host === "::1" || host.startsWith("::ffff:")) return true;
    return /^f[cd][0-9a-f]{0,2}:/.test(host) || /^fe[89ab][0-9a-f]?:/.test(host);
  }
  // A bare number is an IPv4 address in another spelling (2130706433 is 127.0.0.1).
  return /^(0x[0-9a-f]+|\d+)$/.test(host);
}
