#include "deploy/localmesh/media_clients.h"

#include <nlohmann/json.hpp>

#include "common/stream_id_text.h"

namespace overline::localmesh {
namespace {

using Json = nlohmann::json;

std::optional<Json> parseLine(const std::string& line) {
  Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("event") || !j["event"].is_string()) return std::nullopt;
  return j;
}

std::optional<std::uint32_t> optionalSequence(const Json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number_unsigned()) return std::nullopt;
  return j[key].get<std::uint32_t>();
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
  f.first_seq = optionalSequence(j, "first_seq");
  f.last_seq = optionalSequence(j, "last_seq");
  return f;
}

NodeId nodeField(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_number_unsigned() ? j[key].get<NodeId>() : kNoNode;
}

// Records what event `j` says about edges and streams in `log`.
void noteEdges(const Json& j, EdgeLog& log) {
  const std::string& event = j["event"].get_ref<const std::string&>();
  if (event == "joined") {
    log.joined.push_back(nodeField(j, "edge_node"));
    if (log.joined.size() == 1) log.current = log.joined.front();
  }
  // A "connected" without an old edge is the first join, which its joined line told.
  if (event == "edge_changed" || (event == "connected" && nodeField(j, "old") != kNoNode)) {
    log.moves.emplace_back(nodeField(j, "old"), nodeField(j, "new"));
    log.current = log.moves.back().second;
  }
  if (event == "lost") log.current = kNoNode;
  if (j.contains("stream") && j["stream"].is_string()) {
    if (const auto stream = parseStreamId(j["stream"].get<std::string>())) log.streams.insert(*stream);
  }
}

std::chrono::milliseconds leftUntil(std::chrono::steady_clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
}

}  // namespace

std::string EdgeLog::describe() const {
  if (joined.empty()) return "-";
  std::string text = std::to_string(joined.front());
  for (const auto& [from, to] : moves) text += " -> " + std::to_string(to);
  return text;
}

template <typename Reached>
bool PublisherProcess::readUntil(Reached reached, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reached()) {
    const auto left = leftUntil(deadline);
    if (left.count() <= 0) return false;
    auto line = process_.nextLine(left);
    if (!line) return false;
    consume(*line);
  }
  return true;
}

void PublisherProcess::consume(const std::string& line) {
  const auto j = parseLine(line);
  if (!j) return;
  noteEdges(*j, edges_);
  const std::string& event = (*j)["event"].get_ref<const std::string&>();
  if (event == "joined" && !stream_ && j->contains("stream") && (*j)["stream"].is_string()) {
    stream_ = parseStreamId((*j)["stream"].get<std::string>());
  }
  if (event == "done") sent_ = j->value("sent", std::uint64_t{0});
}

std::optional<StreamId> PublisherProcess::waitJoined(std::chrono::milliseconds timeout) {
  readUntil([&] { return !edges_.joined.empty(); }, timeout);
  return stream_;
}

bool PublisherProcess::waitJoinedEdges(std::size_t count, std::chrono::milliseconds timeout) {
  return readUntil([&] { return edges_.joined.size() >= count; }, timeout);
}

std::optional<std::uint64_t> PublisherProcess::waitDone(std::chrono::milliseconds timeout) {
  readUntil([&] { return sent_.has_value(); }, timeout);
  return sent_;
}

bool SubscriberProcess::waitJoined(std::chrono::milliseconds timeout) { return waitJoinedEdges(1, timeout); }

bool SubscriberProcess::waitJoinedEdges(std::size_t count, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (edges_.joined.size() < count) {
    const auto left = leftUntil(deadline);
    if (left.count() <= 0) return false;
    auto line = process_.nextLine(left);
    if (!line) return false;
    consume(*line);
  }
  return true;
}

std::optional<std::chrono::duration<double, std::milli>> SubscriberProcess::waitFirstPacket(
    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!first_packet_ms_) {
    const auto left = leftUntil(deadline);
    if (left.count() <= 0) return std::nullopt;
    auto line = process_.nextLine(left);
    if (!line) return std::nullopt;
    consume(*line);
  }
  return std::chrono::duration<double, std::milli>(*first_packet_ms_);
}

bool SubscriberProcess::consume(const std::string& line) {
  const auto j = parseLine(line);
  if (!j) return false;
  noteEdges(*j, edges_);
  const std::string& event = (*j)["event"].get_ref<const std::string&>();
  if (event == "first_packet" && (*j)["since_start_ms"].is_number()) {
    first_packet_ms_ = (*j)["since_start_ms"].get<double>();
  }
  if (event == "progress") latest_ = figuresFrom(*j);
  if (event == "summary") summary_ = latest_ = figuresFrom(*j);
  return event == "progress" || event == "summary";
}

bool SubscriberProcess::poll() {
  bool fresh = false;
  for (const auto& line : process_.readLines()) fresh = consume(line) || fresh;
  return fresh;
}

std::optional<SubscriberFigures> SubscriberProcess::waitSummary(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!summary_) {
    const auto left = leftUntil(deadline);
    if (left.count() <= 0) return std::nullopt;
    auto line = process_.nextLine(left);
    if (!line) return summary_;
    consume(*line);
  }
  return summary_;
}

}  // namespace overline::localmesh
