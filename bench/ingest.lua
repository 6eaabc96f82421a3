-- wrk script: POST pageviews to /api/event as the tracker does, from many distinct visitors
-- (the visitor hash uses IP and user agent), and count the 202s per thread.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  accepted = 0
  rejected = 0
  first_rejection = nil
  n = 0
  domain = os.getenv("BENCH_DOMAIN") or "bench.example"
end

local pages = { "/", "/pricing", "/blog/a", "/blog/b", "/docs", "/about" }

function request()
  n = n + 1
  local visitor = (id * 1000003 + n) % 50000
  local body = string.format(
    '{"n":"pageview","u":"https://%s%s","d":"%s","r":null,"w":1280}',
    domain, pages[(n % #pages) + 1], domain)
  local headers = {
    ["Content-Type"] = "text/plain",
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36",
    -- IPv6 documentation prefix: header values only, never addresses anything is sent to.
    ["CF-Connecting-IP"] = string.format("2001:db8::%x", visitor),
  }
  return wrk.format("POST", "/api/event", headers, body)
end

function response(status, headers, body)
  -- Bots and excluded pages also get a 202, with a `code`: only `{"ok":true}` is an accepted event.
  if status == 202 and string.find(body, '"ok":true', 1, true) then
    accepted = accepted + 1
  else
    rejected = rejected + 1
    if first_rejection == nil then first_rejection = string.format("%d %s", status, body) end
  end
end

function done(summary, latency, requests)
  local a, r = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("accepted")
    r = r + t:get("rejected")
    local first = t:get("first_rejection")
    if first ~= nil then io.write("FIRST_REJECTION " .. first .. "\n") end
  end
  io.write(string.format("ACCEPTED %d\nREJECTED %d\n", a, r))
  for _, p in ipairs({ 50, 99 }) do
    io.write(string.format("P%d_MS %.3f\n", p, latency:percentile(p) / 1000))
  end
end
