#include "simulations/sim_client.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "common/wire/byte_order.h"

namespace overline::sim {
namespace {

sdk::SessionConfig sessionConfig(const ClientConfig& config) {
  sdk::SessionConfig session;
  for (const LineRef& edge : config.edges) {
    session.candidates.push_back(sdk::EdgeCandidate{relayLineEndpoint(edge), {}});
  }
  session.homes = config.homes;
  return session;
}

}  // namespace

TimeUs joinTime(TimeUs start_us) { return start_us - std::min(start_us, kJoinLeadUs); }

SimClient::SimClient(SimNetwork& network, const ClientConfig& config, ClientHooks hooks)
    : network_(network),
      hooks_(std::move(hooks)),
      id_(network.addClient([this](const Endpoint& from, std::span<const std::byte> datagram, TimeUs now) {
        core_->onDatagram(from, datagram, now, static_cast<std::uint64_t>(now));
        arm();
      })) {
  const TimeUs join_at = std::max(config.join_at_us, network_.simulator().now());
  auto created = sdk::SessionCore::create(sessionConfig(config), *this, [this] { return nextNonce(); }, join_at);
  if (!created) {
    std::fprintf(stderr, "bug: invalid simulated client: %s\n", created.error().c_str());
    std::abort();
  }
  core_ = std::move(created.value());
  arm();
}

Result<StreamId, std::string> SimClient::publish(std::uint32_t local_id, const sdk::PublishOptions& options) {
  auto stream = core_->publish(local_id, options);
  arm();
  return stream;
}

bool SimClient::send(StreamId stream, std::span<const std::byte> payload, std::uint64_t timestamp_us) {
  const bool sent = core_->send(stream, payload, timestamp_us);
  arm();
  return sent;
}

Result<std::uint64_t, std::string> SimClient::subscribe(StreamId stream, const sdk::SubscriptionConfig& config) {
  auto id = core_->subscribe(stream, config);
  arm();
  return id;
}

bool SimClient::sendDatagram(const Endpoint& to, std::span<const std::byte> datagram) {
  // A socket's send: the network takes it; what the path does is its business.
  network_.sendFromClient(id_, to, datagram);
  return true;
}

void SimClient::onArrival(const sdk::DataRelease& data) {
  if (hooks_.on_arrival) hooks_.on_arrival(data, network_.simulator().now());
}

void SimClient::onDelivery(const sdk::DataRelease&) {
  // The core counts deliveries; scenarios measure arrivals (on_arrival).
}

void SimClient::onEvent(const sdk::SessionEvent& event) {
  const TimeUs now = network_.simulator().now();
  events_.push_back(TimedEvent{now, event});
  if (hooks_.on_event) hooks_.on_event(event, now);
}

void SimClient::arm() {
  Simulator& simulator = network_.simulator();
  const TimeUs due = std::max(core_->nextDeadline(), simulator.now());
  if (wake_at_ && *wake_at_ <= due) return;
  wake_at_ = due;
  simulator.schedule(due, [this, due] { wake(due); });
}

void SimClient::wake(TimeUs at_us) {
  if (wake_at_ != at_us) return;
  wake_at_.reset();
  core_->onTick(at_us);
  arm();
}

std::optional<sdk::HelloNonce> SimClient::nextNonce() {
  // Unique per client and join, and the same in every run.
  sdk::HelloNonce nonce{};
  wire::writeBigEndian<std::uint64_t>(nonce, 0, 0x53494d434c49454eULL);  // "SIMCLIEN"
  wire::writeBigEndian<std::uint32_t>(nonce, 8, endpoint().address());
  wire::writeBigEndian<std::uint32_t>(nonce, 12, ++nonces_issued_);
  return nonce;
}

}  // namespace overline::sim
