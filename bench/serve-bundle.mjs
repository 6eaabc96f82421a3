// Serve a Worker bundle in workerd at full speed for benchmarks: Miniflare's API with a direct
// socket to the Worker (no dev proxy, no entry router), as recorded in shared/PACKAGES.md.
// Usage: node bench/serve-bundle.mjs BUNDLE.js PORT [PERSIST_ROOT]
// With a persistence root (the `v3` folder of a `wrangler --persist-to` state, so D1 lands in the
// same SQLite file `wrangler d1 migrations apply --local` prepared) it binds DB (D1) and SITE_DO
// (SQLite-backed Durable Object SiteDO) the way wrangler.toml does; without one it serves a plain
// Worker (the hello-world baseline).
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Log, LogLevel, Miniflare, convertV4MiniflareOptions } from "miniflare";

const [bundle, port, persistRoot] = process.argv.slice(2);
const worker = {
  modules: true,
  // Module names are paths relative to rootPath, and workerd refuses names with "..": root the
  // Worker at the bundle's own folder (the bench builds it in a temporary directory).
  rootPath: dirname(resolve(bundle)),
  scriptPath: resolve(bundle),
  script: readFileSync(bundle, "utf8"),
  compatibilityDate: "2026-11-01",
  unsafeDirectSockets: [{ host: "127.0.0.1", port: Number(port) }],
};
if (persistRoot) {
  Object.assign(worker, {
    d1Databases: { DB: "00000000-0000-0000-0000-000000000000" },
    durableObjects: { SITE_DO: { className: "SiteDO", useSQLite: true } },
    bindings: {
      SITE_CACHE_TTL_S: "60", FLUSH_DELAY_MS: "1000", DROP_FLUSH_DELAY_MS: "1000",
      // The benches measure capacity: one site, its load from one IPv6 /64. The limiter still
      // counts every event (its cost is measured); only the address and site limits are lifted.
      RATE_LIMIT_IP: "0", RATE_LIMIT_SITE_DEFAULT: "0",
      // wrangler.toml's development value (bench/realtime.py signs its tokens with it).
      REALTIME_SECRET: process.env.REALTIME_SECRET ?? "dev-insecure-941-secret-change-me",
    },
  });
}
const mf = new Miniflare(convertV4MiniflareOptions({
  host: "127.0.0.1", port: 0, cf: false, logRequests: false, log: new Log(LogLevel.WARN),
  // Miniflare 5 keeps every plugin's state under one root (d1/, do/, …), like wrangler's v3/.
  ...(persistRoot ? { resourcePersistencePath: persistRoot } : {}),
  ...worker,
}));
await mf.ready;
console.log("ready");
const stop = async () => { await mf.dispose(); process.exit(0); };
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
