#include "tests/unit/relay/core/test_peers.h"

#include <algorithm>
#include <array>

#include "common/crypto/key_derivation.h"
#include "common/crypto/packet_auth.h"
#include "common/wire/byte_order.h"
#include "relay/core/client_gate.h"

namespace overline::relay::test {
namespace {

std::vector<std::uint8_t> testSecret() {
  std::vector<std::uint8_t> secret(32);
  for (std::size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<std::uint8_t>(0xA0 + i);
  return secret;
}

std::array<std::uint8_t, 32> testCookieSecret() {
  std::array<std::uint8_t, 32> secret{};
  for (std::size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return secret;
}

Bytes seal(const crypto::Gmac& key, std::uint64_t packet_number, const Bytes& packet) {
  Bytes sealed(packet.size() + wire::kTagBytes);
  std::copy(packet.begin(), packet.end(), sealed.begin());
  const std::size_t size = crypto::sealPacket(key, 1, packet_number, sealed, packet.size());
  sealed.resize(size);
  return sealed;
}

}  // namespace

Bytes untagged(const Bytes& packet) {
  const auto parsed = wire::parsePacket(packet);
  if (!parsed) return packet;
  Bytes out(parsed->authenticated.begin(), parsed->authenticated.end());
  wire::writeKeyFields(out, 0, 0);
  return out;
}

AuthConfig testAuth() {
  AuthConfig auth;
  auth.mesh_keys = {MeshKey{1, testSecret(), 0}};
  auth.cookie_secret = testCookieSecret();
  return auth;
}

RelayCoreConfig withTestAuth(RelayCoreConfig config) {
  if (config.auth.mesh_keys.empty() && !config.auth.insecure_lab_mode) config.auth = testAuth();
  return config;
}

Bytes TestPeers::fromNeighbour(NodeId from, const Bytes& packet) {
  const crypto::Gmac key(crypto::derivePairKey(testSecret(), 1, from, relay_));
  // Ahead of anything a real relay of the test sent: a packet injected
  // into a TestNetwork is fresh (the sender's own later packets then fall
  // behind the receiver's replay window; tests inject at their end).
  std::uint64_t& next = next_neighbour_packet_number_[from];
  if (next == 0) next = std::uint64_t{1} << 40;
  // A neighbour names itself as the sender of everything it sends.
  Bytes own = packet;
  if (own.size() >= wire::kHeaderBytes) wire::writeBigEndian<std::uint32_t>(own, 8, from);
  return seal(key, next++, own);
}

Bytes TestPeers::fromClient(const Endpoint& client, const Bytes& packet, TimeUs now) {
  // By the raw header: tests pass HELLOs whose bare-token payload a v2
  // parser would refuse (its size is no HELLO's).
  const bool untagged_hello = packet.size() >= wire::kHeaderBytes &&
                              packet[2] == static_cast<std::byte>(wire::PacketType::kHello) &&
                              wire::readBigEndian<std::uint32_t>(packet, 36) == 0;
  auto session = clients_.find(client);
  if (session == clients_.end() && untagged_hello) {
    // Join: nonce | cookie | token (the HELLO's payload, if any).
    std::array<std::byte, wire::kHelloNonceBytes> nonce{};
    wire::writeBigEndian<std::uint32_t>(nonce, 0, ++joins_);
    wire::writeBigEndian<std::uint32_t>(nonce, 4, client.address());
    const ClientGate gate(testCookieSecret());
    const Cookie cookie = gate.cookie(client, nonce, now);
    Bytes payload(nonce.begin(), nonce.end());
    payload.insert(payload.end(), cookie.begin(), cookie.end());
    payload.insert(payload.end(), packet.begin() + wire::kHeaderBytes, packet.end());
    wire::Header header;
    header.type = wire::PacketType::kHello;
    header.sequence = wire::readBigEndian<std::uint32_t>(packet, 20);
    Bytes joining(wire::kHeaderBytes + payload.size());
    joining.resize(wire::encodePacket(header, payload, joining));
    clients_.insert_or_assign(client, Session{crypto::Gmac(gate.sessionKey(client, nonce, cookie)), 1});
    return joining;
  }
  const auto parsed = wire::parsePacket(packet);
  if (session == clients_.end() || !parsed || parsed->header.tagged()) return packet;  // as the test built it
  // The tag covers header and payload as given.
  return seal(session->second.key, session->second.next_packet_number++, packet);
}

}  // namespace overline::relay::test
