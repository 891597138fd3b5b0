// overline-subscribe: subscribes to one stream through an edge relay (two
// with --homes 2; given with --edge or allocated with --controller,
// edge_join.h), moving to another candidate when one dies, and reports
// loss, duplicates, reordering, jitter and one-way latency as the packets
// arrive, and what the SDK's playout delivered within the budget.
//
// stdout (one JSON object per line):
//   {"event":"joined","edge_node":N,"stream":"ORIGIN:LOCAL","edge":"IP:PORT"}
//   ... session events (session_event_printer.h), whenever they happen:
//   "joined" again for every other edge joined (with "stream" too),
//   "edge_changed", "lost", "connected"
//   {"event":"first_packet","since_start_ms":X}   once: the connect time,
//     from the tool's start (edge allocation and join included) to the
//     first packet's arrival
//   {"event":"progress","elapsed_s":..,"received":..,"unique":..,"lost":..,
//    "duplicates":..,"reordered":..,"p50_ms":..,"p90_ms":..,"p99_ms":..,
//    "max_ms":..,"jitter_ms":..,"max_gap_ms":..,"delivered":..,
//    "within_budget":..,"late":..,"playout_lost":..,"delivery_p50_ms":..,
//    "delivery_p99_ms":..}                                             every report interval
//   {"event":"summary", <the same fields>, "first_seq":..,"last_seq":..}
// The fields up to max_gap_ms describe arrivals (the SDK's on_arrival hook,
// before playout); first_seq/last_seq are the wire sequences of the lowest
// and highest packet received, null when none arrived. Latency is arrival
// wall clock minus the publisher's send timestamp: exact on one machine,
// valid with synced clocks. delivered .. delivery_p99_ms describe what the
// playout handed to the application in order (DeliveryStats, ClientCounters).
// With --homes 2 most packets arrive twice (once per edge): "duplicates"
// counts the second copies, which the playout drops.
//
// Ends when --duration-s elapses (0 = no limit), when --expect-count unique
// packets arrived, when no packet came for --idle-exit-ms after the first
// one, or on SIGINT/SIGTERM. Except after a signal it then waits (at most
// the largest budget, 2.55 s) for packets still held behind a gap to be
// released. Always prints the summary and exits 0. Bad flags exit 2, a
// failed connect 1.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <utility>

#include "common/stream_id_text.h"
#include "sdk/client.h"
#include "sdk/core/delivery_stats.h"
#include "sdk/core/receive_stats.h"
#include "sdk/tools/edge_join.h"
#include "sdk/tools/main_loop_waiter.h"
#include "sdk/tools/session_event_printer.h"
#include "sdk/tools/tool_cli.h"

