#pragma once
// SimClientSession: a simulated SDK client's join and packet tagging, as
// sdk::Client does them (common/wire/packet.h, "Client join"): HELLO with a
// nonce, the edge's CHALLENGE, HELLO echoing the cookie, the edge's WELCOME;
// then every packet tagged with the session key. The nonce is derived from
// the client id, so a run stays deterministic.

#include <cstdint>
#include <optional>
#include <span>

#include "common/wire/packet.h"
#include "sdk/core/join_handshake.h"
#include "sdk/core/session_tagger.h"
#include "simulations/sim_network.h"

namespace overline::sim {

class SimClientSession {
 public:
  SimClientSession(SimNetwork& network, SimNetwork::ClientId client);

  // The join's HELLO until joined, then a tagged keepalive HELLO.
  void sendHello();
  // Sends `untagged` tagged with the session key; false (nothing sent)
  // before the join completed.
  bool send(std::span<const std::byte> untagged);
  // A packet from the edge: true when it was part of the join (consumed);
  // on a CHALLENGE the next HELLO goes out at once.
  bool onAnswer(const wire::PacketView& packet);
  bool joined() const { return tagger_.has_value(); }

 private:
  SimNetwork& network_;
  SimNetwork::ClientId client_;
  sdk::JoinHandshake join_;
  std::optional<sdk::SessionTagger> tagger_;
  wire::PacketBuffer buffer_{};
};

}  // namespace overline::sim
