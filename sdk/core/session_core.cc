#include "sdk/core/session_core.h"

#include <algorithm>
#include <set>
#include <utility>

#include "common/check/invariant.h"

namespace overline::sdk {
namespace {

std::optional<std::string> checkConfig(const SessionConfig& config) {
  if (config.candidates.empty()) return "no edge candidates";
  std::set<Endpoint> seen;
  for (const EdgeCandidate& candidate : config.candidates) {
    const Endpoint& edge = candidate.endpoint;
    if (edge.address() == 0 || edge.port() == 0) return "invalid edge endpoint " + edge.toString();
    if (!seen.insert(edge).second) return "edge " + edge.toString() + " listed twice";
    if (candidate.join_token.size() > wire::kMaxJoinTokenBytes) {
      return "join token longer than " + std::to_string(wire::kMaxJoinTokenBytes) + " bytes";
    }
  }
  if (config.homes != 1 && config.homes != 2) return "homes must be 1 or 2";
  const EdgeSessionTiming& t = config.timing;
  if (t.hello_retry_us <= 0 || t.join_timeout_us <= 0 || t.keepalive_interval_us <= 0 ||
      config.refresh_interval_us <= 0 || config.candidate_backoff_us < 0) {
    return "every interval must be positive";
  }
  if (t.dead_after_us <= t.keepalive_interval_us) {
    return "dead_after must be longer than the keepalive interval (one lost answer must not kill a session)";
  }
  return std::nullopt;
}

// `other_edge`: a SUBSCRIBE's hint to a dual-homed client's edge, the node
// of its other edge (wire/packet.h, "Client join"); 0 otherwise.
std::size_t encodeControl(wire::PacketType type, StreamId stream, NodeId other_edge, wire::PacketBuffer& buffer) {
  wire::Header header;
  header.type = type;
  header.stream_id = stream;
  if (type == wire::PacketType::kSubscribe) header.sequence = other_edge;
  return wire::encodePacket(header, {}, buffer);
}

}  // namespace

Result<std::unique_ptr<SessionCore>, std::string> SessionCore::create(SessionConfig config, SessionSink& sink,
                                                                      NonceSource nonces, TimeUs now) {
  if (const auto error = checkConfig(config)) return Err{*error};
  if (!nonces) return Err{std::string("no nonce source")};
  return std::unique_ptr<SessionCore>(new SessionCore(std::move(config), sink, std::move(nonces), now));
}

SessionCore::SessionCore(SessionConfig config, SessionSink& sink, NonceSource nonces, TimeUs now)
    : config_(std::move(config)),
      sink_(sink),
      nonces_(std::move(nonces)),
      rotation_(config_.candidates.size(), config_.candidate_backoff_us),
      next_open_at_(now),
      next_refresh_at_(now + config_.refresh_interval_us),
      subscriptions_(sink) {
  for (const EdgeCandidate& candidate : config_.candidates) tokens_.push_back(candidate.join_token);
}

// ---- Timers -----------------------------------------------------------------

void SessionCore::onTick(TimeUs now) {
  dropExpiredSessions(now);
  if (now >= next_open_at_) openSessions(now);
  sendHellos(now);
  if (now >= next_refresh_at_) refreshSubscriptions(now);
  subscriptions_.onTick(now);
}

TimeUs SessionCore::nextDeadline() const {
  TimeUs deadline = next_refresh_at_;
  if (sessions_.size() < std::min(config_.homes, rotation_.size())) deadline = std::min(deadline, next_open_at_);
  for (const auto& session : sessions_) deadline = std::min(deadline, session->edge.nextDeadline());
  if (const auto playout = subscriptions_.nextDeadline()) deadline = std::min(deadline, *playout);
  return deadline;
}

// ---- Sessions ---------------------------------------------------------------

void SessionCore::openSessions(TimeUs now) {
  while (sessions_.size() < std::min(config_.homes, rotation_.size())) {
    const auto candidate = rotation_.acquire(now);
    if (!OVERLINE_INVARIANT(candidate.has_value())) return;  // fewer sessions than candidates: one is free
    const auto nonce = nonces_();
    if (!nonce) {
      ++counters_.nonce_failures;
      rotation_.release(*candidate, now);
      next_open_at_ = now + config_.timing.hello_retry_us;
      return;
    }
    sessions_.push_back(std::make_unique<Session>(
        Session{*candidate, EdgeSession(config_.candidates[*candidate].endpoint, *nonce, tokens_[*candidate],
                                        config_.timing, now)}));
  }
}

void SessionCore::dropExpiredSessions(TimeUs now) {
  bool primary_died = false;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    Session& session = **it;
    if (!session.edge.expired(now)) {
      ++it;
      continue;
    }
    if (session.edge.joined()) {
      ++counters_.dead_edges;
    } else {
      ++counters_.join_timeouts;
      if (primary_ == nullptr) ++failures_since_joined_;
    }
    if (primary_ == &session) {
      primary_ = nullptr;
      primary_died = true;
    }
    rotation_.release(session.candidate, now);
    it = sessions_.erase(it);
  }
  if (primary_died) {
    // Dual-homed: the other joined session takes over at once.
    if (const Session* next = oldestJoined()) promote(*next);
  }
  if (primary_ == nullptr && !lost_ && failures_since_joined_ >= rotation_.size()) {
    lost_ = true;
    sink_.onEvent(SessionEvent{SessionEventType::kLost, last_primary_node_, kNoNode, {}});
  }
}

