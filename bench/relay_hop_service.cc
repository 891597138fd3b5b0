#include "bench/relay_hop_service.h"

#include <poll.h>

#include <algorithm>
#include <cstring>

namespace overline::bench {
namespace {

// Downstream soft state is refreshed this often: below the relay's
// subscription expiry (1.5 s by default).
constexpr DurationUs kRefreshIntervalUs = 500 * kMillisecond;
// The longest poll: how fast stop and a requested refresh are noticed.
constexpr int kIdleWaitMs = 20;
// Batches read from one socket before the next socket's turn.
constexpr int kBatchesPerTurn = 8;
// A marker: 8 bytes of magic and a 4-byte token; shorter than any wire
// packet (48-byte header), so it can never be taken for one.
constexpr std::array<char, 8> kMarkerMagic = {'O', 'L', 'B', 'M', 'A', 'R', 'K', '!'};
constexpr std::size_t kMarkerBytes = kMarkerMagic.size() + sizeof(std::uint32_t);
// How long a marker round may take (markers resent meanwhile) and how often
// one is resent: one may be lost to a still-full socket buffer.
constexpr DurationUs kMarkerTimeoutUs = 2 * kSecond;
constexpr DurationUs kMarkerResendUs = 50 * kMillisecond;

std::array<std::byte, kMarkerBytes> markerDatagram(std::uint32_t token) {
  std::array<std::byte, kMarkerBytes> datagram{};
  std::memcpy(datagram.data(), kMarkerMagic.data(), kMarkerMagic.size());
  std::memcpy(datagram.data() + kMarkerMagic.size(), &token, sizeof(token));
  return datagram;
}

std::chrono::microseconds until(TimeUs deadline_us) {
  return std::chrono::microseconds(std::max<TimeUs>(deadline_us - nowUs(), 0));
}

}  // namespace

Result<std::unique_ptr<NeighbourService>, std::string> NeighbourService::start(Roles roles) {
  auto marker = BenchSocket::open(ArrivalInfo::kNone);
  if (!marker) return Err(marker.error());
  std::unique_ptr<NeighbourService> service(new NeighbourService(std::move(roles), std::move(marker.value())));
  service->thread_ = std::thread([s = service.get()] { s->run(); });
  return service;
}

NeighbourService::NeighbourService(Roles roles, std::unique_ptr<BenchSocket> marker)
    : relay_(roles.relay), marker_(std::move(marker)) {
  neighbours_.push_back(roles.upstream);
  neighbours_.insert(neighbours_.end(), roles.downstreams.begin(), roles.downstreams.end());
  probes_answered_.assign(neighbours_.size(), 0);
  accepted_data_.assign(neighbours_.size(), 0);
  marker_seen_.assign(neighbours_.size(), 0);
  marker_drops_.assign(neighbours_.size(), 0);
}

NeighbourService::~NeighbourService() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void NeighbourService::keepSubscribed(std::vector<StreamId> streams) {
  const std::lock_guard lock(mutex_);
  kept_streams_ = std::move(streams);
  refresh_now_ = true;
}

bool NeighbourService::waitProbesAnswered(std::size_t per_neighbour, DurationUs timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, std::chrono::microseconds(timeout), [&] {
    return interrupted() || std::all_of(probes_answered_.begin(), probes_answered_.end(),
                                        [&](std::size_t n) { return n >= per_neighbour; });
  }) && !interrupted();
}

bool NeighbourService::waitDataAtEveryDownstream(DurationUs timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, std::chrono::microseconds(timeout), [&] {
    return interrupted() ||
           std::all_of(accepted_data_.begin() + 1, accepted_data_.end(), [](std::size_t n) { return n > 0; });
  }) && !interrupted();
}

bool NeighbourService::waitSubscribedAtUpstream(std::size_t streams, DurationUs timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, std::chrono::microseconds(timeout), [&] {
    return interrupted() || subscribed_.size() >= streams;
  }) && !interrupted();
}

std::size_t NeighbourService::subscribedAtUpstream() {
  const std::lock_guard lock(mutex_);
  return subscribed_.size();
}

bool NeighbourService::subscribedAtUpstream(StreamId stream) {
  const std::lock_guard lock(mutex_);
  return subscribed_.contains(stream);
}

