#include "relay/core/relay_counters.h"

#include <numeric>

namespace overline::relay {

std::string_view toString(DropReason reason) {
  switch (reason) {
    case DropReason::kUnknownSource: return "unknown_source";
    case DropReason::kHopLimitExceeded: return "hop_limit_exceeded";
    case DropReason::kNoRoute: return "no_route";
    case DropReason::kNoSubscribers: return "no_subscribers";
    case DropReason::kNotUpstream: return "not_upstream";
    case DropReason::kForeignStream: return "foreign_stream";
    case DropReason::kClientLimit: return "client_limit";
    case DropReason::kStreamLimit: return "stream_limit";
    case DropReason::kSubscriptionLimit: return "subscription_limit";
    case DropReason::kUnsupportedType: return "unsupported_type";
    case DropReason::kUnexpectedType: return "unexpected_type";
    case DropReason::kSendFailed: return "send_failed";
    case DropReason::kDuplicate: return "duplicate";
    case DropReason::kBadToken: return "bad_token";
    case DropReason::kMalformedNack: return "malformed_nack";
    case DropReason::kNotDownstream: return "not_downstream";
    case DropReason::kMalformedFec: return "malformed_fec";
  }
  return "unknown";
}

std::string_view toString(SentKind kind) {
  switch (kind) {
    case SentKind::kData: return "data";
    case SentKind::kRetransmit: return "retransmit";
    case SentKind::kFec: return "fec";
    case SentKind::kNack: return "nack";
    case SentKind::kProbe: return "probe";
    case SentKind::kControl: return "control";
  }
  return "unknown";
}

std::uint64_t RelayCounters::droppedTotal() const {
  const std::uint64_t dropped_total = std::accumulate(dropped.begin(), dropped.end(), std::uint64_t{0});
  return std::accumulate(malformed.begin(), malformed.end(), dropped_total);
}

}  // namespace overline::relay
