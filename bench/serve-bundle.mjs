// Serve a Worker bundle in workerd at full speed for benchmarks: Miniflare's API with a direct
// socket to the Worker (no dev proxy, no entry router), as recorded in shared/PACKAGES.md.
// Usage: node bench/serve-bundle.mjs BUNDLE.js PORT [D1_PERSIST_DIR] [DO_PERSIST_DIR]
// With persistence dirs it binds DB (D1) and SITE_DO (SQLite-backed Durable Object SiteDO) the
// way wrangler.toml does; without them it serves a plain Worker (the hello-world baseline).
import { readFileSync } from "node:fs";
import { Log, LogLevel, Miniflare, convertV4MiniflareOptions } from "miniflare";

const [bundle, port, d1Persist, doPersist] = process.argv.slice(2);
const worker = {
  modules: true,
  scriptPath: bundle,
  script: readFileSync(bundle, "utf8"),
  compatibilityDate: "2026-11-01",
  unsafeDirectSockets: [{ host: "127.0.0.1", port: Number(port) }],
};
if (d1Persist) {
  Object.assign(worker, {
    d1Databases: { DB: "00000000-0000-0000-0000-000000000000" },
    d1Persist,
    durableObjects: { SITE_DO: { className: "SiteDO", useSQLite: true } },
    durableObjectsPersist: doPersist,
    bindings: { SITE_CACHE_TTL_S: "60", FLUSH_DELAY_MS: "1000" },
  });
}
const mf = new Miniflare(convertV4MiniflareOptions({
  host: "127.0.0.1", port: 0, cf: false, logRequests: false, log: new Log(LogLevel.WARN),
  ...worker,
}));
await mf.ready;
console.log("ready");
const stop = async () => { await mf.dispose(); process.exit(0); };
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