Status NeighbourService::beginPhase(const PhaseSpec& spec) {
  auto drops = syncDrops();
  if (!drops) return Err(drops.error());
  const std::lock_guard lock(mutex_);
  phase_ = spec;
  tally_ = PhaseTally{};
  tally_.downstreams.assign(neighbours_.size() - 1, DownstreamTally{});
  if (spec.record_latency) tally_.latencies_us.reserve(spec.count);
  seen_.assign(neighbours_.size() - 1, std::vector<bool>(spec.count, false));
  phase_start_drops_ = *drops;
  phase_delivered_ = 0;
  phase_progress_ = 0;
  phase_active_ = true;
  return succeeded();
}

void NeighbourService::waitPhaseDrained(std::size_t expected, DurationUs quiet, DurationUs timeout) {
  const TimeUs called_us = nowUs();
  const TimeUs deadline_us = called_us + timeout;
  std::unique_lock lock(mutex_);
  for (;;) {
    const TimeUs quiet_since_us = std::max(tally_.last_read_us, called_us);
    const TimeUs now = nowUs();
    if (phase_delivered_ >= expected || now - quiet_since_us >= quiet || now >= deadline_us || interrupted()) return;
    changed_.wait_for(lock, until(std::min(deadline_us, quiet_since_us + quiet)));
  }
}

bool NeighbourService::waitProgress(std::size_t count, DurationUs timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, std::chrono::microseconds(timeout),
                           [&] { return interrupted() || phase_progress_ >= count; });
}

std::size_t NeighbourService::progress() {
  const std::lock_guard lock(mutex_);
  return phase_progress_;
}

Result<PhaseTally, std::string> NeighbourService::endPhase() {
  {
    const std::lock_guard lock(mutex_);
    phase_active_ = false;
  }
  auto drops = syncDrops();
  if (!drops) return Err(drops.error());
  const std::lock_guard lock(mutex_);
  for (std::size_t d = 0; d < tally_.downstreams.size(); ++d) {
    // The counter is 32 bits in the control message: unsigned wrap-around
    // keeps the difference right.
    tally_.downstreams[d].socket_drops = static_cast<std::uint32_t>((*drops)[d + 1] - phase_start_drops_[d + 1]);
  }
  return std::move(tally_);
}

Result<std::vector<std::uint64_t>, std::string> NeighbourService::syncDrops() {
  std::uint32_t token = 0;
  {
    const std::lock_guard lock(mutex_);
    token = ++marker_token_;
  }
  const auto datagram = markerDatagram(token);
  const TimeUs deadline_us = nowUs() + kMarkerTimeoutUs;
  std::unique_lock lock(mutex_);
  const auto all_seen = [&] {
    for (std::size_t n = 1; n < neighbours_.size(); ++n) {
      if (marker_seen_[n] != token) return false;
    }
    return true;
  };
  while (!all_seen()) {
    if (nowUs() >= deadline_us || interrupted()) {
      return Err(std::string(interrupted() ? kInterruptedText : "a receiver did not read its marker within 2 s"));
    }
    for (std::size_t n = 1; n < neighbours_.size(); ++n) {
      if (marker_seen_[n] != token) marker_->sendTo(datagram, neighbours_[n]->line());
    }
    changed_.wait_for(lock, until(std::min(deadline_us, nowUs() + kMarkerResendUs)), all_seen);
  }
  return std::vector<std::uint64_t>(marker_drops_.begin(), marker_drops_.end());
}

void NeighbourService::run() {
  ReceiveBatch batch;
  std::vector<pollfd> fds;
  for (const FakeNeighbour* n : neighbours_) fds.push_back({n->socket().fd(), POLLIN, 0});
  TimeUs next_refresh_us = nowUs();
  while (!stop_.load(std::memory_order_relaxed)) {
    TimeUs now = nowUs();
    bool refresh = false;
    {
      const std::lock_guard lock(mutex_);
      refresh = relay_ && (refresh_now_ || now >= next_refresh_us);
      refresh_now_ = false;
    }
    if (refresh) {
      refreshSubscriptions();
      next_refresh_us = now + kRefreshIntervalUs;
    }
    // Without a relay nothing is refreshed: only stop_ bounds the wait.
    const TimeUs until_refresh_us = relay_ ? next_refresh_us - now : kIdleWaitMs * kMillisecond;
    const int wait_ms = static_cast<int>(std::clamp<TimeUs>(until_refresh_us / kMillisecond, 0, kIdleWaitMs));
    if (::poll(fds.data(), fds.size(), wait_ms) > 0) {
      for (std::size_t index = 0; index < fds.size(); ++index) {
        if ((fds[index].revents & POLLIN) != 0) drain(index, batch);
      }
    }
    changed_.notify_all();
  }
}

