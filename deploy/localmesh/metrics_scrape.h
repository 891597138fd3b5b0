#pragma once
// Scrapes a process's /metrics endpoint and reads samples from the
// Prometheus text exposition format. Test and demo tooling: it understands
// the subset prometheus-cpp writes (one sample per line, no timestamps).

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace overline::localmesh {

// Sample key: metric name plus its labels exactly as exposed, e.g.
// `overline_relay_dropped_packets_total{reason="bad_magic"}`.
using MetricSamples = std::map<std::string, double>;

MetricSamples parsePrometheusText(const std::string& text);

// HTTP GET of `url` with libcurl; nullopt on any failure or a non-200 reply.
std::optional<std::string> httpGet(const std::string& url, std::chrono::milliseconds timeout);

// Sum of every sample of `name` (all label sets); 0 if absent.
double sumOf(const MetricSamples& samples, const std::string& name);
// Value of one sample key; nullopt if absent.
std::optional<double> valueOf(const MetricSamples& samples, const std::string& key);

}  // namespace overline::localmesh
