#include "deploy/localmesh/metrics_scrape.h"

#include <curl/curl.h>

#include <cstdlib>
#include <sstream>

namespace overline::localmesh {

MetricSamples parsePrometheusText(const std::string& text) {
  MetricSamples samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    // The value follows the last space; label values never hold spaces in
    // our metrics (they are bounded identifiers).
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    const std::string value_text = line.substr(space + 1);
    char* end = nullptr;
    const double value = std::strtod(value_text.c_str(), &end);
    if (end == value_text.c_str()) continue;
    samples[line.substr(0, space)] = value;
  }
  return samples;
}

namespace {
std::size_t appendToString(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}
}  // namespace

std::optional<std::string> httpGet(const std::string& url, std::chrono::milliseconds timeout) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return std::nullopt;
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendToString);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK || status != 200) return std::nullopt;
  return body;
}

double sumOf(const MetricSamples& samples, const std::string& name) {
  double total = 0;
  for (auto it = samples.lower_bound(name); it != samples.end(); ++it) {
    const std::string& key = it->first;
    if (key.compare(0, name.size(), name) != 0) break;
    if (key.size() == name.size() || key[name.size()] == '{') total += it->second;
  }
  return total;
}

std::optional<double> valueOf(const MetricSamples& samples, const std::string& key) {
  const auto it = samples.find(key);
  if (it == samples.end()) return std::nullopt;
  return it->second;
}

}  // namespace overline::localmesh
