// The bot filter on a hand-labelled holdout (tests/fixtures/user-agents/holdout.json): strings
// as server logs show them, labelled by reading each vendor's description, not drawn from the
// crawler list the categories come from — so these figures are not measured on the filter's own
// training data. In-app browsers and WebViews are there because they are the usual false alarms.
import { describe, expect, it } from "vitest";
import holdout from "../../tests/fixtures/user-agents/holdout.json";
import { botCategory } from "../src/collector/enrich/bot";

interface Entry {
  ua: string;
  bot: boolean;
  category?: string;
}

describe("bot holdout", () => {
  const entries = (holdout as { entries: Entry[] }).entries;

  it("flags no browser, misses no bot, and names most categories as labelled", () => {
    const wrong = entries.filter((e) => (botCategory(e.ua) !== null) !== e.bot);
    const bots = entries.filter((e) => e.bot);
    const mislabelled = bots.filter((e) => botCategory(e.ua) !== e.category);
    console.log(
      `bot holdout: ${entries.length} user agents (${bots.length} bots); ${wrong.length} misjudged, ` +
        `category as labelled for ${bots.length - mislabelled.length} of ${bots.length}`,
      mislabelled.map((e) => `${e.category} -> ${botCategory(e.ua)}: ${e.ua.slice(0, 60)}`),
    );
    expect(wrong.map((e) => e.ua)).toEqual([]);
    expect(mislabelled.length / bots.length).toBeLessThanOrEqual(0.2);
  });
});
