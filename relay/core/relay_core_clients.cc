// RelayCore's SDK clients (docs/architecture.md, "Trust" and "The join
// path"): the join (stateless CHALLENGE, then WELCOME and the session),
// tagged packets, token grants and expiry, stream owners and the DATA
// checks at the origin, and a client's removal. The rest of RelayCore is in
// relay_core.cc and relay_core_recovery.cc; the split is by topic only, the
// class and its invariants are one.

#include <algorithm>
#include <array>
#include <limits>

#include "common/check/invariant.h"
#include "common/crypto/packet_auth.h"
#include "common/wire/byte_order.h"
#include "relay/core/join_check.h"
#include "relay/core/relay_core.h"

namespace overline::relay {

using wire::PacketType;

void RelayCore::onClientPacket(LineIndex line, const Endpoint& from, const wire::PacketView& packet, TimeUs now) {
  const wire::Header& header = packet.header;
  auto it = clients_.find(from);
  if (!header.tagged()) {
    // Untagged, only a HELLO means anything: the first step of a join (or
    // of a rejoin from the same endpoint). It never touches a session.
    if (header.type == PacketType::kHello) {
      onClientHello(line, from, packet, now);
    } else {
      ++counters_.drop(it == clients_.end() ? DropReason::kUnknownSource : DropReason::kUnauthenticated);
    }
    return;
  }
  if (it == clients_.end()) {
    ++counters_.drop(DropReason::kUnknownSource);
    return;
  }
  ClientSession& client = it->second;
  if (!client.window.fresh(header.packet_number)) {
    ++counters_.drop(DropReason::kReplayed);
    return;
  }
  if (header.sender_node_id != kNoNode || !crypto::verifyPacket(client.session_key, packet)) {
    ++counters_.drop(DropReason::kBadTag);
    return;
  }
  client.window.accept(header.packet_number);
  if (tokenExpired(client)) {
    // The session ends; a fresh join (with a fresh token) starts a new one.
    ++counters_.drop(DropReason::kTokenExpired);
    ++counters_.client_tokens_expired;
    removeClient(it);
    return;
  }
  client.line = line;
  client.last_seen_us = now;

  const PeerId peer{kNoNode, from};
  switch (header.type) {
    case PacketType::kHello: onClientKeepalive(from, client, packet); return;
    case PacketType::kData: onClientData(from, client, packet, now); return;
    case PacketType::kSubscribe:
      if (!client.grant.allows(token::Role::kSubscribe, header.stream_id)) {
        ++counters_.drop(DropReason::kNotPermitted);
        return;
      }
      onSubscribe(peer, &client, header, now);
      return;
    case PacketType::kUnsubscribe: onUnsubscribe(peer, header); return;
    case PacketType::kProbe:
    case PacketType::kProbeAck: ++counters_.drop(DropReason::kUnknownSource); return;  // relays only
    case PacketType::kChallenge:
    case PacketType::kWelcome:
    case PacketType::kAnnounce: ++counters_.drop(DropReason::kUnexpectedType); return;
    case PacketType::kNack:
    case PacketType::kFec: ++counters_.drop(DropReason::kUnsupportedType); return;
  }
}

void RelayCore::onClientHello(LineIndex line, const Endpoint& from, const wire::PacketView& packet, TimeUs now) {
  const std::optional<HelloFields> hello = splitHello(packet.payload);
  if (!hello) {
    ++counters_.drop(DropReason::kBadHello);
    return;
  }
  const std::uint32_t sequence = packet.header.sequence;
  if (!hello->hasCookie() || !gate_.cookieValid(from, hello->nonce, hello->cookie, now)) {
    // Stateless and smaller than the HELLO: a forged source gains nothing.
    if (hello->hasCookie()) ++counters_.drop(DropReason::kBadCookie);
    const Cookie cookie = gate_.cookie(from, hello->nonce, now);
    sendJoinAnswer(line, from, PacketType::kChallenge, sequence, cookie);
    ++counters_.challenges_sent;
    return;
  }
  // The client receives at `from`. The same session again (its WELCOME was
  // lost) is only answered again; another nonce is a new session.
  auto it = clients_.find(from);
  const bool same_session =
      it != clients_.end() && std::equal(it->second.nonce.begin(), it->second.nonce.end(), hello->nonce.begin());
  if (!same_session) {
    auto grant = checkJoin(config_.join, config_.node_id, from, hello->token, wall_now_us_);
    if (!grant) {
      ++counters_.drop(DropReason::kBadToken);
      return;
    }
    if (it != clients_.end()) {
      removeClient(it);
      ++counters_.client_sessions_replaced;
    } else if (clients_.size() >= config_.limits.max_clients) {
      ++counters_.drop(DropReason::kClientLimit);
      return;
    } else if (clients_per_ip_[from.address()] >= config_.limits.max_clients_per_ip) {
      ++counters_.drop(DropReason::kClientIpLimit);
      return;
    }
    it = clients_.emplace(from, ClientSession(gate_.sessionKey(from, hello->nonce, hello->cookie))).first;
    ++clients_per_ip_[from.address()];
    ClientSession& client = it->second;
    std::copy(hello->nonce.begin(), hello->nonce.end(), client.nonce.begin());
    client.grant = std::move(grant.value());
    client_deadlines_.schedule(from, std::min(now + config_.limits.client_expiry_us, tokenDeadline(client, now)));
  }
  ClientSession& client = it->second;
  client.line = line;
  client.last_seen_us = now;
  std::array<std::byte, wire::kWelcomePayloadBytes> welcome{};
  const crypto::Key128 key = gate_.sessionKey(from, hello->nonce, hello->cookie);
  std::transform(key.begin(), key.end(), welcome.begin(), [](std::uint8_t b) { return std::byte{b}; });
  wire::writeBigEndian<std::uint32_t>(welcome, wire::kSessionKeyBytes, from.address());
  wire::writeBigEndian<std::uint16_t>(welcome, wire::kSessionKeyBytes + 4, from.port());
  sendJoinAnswer(line, from, PacketType::kWelcome, sequence, welcome);
  ++counters_.welcomes_sent;
}

void RelayCore::onClientKeepalive(const Endpoint& from, ClientSession& client, const wire::PacketView& packet) {
  const std::optional<HelloFields> hello = splitHello(packet.payload);
  // A fresh token extends the session (the SDK renews before expiry); a bad
  // one changes nothing, the session runs on its current grant.
  if (hello && !hello->token.empty()) {
    auto grant = checkJoin(config_.join, config_.node_id, from, hello->token, wall_now_us_);
    if (grant && grant->expires_unix_s > client.grant.expires_unix_s) {
      client.grant = std::move(grant.value());
      ++counters_.client_tokens_renewed;
    } else if (!grant) {
      ++counters_.drop(DropReason::kBadToken);
    }
  }
  // Header-only and tagged: never larger than the keepalive it answers.
  wire::Header answer;
  answer.type = PacketType::kHello;
  answer.sender_node_id = config_.node_id;
  answer.sequence = packet.header.sequence;
  std::array<std::byte, wire::kHeaderBytes> bytes;
  const std::size_t size = wire::encodePacket(answer, {}, bytes);
  sendToClient(from, client, std::span(bytes.data(), size));
}

bool RelayCore::sendToClient(const Endpoint& to, ClientSession& client, std::span<const std::byte> packet) {
  return egress_.toClient(client.session_key, ClientSession::kKeyEpoch, client.next_packet_number, client.line, to,
                          packet);
}

void RelayCore::onClientData(const Endpoint& from, ClientSession& client, const wire::PacketView& packet,
                             TimeUs now) {
  const wire::Header& header = packet.header;
  // Any stream, wherever its home: a publisher that moved here keeps its
  // stream id. Who may publish what is the token's scope.
  const StreamId id = header.stream_id;
  if (!client.grant.allows(token::Role::kPublish, id)) {
    ++counters_.drop(DropReason::kNotPermitted);
    return;
  }
  if (wall_now_us_ && header.timestamp_us > static_cast<std::uint64_t>(*wall_now_us_ + kMaxFutureUs)) {
    ++counters_.drop(DropReason::kFutureTimestamp);
    return;
  }
  auto owner = owners_.find(id);
  const auto stream = streams_.find(id);
  if (owner == owners_.end()) {
    if (client.published.size() >= config_.limits.max_publications_per_client) {
      ++counters_.drop(DropReason::kPublicationLimit);
      return;
    }
    owner = owners_.emplace(id, Publication{from, now}).first;
    client.published.push_back(id);
    // A new owner numbers its packets afresh.
    if (stream != streams_.end()) stream->second.dedup = DedupWindow{};
    // This relay is now an origin of the stream: the mesh learns it at once
    // (subscribers of a moved publisher find it here), and a relay that was
    // carrying the stream from upstream stops at the next tick.
    const StreamId announced[] = {id};
    announce(announced);
    replanLater(id);
  } else if (owner->second.owner != from) {
    ++counters_.drop(DropReason::kNotOwner);
    return;
  }
  owner->second.last_data_us = now;
  if (stream == streams_.end()) {
    ++counters_.drop(DropReason::kNoSubscribers);
    return;
  }
  if (stream->second.dedup.distanceAhead(header.sequence) > kMaxSequenceJump) {
    ++counters_.drop(DropReason::kSequenceJump);
    return;
  }
  forwardData(PeerId{kNoNode, from}, packet, id, stream->second, now);
}

void RelayCore::sendJoinAnswer(LineIndex line, const Endpoint& to, PacketType type, std::uint32_t sequence,
                               std::span<const std::byte> payload) {
  wire::Header answer;
  answer.type = type;
  answer.sender_node_id = config_.node_id;
  answer.sequence = sequence;  // lets a client match answers to its HELLOs
  std::array<std::byte, wire::kHeaderBytes + wire::kWelcomePayloadBytes> packet;
  const std::size_t size = wire::encodePacket(answer, payload, packet);
  egress_.untagged(line, to, std::span(packet.data(), size));
}

bool RelayCore::tokenExpired(const ClientSession& client) const {
  return wall_now_us_ && *wall_now_us_ / kSecond >= client.grant.expires_unix_s;
}

TimeUs RelayCore::tokenDeadline(const ClientSession& client, TimeUs now) const {
  // Unrestricted grants (no token required) never expire; far-future ones
  // would overflow the microsecond arithmetic.
  if (!wall_now_us_ || client.grant.expires_unix_s > *wall_now_us_ / kSecond + 100LL * 365 * 86400) {
    return std::numeric_limits<TimeUs>::max();
  }
  const DurationUs left_us = client.grant.expires_unix_s * kSecond - *wall_now_us_;
  return now + std::max<DurationUs>(left_us, 0);
}

void RelayCore::removeClient(std::unordered_map<Endpoint, ClientSession>::iterator it) {
  const PeerId peer{kNoNode, it->first};
  for (const StreamId id : it->second.streams) {
    // A client's streams list it as a downstream; release: a missing entry is skipped.
    const auto stream = streams_.find(id);
    if (!OVERLINE_INVARIANT(stream != streams_.end())) continue;
    const std::optional<std::size_t> index = findDownstream(stream->second, peer);
    if (!OVERLINE_INVARIANT(index.has_value())) continue;
    // Not detachDownstream: it would edit the list being walked, which goes anyway.
    streams_.removeDownstream(stream->second, *index);
    ++counters_.downstreams_expired;
    if (stream->second.downstreams.empty()) closeStream(stream);
  }
  for (const StreamId id : it->second.published) owners_.erase(id);
  client_deadlines_.cancel(it->first);
  if (const auto ip = clients_per_ip_.find(it->first.address()); ip != clients_per_ip_.end() && --ip->second == 0) {
    clients_per_ip_.erase(ip);
  }
  clients_.erase(it);
}

}  // namespace overline::relay
