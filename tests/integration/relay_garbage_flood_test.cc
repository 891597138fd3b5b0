// A relay that receives 100,000 random, truncated or corrupted datagrams
// (and well-formed packets from a source that never joined) keeps forwarding
// a live stream, counts every one of them as a drop, and answers none.

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <random>

#include "common/wire/packet.h"
#include "deploy/localmesh/local_mesh.h"

namespace ol = overline;
namespace lm = overline::localmesh;
namespace wire = overline::wire;
using namespace std::chrono_literals;

namespace {

// Builds garbage that the relay must drop: never a valid HELLO (that would
// join a client), and valid packets only of types that need a joined source.
class GarbageFactory {
 public:
  explicit GarbageFactory(std::uint32_t seed) : rng_(seed) {}

  std::vector<std::byte> next() {
    std::vector<std::byte> out;
    switch (pick(4)) {
      case 0: {  // random bytes, random length
        out.resize(pick(1400));
        for (auto& b : out) b = static_cast<std::byte>(pick(256));
        break;
      }
      case 1: {  // a valid DATA packet cut short
        out = validPacket(wire::PacketType::kData, 1 + pick(1200));
        out.resize(pick(out.size()));
        break;
      }
      case 2: {  // a valid packet with one header byte corrupted
        out = validPacket(wire::PacketType::kData, pick(1201));
        const std::size_t at = pick(8);  // magic..payload_length
        out[at] = static_cast<std::byte>(std::to_integer<unsigned>(out[at]) ^ (1 + pick(255)));
        break;
      }
      default: {  // well-formed, but the sender never joined
        const auto type = pick(2) ? wire::PacketType::kSubscribe : wire::PacketType::kUnsubscribe;
        out = validPacket(pick(2) ? wire::PacketType::kData : type, 0);
        break;
      }
    }
    // Anything that happens to parse as HELLO would be answered: turn it into
    // a bad-magic datagram instead.
    auto parsed = wire::parsePacket(out);
    if (parsed.ok() && parsed->header.type == wire::PacketType::kHello) out[0] = std::byte{0};
    return out;
  }

 private:
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

  std::vector<std::byte> validPacket(wire::PacketType type, std::size_t payload_bytes) {
    wire::Header h;
    h.type = type;
    h.stream_id = ol::makeStreamId(static_cast<ol::NodeId>(pick(4)), 1);
    h.sequence = static_cast<std::uint32_t>(pick(1u << 20));
    std::vector<std::byte> payload(payload_bytes, std::byte{0x5a});
    std::vector<std::byte> out(wire::kHeaderBytes + payload_bytes);
    wire::encodePacket(h, payload, out);
    return out;
  }

  std::mt19937 rng_;
};

}  // namespace

TEST_CASE("100,000 garbage datagrams are all counted as drops while the stream keeps flowing") {
  lm::MeshSpec spec;
  spec.nodes = {{1, "a"}, {2, "b"}};
  spec.links = {{1, 2}};
  lm::LocalMeshOptions options;
  options.bin_dir = OVERLINE_BIN_DIR;
  auto started = lm::LocalMesh::start(spec, options);
  INFO((started ? std::string() : started.error()));
  REQUIRE(started.ok());
  auto& mesh = *started.value();

  const ol::StreamId stream = ol::makeStreamId(1, 3);
  lm::SubscriberOptions sub;
  auto subscriber = mesh.startSubscriber(2, stream, sub);
  REQUIRE(subscriber.ok());
  REQUIRE(subscriber.value().waitJoined(5s));
  REQUIRE(mesh.waitForTree({2}, 1, 5s) == "");

  lm::PublisherOptions pub;
  pub.local_id = 3;
  pub.duration_s = 120;  // stopped by the test
  pub.packet_bytes = 800;
  pub.fps = 50;
  pub.bitrate_kbps = 3200;  // 500 packets/s
  auto publisher = mesh.startPublisher(1, pub);
  REQUIRE(publisher.ok());
  REQUIRE(publisher.value().waitJoined(5s) == stream);

  const auto before = mesh.scrape(2);
  REQUIRE(before);
  const double dropped_before = lm::sumOf(*before, "overline_relay_dropped_packets_total");
  const double forwarded_before = lm::sumOf(*before, "overline_relay_data_packets_forwarded_total");

  // Flood relay 2 (which forwards the stream to the subscriber) on both of
  // its lines, in chunks: each chunk must show up in the drop counter before
  // the next is sent, so the kernel's socket buffer never overflows and the
  // count can be exact.
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  GarbageFactory garbage(20261121);
  constexpr int kTotal = 100000;
  constexpr int kChunk = 1000;
  int sent = 0;
  const auto flood_deadline = std::chrono::steady_clock::now() + 120s;
  while (sent < kTotal && std::chrono::steady_clock::now() < flood_deadline) {
    for (int i = 0; i < kChunk; ++i, ++sent) {
      const auto datagram = garbage.next();
      const sockaddr_in to = mesh.relay(2).lines[sent % 2].toSockaddr();
      REQUIRE(sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                     sizeof to) == static_cast<ssize_t>(datagram.size()));
    }
    const double want = dropped_before + sent;
    REQUIRE(mesh.waitForMetrics(2, 10s, [&](const auto& s) {
      return lm::sumOf(s, "overline_relay_dropped_packets_total") >= want;
    }));
  }
  REQUIRE(sent == kTotal);

  // Nothing was answered: the garbage socket received no byte.
  pollfd pfd{fd, POLLIN, 0};
  CHECK(poll(&pfd, 1, 0) == 0);
  close(fd);

  const auto after = mesh.scrape(2);
  REQUIRE(after);
  CHECK(lm::sumOf(*after, "overline_relay_dropped_packets_total") - dropped_before == kTotal);
  // Reasons are spread over the parse errors and unknown_source.
  CHECK(lm::valueOf(*after, "overline_relay_dropped_packets_total{reason=\"unknown_source\"}").value_or(0) > 0);
  CHECK(lm::valueOf(*after, "overline_relay_dropped_packets_total{reason=\"length_mismatch\"}").value_or(0) > 0);
  CHECK(lm::valueOf(*after, "overline_relay_dropped_packets_total{reason=\"too_short\"}").value_or(0) > 0);

  // The stream kept flowing through the flood and after it.
  const double forwarded_mid = lm::sumOf(*after, "overline_relay_data_packets_forwarded_total");
  CHECK(forwarded_mid > forwarded_before);
  REQUIRE(mesh.waitForMetrics(2, 5s, [&](const auto& s) {
    return lm::sumOf(s, "overline_relay_data_packets_forwarded_total") >= forwarded_mid + 250;
  }));
  REQUIRE(mesh.relay(2).process->running());

  publisher.value().process().signal(SIGTERM);
  REQUIRE(publisher.value().waitDone(5s));
  subscriber.value().process().signal(SIGTERM);
  const auto summary = subscriber.value().waitSummary(5s);
  REQUIRE(summary);
  WARN("subscriber during flood: " << summary->unique << " packets, " << summary->lost << " lost");
  CHECK(summary->duplicates == 0);
  CHECK(summary->lost == 0);
}
