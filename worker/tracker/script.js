// 941 Analytics tracker. Loaded as
//   <script defer data-domain="example.com" src="https://collector.example/script.js"></script>
// Default script: pageviews (also SPA pushState/popstate, hash routing with data-hash, back/
// forward-cache restores, deferred while prerendered or hidden), custom events through
// a941.event(name, {props, revenue, interactive}) with a queue stub, engaged time and scroll
// depth as an "engagement" event, a "404" event with data-404, consent mode with
// data-consent="required" and a941.consent(yes), the page title and browser language. No
// cookies, no storage ids.
// Opt-in features are compile-time flags (OUTBOUND, DOWNLOADS, TAGGED, FORMS, ERRORS, VITALS,
// CLICKS, IDENTIFY, RETURNING) set by scripts/build-tracker.mjs, which builds one variant per combination
// (script.outbound-links.js…).
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
          t: options.t,
          // The browser's language on every event: cheaper in script bytes than on pageviews
          // only; the collector keeps the first one of a visit.
          l: navigator.language,
          // The add-ons' fields (identify, returning): a spread of `false` vanishes at build
          // time, so variants without them carry no trace of these lines.
          ...(IDENTIFY && send.v),
          ...(RETURNING && send.r()),
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
    // The title rides on pageviews only; the collector trims and caps it (bytes saved here).
    send("pageview", { t: doc.title });
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

  // a941.identify(id, traits), only with the identify add-on and a site that turned identity
  // on: the id (and traits) ride on every later event of this page, SPA navigations included,
  // and are kept in memory only (no storage: the collector keeps the id on the visit once set).
  // identify(null) forgets it. Kept on `send` itself: a variable would leave its declaration
  // in every variant.
  if (IDENTIFY) {
    send.i = function (id, traits) {
      send.v = id == null ? 0 : { U: "" + id, T: traits };
      // Mid-page: tell the collector now, as an engagement report (harmless, the values are
      // cumulative), rather than only with the next event, which may never come.
      if (page) {
        sentEngaged = -1;
        engage();
      }
    };
    // Recorded by the stub before the script loaded (docs/tracker.md): the first pageview carries it.
    if (w.a941 && w.a941.i) send.i.apply(0, w.a941.i);
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
  if (IDENTIFY) api941.identify = send.i;

  // New vs returning visitors: localStorage keeps one boolean (a941_seen: "1" once this browser
  // has visited the site on an earlier UTC day) and the UTC day of the latest visit (a941_day,
  // days since 1970), nothing else. Every event says whether the browser is returning (R); the
  // collector keeps the visit's first. Read and written only when an event is actually sent,
  // so never before consent, and forgotten when consent is revoked.
  if (RETURNING) {
    let seen;
    send.r = function () {
      try {
        if (seen == null) {
          var store = localStorage,
            day = (now() / 864e5) | 0;
          seen = store.a941_seen == 1 || store.a941_day < day;
          store.a941_seen = +seen;
          store.a941_day = day;
        }
        return { R: seen };
      } catch (e) {}
    };
    let consented = api941.consent;
    api941.consent = function (yes) {
      if (!yes)
        try {
          seen = null;
          localStorage.removeItem("a941_seen");
          localStorage.removeItem("a941_day");
        } catch (e) {}
      consented(yes);
    };
  }

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

  // Core Web Vitals of each page view (LCP, INP, CLS, FCP, TTFB), measured as Google's web-vitals
  // library defines them, sent as one "web-vitals" event when the page is first hidden and again
  // on a later hide when a value changed; the collector keeps the last report per page view.
  // Nothing is sent for a view hidden before its first paint. Times are ms from the navigation's
  // start, or from activation for a prerendered page, or from the pageshow of a bfcache restore.
  if (VITALS) {
    let perf = w.performance,
      nav = perf.getEntriesByType("navigation")[0] || {},
      max = Math.max,
      // The current view's values (t f l c i: TTFB, FCP, LCP, CLS, INP), what was sent last,
      // when the page was first hidden, the view's URL and start, whether LCP is final, the CLS
      // session window (value, first and last shift) and the largest so far, the longest
      // duration of each interaction and the interaction count before this view.
      values,
      sentValues,
      hiddenAt,
      viewUrl,
      viewStart,
      lcpDone,
      windowValue,
      windowFirst,
      windowLast,
      largestWindow,
      interactions,
      countBefore,
      observers = [];
    // Times count from activation for a prerendered page (clamped at 0), as in web-vitals.
    let since = function (time) {
      return max(time - (nav.activationStart || 0), 0);
    };
    let interactionCount = function () {
      return perf.interactionCount || Object.keys(interactions).length;
    };
    let view = function (restoredAt) {
      values = {};
      sentValues = "{}";
      viewUrl = loc.href;
      // When the view's pageview went out: at navigation, activation or restore.
      viewStart = restoredAt || nav.activationStart || 0;
      lcpDone = windowValue = largestWindow = 0;
      interactions = {};
      // A page loaded in the background counts as hidden from the start.
      hiddenAt = doc.hidden ? 0 : 1 / 0;
      countBefore = restoredAt ? interactionCount() : 0;
      if (restoredAt) {
        // A restore has no network and no paint entries: web-vitals counts TTFB as 0 and the
        // first paints at the second animation frame after pageshow.
        values.t = 0;
        requestAnimationFrame(function () {
          requestAnimationFrame(function () {
            values.f = values.l = max(perf.now() - restoredAt, 0);
            values.c = largestWindow;
            lcpDone = 1;
          });
        });
      } else if (nav.responseStart > 0) values.t = since(nav.responseStart);
    };
    let handle = function (entry) {
      var type = entry.entryType,
        time = entry.startTime;
      if (entry.name == "first-contentful-paint" && time < hiddenAt) {
        values.f = since(time);
        // CLS is reported from the first paint on (shifts before it included), 0 without any.
        values.c = largestWindow;
      }
      if (type == "largest-contentful-paint" && !lcpDone && time < hiddenAt) values.l = since(time);
      // Session windows: shifts less than 1 s apart, at most 5 s long; CLS is the largest window.
      if (type == "layout-shift" && !entry.hadRecentInput) {
        windowValue = windowValue && time - windowLast < 1e3 && time - windowFirst < 5e3 ? windowValue + entry.value : ((windowFirst = time), entry.value);
        windowLast = time;
        largestWindow = max(largestWindow, windowValue);
        if (values.f >= 0) values.c = largestWindow;
      }
      // INP: the longest duration of each interaction; one of the longest ten is left out per 50
      // interactions, as the library estimates the 98th percentile.
      if (entry.interactionId) {
        interactions[entry.interactionId] = max(interactions[entry.interactionId] || 0, entry.duration);
        var longest = Object.values(interactions).sort(function (a, b) {
          return b - a;
        });
        values.i = longest[Math.min(longest.length - 1, 9, ((interactionCount() - countBefore) / 50) | 0)];
      }
    };
    let report = function () {
      observers.forEach(function (observer) {
        observer.takeRecords().forEach(handle);
      });
      var text = JSON.stringify(values);
      if (values.f >= 0 && text != sentValues) {
        sentValues = text;
        // The view's age (a) lets the collector tell this view from a later one of the same
        // URL whose pageview reached it first (a report sent while entering the bfcache).
        send("web-vitals", { props: Object.assign({ a: perf.now() - viewStart }, values) }, viewUrl);
      }
    };
    // Measured once the page is shown: a prerendered page's entries are read after activation.
    let measure = function () {
      view();
      ["paint", "largest-contentful-paint", "layout-shift", "first-input", "event"].forEach(function (type) {
        try {
          var observer = new PerformanceObserver(function (list) {
            list.getEntries().forEach(handle);
          });
          // 16 ms, the lowest threshold allowed: the library's 40 ms (plus first-input) can
          // only miss interactions and so report a lower INP, never a higher one.
          observer.observe({ type: type, buffered: true, durationThreshold: 16 });
          observers.push(observer);
        } catch (e) {}
      });
    };
    // The first trusted input ends LCP, as the browser stops reporting candidates then.
    ["keydown", "click"].forEach(function (type) {
      w.addEventListener(
        type,
        function (e) {
          if (e.isTrusted) lcpDone = 1;
        },
        true,
      );
    });
    on(doc, "visibilitychange", function (e) {
      if (doc.hidden && values) {
        if (hiddenAt > e.timeStamp) hiddenAt = e.timeStamp;
        lcpDone = 1;
        report();
      }
    });
    on(w, "pagehide", function () {
      if (values) report();
    });
    on(w, "pageshow", function (e) {
      if (e.persisted) view(e.timeStamp);
    });
    doc.prerendering ? on(doc, "prerenderingchange", measure) : measure();
  }

  // Rage and dead clicks as "Rage click" / "Dead click" events, non-interactive (turning the
  // add-on on must not change bounce rates), described as tag#id.class.class: never the
  // element's text or values. Rage: a third click within a second and 30 px of two before it.
  // Dead: a click on a link or button (the nearest one around the target) after which nothing
  // in the DOM changes and the URL stays the same for a second. A link that leaves the page
  // unloads it first, so it never reports; new-tab and download links are left out.
  if (CLICKS) {
    let recent = [];
    let clickReport = function (name, el) {
      var text = el.localName + (el.id ? "#" + el.id : "");
      for (var i = 0; i < el.classList.length && i < 3; ) text += "." + el.classList[i++];
      api941.event(name, { props: { selector: text }, interactive: false });
    };
    // Capture phase: the observer must be watching before the page's own handlers run.
    w.addEventListener(
      "click",
      function (e) {
        var el = e.target,
          url = loc.href,
          changed,
          observer;
        if (!el.closest) return;
        recent = recent.filter(function (c) {
          return e.timeStamp - c.timeStamp < 1e3 && Math.hypot(c.clientX - e.clientX, c.clientY - e.clientY) < 30;
        });
        if (recent.push(e) == 3) clickReport("Rage click", el);
        var target = el.closest("a,button,[role=button],summary,[type=submit]");
        if (target && !target.target && !target.download) {
          observer = new MutationObserver(function () {
            changed = 1;
          });
          observer.observe(doc, { subtree: 1, childList: 1, attributes: 1, characterData: 1 });
          setTimeout(function () {
            observer.disconnect();
            if (!changed && url == loc.href) clickReport("Dead click", target);
          }, 1e3);
        }
      },
      true,
    );
  }
  pageview();
})();
