-- wrk script for tests/bench/load: a mixed load on one server.
--
-- In every 10 requests a connection sends, in this order:
--   verify x7  POST /api/v1/verify with the QR text of an existing card
--   issue  x1  POST /api/v1/cards, multipart with a photo, a new name each time
--   search x1  GET /api/v1/cards?family_name=...&date_of_birth=... (bearer token)
--   login  x1  POST /api/v1/login with the right password
--
-- Reads from the environment: LOAD_DIR (qr.txt: one JSON body per line;
-- search.txt: one path per line; photo.jpg), LOAD_TOKEN (a clerk's bearer
-- token), LOAD_USER and LOAD_PASSWORD (the clerk's log-in).
--
-- wrk runs one Lua state per thread, and in 4.1 response() is not told
-- which request it answers (several connections share a thread). So each
-- response is recognised by its body: {"result":"valid" (verify), 201 with
-- "reprint_code" (issue), {"cards":[{ (search), {"token": (login). Anything
-- else is unexpected and counted by status and error code (never by body,
-- which may carry a name). Counts live in thread globals; done() runs in
-- the main state and gathers them with thread:get().

local dir = os.getenv("LOAD_DIR")
local token = os.getenv("LOAD_TOKEN")

local function lines(name)
  local t = {}
  for line in io.lines(dir .. "/" .. name) do
    t[#t + 1] = line
  end
  assert(#t > 0, name .. " is empty")
  return t
end

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

-- Globals of each thread's state (thread:get reads globals only).
sent = { verify = 0, issue = 0, search = 0, login = 0 }
ok = { verify = 0, issue = 0, search = 0, login = 0 }
bad = {}        -- "status error_code" or "200 kind:what" -> count
throttled = 0   -- 429 responses
tid = tid or 0  -- set by setup() before init()

local verify_bodies, search_paths
local login_body
local issue_head, issue_tail
local boundary = "civicard-load-7f3a9c1e5b2d4068a1f0c3e9d7b5a2c4"
local json_headers = { ["Content-Type"] = "application/json" }
local auth_headers = { ["Authorization"] = "Bearer " .. (token or "") }
local issue_headers = {
  ["Authorization"] = "Bearer " .. (token or ""),
  ["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
}

local function part(name, value)
  return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. name ..
         "\"\r\n\r\n" .. value .. "\r\n"
end

function init(args)
  verify_bodies = lines("qr.txt")
  search_paths = lines("search.txt")
  login_body = '{"username":' .. json_string(os.getenv("LOAD_USER")) ..
               ',"password":' .. json_string(os.getenv("LOAD_PASSWORD")) .. '}'
  local f = assert(io.open(dir .. "/photo.jpg", "rb"))
  local photo = f:read("*a")
  f:close()
  -- The family name goes between head and tail; everything else is fixed.
  issue_head = part("given_names", "Loadtest") ..
               "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"family_name\"\r\n\r\n"
  issue_tail = "\r\n" .. part("date_of_birth", "1987-03-14") ..
               "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"photo\"; " ..
               "filename=\"face.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n" .. photo ..
               "\r\n--" .. boundary .. "--\r\n"
  math.randomseed(1000 + tid)
end

-- Digits as letters: a name holds letters only.
local function letters(n)
  return (tostring(n):gsub("%d", function(d) return string.char(97 + tonumber(d)) end))
end

local plan = { "verify", "verify", "issue", "verify", "search", "verify", "verify", "login", "verify", "verify" }
local step, nv, ns, ni = 0, 0, 0, 0

function request()
  step = step % #plan + 1
  local kind = plan[step]
  sent[kind] = sent[kind] + 1
  if kind == "verify" then
    nv = nv % #verify_bodies + 1
    return wrk.format("POST", "/api/v1/verify", json_headers, verify_bodies[nv])
  elseif kind == "search" then
    ns = ns % #search_paths + 1
    return wrk.format("GET", search_paths[ns], auth_headers)
  elseif kind == "login" then
    return wrk.format("POST", "/api/v1/login", json_headers, login_body)
  end
  ni = ni + 1
  local family = "Loadcard-" .. letters(tid) .. "-" .. letters(ni)
  return wrk.format("POST", "/api/v1/cards", issue_headers, issue_head .. family .. issue_tail)
end

local function count_bad(key)
  bad[key] = (bad[key] or 0) + 1
end

local function starts(s, prefix)
  return s:sub(1, #prefix) == prefix
end

function response(status, headers, body)
  if status == 200 then
    if starts(body, '{"result":"valid"') then
      ok.verify = ok.verify + 1
    elseif starts(body, '{"result":') then
      count_bad("200 verify:" .. (body:match('^{"result":"(%a+)"') or "?"))
    elseif starts(body, '{"cards":[{') then
      ok.search = ok.search + 1
    elseif starts(body, '{"cards":') then
      count_bad("200 search:no-card")
    elseif starts(body, '{"token":') then
      ok.login = ok.login + 1
    else
      count_bad("200 unrecognised")
    end
  elseif status == 201 and body:find('"reprint_code":', 1, true) then
    ok.issue = ok.issue + 1
  elseif status == 429 then
    throttled = throttled + 1
  else
    count_bad(status .. " " .. (body:match('"error":"([%w_]+)"') or "-"))
  end
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
end

local kinds = { "verify", "issue", "search", "login" }

function done(summary, latency, requests)
  local total_sent, total_ok = {}, {}
  local total_bad, total_throttled = {}, 0
  for _, k in ipairs(kinds) do
    total_sent[k], total_ok[k] = 0, 0
  end
  for _, t in ipairs(threads) do
    local s, o, b = t:get("sent"), t:get("ok"), t:get("bad")
    for _, k in ipairs(kinds) do
      total_sent[k] = total_sent[k] + s[k]
      total_ok[k] = total_ok[k] + o[k]
    end
    for key, n in pairs(b) do
      total_bad[key] = (total_bad[key] or 0) + n
    end
    total_throttled = total_throttled + t:get("throttled")
  end
  local secs = summary.duration / 1e6
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  local unexpected = 0
  for _, n in pairs(total_bad) do
    unexpected = unexpected + n
  end
  io.write(string.format("load: requests %d in %.1f s, %.1f req/s\n", summary.requests, secs,
                         summary.requests / secs))
  io.write("load: wrk latency (all kinds, after wrk's coordinated-omission correction)")
  for _, p in ipairs({ 10, 25, 50, 75, 90, 99 }) do
    io.write(string.format(" p%d %.2f", p, latency:percentile(p) / 1000))
  end
  io.write(string.format(" max %.2f ms\n", latency.max / 1000))
  for _, k in ipairs(kinds) do
    io.write(string.format("load: %-6s sent %8d  ok %8d  %8.1f ok/s\n", k, total_sent[k], total_ok[k],
                           total_ok[k] / secs))
  end
  for key, n in pairs(total_bad) do
    io.write(string.format("load: unexpected %-32s %d\n", key, n))
  end
  io.write(string.format("load: socket errors connect %d, read %d, write %d, timeout %d\n",
                         e.connect, e.read, e.write, e.timeout))
  io.write(string.format("load: throttled(429) %d\n", total_throttled))
  io.write(string.format("load: errors %d\n", socket_errors + unexpected))
end
