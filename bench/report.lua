-- wrk script of bench/http.sh (see bench/README.md): sends the plain request given on the
-- command line (method GET, headers from -H) and, at the end, prints one machine-readable
-- line, `BATON_WRK {json}`, with the totals and latency percentiles (microseconds) that
-- bench/http_bench.py reads. No response() callback, so wrk does not hand bodies to Lua.

done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BATON_WRK {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max))
end
