#pragma once
// EdgeSession: the client's session with one edge relay, from the first
// HELLO to its end (wire/packet.h, "Client join"; docs/architecture.md,
// "Trust"):
//  * joining: the join's HELLO (untagged; without a cookie until the edge's
//    CHALLENGE, then echoing it with the join token) every hello_retry_us,
//    until the WELCOME; given up (expired) after join_timeout_us;
//  * joined: every packet either way is tagged with the session key; a
//    tagged keepalive HELLO with the token goes out every
//    keepalive_interval_us, and the edge answers each; the session is dead
//    (expired) once no valid tagged packet came from the edge for
//    dead_after_us.
// An expired session is over: the owner drops it and joins somewhere else
// (or here again) with a new EdgeSession and a new nonce.
//
// Pure and clock-injected: the owner passes every packet from this edge's
// address and its monotonic clock, and sends what takeDueHello() and seal()
// produce. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/crypto/gmac.h"
#include "common/crypto/replay_window.h"
#include "common/endpoint.h"
#include "common/types.h"
#include "common/wire/packet.h"
#include "sdk/core/join_handshake.h"
#include "sdk/core/session_tagger.h"
#include "sdk/hello_packet.h"

namespace overline::sdk {

struct EdgeSessionTiming {
  DurationUs hello_retry_us = 200 * kMillisecond;   // join HELLO resend
  DurationUs join_timeout_us = 1 * kSecond;          // no WELCOME by then: give up
  DurationUs keepalive_interval_us = 100 * kMillisecond;
  DurationUs dead_after_us = 300 * kMillisecond;     // joined, silent this long: dead
};

class EdgeSession {
 public:
  // Starts joining `edge` at `now` with a fresh random `nonce`; the first
  // HELLO is due at once.
  EdgeSession(const Endpoint& edge, const HelloNonce& nonce, std::string join_token, const EdgeSessionTiming& timing,
              TimeUs now);

  // What a packet from the edge's address was.
  enum class Received : std::uint8_t {
    kChallenged,       // the join's cookie: the next HELLO echoes it (now, unless one just did)
    kJoined,           // the WELCOME: joined from now on
    kKeepaliveAnswer,  // tagged HELLO from the edge
    kData,             // tagged DATA from the edge: the owner delivers it
    kOtherType,        // tagged by the edge, but of a type a client does not take
    kStrayJoinAnswer,  // CHALLENGE or WELCOME this session does not wait for
    kUnauthenticated,  // untagged (but a join answer), tagged wrongly, or replayed
  };
  // `packet` parsed from a datagram whose source is this edge's endpoint.
  // Every valid tagged packet keeps a joined session alive.
  Received onPacket(const wire::PacketView& packet, TimeUs now);

  // The HELLO due at `now`, if any, encoded into `out` (tagged when joined);
  // returns its size, 0 when none is due. Schedules the next one.
  std::size_t takeDueHello(TimeUs now, wire::PacketBuffer& out);
  // Tags the untagged packet out[0, size) with the session key; returns the
  // tagged size. Joined sessions only (0 otherwise: nothing to send).
  std::size_t seal(wire::PacketBuffer& out, std::size_t size);
  // The token of later keepalives (a fresher one extends the session).
  void setJoinToken(std::string token) { join_token_ = std::move(token); }

  // The join timed out, or the joined session went silent: it is over.
  bool expired(TimeUs now) const { return now >= expiry(); }
  // The earliest time takeDueHello() or expired() changes its answer.
  TimeUs nextDeadline() const;

  const Endpoint& endpoint() const { return edge_; }
  bool joined() const { return joined_.has_value(); }
  // Valid once joined: the edge's node id and this client's address as it
  // sees it (the reflexive address, for NATs).
  NodeId edgeNode() const { return join_.edgeNode(); }
  const Endpoint& reflexiveAddress() const { return join_.reflexiveAddress(); }
  TimeUs joinedAt() const { return joined_at_; }

 private:
  struct Joined {
    SessionTagger tagger;
    crypto::Gmac receive_key;  // the edge's packets, checked with the same key
    crypto::ReplayWindow receive_window;
  };
  TimeUs expiry() const;

  const Endpoint edge_;
  const EdgeSessionTiming timing_;
  JoinHandshake join_;
  std::string join_token_;  // of keepalives
  std::optional<Joined> joined_;
  TimeUs started_at_;
  TimeUs joined_at_ = 0;
  TimeUs last_heard_at_ = 0;  // joined: the last valid tagged packet (or the WELCOME)
  TimeUs next_hello_at_;
  std::optional<TimeUs> last_echo_at_;  // when a CHALLENGE last made a HELLO due at once
  std::uint32_t next_hello_sequence_ = 0;  // the edge copies it into its answer
};

}  // namespace overline::sdk
