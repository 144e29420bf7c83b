-- wrk script for bench/serve.sh: print the latency percentiles (p50, p90, p95, p99, in ms)
-- after the run, so p95 is measured directly rather than read between wrk's 90% and 99%.
done = function(summary, latency, requests)
  io.write(string.format("p50 %.2f ms  p90 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms  (%d requests, %d errors)\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status +
    summary.errors.timeout))
end
