#pragma once
// FakeNeighbour: one neighbour relay the bench impersonates toward the relay
// under test. It owns one UDP socket bound on 127.0.0.1:0 (its only line,
// which the relay's config names) and its side of wire v2 authentication,
// with the class the relay itself uses (relay::NeighbourAuth): packets to the
// relay are sealed under the pair key, packets from it checked.
//
// For the reference forwarder and the direct path the same class plays a
// plain sender or receiver: authentication off, no relay attached.
//
// Thread-safe: the sender thread seals DATA while the service thread answers
// probes, so the NeighbourAuth (packet numbers, replay windows) sits behind a
// mutex, taken once per packet or per batch.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "bench/relay_hop_basics.h"
#include "bench/relay_hop_socket.h"
#include "relay/core/neighbour_auth.h"

namespace overline::bench {

// The mesh secret every neighbour derives its pair key from, as the
// relay's `auth.mesh_keys` epoch 1; disabled means insecure lab mode.
struct MeshAuth {
  bool enabled = false;
  std::vector<std::uint8_t> secret;
};

class FakeNeighbour {
 public:
  static Result<std::unique_ptr<FakeNeighbour>, std::string> open(NodeId self, const MeshAuth& auth);
  FakeNeighbour(const FakeNeighbour&) = delete;
  FakeNeighbour& operator=(const FakeNeighbour&) = delete;

  NodeId id() const { return self_; }
  const BenchSocket& socket() const { return *socket_; }
  const Endpoint& line() const { return socket_->local(); }

  // From now on the relay `relay` at `relay_line` is this node's one
  // neighbour: packets are sealed for it and checked as from it.
  void attachTo(NodeId relay, const Endpoint& relay_line);
  NodeId relay() const { return relay_; }
  const Endpoint& relayLine() const { return relay_line_; }

  // Encodes `header` (sender_node_id set to this node) and `payload` into
  // `out` and seals it for the relay. Returns the size; 0 on failure.
  std::size_t build(wire::Header header, std::span<const std::byte> payload, wire::PacketBuffer& out);
  // build() for many packets under one lock: `fill(i, header)` sets packet
  // i's header; every packet gets `payload`. Returns the sizes (0: failed).
  void buildBatch(std::size_t count, const std::function<void(std::size_t, wire::Header&)>& fill,
                  std::span<const std::byte> payload, std::span<wire::PacketBuffer> out, std::span<std::size_t> sizes);

  // Whether `packet`, received from the relay's line, passes the tag and
  // replay checks (always, with authentication off).
  bool accepts(const wire::PacketView& packet);
  // Answers an accepted PROBE with a PROBE_ACK to `to`, as
  // RelayCore::answerProbe does: header only, sequence and timestamp echoed,
  // hop limit 1, sealed.
  bool answerProbe(const wire::Header& probe, const Endpoint& to);
  // SUBSCRIBE(stream) to the relay, one sendmmsg per kBatchSize streams.
  // Returns how many went out.
  std::size_t subscribe(std::span<const StreamId> streams);

 private:
  FakeNeighbour(NodeId self, const MeshAuth& auth, std::unique_ptr<BenchSocket> socket);

  const NodeId self_;
  std::unique_ptr<BenchSocket> socket_;
  NodeId relay_ = kNoNode;
  Endpoint relay_line_;
  std::mutex auth_mutex_;
  relay::NeighbourAuth auth_;  // guarded by auth_mutex_
};

}  // namespace overline::bench
