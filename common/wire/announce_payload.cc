#include "common/wire/announce_payload.h"

#include "common/check/invariant.h"
#include "common/wire/byte_order.h"

namespace overline::wire {

std::string_view toString(AnnounceError error) {
  switch (error) {
    case AnnounceError::kNoStreams: return "no_streams";
    case AnnounceError::kPartialStream: return "partial_stream";
    case AnnounceError::kTooLarge: return "too_large";
    case AnnounceError::kNoOrigin: return "no_origin";
  }
  return "unknown";
}

StreamId AnnounceView::stream(std::size_t index) const {
  return readBigEndian<std::uint64_t>(streams_, index * kAnnouncedStreamBytes);
}

Result<AnnounceView, AnnounceError> parseAnnouncePayload(std::span<const std::byte> payload) {
  if (payload.size() < kAnnounceOriginBytes + kAnnouncedStreamBytes) return Err{AnnounceError::kNoStreams};
  const std::span<const std::byte> streams = payload.subspan(kAnnounceOriginBytes);
  if (streams.size() % kAnnouncedStreamBytes != 0) return Err{AnnounceError::kPartialStream};
  if (streams.size() / kAnnouncedStreamBytes > kMaxAnnouncedStreams) return Err{AnnounceError::kTooLarge};
  AnnounceView view;
  view.origin_ = readBigEndian<std::uint32_t>(payload, 0);
  if (view.origin_ == kNoNode) return Err{AnnounceError::kNoOrigin};
  view.streams_ = streams;
  return view;
}

std::size_t encodeAnnouncePayload(NodeId origin, std::span<const StreamId> streams, std::span<std::byte> out) {
  const std::size_t size = kAnnounceOriginBytes + streams.size() * kAnnouncedStreamBytes;
  if (!OVERLINE_INVARIANT(origin != kNoNode && !streams.empty() && streams.size() <= kMaxAnnouncedStreams) ||
      !OVERLINE_INVARIANT(out.size() >= size)) {
    return 0;
  }
  writeBigEndian<std::uint32_t>(out, 0, origin);
  for (std::size_t i = 0; i < streams.size(); ++i) {
    writeBigEndian<std::uint64_t>(out, kAnnounceOriginBytes + i * kAnnouncedStreamBytes, streams[i]);
  }
  return size;
}

}  // namespace overline::wire
