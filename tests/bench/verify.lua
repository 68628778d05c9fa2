-- wrk script: POST /api/v1/verify with the QR texts of many distinct cards,
-- one JSON body per line of $QR_FILE, taken in turn.
local bodies = {}
for line in io.lines(os.getenv("QR_FILE")) do
  bodies[#bodies + 1] = line
end
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/api/v1/verify", { ["Content-Type"] = "application/json" }, bodies[i])
end
response = function(status, headers, body)
  if status ~= 200 then
    wrk.thread:set("bad", (wrk.thread:get("bad") or 0) + 1)
  end
end
