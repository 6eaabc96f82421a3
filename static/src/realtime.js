// Realtime: the realtime page ([data-realtime]) and the "N visitors now" badge of the dashboard
// ([data-realtime-badge], re-rendered by HTMX swaps). One connection per page: a WebSocket to the
// collector (token from the dashboard, see docs/realtime.md), reconnecting with backoff; while
// the socket cannot open, the collector's snapshot endpoint is polled instead. A socket lives no
// longer than its token: told `reauth` before the expiry, the page opens a second socket with a
// fresh token and closes the first once the second is live, so the figures never stop. Every visitor
// string is set with textContent; styles only through the CSSOM (CSP: no inline styles).

const FEED_SIZE = 20;
const POLL_MS = 5000;
const PING_MS = 30000;
const MAX_BACKOFF_MS = 30000;

const numberFormat = new Intl.NumberFormat("en");
const regionNames = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(["en"], { type: "region" }) : null;

function countryName(code) {
  if (!code || code === "Unknown") return "Unknown";
  try {
    return regionNames?.of(code) ?? code;
  } catch {
    return code;
  }
}

function timeAgo(ts, now) {
  const s = Math.max(0, Math.round((now - ts) / 1000));
  if (s < 60) return `${s}s ago`;
  return `${Math.floor(s / 60)}m ago`;
}

/** Opens and keeps a realtime connection; calls onState(state) with the merged state. */
function connect(tokenUrl, onState, onStatus) {
  let state = null;
  let token = null;
  let failures = 0;
  let pollTimer = null;
  // The socket whose messages are shown; a renewal's second socket replaces it when live.
  let ws = null;
  let stopped = false;
  // The last snapshot poll succeeded (the status then says "Live (polling)").
  let pollOk = false;

  async function freshToken() {
    if (token && token.expires - Date.now() > 15000) return token;
    const response = await fetch(tokenUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`token: HTTP ${response.status}`);
    const body = await response.json();
    token = { ...body, expires: Date.now() + body.ttl * 1000 };
    return token;
  }

  function apply(message) {
    if (message.type === "delta" && state) {
      state = { ...message, events: [...message.events, ...state.events].slice(0, FEED_SIZE) };
    } else {
      state = message;
    }
    onState(state);
  }

  // One polling chain at a time: starting or stopping bumps the generation, ending the old one.
  let pollGen = 0;
  let polling = false;

  function stopPolling() {
    pollGen += 1;
    polling = false;
    clearTimeout(pollTimer);
  }

  function startPolling() {
    if (polling) return;
    polling = true;
    poll(++pollGen);
  }

  async function poll(gen) {
    if (stopped || gen !== pollGen) return;
    try {
      const t = await freshToken();
      const response = await fetch(`${t.snapshot_url}?token=${encodeURIComponent(t.token)}`);
      if (!response.ok) throw new Error(`snapshot: HTTP ${response.status}`);
      const snapshot = await response.json();
      if (stopped || gen !== pollGen) return;
      apply({ type: "snapshot", ...snapshot });
      pollOk = true;
      onStatus("Live (polling)", "polling");
    } catch {
      if (gen !== pollGen) return;
      pollOk = false;
      onStatus("Offline, retrying…", "offline");
    }
    pollTimer = setTimeout(() => poll(gen), POLL_MS);
  }

  function scheduleReconnect() {
    failures += 1;
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(failures, 6)) * (0.75 + Math.random() / 2);
    // Until the socket is back, keep the figures current over HTTP.
    startPolling();
    setTimeout(open, delay);
  }

  /**
   * Opens a socket. `renewing`: the current socket was told to reauth; this one, opened with a
   * fresh token, takes over on its first message (and the old one is closed), or is forgotten if
   * it fails, leaving the old one until the collector closes it at its expiry.
   */
  async function open(renewing = false) {
    // A reconnect scheduled before a renewal took over finds a live socket: nothing to do.
    if (stopped || (!renewing && ws)) return;
    let t;
    try {
      if (renewing) token = null;
      t = await freshToken();
    } catch {
      if (!renewing) scheduleReconnect();
      return;
    }
    // "Opened" means the first message arrived, not just the handshake: the collector accepts
    // then closes refused sockets (1008), and that must count as a failure for the backoff.
    let opened = false;
    let socket;
    try {
      socket = new WebSocket(`${t.socket_url}?token=${encodeURIComponent(t.token)}`);
    } catch {
      if (!renewing) scheduleReconnect();
      return;
    }
    if (!renewing) ws = socket;
    let pingTimer = null;
    socket.addEventListener("open", () => {
      pingTimer = setInterval(() => socket.readyState === WebSocket.OPEN && socket.send("ping"), PING_MS);
    });
    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string" || event.data[0] !== "{") return; // "pong"
      if (stopped) {
        socket.close(1000, "page left"); // a renewal that went live after the page stopped
        return;
      }
      if (!opened) {
        opened = true;
        if (socket !== ws) {
          // A renewal is live: it takes over, and the old socket goes.
          const old = ws;
          ws = socket;
          old?.close(1000, "renewed");
        }
        failures = 0;
        pollOk = false;
        stopPolling();
        onStatus("Live", "live");
      }
      if (socket !== ws) return; // the replaced socket's last messages
      const message = JSON.parse(event.data);
      if (message.type === "reauth") {
        open(true);
        return;
      }
      apply(message);
    });
    socket.addEventListener("close", (event) => {
      clearInterval(pingTimer);
      // A replaced socket, or a renewal that never went live: the current one carries on.
      if (socket !== ws) return;
      ws = null;
      if (stopped) return;
      // 1008: the token was refused or has expired; fetch a new one before trying again.
      if (event.code === 1008) token = null;
      if (opened) onStatus("Reconnecting…", "offline");
      else if (!pollOk) onStatus("Cannot open a live connection, polling…", "offline");
      scheduleReconnect();
    });
  }

  open();
  return {
    stop() {
      stopped = true;
      stopPolling();
      ws?.close(1000, "page left");
    },
  };
}

