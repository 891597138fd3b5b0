// overline-publish and overline-subscribe as processes, through a FakeEdge on
// loopback: flags, exit codes and the exact JSON-lines output format.

#include <signal.h>
#include <sys/wait.h>

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "deploy/localmesh/child_process.h"
#include "tests/integration/sdk/fake_edge.h"

namespace overline::sdk {
namespace {

using namespace std::chrono_literals;
using nlohmann::ordered_json;
using testing::FakeEdge;

// A tool under test: the harness's ChildProcess (stderr inherited, or
// appended to `stderr_path`), read as lines and exit codes.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv, const std::string& stderr_path = "") {
    std::string error;
    auto started = localmesh::ChildProcess::start(argv, stderr_path, &error);
    if (!started) throw std::runtime_error("cannot start " + argv.at(0) + ": " + error);
    process_.emplace(std::move(*started));
  }
  std::optional<std::string> readLine(std::chrono::milliseconds timeout) { return process_->nextLine(timeout); }
  // The exit code once it exits normally within `timeout`; remaining stdout
  // lines go to `rest`.
  std::optional<int> waitExit(std::chrono::milliseconds timeout, std::vector<std::string>* rest = nullptr) {
    const auto status = process_->waitExit(timeout);
    if (rest) {
      for (auto& line : process_->readLines()) rest->push_back(std::move(line));
    }
    if (!status || !WIFEXITED(*status)) return std::nullopt;
    return WEXITSTATUS(*status);
  }
  void signal(int signal_number) { process_->signal(signal_number); }

 private:
  std::optional<localmesh::ChildProcess> process_;
};

constexpr auto kDeadline = 10s;

std::vector<std::string> keysOf(const ordered_json& event) {
  std::vector<std::string> keys;
  for (const auto& item : event.items()) keys.push_back(item.key());
  return keys;
}

const std::vector<std::string> kStatsKeys = {
    "event",     "elapsed_s",     "received", "unique",       "lost",           "duplicates",
    "reordered", "p50_ms",        "p90_ms",   "p99_ms",       "max_ms",         "jitter_ms",
    "max_gap_ms", "delivered",    "within_budget", "late",    "playout_lost",   "delivery_p50_ms",
    "delivery_p99_ms"};

std::vector<std::string> summaryKeys() {
  auto keys = kStatsKeys;
  keys.push_back("first_seq");
  keys.push_back("last_seq");
  return keys;
}

ordered_json parseLine(const std::optional<std::string>& line) {
  REQUIRE(line);
  INFO("line: " << *line);
  REQUIRE(ordered_json::accept(*line));
  return ordered_json::parse(*line);
}

// A session event line (session_event_printer.h). Tests with one edge skip
// them: a machine loaded enough to stall a tool for 300 ms makes it rejoin.
bool isSessionEvent(const ordered_json& event) {
  for (const char* name : {"joined", "edge_changed", "lost", "connected"}) {
    if (event["event"] == name) return true;
  }
  return false;
}

// Reads the subscriber's progress lines up to and including the summary;
// session event lines go to `session_events` if given. The one first_packet
// line must come before any progress line counts a packet (`first_packet`:
// the caller read it already).
ordered_json readUntilSummary(ChildProcess& subscriber, std::vector<ordered_json>* session_events = nullptr,
                              bool first_packet = false) {
  for (;;) {
    const ordered_json event = parseLine(subscriber.readLine(kDeadline));
    if (event["event"] == "summary") {
      CHECK(first_packet == (event["received"].get<int>() > 0));
      return event;
    }
    if (event["event"] == "first_packet") {
      CHECK_FALSE(first_packet);
      CHECK(keysOf(event) == std::vector<std::string>{"event", "since_start_ms"});
      CHECK(event["since_start_ms"].get<double>() > 0);
      first_packet = true;
      continue;
    }
    if (isSessionEvent(event)) {
      if (session_events) session_events->push_back(event);
      continue;
    }
    REQUIRE(event["event"] == "progress");
    CHECK(keysOf(event) == kStatsKeys);
    CHECK((event["received"].get<int>() == 0 || first_packet));
  }
}

