#pragma once
// Test tools for the trust rules of wire v2 (relay_core.h, "Trust"): the
// auth config every unit-test relay uses, and TestPeers, which plays a
// RelayCore's neighbours and clients the way real ones behave: it tags what
// a neighbour sends with the pair's key, and joins a client (HELLO with a
// valid cookie, computed from the shared test cookie secret, so no
// CHALLENGE round trip is needed) and tags its later packets with the
// session key the relay derives for it.

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "common/crypto/gmac.h"
#include "common/endpoint.h"
#include "common/types.h"
#include "relay/core/relay_config.h"

namespace overline::relay::test {

using Bytes = std::vector<std::byte>;

// One mesh key (epoch 1, a fixed secret) and a fixed cookie secret.
AuthConfig testAuth();
// `config` with testAuth(), unless it already has mesh keys or lab mode.
RelayCoreConfig withTestAuth(RelayCoreConfig config);

// `packet` without its tag and with key_epoch and packet_number zeroed: what
// the sender built before tagging it, for comparing bytes across hops.
Bytes untagged(const Bytes& packet);

class TestPeers {
 public:
  // `relay`: the node id of the RelayCore the packets go to.
  explicit TestPeers(NodeId relay) : relay_(relay) {}

  // `packet` (untagged) as neighbour `from` sends it: sender_node_id set to
  // `from`, tagged with the pair's epoch-1 key and the next packet number
  // of this object's (starting at 2^40: see test_peers.cc).
  Bytes fromNeighbour(NodeId from, const Bytes& packet);

  // `packet` as client `client` sends it at `now`. An untagged HELLO from a
  // client that has not joined (per this object) becomes a joining HELLO:
  // a fresh nonce, a valid cookie for `now` and, as token, the HELLO's
  // payload (tests build a HELLO with a bare token, or none). Every packet
  // of a joined client is tagged with its session key; a joined client's
  // HELLO is a keepalive. (Raw packets go to RelayCore::onDatagram directly.)
  Bytes fromClient(const Endpoint& client, const Bytes& packet, TimeUs now);
  // The relay forgot the client (expiry, removal): its next HELLO joins again.
  void forgetClient(const Endpoint& client) { clients_.erase(client); }
  bool joined(const Endpoint& client) const { return clients_.contains(client); }

 private:
  struct Session {
    crypto::Gmac key;
    std::uint64_t next_packet_number = 1;
  };

  NodeId relay_;
  std::map<NodeId, std::uint64_t> next_neighbour_packet_number_;
  std::map<Endpoint, Session> clients_;
  std::uint32_t joins_ = 0;  // makes every join's nonce new
};

}  // namespace overline::relay::test
