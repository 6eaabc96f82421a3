// Writes src/analytics_941/country_names.json: ISO 3166-1 alpha-2 code -> English name, from the
// CLDR names Node's Intl.DisplayNames carries (the dashboard's map names countries the same way).
// Run: node scripts/country_names.mjs (again when a new Node brings newer CLDR data).
import { writeFileSync } from "node:fs";

const names = new Intl.DisplayNames(["en"], { type: "region", fallback: "code" });
const out = {};
const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
for (const a of letters) {
  for (const b of letters) {
    const code = a + b;
    const name = names.of(code);
    // Unknown codes come back as themselves; EU/UN/EZ/QO/ZZ are groupings, not countries; a
    // retired code (DD, SU, YU…) would give a current country's name a second code.
    const current = Intl.getCanonicalLocales(`und-${code}`)[0] === `und-${code}`;
    if (name && name !== code && current && !["EU", "EZ", "UN", "QO", "ZZ"].includes(code)) out[code] = name;
  }
}
const path = new URL("../src/analytics_941/country_names.json", import.meta.url);
writeFileSync(path, JSON.stringify(out, null, 0).replaceAll(',"', ',\n"') + "\n");
console.log(`${Object.keys(out).length} countries`);
