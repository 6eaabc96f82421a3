// 941 Analytics tracker. Loaded as
//   <script defer data-domain="example.com" src="https://collector.example/script.js"></script>
// Sends a pageview on load and on SPA navigations (history.pushState / popstate), and exposes
// window.a941.event(name, {props, revenue}) for custom events. No cookies, no storage.
// Built (minified) by scripts/build-tracker.mjs into worker/src/generated/tracker.ts; the
// gzip budget is 1 KB, so every byte here should earn its place.
(function () {
  var w = window;
  var doc = document;
  var loc = location;
  var script = doc.currentScript;
  var attr = function (name) {
    return script && script.getAttribute("data-" + name);
  };
  // Default endpoint is the collector that served this script, so a site needs only one tag.
  var api = attr("api") || new URL(script.src).origin + "/api/event";
  var domain = attr("domain") || loc.hostname;
  var lastUrl;

  function send(name, options) {
    options = options || {};
    var body = { n: name, u: loc.href, d: domain, r: doc.referrer || null, w: w.innerWidth };
    if (options.props) body.p = options.props;
    if (options.revenue != null) body.$ = options.revenue;
    if (options.interactive === false) body.i = false;
    // text/plain keeps this a "simple" request: no CORS preflight. keepalive lets the request
    // outlive the page when the event fires during unload or navigation.
    fetch(api, {
      method: "POST",
      body: JSON.stringify(body),
      keepalive: true,
      headers: { "Content-Type": "text/plain" },
    }).catch(function () {});
  }

  function pageview() {
    // pushState with the current URL (and popstate after it) must not count the page twice.
    if (loc.href === lastUrl) return;
    lastUrl = loc.href;
    send("pageview");
  }

  var history = w.history;
  var pushState = history.pushState;
  if (pushState) {
    history.pushState = function () {
      pushState.apply(this, arguments);
      pageview();
    };
    w.addEventListener("popstate", pageview);
  }
  w.a941 = { event: send };
  pageview();
})();
