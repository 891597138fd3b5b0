#include "relay/core/neighbour_auth.h"

#include <algorithm>

#include "common/check/invariant.h"
#include "common/crypto/key_derivation.h"
#include "common/crypto/packet_auth.h"

namespace overline::relay {

NeighbourAuth::NeighbourAuth(NodeId self, bool enabled, std::uint64_t packet_number_base)
    : self_(self), enabled_(enabled), packet_number_base_(std::max<std::uint64_t>(packet_number_base, 1)) {}

namespace {

bool byEpoch(const auto& a, const auto& b) { return a.epoch < b.epoch; }

}  // namespace

void NeighbourAuth::deriveKeys(NodeId neighbour, Peer& peer) const {
  std::vector<EpochKey> old = std::move(peer.keys);
  peer.keys.clear();
  peer.pushed = false;
  for (const MeshKey& mesh : mesh_keys_) {
    EpochKey key{mesh.epoch, crypto::Gmac(crypto::derivePairKey(mesh.secret, mesh.epoch, self_, neighbour)),
                 mesh.activate_at_unix_us, {}};
    // Keep the replay windows of epochs that stay: their packet numbers go on.
    const auto kept = std::find_if(old.begin(), old.end(), [&](const EpochKey& k) { return k.epoch == key.epoch; });
    if (kept != old.end()) key.window = kept->window;
    peer.keys.push_back(std::move(key));
  }
  std::sort(peer.keys.begin(), peer.keys.end(), byEpoch<EpochKey, EpochKey>);
}

void NeighbourAuth::setMeshKeys(std::vector<MeshKey> keys) {
  mesh_keys_ = std::move(keys);
  for (auto& [id, peer] : peers_) {
    if (!peer.pushed) deriveKeys(id, peer);
  }
}

void NeighbourAuth::setPairKeys(NodeId neighbour, std::span<const PairKey> keys) {
  Peer& peer = peers_[neighbour];
  if (keys.empty()) {
    if (peer.pushed || peer.keys.empty()) deriveKeys(neighbour, peer);
    return;
  }
  std::vector<EpochKey> old = std::move(peer.keys);
  peer.keys.clear();
  peer.pushed = true;
  for (const PairKey& key : keys) {
    EpochKey entry{key.epoch, crypto::Gmac(key.key), key.activate_at_unix_us, {}};
    const auto kept = std::find_if(old.begin(), old.end(), [&](const EpochKey& k) { return k.epoch == key.epoch; });
    if (kept != old.end()) entry.window = kept->window;
    peer.keys.push_back(std::move(entry));
  }
  std::sort(peer.keys.begin(), peer.keys.end(), byEpoch<EpochKey, EpochKey>);
}

void NeighbourAuth::setNeighbours(std::span<const NodeId> ids) {
  std::unordered_map<NodeId, Peer> next;
  for (const NodeId id : ids) {
    if (auto it = peers_.find(id); it != peers_.end()) {
      next.emplace(id, std::move(it->second));
      continue;
    }
    Peer peer;
    next_packet_number_.try_emplace(id, packet_number_base_);
    deriveKeys(id, peer);
    next.emplace(id, std::move(peer));
  }
  peers_ = std::move(next);
}

NeighbourAuth::Verdict NeighbourAuth::check(NodeId neighbour, const wire::PacketView& packet) {
  if (!enabled_) return Verdict::kOk;
  const wire::Header& header = packet.header;
  if (!header.tagged()) return Verdict::kUntagged;
  if (header.sender_node_id != neighbour) return Verdict::kBadTag;
  const auto peer = peers_.find(neighbour);
  if (peer == peers_.end()) return Verdict::kBadTag;
  const auto key = std::find_if(peer->second.keys.begin(), peer->second.keys.end(),
                                [&](const EpochKey& k) { return k.epoch == header.key_epoch; });
  if (key == peer->second.keys.end()) return Verdict::kBadTag;
  if (!key->window.fresh(header.packet_number)) return Verdict::kReplayed;
  if (!crypto::verifyPacket(key->gmac, packet)) return Verdict::kBadTag;
  key->window.accept(header.packet_number);
  return Verdict::kOk;
}

const NeighbourAuth::EpochKey* NeighbourAuth::sendingKey(const Peer& peer, std::optional<TimeUs> wall_now_us) const {
  if (peer.keys.empty()) return nullptr;
  const EpochKey* best = nullptr;
  for (const EpochKey& key : peer.keys) {
    const bool active = key.activate_at_unix_us == 0 || (wall_now_us && *wall_now_us >= key.activate_at_unix_us);
    if (active) best = &key;  // ascending: the newest active one wins
  }
  return best != nullptr ? best : &peer.keys.front();
}

std::uint32_t NeighbourAuth::sendingEpoch(NodeId neighbour, std::optional<TimeUs> wall_now_us) const {
  const auto peer = peers_.find(neighbour);
  if (peer == peers_.end()) return 0;
  const EpochKey* key = sendingKey(peer->second, wall_now_us);
  return key != nullptr ? key->epoch : 0;
}

std::size_t NeighbourAuth::seal(NodeId neighbour, std::span<std::byte> buffer, std::size_t size,
                                std::optional<TimeUs> wall_now_us) {
  if (!enabled_) return size;
  const auto peer = peers_.find(neighbour);
  // setNeighbours gives every neighbour an entry and the config at least one key; release: not sent.
  if (!OVERLINE_INVARIANT(peer != peers_.end())) return 0;
  const EpochKey* key = sendingKey(peer->second, wall_now_us);
  if (!OVERLINE_INVARIANT(key != nullptr)) return 0;
  return crypto::sealPacket(key->gmac, key->epoch, next_packet_number_[neighbour]++, buffer, size);
}

}  // namespace overline::relay