void NeighbourService::refreshSubscriptions() {
  std::vector<StreamId> streams;
  {
    const std::lock_guard lock(mutex_);
    streams = kept_streams_;
  }
  if (streams.empty()) return;
  for (std::size_t n = 1; n < neighbours_.size(); ++n) neighbours_[n]->subscribe(streams);
}

void NeighbourService::drain(std::size_t index, ReceiveBatch& batch) {
  for (int turn = 0; turn < kBatchesPerTurn; ++turn) {
    const std::size_t count = batch.receive(neighbours_[index]->socket());
    if (count == 0) return;
    const TimeUs read_us = nowUs();
    const std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < count; ++i) handle(index, batch, i, read_us);
  }
}

void NeighbourService::handle(std::size_t index, const ReceiveBatch& batch, std::size_t i, TimeUs read_us) {
  const Endpoint from = batch.source(i);
  if (from == marker_->local()) {
    onMarker(index, batch.datagram(i), batch.socketDrops(i));
    return;
  }
  const auto packet = wire::parsePacket(batch.datagram(i));
  if (!packet) return;
  FakeNeighbour& neighbour = *neighbours_[index];
  const bool from_relay = relay_ && from == neighbour.relayLine();
  switch (packet->header.type) {
    case wire::PacketType::kData:
      if (isDownstream(index)) onData(index, *packet, from_relay, batch.kernelTimeNs(i), read_us);
      return;
    case wire::PacketType::kProbe:
      if (from_relay && neighbour.accepts(*packet) && neighbour.answerProbe(packet->header, from)) {
        ++probes_answered_[index];
      }
      return;
    case wire::PacketType::kSubscribe:
      if (!isDownstream(index) && from_relay && neighbour.accepts(*packet))
        subscribed_.insert(packet->header.stream_id);
      return;
    case wire::PacketType::kFec:
      if (phase_active_ && isDownstream(index)) ++tally_.fec_at_downstreams;
      return;
    case wire::PacketType::kNack:
      if (phase_active_ && !isDownstream(index)) ++tally_.nacks_at_upstream;
      return;
    default:
      return;  // ANNOUNCE, UNSUBSCRIBE, ...: nothing a fake neighbour must do
  }
}

void NeighbourService::onData(std::size_t index, const wire::PacketView& packet, bool from_relay,
                              std::int64_t kernel_ns, TimeUs read_us) {
  FakeNeighbour& neighbour = *neighbours_[index];
  const bool verify = relay_ && (!phase_active_ || phase_.verify_tags);
  if (relay_ && !from_relay) return;  // a relay target gets DATA only from the relay
  DownstreamTally* tally = phase_active_ ? &tally_.downstreams[index - 1] : nullptr;
  if (verify && !neighbour.accepts(packet)) {
    if (tally != nullptr) ++tally->rejected;
    return;
  }
  ++accepted_data_[index];
  if (tally == nullptr || packet.header.stream_id != phase_.stream) return;
  const std::uint32_t offset = packet.header.sequence - phase_.first_sequence;
  if (offset >= phase_.count) return;  // warm-up DATA
  if (index == 1) phase_progress_ = std::max<std::size_t>(phase_progress_, offset + 1);
  std::vector<bool>& seen = seen_[index - 1];
  if (seen[offset]) {
    ++tally->duplicates;
    return;
  }
  seen[offset] = true;
  ++tally->delivered;
  ++phase_delivered_;
  if (tally->delivered == 1) {
    tally->first_kernel_ns = kernel_ns;
    tally->first_read_us = read_us;
  }
  tally->last_kernel_ns = kernel_ns;
  tally->last_read_us = read_us;
  tally_.last_read_us = read_us;
  if (phase_.record_latency && index == 1) {
    tally_.latencies_us.push_back(read_us - static_cast<TimeUs>(packet.header.timestamp_us));
  }
}

void NeighbourService::onMarker(std::size_t index, std::span<const std::byte> datagram, std::uint32_t drops) {
  if (datagram.size() != kMarkerBytes || std::memcmp(datagram.data(), kMarkerMagic.data(), kMarkerMagic.size()) != 0) {
    return;
  }
  std::uint32_t token = 0;
  std::memcpy(&token, datagram.data() + kMarkerMagic.size(), sizeof(token));
  marker_seen_[index] = token;
  marker_drops_[index] = drops;
}

}  // namespace overline::bench