TEST_CASE("overline-publish to overline-subscribe through an edge") {
  FakeEdge edge;
  const std::string address = edge.endpoint().toString();
  ChildProcess subscriber({OVERLINE_SUBSCRIBE_BIN, "--edge", address, "--stream", "42:7", "--expect-count",
                           "40", "--report-interval-ms", "100", "--duration-s", "20"});
  CHECK(subscriber.readLine(kDeadline) ==
        R"({"event":"joined","edge_node":42,"stream":"42:7","edge":")" + address + R"("})");
  REQUIRE(edge.waitForCount(wire::PacketType::kSubscribe, 1, kDeadline, makeStreamId(42, 7)));

  // 800 kbit/s of 1000-byte payloads = 100 packets/s: 40 packets in ~0.4 s.
  ChildProcess publisher({OVERLINE_PUBLISH_BIN, "--edge", address, "--local-id", "7", "--bitrate-kbps", "800",
                          "--packet-bytes", "1000", "--fps", "50", "--count", "40"});
  CHECK(publisher.readLine(kDeadline) ==
        R"({"event":"joined","edge_node":42,"stream":"42:7","edge":")" + address + R"("})");
  // A slow machine (TSan) may make the tool rejoin the edge: its session
  // event lines may come before "done".
  ordered_json done = parseLine(publisher.readLine(kDeadline));
  while (isSessionEvent(done)) done = parseLine(publisher.readLine(kDeadline));
  CHECK(keysOf(done) == std::vector<std::string>{"event", "sent", "elapsed_s"});
  CHECK(done["event"] == "done");
  CHECK(done["sent"] == 40);
  CHECK(done["elapsed_s"].get<double>() > 0.3);
  CHECK(done["elapsed_s"].get<double>() < 5.0);
  CHECK(publisher.waitExit(kDeadline) == 0);

  const ordered_json summary = readUntilSummary(subscriber);
  CHECK(keysOf(summary) == summaryKeys());
  CHECK(summary["received"] == 40);
  CHECK(summary["unique"] == 40);
  CHECK(summary["lost"] == 0);
  CHECK(summary["duplicates"] == 0);
  CHECK(summary["first_seq"] == 0);
  CHECK(summary["last_seq"] == 39);
  CHECK(summary["p50_ms"].get<double>() >= 0.0);
  CHECK(summary["max_ms"].get<double>() >= summary["p99_ms"].get<double>());
  CHECK(summary["delivered"] == 40);
  CHECK(summary["within_budget"] == 40);  // loopback: well inside 400 ms
  CHECK(summary["late"] == 0);
  CHECK(summary["playout_lost"] == 0);
  CHECK(summary["delivery_p50_ms"].get<double>() >= summary["p50_ms"].get<double>() - 0.1);
  CHECK(summary["delivery_p99_ms"].get<double>() < 400.0);
  CHECK(subscriber.waitExit(kDeadline) == 0);
}

TEST_CASE("overline-publish --latency-budget-ms sets the budget in every DATA header") {
  FakeEdge edge;
  const std::string address = edge.endpoint().toString();
  ChildProcess publisher({OVERLINE_PUBLISH_BIN, "--edge", address, "--local-id", "3", "--count", "5",
                          "--latency-budget-ms", "125"});
  CHECK(publisher.waitExit(kDeadline) == 0);
  REQUIRE(edge.waitForCount(wire::PacketType::kData, 5, kDeadline, makeStreamId(42, 3)));
  CHECK(edge.waitFor(
      [](const std::vector<testing::ReceivedPacket>& packets) {
        for (const auto& packet : packets) {
          if (packet.header.type == wire::PacketType::kData && packet.header.latency_budget != 13) return false;
        }
        return true;
      },
      kDeadline));
}

