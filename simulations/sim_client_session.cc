#include "simulations/sim_client_session.h"

#include <algorithm>

#include "common/wire/byte_order.h"

namespace overline::sim {
namespace {

sdk::HelloNonce nonceFor(SimNetwork::ClientId client) {
  sdk::HelloNonce nonce{};
  wire::writeBigEndian<std::uint64_t>(nonce, 0, 0x53494d434c49454eULL);  // "SIMCLIEN"
  wire::writeBigEndian<std::uint64_t>(nonce, 8, client);
  return nonce;
}

}  // namespace

SimClientSession::SimClientSession(SimNetwork& network, SimNetwork::ClientId client)
    : network_(network), client_(client), join_(nonceFor(client), {}) {}

void SimClientSession::sendHello() {
  if (!joined()) {
    const std::size_t size = join_.hello(buffer_, 0);
    network_.sendFromClient(client_, std::span(buffer_.data(), size));
    return;
  }
  wire::PacketBuffer hello;
  const std::size_t size = sdk::encodeHello(join_.nonce(), sdk::HelloCookie{}, {}, hello);
  send(std::span(hello.data(), size));
}

bool SimClientSession::send(std::span<const std::byte> untagged) {
  if (!joined() || untagged.size() + wire::kTagBytes > buffer_.size()) return false;
  std::copy(untagged.begin(), untagged.end(), buffer_.begin());
  const std::size_t size = tagger_->tag(buffer_, untagged.size());
  network_.sendFromClient(client_, std::span(buffer_.data(), size));
  return true;
}

bool SimClientSession::onAnswer(const wire::PacketView& packet) {
  switch (join_.onAnswer(packet)) {
    case sdk::JoinHandshake::Step::kIgnored:
      return packet.header.type == wire::PacketType::kChallenge || packet.header.type == wire::PacketType::kWelcome;
    case sdk::JoinHandshake::Step::kChallenged: sendHello(); return true;
    case sdk::JoinHandshake::Step::kJoined: tagger_.emplace(join_.sessionKey()); return true;
  }
  return false;
}

}  // namespace overline::sim
