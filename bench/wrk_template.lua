-- Filled in by bench/_wrk.py: rotates through PATHS with one METHOD and BODY,
-- and prints one machine-readable line at the end (latency in microseconds).
local paths = {%(paths)s}
local method = "%(method)s"
local body = %(body)s
local i = 0
%(headers)s

request = function()
  i = i %% #paths + 1
  return wrk.format(method, paths[i], nil, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %%d, "duration_us": %%d, "bytes": %%d, "errors": {"connect": %%d, "read": %%d, ' ..
    '"write": %%d, "status": %%d, "timeout": %%d}, "latency_us": {"p50": %%d, "p90": %%d, "p99": %%d, ' ..
    '"max": %%d, "mean": %%.1f}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
