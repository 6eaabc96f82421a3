-- wrk script: POST pageviews to /api/event as the tracker does, from many distinct visitors
-- (the visitor hash uses IP and user agent), each request with its own page path
-- /bench/<thread>-<n>, so bench/ingest.py can check D1 row by row.
--
-- Run it with as many threads as connections (-tN -cN): a thread then has one connection and
-- one request in flight at a time, so each response belongs to the thread's latest request and
-- the script knows exactly which paths were accepted. wrk's response() callback does not say
-- which request it answers; with several connections per thread, nothing could.
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
  -- The request in flight (its n), requests that never got an answer (a reconnect: they may
  -- or may not be stored), and rejected ones.
  outstanding = nil
  unanswered = {}
  rejected_ids = {}
  domain = os.getenv("BENCH_DOMAIN") or "bench.example"
end

function request()
  if outstanding ~= nil then table.insert(unanswered, outstanding) end
  n = n + 1
  outstanding = n
  local visitor = (id * 1000003 + n) % 50000
  local body = string.format(
    '{"n":"pageview","u":"https://%s/bench/%d-%d","d":"%s","r":null,"w":1280}',
    domain, id, n, domain)
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
    if outstanding ~= nil then table.insert(rejected_ids, outstanding) end
    if first_rejection == nil then first_rejection = string.format("%d %s", status, body) end
  end
  outstanding = nil
end

-- Per thread: SENT <thread> <n>, then the request numbers that were rejected or unanswered;
-- every other number from 1 to n was accepted.
function done(summary, latency, requests)
  local a, r = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("accepted")
    r = r + t:get("rejected")
    local first = t:get("first_rejection")
    if first ~= nil then io.write("FIRST_REJECTION " .. first .. "\n") end
    local id = t:get("id")
    io.write(string.format("SENT %d %d\n", id, t:get("n")))
    local unanswered = t:get("unanswered")
    local last = t:get("outstanding")
    if last ~= nil then table.insert(unanswered, last) end
    io.write(string.format("UNANSWERED %d %s\n", id, table.concat(unanswered, " ")))
    io.write(string.format("REJECTED_IDS %d %s\n", id, table.concat(t:get("rejected_ids"), " ")))
  end
  io.write(string.format("ACCEPTED %d\nREJECTED %d\n", a, r))
  for _, p in ipairs({ 50, 99 }) do
    io.write(string.format("P%d_MS %.3f\n", p, latency:percentile(p) / 1000))
  end
end
