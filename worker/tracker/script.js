// 941 Analytics tracker. Loaded as
//   <script defer data-domain="example.com" src="https://collector.example/script.js"></script>
// Default script: pageviews (also SPA pushState/popstate, hash routing with data-hash, back/
// forward-cache restores, deferred while prerendered or hidden), custom events through
// a941.event(name, {props, revenue, interactive}) with a queue stub, engaged time and scroll
// depth as an "engagement" event, a "404" event with data-404, consent mode with
// data-consent="required" and a941.consent(yes). No cookies, no storage ids.
// Opt-in features are compile-time flags (OUTBOUND, DOWNLOADS, TAGGED, FORMS, ERRORS) set by
// scripts/build-tracker.mjs, which builds one variant per combination (script.outbound-links.js…).
// The gzip budget is 1 KB for the default script and a few hundred bytes per feature
// (FEATURE_GZIP_BUDGETS there): every byte counts.
(function () {
  var w = window;
  var doc = document;
  var loc = location;
  var script = doc.currentScript;
  var attr = function (name) {
    return script.getAttribute("data-" + name);
  };
  // Bubble phase only: window's focus/blur must not fire for every form field focus change.
  var on = function (target, type, listener) {
    target.addEventListener(type, listener);
  };
  var now = Date.now;
  // Default endpoint is the collector that served this script, so a site needs only one tag.
  var api = attr("api") || new URL(script.src).origin + "/api/event";
  var domain = attr("domain") || loc.hostname;
  var hashMode = attr("hash") != null;
  var skip;
  // Own visits: localStorage.a941_ignore = "true" in the owner's browser turns tracking off.
  try {
    skip = localStorage.a941_ignore == "true";
  } catch (e) {}
  if (/^(localhost|127\.|\[::1\])/.test(loc.hostname) && attr("include-localhost") == null) skip = 1;
  // data-consent="required": nothing leaves the page until a941.consent(true). A stub may have
  // recorded the consent manager's answer before this script loaded (a941.c, docs/tracker.md).
  var consent = attr("consent") != "required" || (w.a941 && w.a941.c);

  // The current page: its URL as sent, engaged ms so far, the clock start (0 = stopped), the
  // deepest scroll, and what the last engagement event already reported.
  var page, engaged, since, depth, sentEngaged, sentDepth, waiting;

  function send(name, options, url) {
    options = options || {};
    // JSON.stringify leaves out undefined values, so absent options cost no bytes on the wire.
    // A string body is sent as text/plain: a "simple" request, no CORS preflight. keepalive lets
    // the request outlive the page when the event fires during unload or navigation.
    if (!skip && consent)
      fetch(api, {
        method: "POST",
        keepalive: true,
        body: JSON.stringify({
          n: name,
          u: url || loc.href,
          d: domain,
          r: doc.referrer,
          w: w.innerWidth,
          h: hashMode || undefined,
          p: options.props,
          $: options.revenue,
          i: options.interactive,
          e: options.e,
          s: options.s,
        }),
      }).catch(function () {});
  }

  // Engaged time runs only while the page is visible and focused.
  function tick() {
    var t = now();
    if (since) engaged += t - since;
    since = !doc.hidden && doc.hasFocus() ? t : 0;
  }

  // Percent of the page seen; the collector rounds and caps it at 100.
  function scrolled() {
    var d = (100 * (w.scrollY + w.innerHeight)) / doc.documentElement.scrollHeight;
    if (d > depth) depth = d;
  }

  // Like Plausible's engagement event: sent on hide, blur and SPA navigation, only when there is
  // something new. Values are cumulative for the page, so a repeated event is harmless.
  function engage() {
    tick();
    if (page && (engaged > sentEngaged || depth > sentDepth)) {
      sentEngaged = engaged;
      sentDepth = depth;
      send("engagement", { e: engaged, s: depth }, page);
    }
  }

  function pageview() {
    // A prerendered or background page counts once it is first shown.
    // So does a page whose visitor has not consented (yet): counted once they do.
    if (doc.prerendering || doc.hidden || !consent) return (waiting = 1);
    waiting = 0;
    var url = hashMode ? loc.href : loc.href.split("#")[0];
    // pushState with the current URL (and popstate after it) must not count the page twice.
    if (url == page) return;
    engage();
    page = url;
    engaged = sentEngaged = sentDepth = depth = 0;
    tick();
    scrolled();
    send("pageview");
    // Once, after the first pageview actually went out (not while it waits for the page to be
    // shown): the 404 event, non-interactive so a visit to a missing page can still bounce, then
    // the calls made before the pageview, so none of them reaches the collector before it.
    if (queued) {
      if (attr("404") != null) send("404", { props: { path: loc.pathname }, interactive: false });
      for (var i = 0; i < queued.length; i++) send(queued[i][0], queued[i][1]);
      queued = 0;
    }
  }

  var history = w.history;
  var pushState = history.pushState;
  history.pushState = function () {
    pushState.apply(this, arguments);
    pageview();
  };
  on(w, "popstate", pageview);
  if (hashMode) on(w, "hashchange", pageview);
  on(w, "pageshow", function (e) {
    // Restored from the back/forward cache: a new view of the page.
    if (e.persisted) {
      page = 0;
      pageview();
    }
  });
  on(doc, "visibilitychange", function () {
    if (waiting) pageview();
    else doc.hidden ? engage() : tick();
  });
  on(doc, "prerenderingchange", pageview);
  on(w, "focus", tick);
  on(w, "blur", engage);
  on(w, "pagehide", engage);
  on(doc, "scroll", scrolled);

  // Feature variants: clicks on links and tagged elements, form submissions. The flags are
  // constants at build time, so the default script carries none of this code.
  if (TAGGED || FORMS) {
    // <button data-a941-event="Signup" data-a941-prop-plan="pro" data-a941-revenue="9.5">
    var tagged = function (el) {
      if (!el) return;
      var props = {};
      var revenue;
      for (var i = 0, a; (a = el.attributes[i++]); ) {
        if (a.name.indexOf("data-a941-prop-") == 0) props[a.name.slice(15)] = a.value;
        if (a.name == "data-a941-revenue") revenue = a.value;
      }
      send(el.getAttribute("data-a941-event"), { props: props, revenue: revenue });
    };
    on(doc, "submit", function (event) {
      var form = event.target;
      if (TAGGED && form.hasAttribute("data-a941-event")) tagged(form);
      else if (FORMS) send("Form: Submission", { props: { path: loc.pathname, form: form.id || form.getAttribute("name") || "" } });
    });
  }
  if (OUTBOUND || DOWNLOADS || TAGGED) {
    var clicked = function (event) {
      var target = event.target;
      var link = target.closest && target.closest("a[href]");
      if (OUTBOUND && link && link.host != loc.host && /^http/.test(link.protocol)) {
        send("Outbound Link: Click", { props: { url: link.href } });
      }
      if (
        DOWNLOADS &&
        link &&
        /\.(pdf|xlsx?|docx?|txt|rtf|csv|exe|key|pp[st]x?|7z|pkg|rar|gz|zip|avi|mov|mp[34]|mpe?g|wmv|midi?|wav|wma|dmg|iso|msi|apk)$/i.test(
          link.pathname,
        )
      ) {
        send("File Download", { props: { url: link.href } });
      }
      if (TAGGED && target.closest) tagged(target.closest("[data-a941-event]:not(form)"));
    };
    on(doc, "click", clicked);
    on(doc, "auxclick", clicked);
  }

  // Calls made before the script loaded wait in a941.q (see docs/tracker.md for the stub); calls
  // made while the first pageview waits join them. Both go out right after that pageview.
  var queued = (w.a941 && w.a941.q) || [];
  var api941 = (w.a941 = {
    event: function (name, options) {
      queued ? queued.push([name, options]) : send(name, options);
    },
    // Granting counts the current page; calls made before it are dropped, never replayed.
    // Revoking forgets the page, so time on it while revoked is never reported.
    consent: function (yes) {
      if ((consent = yes)) {
        queued = queued && [];
        pageview();
      } else page = 0;
    },
  });
  // Segment uses the name `analytics`: only claim it when nobody else has.
  if (!w.analytics) w.analytics = api941;

  // JavaScript errors as "JS error" events, at most five per page view and one per
  // fingerprint. URLs in them keep only the site's own paths: query strings can hold tokens, and
  // other origins' URLs (extensions, third-party scripts) say nothing about the site.
  // Block-scoped (let), unlike the rest: a `var` would leave its declaration in every variant.
  if (ERRORS) {
    // Per page view, told apart by the page's URL as sent.
    let reported = {},
      errorsSent = 0,
      reportedPage;
    let strip = function (text) {
      return String(text || "").replace(/\b([a-z][\w+.-]*:\/\/[^\s()]*?)((?::\d+)*)(?=[\s()]|$)/gi, function (m, url, at) {
        try {
          url = new URL(url);
        } catch (e) {}
        return url.origin == loc.origin ? url.pathname + at : "<other origin>";
      });
    };
    let report = function (err, message, file, line, column) {
      message = String((err && err.message) || message || err).slice(0, 500);
      // Stack frames only (V8: "at …", Firefox and Safari: "fn@url"), not the message lines.
      var stack = strip(err && err.stack)
        .split("\n")
        .filter(function (l) {
          return /^\s*at |@/.test(l);
        })
        .slice(0, 10)
        .map(function (l) {
          return l.trim();
        })
        .join("\n");
      var top = /([^\s(@]*):(\d+):(\d+)\)?$/m.exec(stack) || [];
      file = file ? strip(file) : top[1];
      line = line || top[2];
      column = column || top[3];
      var type = (err && err.name) || "Error";
      var key = [type, message, file, line, column, stack].join("|");
      for (var h = 0, i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
      var fingerprint = (h >>> 0).toString(36);
      if (reportedPage != page) (reported = {}), (errorsSent = 0), (reportedPage = page);
      if (reported[fingerprint] || errorsSent++ >= 5) return;
      reported[fingerprint] = 1;
      api941.event("JS error", {
        props: { message: message, type: type, file: file, line: line, column: column, stack: stack, fingerprint: fingerprint },
        interactive: false,
      });
    };
    on(w, "error", function (e) {
      report(e.error, e.message, e.filename, e.lineno, e.colno);
    });
    on(w, "unhandledrejection", function (e) {
      report(e.reason);
    });
    // For errors the site catches itself: a941.error(err).
    api941.error = function (err) {
      report(err);
    };
  }

  pageview();
})();
