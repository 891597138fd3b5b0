#pragma once
// NeighbourAuth: the keys, packet numbers and replay windows of wire v2
// between this relay and its neighbours (docs/architecture.md, "Trust").
//
// Every packet between two relays carries a tag (common/crypto/packet_auth.h)
// under the pair's key for one key epoch. Keys come per neighbour and epoch:
// derived from a mesh secret in the config (crypto::derivePairKey), or pushed
// by the controller (setPairKeys; the control-plane trust issue), so both
// schedules share this class. Each key has an activation time (wall clock):
//  * sending uses the newest key whose activation time has passed (the
//    oldest installed key while none has, or while the wall clock is unknown);
//  * receiving accepts every installed key.
// So a rotation is: install epoch N+1 everywhere with an activation time a
// little ahead (every relay then accepts it), let the time pass (every relay
// sends with it), remove epoch N later. No packet is refused at any step.
//
// Packet numbers: one strictly increasing counter per neighbour, starting at
// `packet_number_base` (the relay process passes the wall clock in
// nanoseconds at start, so a restarted relay continues above anything its
// previous run sent: receivers' replay windows keep working, and nonces
// never repeat under a key as long as the clock does not step back by more
// than the downtime). Replay windows are per (neighbour, epoch).
//
// Pure and single-threaded, like RelayCore, which owns one.

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/crypto/gmac.h"
#include "common/crypto/replay_window.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "relay/core/relay_config.h"

namespace overline::relay {

class NeighbourAuth {
 public:
  enum class Verdict : std::uint8_t {
    kOk,
    kUntagged,       // no tag where one is required
    kBadTag,         // unknown epoch, sender id not the neighbour's, or the tag does not verify
    kReplayed,       // a packet number already accepted or behind the window
  };

  // `enabled` false is insecure lab mode: nothing is tagged or checked.
  NeighbourAuth(NodeId self, bool enabled, std::uint64_t packet_number_base);

  bool enabled() const { return enabled_; }

  // Derives pair keys from `keys` for every neighbour without pushed keys
  // (replacing their keys), now and for neighbours added later. Neighbours
  // with pushed keys keep them.
  void setMeshKeys(std::vector<MeshKey> keys);
  // Replaces `neighbour`'s keys with controller-pushed ones, which then
  // outrank the mesh keys for it; empty `keys` returns it to the mesh keys'
  // pair keys. Epochs kept keep their replay windows. `keys` need unique
  // epochs (relay/control validates pushed lists).
  void setPairKeys(NodeId neighbour, std::span<const PairKey> keys);
  // Makes the neighbour set `ids`: new ones get keys from the mesh keys,
  // kept ones keep their keys (pushed ones included), windows and packet
  // numbers, others go.
  void setNeighbours(std::span<const NodeId> ids);
  // Whether a neighbour with pushed keys `pushed` (maybe none) would have a
  // key to send with: always when disabled; else pushed keys or mesh keys.
  bool wouldHaveKey(std::span<const PairKey> pushed) const {
    return !enabled_ || !pushed.empty() || !mesh_keys_.empty();
  }

  // Checks a packet that arrived from neighbour `neighbour`'s line; on kOk
  // its packet number is recorded in the replay window.
  Verdict check(NodeId neighbour, const wire::PacketView& packet);

  // Tags the untagged packet in buffer[0, size) for `neighbour` (next packet
  // number, the sending key at `wall_now_us`); returns its new size, or
  // `size` unchanged when disabled, or 0 when the neighbour has no key
  // (an invariant: setNeighbours gives every neighbour its keys).
  std::size_t seal(NodeId neighbour, std::span<std::byte> buffer, std::size_t size,
                   std::optional<TimeUs> wall_now_us);

  // The epoch `neighbour`'s packets are tagged with at `wall_now_us` (0: none).
  std::uint32_t sendingEpoch(NodeId neighbour, std::optional<TimeUs> wall_now_us) const;

 private:
  struct EpochKey {
    std::uint32_t epoch = 0;
    crypto::Gmac gmac;
    TimeUs activate_at_unix_us = 0;
    crypto::ReplayWindow window;
  };
  struct Peer {
    std::vector<EpochKey> keys;  // ascending epoch
    bool pushed = false;         // keys from setPairKeys, not from the mesh keys
  };

  // Replaces peer's keys by the mesh keys' pair keys; epochs kept keep their windows.
  void deriveKeys(NodeId neighbour, Peer& peer) const;
  const EpochKey* sendingKey(const Peer& peer, std::optional<TimeUs> wall_now_us) const;

  NodeId self_;
  bool enabled_;
  std::uint64_t packet_number_base_;
  std::vector<MeshKey> mesh_keys_;
  std::unordered_map<NodeId, Peer> peers_;
  // Next packet number toward each node ever a neighbour. Kept when a
  // neighbour is removed: one that comes back continues above everything it
  // was sent (a restart from the base would repeat nonces under the same
  // pair key, and the neighbour would refuse it all as replayed). Bounded
  // by the nodes the config and the controller ever named.
  std::unordered_map<NodeId, std::uint64_t> next_packet_number_;
};

}  // namespace overline::relay
