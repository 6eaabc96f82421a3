// The bot filter against a labelled corpus of real user agents (tests/fixtures/user-agents,
// built by scripts/build-ua-corpus.mjs): precision and recall of "is a bot", and how often the
// category matches the corpus label. Figures are printed for the release note.
import { describe, expect, it } from "vitest";
import corpus from "../../tests/fixtures/user-agents/corpus.json";
import { botCategory } from "../src/collector/enrich/bot";

interface Entry {
  ua: string;
  bot: boolean;
  category?: string;
}

describe("bot corpus", () => {
  const entries = (corpus as { entries: Entry[] }).entries;

  it("has at least 300 labelled strings of both kinds", () => {
    expect(entries.length).toBeGreaterThanOrEqual(300);
    expect(entries.filter((e) => e.bot).length).toBeGreaterThanOrEqual(150);
    expect(entries.filter((e) => !e.bot).length).toBeGreaterThanOrEqual(150);
  });

  it("detects bots with high precision and recall, and labels their category", () => {
    let truePositive = 0, falsePositive = 0, falseNegative = 0, categoryHits = 0;
    const missed: string[] = [];
    const wrongly: string[] = [];
    for (const entry of entries) {
      const category = botCategory(entry.ua);
      if (category && entry.bot) {
        truePositive++;
        if (category === entry.category) categoryHits++;
      } else if (category) {
        falsePositive++;
        wrongly.push(entry.ua);
      } else if (entry.bot) {
        falseNegative++;
        missed.push(entry.ua);
      }
    }
    const precision = truePositive / (truePositive + falsePositive);
    const recall = truePositive / (truePositive + falseNegative);
    const categoryAccuracy = categoryHits / truePositive;
    console.log(
      `bot corpus: ${entries.length} user agents; precision ${(100 * precision).toFixed(1)} %, ` +
        `recall ${(100 * recall).toFixed(1)} %, category matches label ${(100 * categoryAccuracy).toFixed(1)} % ` +
        `(${falsePositive} browsers flagged, ${falseNegative} bots missed)`,
    );
    expect(precision, `browsers flagged as bots: ${wrongly.slice(0, 5).join(" | ")}`).toBeGreaterThanOrEqual(0.99);
    expect(recall, `bots missed: ${missed.slice(0, 5).join(" | ")}`).toBeGreaterThanOrEqual(0.9);
    expect(categoryAccuracy).toBeGreaterThanOrEqual(0.8);
  });
});