void SessionCore::onJoined(Session& session) {
  ++counters_.joins;
  const NodeId node = session.edge.edgeNode();
  if (origin_node_ == kNoNode) origin_node_ = node;
  // The token is bound to the client's public address: every edge should
  // see the same one, and the one the controller saw.
  const std::uint32_t seen = session.edge.reflexiveAddress().address();
  bool mismatch = config_.expected_public_ip != 0 && seen != config_.expected_public_ip;
  for (const auto& other : sessions_) {
    if (other.get() != &session && other->edge.joined() && other->edge.reflexiveAddress().address() != seen) {
      mismatch = true;
    }
  }
  if (mismatch) ++counters_.reflexive_mismatches;
  sink_.onEvent(SessionEvent{SessionEventType::kJoined, kNoNode, node, session.edge.endpoint()});
  if (primary_ == nullptr) promote(session);
  // The new session has no subscriptions yet.
  for (const StreamId stream : subscriptions_.streams()) sendControl(wire::PacketType::kSubscribe, stream, session);
}

void SessionCore::promote(const Session& session) {
  const NodeId node = session.edge.edgeNode();
  const bool connected = last_primary_node_ == kNoNode || lost_;
  const SessionEvent event{connected ? SessionEventType::kConnected : SessionEventType::kEdgeChanged,
                           last_primary_node_, node, session.edge.endpoint()};
  if (!connected) ++counters_.edge_changes;
  primary_ = &session;
  lost_ = false;
  failures_since_joined_ = 0;
  last_primary_node_ = node;
  last_primary_endpoint_ = session.edge.endpoint();
  last_primary_reflexive_ = session.edge.reflexiveAddress();
  sink_.onEvent(event);
}

const SessionCore::Session* SessionCore::oldestJoined() const {
  const Session* oldest = nullptr;
  for (const auto& session : sessions_) {
    if (session->edge.joined() && (oldest == nullptr || session->edge.joinedAt() < oldest->edge.joinedAt())) {
      oldest = session.get();
    }
  }
  return oldest;
}

SessionCore::Session* SessionCore::sessionAt(const Endpoint& from) {
  for (const auto& session : sessions_) {
    if (session->edge.endpoint() == from) return session.get();
  }
  return nullptr;
}

void SessionCore::sendHellos(TimeUs now) {
  wire::PacketBuffer buffer;
  for (const auto& session : sessions_) {
    const std::size_t size = session->edge.takeDueHello(now, buffer);
    if (size > 0) sendRaw(session->edge.endpoint(), std::span(buffer.data(), size));
  }
}

std::vector<EdgeStatus> SessionCore::edges() const {
  std::vector<EdgeStatus> out;
  for (const auto& session : sessions_) {
    if (!session->edge.joined()) continue;
    out.push_back(EdgeStatus{session->edge.endpoint(), session->edge.edgeNode(), session->edge.reflexiveAddress(),
                             session.get() == primary_});
  }
  std::stable_partition(out.begin(), out.end(), [](const EdgeStatus& e) { return e.primary; });
  return out;
}

// ---- Receiving ----------------------------------------------------------------

void SessionCore::onDatagram(const Endpoint& from, std::span<const std::byte> datagram, TimeUs now,
                             std::uint64_t arrival_us) {
  ++counters_.packets_received;
  const auto parsed = wire::parsePacket(datagram);
  if (!parsed) {
    ++counters_.malformed;
    return;
  }
  Session* session = sessionAt(from);
  if (session == nullptr) {
    ++counters_.unknown_source;
    return;
  }
  switch (session->edge.onPacket(*parsed, now)) {
    case EdgeSession::Received::kChallenged: sendHellos(now); return;
    case EdgeSession::Received::kJoined: onJoined(*session); return;
    case EdgeSession::Received::kKeepaliveAnswer: ++counters_.hello_replies; return;
    case EdgeSession::Received::kData:
      if (!subscriptions_.deliver(*parsed, now, arrival_us)) ++counters_.unknown_stream;
      return;
    case EdgeSession::Received::kOtherType:
    case EdgeSession::Received::kStrayJoinAnswer: ++counters_.unexpected_type; return;
    case EdgeSession::Received::kUnauthenticated: ++counters_.unauthenticated; return;
  }
}

