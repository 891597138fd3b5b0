#include "deploy/localmesh/prometheus_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "deploy/localmesh/local_mesh.h"
#include "deploy/localmesh/metrics_scrape.h"

namespace overline::localmesh {
namespace {

// "127.0.0.1:PORT" of "http://127.0.0.1:PORT/metrics".
std::string hostPort(const std::string& metrics_url) {
  const std::string scheme = "http://";
  const std::size_t start = metrics_url.rfind(scheme, 0) == 0 ? scheme.size() : 0;
  return metrics_url.substr(start, metrics_url.find('/', start) - start);
}

std::string duration(std::chrono::milliseconds interval) {
  std::ostringstream text;
  text << interval.count() << "ms";
  return text.str();
}

}  // namespace

std::vector<ScrapeTarget> meshScrapeTargets(LocalMesh& mesh) {
  std::vector<ScrapeTarget> targets;
  for (const auto& node : mesh.spec().nodes) {
    targets.push_back({"overline-relay",
                       hostPort(mesh.relay(node.id).metrics_url),
                       {{"node", std::to_string(node.id)},
                        {"region", node.region},
                        {"pop", node.region + "-" + std::to_string(node.id)}}});
  }
  if (const auto* controller = mesh.controller()) {
    targets.push_back({"overline-controller", hostPort(controller->metrics_url), {}});
  }
  return targets;
}

std::string prometheusConfigYaml(const std::vector<ScrapeTarget>& targets, std::chrono::milliseconds interval,
                                 const std::vector<std::string>& rule_files) {
  // Scrapes must end before the next one starts.
  const auto timeout = std::chrono::milliseconds(interval.count() * 9 / 10);
  std::ostringstream yaml;
  yaml << "global:\n  scrape_interval: " << duration(interval) << "\n  scrape_timeout: " << duration(timeout)
       << "\n  evaluation_interval: " << duration(interval) << "\n";
  yaml << "rule_files:" << (rule_files.empty() ? " []\n" : "\n");
  for (const auto& file : rule_files) yaml << "  - \"" << file << "\"\n";
  yaml << "scrape_configs:\n";
  std::vector<std::string> jobs;
  for (const auto& target : targets) {
    if (std::find(jobs.begin(), jobs.end(), target.job) == jobs.end()) jobs.push_back(target.job);
  }
  for (const auto& job : jobs) {
    yaml << "  - job_name: " << job << "\n    static_configs:\n";
    for (const auto& target : targets) {
      if (target.job != job) continue;
      yaml << "      - targets: [\"" << target.address << "\"]\n";
      if (target.labels.empty()) continue;
      yaml << "        labels: {";
      bool first = true;
      for (const auto& [name, value] : target.labels) {
        yaml << (first ? "" : ", ") << name << ": \"" << value << "\"";
        first = false;
      }
      yaml << "}\n";
    }
  }
  return yaml.str();
}

int freeTcpPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0;
  close(fd);
  return ok ? ntohs(addr.sin_port) : 0;
}

Result<std::unique_ptr<PrometheusServer>, std::string> PrometheusServer::start(
    const std::vector<ScrapeTarget>& targets, const PrometheusOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return Err("cannot create " + options.dir + ": " + ec.message());
  const std::string config_path = options.dir + "/prometheus.yml";
  {
    std::ofstream config(config_path);
    config << prometheusConfigYaml(targets, options.scrape_interval, options.rule_files);
    if (!config) return Err("cannot write " + config_path);
  }
  const int port = freeTcpPort();
  if (port == 0) return Err(std::string("no free TCP port on 127.0.0.1"));
  const std::string log_path = options.dir + "/prometheus.log";
  std::string error;
  auto process = ChildProcess::start({options.binary, "--config.file=" + config_path,
                                      "--storage.tsdb.path=" + options.dir + "/data",
                                      "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"},
                                     log_path, &error);
  if (!process) return Err("cannot start " + options.binary + ": " + error);
  std::unique_ptr<PrometheusServer> server(
      new PrometheusServer("http://127.0.0.1:" + std::to_string(port), log_path, std::move(*process)));
  const auto deadline = std::chrono::steady_clock::now() + options.ready_timeout;
  while (!httpGet(server->url_ + "/-/ready", std::chrono::seconds(1))) {
    if (!server->process_.running()) return Err("prometheus exited during start-up:\n" + server->logTail());
    if (std::chrono::steady_clock::now() >= deadline) return Err("prometheus not ready in time:\n" + server->logTail());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return server;
}

std::optional<nlohmann::json> PrometheusServer::api(const std::string& path_and_query) const {
  const auto body = httpGet(url_ + path_and_query, std::chrono::seconds(5));
  if (!body) return std::nullopt;
  const auto reply = nlohmann::json::parse(*body, nullptr, false);
  if (reply.is_discarded() || reply.value("status", "") != "success") return std::nullopt;
  return reply["data"];
}

std::string PrometheusServer::logTail(std::size_t lines) const {
  std::ifstream in(log_path_);
  std::deque<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string out;
  for (const auto& line : tail) out += line + "\n";
  return out;
}

std::string urlEncode(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace overline::localmesh
