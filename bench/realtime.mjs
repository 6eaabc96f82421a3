// Realtime latency client (run by bench/realtime.py with the project's Node 24, global WebSocket):
// opens the realtime WebSocket, then POSTs COUNT pageviews open-loop at RATE per second, each
// with its own path, and times event POST -> the pushed delta that carries that path.
// Usage: node bench/realtime.mjs BASE_URL DOMAIN TOKEN COUNT RATE
// Prints one JSON line: {latencies: [ms…], missing, rejected, counted, fullFeeds}: `missing` are
// events no delta's feed named (a delta names at most FEED_SIZE, 20, so a burst after a stall
// leaves some out by design), `counted` the pageviews the last delta's minute bars hold (every
// accepted event, if none was lost), `fullFeeds` the deltas whose feed was full. `countLatencies`
// times every event by the counts instead: when the minute bars first count n events, the n-th
// event sent (in sending order) is taken as shown then, named in a feed or not.
const [base, domain, token, countArg, rateArg] = process.argv.slice(2);
const count = Number(countArg);
const interval = 1000 / Number(rateArg);
const sent = new Map();
const latencies = [];
const sendTimes = [];
const countLatencies = [];
let rejected = 0;
let counted = 0;
let fullFeeds = 0;
const FEED_SIZE = 20;

const ws = new WebSocket(`${base.replace(/^http/, "ws")}/api/realtime/${domain}?token=${encodeURIComponent(token)}`);
await new Promise((resolve, reject) => {
  ws.addEventListener("message", resolve, { once: true }); // the snapshot
  ws.addEventListener("close", (e) => reject(new Error(`socket closed: ${e.code} ${e.reason}`)), { once: true });
});
let allSeen;
const done = new Promise((resolve) => (allSeen = resolve));
ws.addEventListener("message", (event) => {
  const now = performance.now();
  const message = JSON.parse(event.data);
  if (message.type !== "delta") return;
  counted = message.minutes.reduce((a, b) => a + b, 0);
  while (countLatencies.length < Math.min(counted, sendTimes.length)) countLatencies.push(now - sendTimes[countLatencies.length]);
  if (message.events.length >= FEED_SIZE) fullFeeds++;
  for (const item of message.events) {
    const start = sent.get(item.path);
    if (start === undefined) continue;
    sent.delete(item.path);
    latencies.push(now - start);
  }
  if (latencies.length + rejected === count || counted + rejected === count) allSeen();
});

const body = (i) => JSON.stringify({ n: "pageview", u: `https://${domain}/rt/${i}`, d: domain, r: null, w: 1280 });
const started = performance.now();
for (let i = 0; i < count; i++) {
  const due = started + i * interval;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  sent.set(`/rt/${i}`, performance.now());
  sendTimes.push(performance.now());
  fetch(`${base}/api/event`, {
    method: "POST",
    body: body(i),
    headers: {
      "Content-Type": "text/plain",
      "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36",
      "CF-Connecting-IP": `2001:db8::${(i % 500).toString(16)}`,
    },
  }).then(async (response) => {
    const text = await response.text();
    if (response.status !== 202 || !text.includes('"ok":true')) {
      rejected++;
      sent.delete(`/rt/${i}`);
      if (latencies.length + rejected === count) allSeen();
    }
  });
}
await Promise.race([done, new Promise((r) => setTimeout(r, 15000))]);
ws.close();
// Exit once the line is written: a pipe takes it in 64 KB pieces, and exit() would cut it.
process.stdout.write(`${JSON.stringify({ latencies, countLatencies, missing: sent.size, rejected, counted, fullFeeds })}\n`, () => process.exit(0));
