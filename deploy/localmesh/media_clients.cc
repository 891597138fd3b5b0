#include "deploy/localmesh/media_clients.h"

#include <nlohmann/json.hpp>

#include "common/stream_id_text.h"

namespace overline::localmesh {
namespace {

using Json = nlohmann::json;

std::optional<Json> parseLine(const std::string& line) {
  Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("event")) return std::nullopt;
  return j;
}

SubscriberFigures figuresFrom(const Json& j) {
  SubscriberFigures f;
  f.elapsed_s = j.value("elapsed_s", 0.0);
  f.received = j.value("received", std::uint64_t{0});
  f.unique = j.value("unique", std::uint64_t{0});
  f.lost = j.value("lost", std::uint64_t{0});
  f.duplicates = j.value("duplicates", std::uint64_t{0});
  f.reordered = j.value("reordered", std::uint64_t{0});
  f.p50_ms = j.value("p50_ms", 0.0);
  f.p90_ms = j.value("p90_ms", 0.0);
  f.p99_ms = j.value("p99_ms", 0.0);
  f.max_ms = j.value("max_ms", 0.0);
  f.jitter_ms = j.value("jitter_ms", 0.0);
  f.max_gap_ms = j.value("max_gap_ms", 0.0);
  f.delivered = j.value("delivered", std::uint64_t{0});
  f.within_budget = j.value("within_budget", std::uint64_t{0});
  f.late = j.value("late", std::uint64_t{0});
  f.playout_lost = j.value("playout_lost", std::uint64_t{0});
  f.delivery_p50_ms = j.value("delivery_p50_ms", 0.0);
  f.delivery_p99_ms = j.value("delivery_p99_ms", 0.0);
  return f;
}

// Reads lines until one with event == `event` arrives; nullopt on timeout or exit.
std::optional<Json> waitEvent(ChildProcess& process, const std::string& event,
                              std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto line = process.nextLine(left);
    if (!line) return std::nullopt;
    auto j = parseLine(*line);
    if (j && (*j)["event"] == event) return j;
  }
}

}  // namespace

std::optional<StreamId> PublisherProcess::waitJoined(std::chrono::milliseconds timeout) {
  auto j = waitEvent(process_, "joined", timeout);
  if (!j || !j->contains("stream")) return std::nullopt;
  return parseStreamId((*j)["stream"].get<std::string>());
}

std::optional<std::uint64_t> PublisherProcess::waitDone(std::chrono::milliseconds timeout) {
  auto j = waitEvent(process_, "done", timeout);
  if (!j) return std::nullopt;
  return j->value("sent", std::uint64_t{0});
}

bool SubscriberProcess::waitJoined(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!joined_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    auto line = process_.nextLine(left);
    if (!line) return false;
    consume(*line);
  }
  return true;
}

void SubscriberProcess::consume(const std::string& line) {
  auto j = parseLine(line);
  if (!j) return;
  const auto event = (*j)["event"].get<std::string>();
  if (event == "joined") joined_ = true;
  if (event == "progress") latest_ = figuresFrom(*j);
  if (event == "summary") summary_ = latest_ = figuresFrom(*j);
}

bool SubscriberProcess::poll() {
  bool fresh = false;
  for (const auto& line : process_.readLines()) {
    consume(line);
    fresh = true;
  }
  return fresh;
}

std::optional<SubscriberFigures> SubscriberProcess::waitSummary(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!summary_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto line = process_.nextLine(left);
    if (!line) return summary_;
    consume(*line);
  }
  return summary_;
}

}  // namespace overline::localmesh