// A subscriber fed by the fake edge directly: 0, 2 (held behind 1), then 1
// too late. The playout gives 1 up at its deadline and releases 2. The
// packets claim to have been sent 150 ms before they were (stamps 30 ms
// apart): the playout measures deadlines from the smallest delay it saw, so
// it still delivers 0 and 2, but within_budget compares the wall clocks and
// counts neither.
TEST_CASE("overline-subscribe reports what the playout delivered, lost and dropped late") {
  FakeEdge edge;
  const std::string address = edge.endpoint().toString();
  ChildProcess subscriber({OVERLINE_SUBSCRIBE_BIN, "--edge", address, "--stream", "42:4", "--idle-exit-ms",
                           "600", "--default-latency-budget-ms", "100", "--report-interval-ms", "20"});
  REQUIRE(subscriber.readLine(kDeadline));
  const StreamId stream = makeStreamId(42, 4);
  REQUIRE(edge.waitForCount(wire::PacketType::kSubscribe, 1, kDeadline, stream));
  Endpoint to;
  REQUIRE(edge.waitFor(
      [&](const std::vector<testing::ReceivedPacket>& packets) {
        for (const auto& packet : packets) {
          if (packet.header.type == wire::PacketType::kSubscribe) to = packet.from;
        }
        return to.port() != 0;
      },
      kDeadline));
  const auto now_us = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  const auto send = [&](std::uint32_t sequence, std::uint64_t timestamp_us) {
    wire::Header header;
    header.type = wire::PacketType::kData;
    header.sender_node_id = 42;
    header.stream_id = stream;
    header.sequence = sequence;
    header.timestamp_us = timestamp_us;  // latency_budget 0: the subscriber's default
    edge.sendTagged(to, header);
  };
  const std::uint64_t first_us = now_us - 150'000;
  send(0, first_us);
  send(2, first_us + 60'000);
  // Wait for the give-up: the subscriber's progress lines show delivered == 2.
  for (;;) {
    const ordered_json event = parseLine(subscriber.readLine(kDeadline));
    if (isSessionEvent(event) || event["event"] == "first_packet") continue;
    REQUIRE(event["event"] == "progress");
    if (event["delivered"] == 2) break;
  }
  send(1, first_us + 30'000);
  const ordered_json summary = readUntilSummary(subscriber, nullptr, true);
  CHECK(summary["received"] == 3);
  CHECK(summary["unique"] == 3);
  CHECK(summary["lost"] == 0);  // every sequence arrived...
  CHECK(summary["delivered"] == 2);  // ...but 1 too late for the application
  CHECK(summary["playout_lost"] == 1);
  CHECK(summary["late"] == 1);
  CHECK(summary["within_budget"] == 0);
  CHECK(summary["delivery_p50_ms"].get<double>() >= 140.0);
  CHECK(subscriber.waitExit(kDeadline) == 0);
}

TEST_CASE("overline-subscribe ends after --idle-exit-ms without packets") {
  FakeEdge edge;
  const std::string address = edge.endpoint().toString();
  ChildProcess subscriber(
      {OVERLINE_SUBSCRIBE_BIN, "--edge", address, "--stream", "42:8", "--idle-exit-ms", "300"});
  REQUIRE(subscriber.readLine(kDeadline));
  REQUIRE(edge.waitForCount(wire::PacketType::kSubscribe, 1, kDeadline, makeStreamId(42, 8)));
  ChildProcess publisher({OVERLINE_PUBLISH_BIN, "--edge", address, "--local-id", "8", "--count", "5"});
  CHECK(publisher.waitExit(kDeadline) == 0);
  const ordered_json summary = readUntilSummary(subscriber);
  CHECK(summary["unique"] == 5);
  CHECK(summary["last_seq"] == 4);
  CHECK(subscriber.waitExit(kDeadline) == 0);
}

TEST_CASE("overline-subscribe prints its summary on SIGTERM and SIGINT") {
  FakeEdge edge;
  const int signal_number = GENERATE(SIGTERM, SIGINT);
  ChildProcess subscriber({OVERLINE_SUBSCRIBE_BIN, "--edge", edge.endpoint().toString(), "--stream", "42:9"});
  REQUIRE(subscriber.readLine(kDeadline));
  subscriber.signal(signal_number);
  const ordered_json summary = readUntilSummary(subscriber);
  CHECK(summary["received"] == 0);
  CHECK(summary["first_seq"].is_null());
  CHECK(summary["last_seq"].is_null());
  CHECK(subscriber.waitExit(kDeadline) == 0);
  // It left the stream on the way out.
  CHECK(edge.waitForCount(wire::PacketType::kUnsubscribe, 1, kDeadline, makeStreamId(42, 9)));
}

TEST_CASE("overline-publish stops after --duration-s or on SIGINT") {
  FakeEdge edge;
  const std::string address = edge.endpoint().toString();
  SECTION("duration") {
    ChildProcess publisher(
        {OVERLINE_PUBLISH_BIN, "--edge", address, "--local-id", "1", "--duration-s", "0.3"});
    REQUIRE(publisher.readLine(kDeadline));
    const ordered_json done = parseLine(publisher.readLine(kDeadline));
    CHECK(done["elapsed_s"].get<double>() >= 0.25);
    CHECK(done["elapsed_s"].get<double>() < 3.0);
    // 2 Mbit/s of 1000-byte payloads at 30 fps: 75 packets are due before
    // 0.3 s; fewer only if the machine stalls the publisher for whole frames.
    CHECK(done["sent"].get<int>() >= 40);
    CHECK(done["sent"].get<int>() <= 75);
    CHECK(publisher.waitExit(kDeadline) == 0);
    CHECK(edge.count(wire::PacketType::kData, makeStreamId(42, 1)) == done["sent"].get<std::size_t>());
  }
  SECTION("SIGINT") {
    ChildProcess publisher({OVERLINE_PUBLISH_BIN, "--edge", address, "--local-id", "2", "--duration-s", "0"});
    REQUIRE(publisher.readLine(kDeadline));
    publisher.signal(SIGINT);
    const ordered_json done = parseLine(publisher.readLine(kDeadline));
    CHECK(done["event"] == "done");
    CHECK(publisher.waitExit(kDeadline) == 0);
  }
}

// A file for a tool's stderr, removed with the object.
class StderrFile {
 public:
  explicit StderrFile(const std::string& name)
      : path_((std::filesystem::temp_directory_path() /
               ("overline-tools-test-" + std::to_string(::getpid()) + "-" + name + ".stderr"))
                  .string()) {
    std::filesystem::remove(path_);
  }
  ~StderrFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }
  std::string text() const {
    std::ifstream in(path_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  std::string path_;
};

std::vector<std::uint32_t> dataSequences(FakeEdge& edge, StreamId stream) {
  std::vector<std::uint32_t> out;
  edge.waitFor(
      [&](const std::vector<testing::ReceivedPacket>& packets) {
        for (const auto& packet : packets) {
          if (packet.header.type == wire::PacketType::kData && packet.header.stream_id == stream) {
            out.push_back(packet.header.sequence);
          }
        }
        return true;
      },
      kDeadline);
  return out;
}

TEST_CASE("overline-publish and overline-subscribe move to the next --edge when theirs dies, and say so") {
  FakeEdge a(FakeEdge::Options{.node_id = 42});
  FakeEdge b(FakeEdge::Options{.node_id = 43});
  const std::string a_address = a.endpoint().toString();
  const std::string b_address = b.endpoint().toString();
  const StreamId stream = makeStreamId(42, 7);
  StderrFile subscriber_log("subscribe");
  StderrFile publisher_log("publish");
  ChildProcess subscriber({OVERLINE_SUBSCRIBE_BIN, "--edge", a_address, "--edge", b_address, "--stream", "42:7",
                           "--expect-count", "150", "--report-interval-ms", "50", "--duration-s", "20"},
                          subscriber_log.path());
  CHECK(subscriber.readLine(kDeadline) ==
        R"({"event":"joined","edge_node":42,"stream":"42:7","edge":")" + a_address + R"("})");
  REQUIRE(a.waitForCount(wire::PacketType::kSubscribe, 1, kDeadline, stream));
  // 100 packets/s for 4 s, through a (its first edge) until a dies.
  ChildProcess publisher({OVERLINE_PUBLISH_BIN, "--edge", a_address + "," + b_address, "--local-id", "7",
                          "--bitrate-kbps", "800", "--packet-bytes", "1000", "--fps", "50", "--count", "400"},
                         publisher_log.path());
  CHECK(publisher.readLine(kDeadline) ==
        R"({"event":"joined","edge_node":42,"stream":"42:7","edge":")" + a_address + R"("})");
  REQUIRE(a.waitForCount(wire::PacketType::kData, 20, kDeadline, stream));
  a.setDown(true);

  // Both tell the move on stdout, after a "joined" line for the new edge.
  const std::string joined_b = R"({"event":"joined","edge_node":43,"stream":"42:7","edge":")" + b_address + R"("})";
  const std::string moved = R"({"event":"edge_changed","old":42,"new":43,"edge":")" + b_address + R"("})";
  std::vector<ordered_json> session_events;
  const ordered_json summary = readUntilSummary(subscriber, &session_events);
  // In that order; a slow machine (TSan) may add a rejoin of a before them.
  std::vector<std::string> dumped;
  for (const ordered_json& event : session_events) dumped.push_back(event.dump());
  const auto joined_at = std::find(dumped.begin(), dumped.end(), joined_b);
  REQUIRE(joined_at != dumped.end());
  CHECK(std::find(joined_at, dumped.end(), moved) != dumped.end());
  CHECK(summary["unique"].get<int>() >= 150);
  CHECK(summary["first_seq"] == 0);
  CHECK(subscriber.waitExit(kDeadline) == 0);

  std::vector<std::string> lines;
  REQUIRE(publisher.waitExit(kDeadline, &lines) == 0);
  REQUIRE(lines.size() >= 3);
  const auto publisher_joined_b = std::find(
      lines.begin(), lines.end(), R"({"event":"joined","edge_node":43,"stream":"42:7","edge":")" + b_address + R"("})");
  REQUIRE(publisher_joined_b != lines.end());
  CHECK(std::find(publisher_joined_b, lines.end(), moved) != lines.end());
  const ordered_json done = parseLine(lines.back());
  CHECK(done["event"] == "done");
  CHECK(done["sent"].get<int>() >= 390);  // a send between the death and the next join fails

  // The stream kept its id and numbering through b.
  const std::vector<std::uint32_t> through_a = dataSequences(a, stream);
  const std::vector<std::uint32_t> through_b = dataSequences(b, stream);
  REQUIRE_FALSE(through_a.empty());
  REQUIRE_FALSE(through_b.empty());
  CHECK(through_b.front() > through_a.back());
  CHECK(through_b.back() == 399);
  CHECK(b.count(wire::PacketType::kData) == through_b.size());
  // And on stderr, for people.
  CHECK(subscriber_log.text().find("event edge_changed old=42 new=43\n") != std::string::npos);
  CHECK(publisher_log.text().find("event edge_changed old=42 new=43\n") != std::string::npos);
}

TEST_CASE("SDK tools: bad flags exit 2, a failed connect exits 1, stdout stays empty") {
  FakeEdge silent(FakeEdge::Options{.node_id = 42, .answer_hello = false});
  const std::string address = silent.endpoint().toString();
  const std::vector<std::vector<std::string>> bad_flags = {
      {OVERLINE_PUBLISH_BIN, "--local-id", "1"},
      {OVERLINE_PUBLISH_BIN, "--edge", "127.0.0.1", "--local-id", "1"},
      {OVERLINE_PUBLISH_BIN, "--edge", address, "--local-id", "1", "--packet-bytes", "0"},
      {OVERLINE_PUBLISH_BIN, "--edge", address, "--local-id", "1", "--packet-bytes", "1201"},
      {OVERLINE_PUBLISH_BIN, "--edge", address, "--local-id", "x"},
      {OVERLINE_PUBLISH_BIN, "--edge", address, "--local-id", "1", "--latency-budget-ms", "9"},
      {OVERLINE_PUBLISH_BIN, "--edge", address, "--local-id", "1", "--latency-budget-ms", "2551"},
      {OVERLINE_SUBSCRIBE_BIN, "--edge", address, "--stream", "1:7", "--default-latency-budget-ms", "0"},
      {OVERLINE_SUBSCRIBE_BIN, "--edge", address, "--stream", "7"},
      {OVERLINE_SUBSCRIBE_BIN, "--edge", address, "--stream", "0:7"},
      {OVERLINE_SUBSCRIBE_BIN, "--edge", address, "--stream", "1:7", "--report-interval-ms", "0"},
      {OVERLINE_SUBSCRIBE_BIN, "--edge", address},
      {OVERLINE_SUBSCRIBE_BIN, "--edge", address + ",127.0.0.1", "--stream", "1:7"},
      {OVERLINE_SUBSCRIBE_BIN, "--edge", address, "--stream", "1:7", "--homes", "0"},
      {OVERLINE_PUBLISH_BIN, "--edge", address, "--local-id", "1", "--homes", "3"},
  };
  for (const auto& argv : bad_flags) {
    INFO(argv[0] << " " << argv[argv.size() - 1]);
    ChildProcess tool(argv);
    std::vector<std::string> lines;
    CHECK(tool.waitExit(kDeadline, &lines) == 2);
    CHECK(lines.empty());
  }
  ChildProcess publisher(
      {OVERLINE_PUBLISH_BIN, "--edge", address, "--local-id", "1", "--connect-timeout-ms", "200"});
  ChildProcess subscriber(
      {OVERLINE_SUBSCRIBE_BIN, "--edge", address, "--stream", "1:1", "--connect-timeout-ms", "200"});
  std::vector<std::string> lines;
  CHECK(publisher.waitExit(kDeadline, &lines) == 1);
  CHECK(subscriber.waitExit(kDeadline, &lines) == 1);
  CHECK(lines.empty());
}

}  // namespace
}  // namespace overline::sdk
