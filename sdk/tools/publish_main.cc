// overline-publish: publishes one constant-bitrate test stream through an
// edge relay (two with --homes 2), given with --edge or allocated with
// --controller (edge_join.h), moving to another candidate when one dies.
// Each DATA payload is `packet-bytes` filler bytes; the sequence and the
// send timestamp travel in the wire header.
//
// stdout (one JSON object per line):
//   {"event":"joined","edge_node":1,"stream":"1:7","edge":"127.0.1.1:40001"}
//   ... session events (session_event_printer.h): "joined" again for every
//   other edge joined (same fields), "edge_changed", "lost", "connected"
//   {"event":"done","sent":N,"elapsed_s":X}
// The stream keeps its id (the first edge's node) and numbering after a
// move; packets sent while between edges are lost and reported at the end.
// Stops after --duration-s (0 = no limit), after --count send attempts (0 = no
// limit), or on SIGINT/SIGTERM. --redundant flags every DATA for redundant
// mode (two disjoint links per relay hop). --latency-budget-ms sets the
// stream's latency budget carried in every DATA header. "sent" counts datagrams the socket accepted;
// refused ones are reported on stderr. Exit 0; bad flags 2; failed connect 1.

#include <cstdint>
#include <limits>
#include <vector>

#include "common/stream_id_text.h"
#include "sdk/client.h"
#include "sdk/core/send_pacer.h"
#include "sdk/tools/edge_join.h"
#include "sdk/tools/main_loop_waiter.h"
#include "sdk/tools/session_event_printer.h"
#include "sdk/tools/tool_cli.h"

namespace overline::sdk::tools {
namespace {

struct Flags {
  EdgeFlags edge;
  std::uint32_t local_id = 0;
  std::uint64_t bitrate_kbps = 2000;
  std::uint32_t packet_bytes = 1000;
  std::uint32_t fps = 30;
  double duration_s = 10;
  std::uint64_t count = 0;
  std::uint32_t connect_timeout_ms = 3000;
  bool redundant = false;
  std::uint32_t latency_budget_ms = 400;
};

int run(const Flags& flags) {
  auto waiter = MainLoopWaiter::create();  // before the client's thread exists
  if (!waiter) {
    std::cerr << "overline-publish: " << waiter.error() << "\n";
    return kExitConnectFailed;
  }
  SessionEventPrinter events;  // outlives the client, whose SDK thread calls it
  ClientOptions options;
  options.connect_timeout_us = static_cast<DurationUs>(flags.connect_timeout_ms) * kMillisecond;
  options.on_event = events.callback();
  // The stream's id is EDGE_NODE:LOCAL_ID, and the edge is not known before
  // joining (the token is good at every candidate): the token covers any
  // stream.
  JoinIntent intent;
  intent.publish = true;
  auto connected = connectToEdge(flags.edge, intent, options);
  if (!connected) {
    std::cerr << "overline-publish: " << connected.error() << "\n";
    return kExitConnectFailed;
  }
  Client& client = *connected.value().client;
  const auto published = client.publish(
      flags.local_id, {.redundant = flags.redundant,
                       .latency_budget_us = static_cast<DurationUs>(flags.latency_budget_ms) * kMillisecond});
  if (!published) {  // the flag's range check makes this a bug, not bad input
    std::cerr << "overline-publish: " << published.error() << "\n";
    return kExitBadFlags;
  }
  const StreamId stream = *published;
  const NodeId edge_node = client.edgeNode();
  events.start({{"event", "joined"},
                {"edge_node", edge_node},
                {"stream", formatStreamId(stream)},
                {"edge", client.edge().toString()}},
               edge_node, {{"stream", formatStreamId(stream)}});

  const TimeUs start_us = monotonicUs();
  const TimeUs end_us = flags.duration_s > 0 ? start_us + static_cast<DurationUs>(flags.duration_s * kSecond)
                                             : std::numeric_limits<TimeUs>::max();  // no limit
  SendPacer pacer({flags.bitrate_kbps * 1000, flags.packet_bytes, flags.fps}, start_us);
  const std::vector<std::byte> payload(flags.packet_bytes, std::byte{0x4f});
  std::uint64_t sent = 0;
  std::uint64_t failed = 0;
  while (flags.count == 0 || sent + failed < flags.count) {
    const TimeUs send_at_us = pacer.nextSendAt();
    if (send_at_us >= end_us) break;
    if (waiter.value().waitUntil(send_at_us) == MainLoopWaiter::Wake::kSignal) break;
    if (client.send(stream, payload)) {
      ++sent;
    } else {
      ++failed;
    }
    pacer.onSent(monotonicUs());
  }
  const DurationUs elapsed_us = monotonicUs() - start_us;
  client.close();

  if (failed > 0) std::cerr << "overline-publish: " << failed << " packets could not be sent\n";
  if (pacer.skippedPackets() > 0) {
    std::cerr << "overline-publish: fell behind, skipped " << pacer.skippedPackets() << " packets\n";
  }
  printEvent({{"event", "done"}, {"sent", sent}, {"elapsed_s", toSeconds(elapsed_us)}});
  return 0;
}

}  // namespace
}  // namespace overline::sdk::tools

int main(int argc, char** argv) {
  using namespace overline::sdk::tools;
  Flags flags;
  CLI::App app{"Publish a constant-bitrate test stream through an Overline edge relay."};
  addEdgeFlags(app, flags.edge);
  app.add_option("--local-id", flags.local_id, "Stream local id; the stream is EDGE_NODE:LOCAL_ID")
      ->required();
  app.add_option("--bitrate-kbps", flags.bitrate_kbps, "Payload bitrate, kbit/s")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}));
  app.add_option("--packet-bytes", flags.packet_bytes, "Payload bytes per packet")
      ->capture_default_str()
      ->check(CLI::Range(1u, static_cast<unsigned>(overline::wire::kMaxPayloadBytes)));
  app.add_option("--fps", flags.fps, "Frames per second")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000u));
  app.add_option("--duration-s", flags.duration_s, "Stop after this many seconds (0 = no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 31'536'000.0));
  app.add_option("--count", flags.count, "Stop after this many packets (0 = no limit)")
      ->capture_default_str();
  app.add_option("--connect-timeout-ms", flags.connect_timeout_ms, "Give up connecting after this long")
      ->capture_default_str()
      ->check(CLI::Range(1u, 3'600'000u));
  app.add_option("--latency-budget-ms", flags.latency_budget_ms,
                 "How long a packet stays useful: relays and subscribers stop recovering or waiting for it "
                 "after this (rounded up to 10 ms)")
      ->capture_default_str()
      ->check(CLI::Range(10u, 2550u));
  app.add_flag("--redundant", flags.redundant,
               "Redundant mode: relays send every packet on two disjoint links to each downstream relay");
  if (const auto exit_code = parseCommandLine(app, argc, argv)) return *exit_code;
  if (const auto error = checkEdgeFlags(flags.edge)) {
    std::cerr << "overline-publish: " << *error << "\n";
    return kExitBadFlags;
  }
  return run(flags);
}
