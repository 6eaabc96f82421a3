// Builds the dashboard's static bundle: htmx.org 2 + uPlot + our small code, the CSS (ours +
// uPlot's) and the world map's outlines (build-map.mjs), into static/dist/ with content-hashed
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
 * Bundle static/src/{dashboard,auth,realtime}.* into static/dist/ and write its manifest.json.
 * @param {{ root?: string, outdir?: string, minify?: boolean }} [options] outdir: where to
 *   write (default <root>/static/dist); it is emptied first.
 * @returns {Promise<Record<string, string>>} the manifest
 */
export async function buildAssets({ root = ROOT, outdir, minify = true } = {}) {
  outdir = path.resolve(outdir ?? path.join(root, "static", "dist"));
  // Start clean so stale hashed files never ship in the wheel.
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ["static/src/dashboard.js", "static/src/dashboard.css", "static/src/auth.js", "static/src/auth.css", "static/src/realtime.js"],
    outdir,
    entryNames: "[name]-[hash]",
    bundle: true,
    minify,
    format: "iife",
    target: ["es2020", "chrome100", "firefox100", "safari15"],
    metafile: true,
    logLevel: "warning",
    // Keep the MIT/0BSD notices of the bundled packages next to the bundle.
    legalComments: "linked",
  });
  const manifest = {};
  for (const [output, info] of Object.entries(result.metafile.outputs)) {
    if (info.entryPoint) manifest[path.basename(info.entryPoint)] = path.basename(output);
  }
  // The world map's outlines: data, fetched by the Locations panel only when it shows the map.
  const map = JSON.stringify(await buildMap(root));
  const mapName = `world-${createHash("sha256").update(map).digest("hex").slice(0, 8).toUpperCase()}.json`;
  await writeFile(path.join(outdir, mapName), map);
  manifest["world.json"] = mapName;
  await writeFile(path.join(outdir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

// Allow `node scripts/build-assets.mjs` on its own.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(await buildAssets());
}