namespace overline::sdk::tools {
namespace {

struct Flags {
  EdgeFlags edge;
  std::string stream;
  double duration_s = 0;
  std::uint64_t expect_count = 0;
  std::uint64_t idle_exit_ms = 0;
  std::uint64_t report_interval_ms = 1000;
  std::uint32_t connect_timeout_ms = 3000;
  std::uint32_t default_latency_budget_ms = 400;
};

// Written by the SDK thread's receive callback, read by the main thread.
struct SharedState {
  std::mutex mutex;
  ReceiveStats stats;        // arrivals
  DeliveryStats delivery;    // deliveries after playout
  std::optional<TimeUs> last_arrival_us;  // monotonicUs() of the latest packet
  bool expected_count_reached = false;
  bool first_arrival_seen = false;
};

Event statsEvent(const char* name, DurationUs elapsed_us, const ReceiveSnapshot& s, const DeliverySnapshot& d,
                 const ClientCounters& counters) {
  return {{"event", name},
          {"elapsed_s", toSeconds(elapsed_us)},
          {"received", s.received},
          {"unique", s.unique},
          {"lost", s.lost},
          {"duplicates", s.duplicates},
          {"reordered", s.reordered},
          {"p50_ms", toMs(static_cast<double>(s.latency_p50_us))},
          {"p90_ms", toMs(static_cast<double>(s.latency_p90_us))},
          {"p99_ms", toMs(static_cast<double>(s.latency_p99_us))},
          {"max_ms", toMs(static_cast<double>(s.latency_max_us))},
          {"jitter_ms", toMs(s.jitter_us)},
          {"max_gap_ms", toMs(static_cast<double>(s.max_gap_us))},
          {"delivered", d.delivered},
          {"within_budget", d.within_budget},
          {"late", counters.playout_late},
          {"playout_lost", counters.playout_lost},
          {"delivery_p50_ms", toMs(static_cast<double>(d.latency_p50_us))},
          {"delivery_p99_ms", toMs(static_cast<double>(d.latency_p99_us))}};
}

// Wall-clock microseconds, comparable with the publisher's send timestamps.
std::uint64_t wallClockUs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

int run(const Flags& flags) {
  const TimeUs tool_start_us = monotonicUs();  // the connect time counts from here
  auto created = MainLoopWaiter::create();  // before the client's thread exists
  if (!created) {
    std::cerr << "overline-subscribe: " << created.error() << "\n";
    return kExitConnectFailed;
  }
  MainLoopWaiter& waiter = created.value();
  // Both outlive the client below, whose callbacks use them.
  SharedState shared;
  SessionEventPrinter events;
  ClientOptions options;
  options.connect_timeout_us = static_cast<DurationUs>(flags.connect_timeout_ms) * kMillisecond;
  options.on_event = events.callback();
  const StreamId stream = *parseStreamId(flags.stream);
  auto connected = connectToEdge(flags.edge, {.subscribe = true, .stream = stream}, options);
  if (!connected) {
    std::cerr << "overline-subscribe: " << connected.error() << "\n";
    return kExitConnectFailed;
  }
  Client& client = *connected.value().client;
  const NodeId edge_node = client.edgeNode();
  events.start({{"event", "joined"},
                {"edge_node", edge_node},
                {"stream", formatStreamId(stream)},
                {"edge", client.edge().toString()}},
               edge_node, {{"stream", formatStreamId(stream)}});

  SubscribeOptions subscribe_options;
  subscribe_options.default_latency_budget_us =
      static_cast<DurationUs>(flags.default_latency_budget_ms) * kMillisecond;
  subscribe_options.on_arrival = [&](StreamId, const wire::Header& header, std::span<const std::byte>,
                                     std::uint64_t arrival_us) {
    bool notify = false;
    bool first = false;
    {
      std::lock_guard lock(shared.mutex);
      shared.stats.onPacket(header.sequence, header.timestamp_us, arrival_us);
      shared.last_arrival_us = monotonicUs();
      first = !std::exchange(shared.first_arrival_seen, true);
      if (flags.expect_count > 0 && !shared.expected_count_reached &&
          shared.stats.uniqueCount() >= flags.expect_count) {
        shared.expected_count_reached = notify = true;
      }
    }
    if (first) {
      printEvent({{"event", "first_packet"}, {"since_start_ms", toMs(static_cast<double>(monotonicUs() - tool_start_us))}});
    }
    if (notify) waiter.notify();
  };
  const auto on_delivery = [&](StreamId, const wire::Header& header, std::span<const std::byte>, std::uint64_t) {
    const DurationUs budget_us =
        decodeLatencyBudget(header.latency_budget, subscribe_options.default_latency_budget_us);
    std::lock_guard lock(shared.mutex);
    shared.delivery.onDelivered(header.timestamp_us, wallClockUs(), budget_us);
  };
  if (const auto error = client.subscribe(stream, on_delivery, subscribe_options)) {
    std::cerr << "overline-subscribe: " << *error << "\n";  // the flag's range check makes this a bug
    return kExitBadFlags;
  }

  const TimeUs start_us = monotonicUs();
  const DurationUs report_interval_us = static_cast<DurationUs>(flags.report_interval_ms) * kMillisecond;
  const DurationUs idle_exit_us = static_cast<DurationUs>(flags.idle_exit_ms) * kMillisecond;
  const TimeUs end_us = flags.duration_s > 0 ? start_us + static_cast<DurationUs>(flags.duration_s * kSecond)
                                             : std::numeric_limits<TimeUs>::max();  // no limit
  TimeUs next_report_us = start_us + report_interval_us;
  for (;;) {
    std::optional<TimeUs> idle_deadline_us;
    if (idle_exit_us > 0) {
      std::lock_guard lock(shared.mutex);
      if (shared.last_arrival_us) idle_deadline_us = *shared.last_arrival_us + idle_exit_us;
    }
    TimeUs wake_us = std::min(next_report_us, end_us);
    if (idle_deadline_us) wake_us = std::min(wake_us, *idle_deadline_us);

    const auto wake = waiter.waitUntil(wake_us);
    if (wake == MainLoopWaiter::Wake::kSignal || wake == MainLoopWaiter::Wake::kNotified) break;
    const TimeUs now_us = monotonicUs();
    if (now_us >= end_us) break;
    if (idle_deadline_us) {
      // A packet may have arrived while waiting and moved the deadline.
      std::lock_guard lock(shared.mutex);
      if (now_us >= *shared.last_arrival_us + idle_exit_us) break;
    }
    if (now_us >= next_report_us) {
      ReceiveSnapshot snapshot;
      DeliverySnapshot delivery;
      {
        std::lock_guard lock(shared.mutex);
        snapshot = shared.stats.snapshot();
        delivery = shared.delivery.snapshot();
      }
      printEvent(statsEvent("progress", now_us - start_us, snapshot, delivery, client.counters()));
      // Skip missed slots rather than printing a burst after a stall.
      while (next_report_us <= now_us) next_report_us += report_interval_us;
    }
  }
  const DurationUs elapsed_us = monotonicUs() - start_us;
  // Packets held behind a gap are released by their gap's deadline, at most
  // one budget away. A signal (left pending by the waiter) skips this.
  const TimeUs drain_end_us = monotonicUs() + kMaxLatencyBudgetUs;
  while (client.counters().playout_held > 0 && monotonicUs() < drain_end_us) {
    const TimeUs poll_us = std::min(monotonicUs() + 10 * kMillisecond, drain_end_us);
    if (waiter.waitUntil(poll_us) == MainLoopWaiter::Wake::kSignal) break;
  }
  client.close();  // joins the SDK thread: no callback runs after this

  const ReceiveSnapshot snapshot = shared.stats.snapshot();
  Event summary =
      statsEvent("summary", elapsed_us, snapshot, shared.delivery.snapshot(), client.counters());
  summary["first_seq"] = snapshot.first_sequence ? Event(*snapshot.first_sequence) : Event(nullptr);
  summary["last_seq"] = snapshot.last_sequence ? Event(*snapshot.last_sequence) : Event(nullptr);
  printEvent(summary);
  if (snapshot.late > 0 || snapshot.negative_latency > 0) {
    std::cerr << "overline-subscribe: " << snapshot.late << " packets older than the duplicate window, "
              << snapshot.negative_latency << " arrived before their send timestamp (clock skew)\n";
  }
  const ClientCounters counters = client.counters();
  if (counters.malformed + counters.unexpected_type + counters.unknown_stream > 0) {
    std::cerr << "overline-subscribe: dropped " << counters.malformed << " malformed, "
              << counters.unexpected_type << " unexpected-type, " << counters.unknown_stream
              << " unknown-stream packets\n";
  }
  return 0;
}

}  // namespace
}  // namespace overline::sdk::tools

