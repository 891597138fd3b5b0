// StreamDirectory alone: announcements recorded once per packet, flooded
// copies recognised, origins kept in a stable order, expiry, bounds, and
// an origin that restarted its numbering.

#include <array>
#include <catch2/catch.hpp>
#include <vector>

#include "common/wire/announce_payload.h"
#include "relay/core/stream_directory.h"

namespace overline::relay {
namespace {

constexpr DurationUs kExpiry = 1500 * kMillisecond;

// An ANNOUNCE payload, kept alive with its view.
struct Announcement {
  Announcement(NodeId origin, std::vector<StreamId> streams) {
    const std::size_t size = wire::encodeAnnouncePayload(origin, streams, bytes);
    REQUIRE(size > 0);
    view = *wire::parseAnnouncePayload(std::span(bytes.data(), size));
  }
  std::array<std::byte, wire::kMaxPayloadBytes> bytes{};
  wire::AnnounceView view;
};

std::vector<NodeId> originsOf(const StreamDirectory& directory, StreamId stream) {
  const auto origins = directory.origins(stream);
  return {origins.begin(), origins.end()};
}

TEST_CASE("An announcement is recorded once; its copy over another path is seen, not new") {
  StreamDirectory directory(kExpiry, 100);
  std::vector<StreamId> changed;
  const Announcement a(7, {makeStreamId(2, 1), makeStreamId(2, 2)});
  CHECK(directory.onAnnounce(a.view, 1, 1000, 0, changed) == StreamDirectory::Verdict::kNew);
  CHECK(changed == std::vector<StreamId>{makeStreamId(2, 1), makeStreamId(2, 2)});
  CHECK(originsOf(directory, makeStreamId(2, 1)) == std::vector<NodeId>{7});
  changed.clear();
  CHECK(directory.onAnnounce(a.view, 1, 1000, 10, changed) == StreamDirectory::Verdict::kSeen);
  // The next round refreshes without a change.
  CHECK(directory.onAnnounce(a.view, 2, 2000, 500 * kMillisecond, changed) == StreamDirectory::Verdict::kNew);
  CHECK(changed.empty());
  CHECK(directory.streamCount() == 2);
}

TEST_CASE("A second origin is added after the first; an origin that stops announcing expires") {
  StreamDirectory directory(kExpiry, 100);
  std::vector<StreamId> changed;
  const StreamId stream = makeStreamId(2, 1);
  directory.onAnnounce(Announcement(3, {stream}).view, 1, 1, 0, changed);
  directory.onAnnounce(Announcement(2, {stream}).view, 1, 1, 100, changed);
  CHECK(originsOf(directory, stream) == std::vector<NodeId>{3, 2});  // oldest first
  // Origin 2 keeps announcing, 3 went silent.
  directory.onAnnounce(Announcement(2, {stream}).view, 2, 2, 1000 * kMillisecond, changed);
  changed.clear();
  CHECK(directory.expire(kExpiry - 1, changed) == kExpiry);
  CHECK(changed.empty());
  directory.expire(kExpiry, changed);
  CHECK(changed == std::vector<StreamId>{stream});
  CHECK(originsOf(directory, stream) == std::vector<NodeId>{2});
  changed.clear();
  directory.expire(1000 * kMillisecond + kExpiry, changed);
  CHECK(changed == std::vector<StreamId>{stream});
  CHECK(directory.origins(stream).empty());
  CHECK(directory.streamCount() == 0);
}

TEST_CASE("A restarted origin's numbers count again (its clock moved on)") {
  StreamDirectory directory(kExpiry, 100);
  std::vector<StreamId> changed;
  const Announcement a(5, {makeStreamId(5, 1)});
  CHECK(directory.onAnnounce(a.view, 900, 1000, 0, changed) == StreamDirectory::Verdict::kNew);
  CHECK(directory.onAnnounce(a.view, 900, 1000, 10, changed) == StreamDirectory::Verdict::kSeen);  // same run
  CHECK(directory.onAnnounce(a.view, 900, 5000, 20, changed) == StreamDirectory::Verdict::kNew);   // a new run
}

TEST_CASE("The directory's bounds: streams, origins per stream, origins") {
  std::vector<StreamId> changed;
  SECTION("streams beyond max_streams are left out; a packet with none recorded is full") {
    StreamDirectory directory(kExpiry, 2);
    CHECK(directory.onAnnounce(Announcement(9, {1, 2, 3}).view, 1, 1, 0, changed) ==
          StreamDirectory::Verdict::kNew);
    CHECK(directory.streamCount() == 2);
    CHECK(directory.onAnnounce(Announcement(9, {4}).view, 2, 1, 0, changed) == StreamDirectory::Verdict::kFull);
  }
  SECTION("at most kMaxOriginsPerStream origins per stream") {
    StreamDirectory directory(kExpiry, 100);
    for (NodeId origin = 1; origin <= StreamDirectory::kMaxOriginsPerStream; ++origin) {
      CHECK(directory.onAnnounce(Announcement(origin, {77}).view, 1, 1, 0, changed) ==
            StreamDirectory::Verdict::kNew);
    }
    CHECK(directory.onAnnounce(Announcement(50, {77}).view, 1, 1, 0, changed) == StreamDirectory::Verdict::kFull);
    CHECK(directory.origins(77).size() == StreamDirectory::kMaxOriginsPerStream);
  }
}

TEST_CASE("ANNOUNCE payloads: round trip and every malformed form") {
  std::array<std::byte, wire::kMaxPayloadBytes> bytes{};
  const std::vector<StreamId> streams{makeStreamId(3, 9), ~StreamId{0}};
  const std::size_t size = wire::encodeAnnouncePayload(3, streams, bytes);
  REQUIRE(size == 4 + 16);
  const auto view = wire::parseAnnouncePayload(std::span(bytes.data(), size));
  REQUIRE(view);
  CHECK(view->origin() == 3);
  REQUIRE(view->streamCount() == 2);
  CHECK(view->stream(1) == ~StreamId{0});
  CHECK(wire::parseAnnouncePayload(std::span(bytes.data(), 4)).error() == wire::AnnounceError::kNoStreams);
  CHECK(wire::parseAnnouncePayload(std::span(bytes.data(), size - 1)).error() ==
        wire::AnnounceError::kPartialStream);
  CHECK(wire::parseAnnouncePayload(bytes).error() == wire::AnnounceError::kPartialStream);  // 1200 = 4 + 8*149.5
  std::array<std::byte, 4 + 8 * (wire::kMaxAnnouncedStreams + 1)> big{};
  big[3] = std::byte{1};
  CHECK(wire::parseAnnouncePayload(big).error() == wire::AnnounceError::kTooLarge);
  std::array<std::byte, 12> no_origin{};
  CHECK(wire::parseAnnouncePayload(no_origin).error() == wire::AnnounceError::kNoOrigin);
}

}  // namespace
}  // namespace overline::relay
