-- wrk reporter: one JSON line with throughput, latency percentiles (ms) and error counts.
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format(
    '{"requests": %d, "seconds": %.2f, "rps": %.1f, "p50": %.1f, "p95": %.1f, "p99": %.1f, ' ..
    '"non_2xx_3xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    non2xx, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