int main(int argc, char** argv) {
  using namespace overline::sdk::tools;
  Flags flags;
  CLI::App app{"Subscribe to an Overline stream and report loss, jitter and latency."};
  addEdgeFlags(app, flags.edge);
  app.add_option("--stream", flags.stream, "Stream id ORIGIN:LOCAL, e.g. 1:7")
      ->required()
      ->type_name("ORIGIN:LOCAL")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            return overline::parseStreamId(text)
                       ? ""
                       : "expected ORIGIN:LOCAL (decimal, origin > 0), got '" + text + "'";
          },
          ""));
  app.add_option("--duration-s", flags.duration_s, "Stop after this many seconds (0 = no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 31'536'000.0));
  app.add_option("--expect-count", flags.expect_count, "Stop once this many unique packets arrived (0 = off)")
      ->capture_default_str();
  app.add_option("--idle-exit-ms", flags.idle_exit_ms,
                 "Stop when no packet arrived for this long after the first one (0 = off)")
      ->capture_default_str();
  app.add_option("--report-interval-ms", flags.report_interval_ms, "Progress line interval")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{86'400'000}));
  app.add_option("--connect-timeout-ms", flags.connect_timeout_ms, "Give up connecting after this long")
      ->capture_default_str()
      ->check(CLI::Range(1u, 3'600'000u));
  app.add_option("--default-latency-budget-ms", flags.default_latency_budget_ms,
                 "Playout budget for a stream whose packets state none")
      ->capture_default_str()
      ->check(CLI::Range(10u, 2550u));
  if (const auto exit_code = parseCommandLine(app, argc, argv)) return *exit_code;
  if (const auto error = checkEdgeFlags(flags.edge)) {
    std::cerr << "overline-subscribe: " << *error << "\n";
    return kExitBadFlags;
  }
  return run(flags);
}
