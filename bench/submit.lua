-- wrk script of bench/http.sh (see bench/README.md): POST /v1/runs with the spec in the
-- file named by $BATON_BENCH_BODY (application/json), counting the 201s (runs accepted)
-- and every other status per thread; at the end prints one line, `BATON_WRK {json}`, with
-- the totals, the status counts and latency percentiles (microseconds).

local path = os.getenv("BATON_BENCH_BODY")
if path == nil then error("BATON_BENCH_BODY is not set") end
local file = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"

local threads = {}

setup = function(thread)
   table.insert(threads, thread)
end

init = function(args)
   accepted = 0
   statuses = {}
end

response = function(status, headers, body)
   if status == 201 then
      accepted = accepted + 1
   else
      statuses[status] = (statuses[status] or 0) + 1
   end
end

done = function(summary, latency, requests)
   local total = 0
   local others = {}
   for _, thread in ipairs(threads) do
      total = total + thread:get("accepted")
      for status, n in pairs(thread:get("statuses")) do
         others[status] = (others[status] or 0) + n
      end
   end
   local parts = {}
   for status, n in pairs(others) do
      table.insert(parts, string.format('"%d":%d', status, n))
   end
   local e = summary.errors
   io.write(string.format(
      'BATON_WRK {"requests":%d,"duration_us":%d,"bytes":%d,"accepted":%d,"other_statuses":{%s},' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}}\n',
      summary.requests, summary.duration, summary.bytes, total, table.concat(parts, ","),
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max))
end