/** "desktop" -> "Desktop": stored lowercase names read capitalized (as on the dashboard). */
function capitalized(name) {
  return name && name === name.toLowerCase() ? name[0].toUpperCase() + name.slice(1) : name;
}

/** An element with a class and text (textContent: visitor strings are never parsed as HTML). */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.textContent = text;
  return node;
}

/** Replaces a list's items, or shows `emptyText` when there are none. */
function fillItems(list, items, emptyText) {
  list.replaceChildren(...(items.length > 0 ? items : [el("li", "empty", emptyText)]));
}

function fillList(list, rows, label) {
  const items = rows.map(([key, count]) => {
    const li = document.createElement("li");
    const name = el("span", "name", label(key));
    name.title = key;
    li.append(name, el("span", "value", numberFormat.format(count)));
    return li;
  });
  fillItems(list, items, "Nobody yet");
}

function renderPage(root, state) {
  root.querySelector("[data-realtime-count]").textContent = numberFormat.format(state.visitors);
  const bars = root.querySelector("[data-realtime-bars]");
  const max = Math.max(1, ...state.minutes);
  bars.replaceChildren(
    ...state.minutes.map((n, i) => {
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.height = `${Math.round((n / max) * 100)}%`;
      bar.title = `${numberFormat.format(n)} pageviews, ${state.minutes.length - 1 - i} min ago`;
      return bar;
    }),
  );
  bars.setAttribute("aria-label", `Pageviews per minute, last 30 minutes: ${state.minutes.join(", ")}`);
  for (const list of root.querySelectorAll("[data-realtime-list]")) {
    const key = list.dataset.realtimeList;
    fillList(list, state.top[key] ?? [], key === "country" ? countryName : key === "device" ? capitalized : (k) => k);
  }
  const items = state.events.map((event) => {
    const li = document.createElement("li");
    const meta = `${countryName(event.country)} · ${timeAgo(event.ts, state.now)}`;
    li.append(el("strong", "", event.name), " ", el("span", "path", event.path), " ", el("small", "", meta));
    return li;
  });
  fillItems(root.querySelector("[data-realtime-feed]"), items, "Waiting for events…");
}

function startPage(root) {
  const status = root.querySelector("[data-realtime-status]");
  connect(
    root.dataset.tokenUrl,
    (state) => renderPage(root, state),
    (text, kind) => {
      status.textContent = text;
      status.dataset.state = kind;
    },
  );
}

// The badge lives inside the HTMX-swapped dashboard: keep one connection per token URL (site)
// and write into whichever badge is in the document when a message arrives.
let badge = null;

function startBadge() {
  const el = document.querySelector("[data-realtime-badge]");
  if (!el) return;
  const tokenUrl = el.dataset.tokenUrl;
  const update = () => {
    const count = document.querySelector("[data-realtime-badge] [data-realtime-count]");
    if (!count || !badge?.state) return;
    count.textContent = numberFormat.format(badge.state.visitors);
    const noun = document.querySelector("[data-realtime-badge] [data-realtime-noun]");
    if (noun) noun.textContent = badge.state.visitors === 1 ? "visitor" : "visitors";
  };
  if (badge?.tokenUrl === tokenUrl) {
    update();
    return;
  }
  badge?.connection.stop();
  badge = { tokenUrl, state: null, connection: null };
  const current = badge;
  current.connection = connect(
    tokenUrl,
    (state) => {
      current.state = state;
      if (badge === current) update();
    },
    () => {},
  );
}

function init() {
  const page = document.querySelector("[data-realtime]");
  if (page) startPage(page);
  startBadge();
  document.body.addEventListener("htmx:afterSettle", startBadge);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
