// RelayCore's per-hop loss recovery (docs/architecture.md, "Loss recovery"):
// NACKs received and answered from the retransmit buffer, gaps NACKed
// upstream, FEC parity sent where the FecPolicy asks for it and received
// parity decoded. The rest of RelayCore is in relay_core.cc and
// relay_core_clients.cc; the split is by topic only, the class and its
// invariants are one.

#include <algorithm>
#include <cmath>
#include <iterator>

#include "common/check/invariant.h"
#include "common/wire/fec_payload.h"
#include "common/wire/nack_payload.h"
#include "relay/core/relay_core.h"

namespace overline::relay {

using wire::PacketType;

void RelayCore::onFec(const Neighbour& neighbour, const wire::PacketView& packet, TimeUs now) {
  const wire::Header& header = packet.header;
  const auto it = streams_.find(header.stream_id);
  if (it == streams_.end()) {
    ++counters_.drop(DropReason::kNoSubscribers);
    return;
  }
  Stream& stream = it->second;
  // The decoder belongs to the current upstream: parity from the previous
  // one (or anyone else) names groups it cannot know.
  if (stream.upstream != neighbour.id) {
    ++counters_.drop(DropReason::kNotUpstream);
    return;
  }
  // Decoder state is bounded relay-wide (counted at each tick).
  if (!stream.fec.active() && active_fec_decoders_ >= config_.recovery.max_fec_decoders) {
    ++counters_.drop(DropReason::kFecDecoderLimit);
    return;
  }
  if (!wire::parseFecPayload(packet.payload)) {
    ++counters_.drop(DropReason::kMalformedFec);
    return;
  }
  const FecDecoderCounters before = stream.fec.counters();
  fec_recovered_.clear();
  stream.fec.onFec(packet, now, fec_recovered_);
  deliverRecovered(PeerId{neighbour.id, {}}, it->first, stream, before, now);
}

void RelayCore::deliverRecovered(const PeerId& from, StreamId id, Stream& stream, const FecDecoderCounters& before,
                                 TimeUs now) {
  // forwardData uses fec_out_ and forward_buffer_, never fec_recovered_.
  for (const FecPacket& rebuilt : fec_recovered_) {
    // A new packet, parsed once here; the decoder emits only valid DATA.
    const auto packet = wire::parsePacket(rebuilt.view());
    if (!OVERLINE_INVARIANT(static_cast<bool>(packet))) continue;
    if (forwardData(from, *packet, id, stream, now)) ++counters_.recovered_fec;
  }
  const FecDecoderCounters& after = stream.fec.counters();
  counters_.fec_decode_failures += after.bad_recovered_block - before.bad_recovered_block;
  counters_.fec_inconsistent += after.inconsistent - before.inconsistent;
}

void RelayCore::onNack(Neighbour& neighbour, const wire::Header& header, std::span<const std::byte> payload,
                       TimeUs now) {
  const auto nack = wire::parseNackPayload(payload);
  if (!nack) {
    ++counters_.drop(DropReason::kMalformedNack);
    return;
  }
  const auto it = streams_.find(header.stream_id);
  if (it == streams_.end() || !findDownstream(it->second, PeerId{neighbour.id, {}})) {
    ++counters_.drop(DropReason::kNotDownstream);
    return;
  }
  // The original most likely went on the active link: answer on another one
  // when there is one, and on both when the chosen link loses a lot.
  const std::optional<std::size_t> second = neighbour.path.second();
  const std::size_t link = second.value_or(neighbour.path.active());
  std::optional<std::size_t> extra;
  if (neighbour.links[link].lossRatio() >= config_.recovery.dual_retransmit_loss) {
    extra = second ? std::optional(neighbour.path.active()) : neighbours_.duplicateLink(neighbour);
  }
  const DurationUs spacing_us = std::max(neighbours_.srttTo(neighbour) / 2, kMinRetransmitSpacingUs);
  for (const std::uint32_t sequence : nack->view()) {
    RetransmitBuffer::Entry entry;
    switch (retransmit_->find(header.stream_id, sequence, now, entry)) {
      case RetransmitBuffer::Lookup::kMissing: ++counters_.nack_misses; continue;
      case RetransmitBuffer::Lookup::kExpired: ++counters_.retransmit_budget_expired; continue;
      case RetransmitBuffer::Lookup::kFound: break;
    }
    // Paid from the neighbour's budget (a share of the DATA it was sent),
    // so no sequence of NACKs can make this relay send more than that.
    const double cost = static_cast<double>(entry.packet.size() + wire::kTagBytes) * (extra ? 2 : 1);
    if (neighbour.retransmit_credit < cost) {
      ++counters_.drop(DropReason::kRetransmitBudget);
      continue;
    }
    if (!retransmit_->takeRetransmitTurn(header.stream_id, sequence, neighbour.id, now, spacing_us)) continue;
    neighbour.retransmit_credit -= cost;
    std::copy(entry.packet.begin(), entry.packet.end(), forward_buffer_.begin());
    const std::span<std::byte> copy(forward_buffer_.data(), entry.packet.size());
    wire::setRetransmitFlag(copy, true);
    // It has aged here since it was kept (the age it was kept with is in its header).
    const wire::Header kept = wire::parsePacket(copy)->header;
    wire::setAge(copy, static_cast<std::uint32_t>(
                           std::min<DurationUs>(kept.age_us + (now - entry.stored_at_us), UINT32_MAX)));
    if (neighbours_.sendOnLink(neighbour, link, copy, SentKind::kRetransmit)) ++counters_.retransmissions_sent;
    if (extra && neighbours_.sendOnLink(neighbour, *extra, copy, SentKind::kRetransmit)) {
      ++counters_.retransmissions_sent;
    }
  }
}

FecPolicyInput RelayCore::fecInput(const Neighbour& neighbour, DurationUs budget_us) const {
  FecPolicyInput input;
  input.loss_ratio = neighbour.links[neighbour.path.active()].lossRatio();
  input.srtt_us = neighbours_.srttTo(neighbour);
  // Before the first DATA, the budget of DATA that names none.
  if (budget_us == 0) budget_us = config_.recovery.default_latency_budget_us;
  input.latency_budget_us = budget_us;
  // FEC only where NACK is too slow for the budget (WebRTC's hybrid
  // NACK/FEC): with at least min_nack_rounds NACK rounds in the budget,
  // NACK alone repairs the losses at no cost on a clean link and ~1x the
  // loss on a lossy one, so the policy is told of no loss and keeps (or,
  // after its hold, turns) FEC off. With NACK off every budget is too short.
  const double rounds = static_cast<double>(budget_us) /
                        static_cast<double>(input.srtt_us + fec_policy_config_.nack_allowance_us);
  if (retransmit_ && budget_us > 0 && rounds >= fec_policy_config_.min_nack_rounds) input.loss_ratio = 0.0;
  return input;
}

void RelayCore::sendFec(const Neighbour& neighbour) {
  for (const FecPacket& packet : fec_out_) {
    if (neighbours_.sendOnLink(neighbour, neighbour.path.active(), packet.view(), SentKind::kFec)) {
      ++counters_.fec_packets_sent;
    }
  }
}

void RelayCore::tickFec(TimeUs now) {
  active_fec_decoders_ = 0;
  for (auto entry = streams_with_data_.begin(); entry != streams_with_data_.end();) {
    const auto it = streams_.find(*entry);
    // closeStream() erases its entry; release: the stale one goes now.
    if (!OVERLINE_INVARIANT(it != streams_.end())) {
      entry = streams_with_data_.erase(entry);
      continue;
    }
    Stream& stream = it->second;
    stream.fec.onTick(now);
    bool pending = stream.fec.active();
    if (pending) ++active_fec_decoders_;
    for (Downstream& downstream : stream.downstreams) {
      if (!downstream.peer.isRelay()) continue;
      const Neighbour* neighbour = neighbours_.find(downstream.peer.node);
      if (!OVERLINE_INVARIANT(neighbour != nullptr)) continue;  // detached when it left
      downstream.fec.setProtection(config_.recovery.fec
                                       ? downstream.fec_policy.update(fecInput(*neighbour, stream.budget_us), now)
                                       : FecProtection{});
      fec_out_.clear();
      downstream.fec.onTick(now, fec_out_);
      sendFec(*neighbour);
      pending = pending || downstream.fec.flushDueAt().has_value();
    }
    // Idle a while with nothing left to flush: the tick stops visiting it
    // (the policies keep their state for when DATA comes back).
    if (!pending && now - stream.last_data_us >= kFecIdleUs) {
      stream.fec_ticked = false;
      entry = streams_with_data_.erase(entry);
    } else {
      ++entry;
    }
  }
}

DurationUs RelayCore::budgetOf(const wire::Header& header) const {
  if (header.latency_budget == 0) return config_.recovery.default_latency_budget_us;
  return header.latency_budget * wire::kLatencyBudgetUnitUs;
}

void RelayCore::tickRecovery(TimeUs now) {
  for (auto it = streams_with_missing_.begin(); it != streams_with_missing_.end();) {
    const auto stream = streams_.find(*it);
    if (stream == streams_.end()) {
      it = streams_with_missing_.erase(it);
      continue;
    }
    Stream& s = stream->second;
    const Neighbour* upstream = neighbours_.find(s.upstream);
    // Without an upstream nothing can be asked; the gaps still age out.
    const DurationUs srtt_us = upstream == nullptr ? kUnmeasuredSrttUs : neighbours_.srttTo(*upstream);
    due_sequences_.clear();
    s.loss.collectDue(now, srtt_us, config_.recovery, due_sequences_);
    counters_.unrecovered += s.loss.takeUnrecovered();
    // A sequence a pending FEC group may still repair is not asked for now;
    // the tracker has already scheduled its next NACK, which goes out unless
    // the repair (or the original) arrives first.
    if (s.fec.active()) {
      std::erase_if(due_sequences_, [&](std::uint32_t sequence) {
        const bool held = s.fec.mayStillRepair(sequence, now);
        if (held) ++counters_.nacks_held_for_fec;
        return held;
      });
    }
    if (upstream != nullptr && !due_sequences_.empty()) sendNacks(stream->first, *upstream, due_sequences_);
    it = s.loss.hasMissing() ? std::next(it) : streams_with_missing_.erase(it);
  }
}

void RelayCore::sendNacks(StreamId id, const Neighbour& neighbour, std::span<const std::uint32_t> sequences) {
  const std::optional<std::size_t> second = neighbours_.duplicateLink(neighbour);
  wire::Header header;
  header.type = PacketType::kNack;
  header.hop_limit = 1;
  header.sender_node_id = config_.node_id;
  header.stream_id = id;
  std::array<std::byte, wire::kMaxNackPayloadBytes> payload;
  std::array<std::byte, wire::kHeaderBytes + wire::kMaxNackPayloadBytes> packet;
  for (std::size_t first = 0; first < sequences.size(); first += wire::kMaxNackSequences) {
    const auto chunk = sequences.subspan(first, std::min(wire::kMaxNackSequences, sequences.size() - first));
    const std::size_t payload_size = wire::encodeNackPayload(chunk, payload);
    const std::size_t size = wire::encodePacket(header, std::span(payload.data(), payload_size), packet);
    const std::span<const std::byte> bytes(packet.data(), size);
    // NACKs are small and a lost one costs a round trip: send it twice.
    bool sent = neighbours_.sendOnLink(neighbour, neighbour.path.active(), bytes, SentKind::kNack);
    if (sent) ++counters_.nack_packets_sent;
    if (second && neighbours_.sendOnLink(neighbour, *second, bytes, SentKind::kNack)) {
      ++counters_.nack_packets_sent;
      sent = true;
    }
    if (sent) counters_.nack_sequences_sent += chunk.size();
  }
}

}  // namespace overline::relay
