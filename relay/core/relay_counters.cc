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
    case DropReason::kUnauthenticated: return "unauthenticated";
    case DropReason::kBadTag: return "bad_tag";
    case DropReason::kReplayed: return "replayed";
    case DropReason::kBadCookie: return "bad_cookie";
    case DropReason::kBadHello: return "bad_hello";
    case DropReason::kNotPermitted: return "not_permitted";
    case DropReason::kTokenExpired: return "token_expired";
    case DropReason::kNotOwner: return "not_owner";
    case DropReason::kSequenceJump: return "sequence_jump";
    case DropReason::kFutureTimestamp: return "future_timestamp";
    case DropReason::kClientIpLimit: return "client_ip_limit";
    case DropReason::kPublicationLimit: return "publication_limit";
    case DropReason::kRetransmitBudget: return "retransmit_budget";
    case DropReason::kFecDecoderLimit: return "fec_decoder_limit";
    case DropReason::kMalformedAnnounce: return "malformed_announce";
    case DropReason::kDirectoryFull: return "directory_full";
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