// ---- Streams ------------------------------------------------------------------

Result<StreamId, std::string> SessionCore::publish(std::uint32_t local_id, const PublishOptions& options) {
  const auto budget = encodeLatencyBudget(options.latency_budget_us);
  if (!budget) return Err{budget.error()};
  if (origin_node_ == kNoNode) return Err{std::string("not joined to an edge yet")};
  const StreamId stream = makeStreamId(origin_node_, local_id);
  Publication& publication = publications_[stream];
  publication.flags = options.redundant ? wire::kFlagRedundant : 0;
  publication.latency_budget = *budget;
  return stream;
}

bool SessionCore::send(StreamId stream, std::span<const std::byte> payload, std::uint64_t timestamp_us) {
  if (payload.size() > wire::kMaxPayloadBytes) return false;
  const auto it = publications_.find(stream);
  if (it == publications_.end()) return false;
  Publication& publication = it->second;
  wire::Header header;
  header.type = wire::PacketType::kData;
  header.hop_limit = config_.hop_limit;
  header.stream_id = stream;
  header.sequence = publication.next_sequence++;
  header.flags = publication.flags;
  header.latency_budget = publication.latency_budget;
  header.timestamp_us = timestamp_us;
  wire::PacketBuffer untagged;
  const std::size_t size = wire::encodePacket(header, payload, untagged);
  // The same packet through every joined edge, each copy under its session's key.
  bool joined = false;
  bool sent = false;
  wire::PacketBuffer copy;
  for (const auto& session : sessions_) {
    if (!session->edge.joined()) continue;
    joined = true;
    std::copy_n(untagged.begin(), size, copy.begin());
    sent = sendSealed(*session, copy, size) || sent;
  }
  if (!joined) ++counters_.data_without_edge;
  return sent;
}

Result<std::uint64_t, std::string> SessionCore::subscribe(StreamId stream, const SubscriptionConfig& config) {
  auto id = subscriptions_.subscribe(stream, config);
  if (id) sendControlToAll(wire::PacketType::kSubscribe, stream);
  return id;
}

void SessionCore::unsubscribe(StreamId stream) {
  if (subscriptions_.unsubscribe(stream)) sendControlToAll(wire::PacketType::kUnsubscribe, stream);
}

void SessionCore::refreshSubscriptions(TimeUs now) {
  for (const StreamId stream : subscriptions_.streams()) sendControlToAll(wire::PacketType::kSubscribe, stream);
  next_refresh_at_ = now + config_.refresh_interval_us;
}

bool SessionCore::setJoinToken(const std::string& token) {
  if (token.size() > wire::kMaxJoinTokenBytes) return false;
  std::fill(tokens_.begin(), tokens_.end(), token);
  for (const auto& session : sessions_) session->edge.setJoinToken(token);
  return true;
}

// ---- Sending ------------------------------------------------------------------

void SessionCore::sendControl(wire::PacketType type, StreamId stream, Session& session) {
  wire::PacketBuffer buffer;
  NodeId other_edge = kNoNode;
  for (const auto& other : sessions_) {
    if (other.get() != &session && other->edge.joined()) other_edge = other->edge.edgeNode();
  }
  const std::size_t size = encodeControl(type, stream, other_edge, buffer);
  sendSealed(session, buffer, size);
}

void SessionCore::sendControlToAll(wire::PacketType type, StreamId stream) {
  for (const auto& session : sessions_) {
    if (session->edge.joined()) sendControl(type, stream, *session);
  }
}

bool SessionCore::sendSealed(Session& session, wire::PacketBuffer& buffer, std::size_t size) {
  const std::size_t sealed = session.edge.seal(buffer, size);
  if (!OVERLINE_INVARIANT(sealed > 0)) return false;  // callers pass joined sessions only
  return sendRaw(session.edge.endpoint(), std::span(buffer.data(), sealed));
}

bool SessionCore::sendRaw(const Endpoint& to, std::span<const std::byte> datagram) {
  if (sink_.sendDatagram(to, datagram)) {
    ++counters_.packets_sent;
    return true;
  }
  ++counters_.send_failed;
  return false;
}

// ---- Counters -----------------------------------------------------------------

SessionCounters SessionCore::counters() const {
  SessionCounters out = counters_;
  subscriptions_.addCountersTo(out);
  return out;
}

}  // namespace overline::sdk
