// The standard process_* metrics every Prometheus client library exports (the names and meanings of
// the Go and Python clients), read from /proc/self on Linux: CPU time, memory, file descriptors and the
// start time, so a scrape of a peer says what its process costs without a node exporter.
#pragma once

#include <vector>

#include "cairn/metrics.h"

namespace cairn::metrics {

// Appends process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds and process_start_time_seconds. A value whose /proc file cannot be
// read (not Linux, /proc not mounted) is left out rather than reported as 0. Any thread; reads a few
// small files (tens of microseconds).
void append_process_metrics(std::vector<MetricSample>& out);

}  // namespace cairn::metrics
