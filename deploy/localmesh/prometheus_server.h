#pragma once
// A real Prometheus (Debian's /usr/bin/prometheus) scraping a local mesh:
// the demo's --prometheus and the observability integration test share it.
// Prometheus listens on 127.0.0.1 at a port free at start, keeps its config,
// storage and log in a directory the caller owns, and is stopped (SIGTERM,
// then SIGKILL) when this object goes away.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "deploy/localmesh/child_process.h"

namespace overline::localmesh {

class LocalMesh;

struct ScrapeTarget {
  std::string job;      // "overline-relay" or "overline-controller", as in deploy/prometheus
  std::string address;  // host:port of its /metrics
  std::map<std::string, std::string> labels;
};

// Every relay of `mesh` (job overline-relay, labels node, region and
// pop "<region>-<node>") and its controller, if any (job overline-controller).
std::vector<ScrapeTarget> meshScrapeTargets(LocalMesh& mesh);

// prometheus.yml text: static targets grouped by job in first-seen order,
// the global scrape and evaluation interval, and `rule_files` (absolute paths).
std::string prometheusConfigYaml(const std::vector<ScrapeTarget>& targets, std::chrono::milliseconds interval,
                                 const std::vector<std::string>& rule_files);

// A TCP port on 127.0.0.1 that was free when asked (the kernel's pick); 0 on failure.
int freeTcpPort();

struct PrometheusOptions {
  std::string binary = "/usr/bin/prometheus";
  std::string dir;                      // required: config, data/ and prometheus.log go here
  std::vector<std::string> rule_files;  // e.g. <source>/deploy/prometheus/alerts.yml
  std::chrono::milliseconds scrape_interval{1000};
  std::chrono::milliseconds ready_timeout{30000};
};

class PrometheusServer {
 public:
  // Writes the config, starts Prometheus and waits for /-/ready. The error
  // names what failed and ends with the tail of its log.
  static Result<std::unique_ptr<PrometheusServer>, std::string> start(const std::vector<ScrapeTarget>& targets,
                                                                      const PrometheusOptions& options);

  const std::string& url() const { return url_; }  // http://127.0.0.1:PORT
  // GET of an API path ("/api/v1/query?query=up"); its "data", or nullopt
  // unless it answered with "status": "success".
  std::optional<nlohmann::json> api(const std::string& path_and_query) const;
  // The last `lines` lines of Prometheus's log.
  std::string logTail(std::size_t lines = 20) const;

 private:
  PrometheusServer(std::string url, std::string log_path, ChildProcess process)
      : url_(std::move(url)), log_path_(std::move(log_path)), process_(std::move(process)) {}

  std::string url_;
  std::string log_path_;
  ChildProcess process_;  // stopped by its destructor
};

// Percent-encodes a query-string value (RFC 3986 unreserved characters stay).
std::string urlEncode(const std::string& text);

}  // namespace overline::localmesh
