#include "relay/core/relay_counters.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>

namespace overline::relay {
namespace {

TEST_CASE("Every DropReason has a distinct snake_case metric label") {
  const std::vector<std::pair<DropReason, std::string_view>> expected = {
      {DropReason::kUnknownSource, "unknown_source"},
      {DropReason::kHopLimitExceeded, "hop_limit_exceeded"},
      {DropReason::kNoRoute, "no_route"},
      {DropReason::kNoSubscribers, "no_subscribers"},
      {DropReason::kNotUpstream, "not_upstream"},
      {DropReason::kClientLimit, "client_limit"},
      {DropReason::kStreamLimit, "stream_limit"},
      {DropReason::kSubscriptionLimit, "subscription_limit"},
      {DropReason::kUnsupportedType, "unsupported_type"},
      {DropReason::kUnexpectedType, "unexpected_type"},
      {DropReason::kSendFailed, "send_failed"},
      {DropReason::kDuplicate, "duplicate"},
      {DropReason::kBadToken, "bad_token"},
      {DropReason::kMalformedNack, "malformed_nack"},
      {DropReason::kNotDownstream, "not_downstream"},
      {DropReason::kMalformedFec, "malformed_fec"},
      {DropReason::kUnauthenticated, "unauthenticated"},
      {DropReason::kBadTag, "bad_tag"},
      {DropReason::kReplayed, "replayed"},
      {DropReason::kBadCookie, "bad_cookie"},
      {DropReason::kBadHello, "bad_hello"},
      {DropReason::kNotPermitted, "not_permitted"},
      {DropReason::kTokenExpired, "token_expired"},
      {DropReason::kNotOwner, "not_owner"},
      {DropReason::kSequenceJump, "sequence_jump"},
      {DropReason::kFutureTimestamp, "future_timestamp"},
      {DropReason::kClientIpLimit, "client_ip_limit"},
      {DropReason::kPublicationLimit, "publication_limit"},
      {DropReason::kRetransmitBudget, "retransmit_budget"},
      {DropReason::kFecDecoderLimit, "fec_decoder_limit"},
      {DropReason::kMalformedAnnounce, "malformed_announce"},
      {DropReason::kDirectoryFull, "directory_full"},
  };
  REQUIRE(expected.size() == kDropReasonCount);
  std::set<std::string_view> labels;
  for (const auto& [reason, label] : expected) {
    CHECK(toString(reason) == label);
    labels.insert(toString(reason));
  }
  CHECK(labels.size() == kDropReasonCount);
}

TEST_CASE("Every SentKind has a distinct metric label") {
  std::set<std::string_view> labels;
  for (std::size_t i = 0; i < kSentKindCount; ++i) labels.insert(toString(static_cast<SentKind>(i)));
  CHECK(labels == std::set<std::string_view>{"data", "retransmit", "fec", "nack", "probe", "control"});
}

TEST_CASE("droppedTotal sums drops and malformed packets") {
  RelayCounters counters;
  CHECK(counters.droppedTotal() == 0);
  counters.drop(DropReason::kNoRoute) += 2;
  ++counters.drop(DropReason::kSendFailed);
  counters.malformed[static_cast<std::size_t>(wire::ParseError::kTooShort)] = 4;
  counters.packets_received = 100;  // not a drop
  CHECK(counters.droppedTotal() == 7);
}

}  // namespace
}  // namespace overline::relay
