// Builds the dashboard's static bundle: htmx.org 2 + uPlot + our small code, the CSS (ours +
// uPlot's), the globe tab's module (three.js) and the world map's outlines (build-map.mjs),
// into static/dist/ with content-hashed
// names, plus manifest.json mapping the logical names ("dashboard.js", "dashboard.css",
// "world.json") to the hashed files. The Python side reads the manifest
// to emit URLs, and serves the files with a year-long immutable cache.
// static/dist/ is committed (so a pip install needs no Node) and the build is deterministic:
// the same static/src and node_modules give byte-identical files wherever they are written,
// which lets tests/test_assets_fresh.py rebuild into a temporary folder and compare.
import { createHash } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { buildMap } from "./build-map.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Bundle static/src/{dashboard,auth,realtime,globe,export-progress}.* into static/dist/ and write its manifest.json.
 * @param {{ root?: string, outdir?: string, minify?: boolean }} [options] outdir: where to
 *   write (default <root>/static/dist); it is emptied first.
 * @returns {Promise<Record<string, string>>} the manifest
 */
export async function buildAssets({ root = ROOT, outdir, minify = true } = {}) {
  outdir = path.resolve(outdir ?? path.join(root, "static", "dist"));
  const options = {
    absWorkingDir: root,
    outdir,
    // Hashed below from the content alone: esbuild's [hash] also covers the input paths, so it
    // changes with where node_modules sits although the bytes are the same.
    entryNames: "[name]",
    write: false,
    bundle: true,
    minify,
    target: ["es2020", "chrome100", "firefox100", "safari15"],
    metafile: true,
    logLevel: "warning",
    // Keep the MIT/0BSD notices of the bundled packages next to the bundle (named by esbuild,
    // e.g. dashboard.js.LEGAL.txt, as the bundle's comment points to it).
    legalComments: "linked",
  };
  // The raw exports' progress (its CSS inlined as text, added through the CSSOM): a module
  // dashboard.js imports on the first export click, by the hashed name defined into it below,
  // so neither the page nor the first-load bundle names or carries it.
  const progress = await esbuild.build({
    ...options, entryPoints: ["static/src/export-progress.js"], format: "esm", loader: { ".css": "text" },
  });
  const progressFile = progress.outputFiles.find((file) => file.path.endsWith(".js"));
  const results = [
    await esbuild.build({
      ...options,
      entryPoints: ["static/src/dashboard.js", "static/src/dashboard.css", "static/src/views.css", "static/src/auth.js", "static/src/auth.css", "static/src/realtime.js", "static/src/realtime.css"],
      format: "iife",
      // import() in a classic script resolves against the script's own URL: a sibling in dist.
      define: { EXPORT_PROGRESS_JS: JSON.stringify(`./${hashedName("export-progress.js", progressFile.contents)}`) },
    }),
    progress,
    // The Locations panel's globe (three.js): a module, loaded by the Globe tab's own <script
    // type="module">, so it is never part of a first load and runs once however often HTMX
    // inserts that tag.
    await esbuild.build({ ...options, entryPoints: ["static/src/globe.js"], format: "esm" }),
  ];
  const entries = new Map();
  for (const result of results) {
    for (const [output, info] of Object.entries(result.metafile.outputs)) {
      if (info.entryPoint) entries.set(path.resolve(root, output), path.basename(info.entryPoint));
    }
  }
  const files = new Map();
  const manifest = {};
  for (const file of results.flatMap((result) => result.outputFiles)) {
    const logical = entries.get(file.path);
    const name = logical ? hashedName(logical, file.contents) : path.basename(file.path);
    if (logical) manifest[logical] = name;
    files.set(name, file.contents);
  }
  // The world map's outlines: data, fetched by the Locations panel only when it shows the map
  // or the globe (which paints its sphere from the same outlines).
  const map = JSON.stringify(await buildMap(root));
  manifest["world.json"] = hashedName("world.json", map);
  files.set(manifest["world.json"], map);
  files.set("manifest.json", JSON.stringify(manifest, null, 2) + "\n");
  // Start clean so stale hashed files never ship in the wheel.
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  for (const [name, contents] of files) await writeFile(path.join(outdir, name), contents);
  return manifest;
}

/** "dashboard.js" + its bytes -> "dashboard-1A2B3C4D.js": the name changes only with the content. */
function hashedName(logical, contents) {
  const hash = createHash("sha256").update(contents).digest("hex").slice(0, 8).toUpperCase();
  const ext = path.extname(logical);
  return `${path.basename(logical, ext)}-${hash}${ext}`;
}

// Allow `node scripts/build-assets.mjs` on its own.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(await buildAssets());
}
