// JoinHandshake (sdk/core/join_handshake.h): the client's side of joining an
// edge, against answers built by hand (wire/packet.h, "Client join") and
// against the relay's own ClientGate.

#include "sdk/core/join_handshake.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/crypto/packet_auth.h"
#include "common/wire/byte_order.h"
#include "relay/core/client_gate.h"

namespace overline::sdk {
namespace {

using Step = JoinHandshake::Step;

constexpr NodeId kEdge = 42;

HelloNonce nonceOf(std::uint8_t fill) {
  HelloNonce nonce{};
  for (std::size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<std::byte>(fill + i);
  return nonce;
}

HelloCookie cookieOf(std::uint8_t fill) {
  HelloCookie cookie{};
  cookie.fill(std::byte{fill});
  return cookie;
}

// An encoded answer from the edge, as the relay builds it.
struct Answer {
  wire::PacketBuffer buffer{};
  std::size_t size = 0;
  wire::PacketView view() const {
    const auto parsed = wire::parsePacket(std::span<const std::byte>(buffer.data(), size));
    REQUIRE(parsed.ok());
    return parsed.value();
  }
};

Answer answer(wire::PacketType type, NodeId sender, std::uint32_t sequence, std::span<const std::byte> payload) {
  wire::Header header;
  header.type = type;
  header.sender_node_id = sender;
  header.sequence = sequence;
  Answer a;
  a.size = wire::encodePacket(header, payload, a.buffer);
  return a;
}

Answer challenge(const HelloCookie& cookie, NodeId sender = kEdge, std::uint32_t sequence = 0) {
  return answer(wire::PacketType::kChallenge, sender, sequence, cookie);
}

std::array<std::byte, wire::kWelcomePayloadBytes> welcomePayload(const crypto::Key128& key, const Endpoint& seen) {
  std::array<std::byte, wire::kWelcomePayloadBytes> payload{};
  std::transform(key.begin(), key.end(), payload.begin(), [](std::uint8_t b) { return std::byte{b}; });
  wire::writeBigEndian<std::uint32_t>(payload, wire::kSessionKeyBytes, seen.address());
  wire::writeBigEndian<std::uint16_t>(payload, wire::kSessionKeyBytes + 4, seen.port());
  return payload;
}

Answer welcome(const crypto::Key128& key, const Endpoint& seen, NodeId sender = kEdge) {
  return answer(wire::PacketType::kWelcome, sender, 0, welcomePayload(key, seen));
}

const crypto::Key128 kSessionKey{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF};
const Endpoint kReflexive(0xCB007109, 51000);  // 203.0.113.9:51000

// The HELLO the handshake sends now, parsed.
struct Hello {
  wire::PacketBuffer buffer{};
  wire::Header header;
  std::vector<std::byte> payload;
};
Hello helloOf(const JoinHandshake& handshake, std::uint32_t sequence) {
  Hello hello;
  const std::size_t size = handshake.hello(hello.buffer, sequence);
  const auto parsed = wire::parsePacket(std::span<const std::byte>(hello.buffer.data(), size));
  REQUIRE(parsed.ok());
  hello.header = parsed->header;
  hello.payload.assign(parsed->payload.begin(), parsed->payload.end());
  return hello;
}

TEST_CASE("JoinHandshake: HELLO without, then with the cookie", "[join_handshake]") {
  const HelloNonce nonce = nonceOf(0x10);
  JoinHandshake handshake(nonce, "v2.token.mac");
  CHECK_FALSE(handshake.joined());
  CHECK(handshake.nonce() == nonce);
  CHECK(handshake.joinToken() == "v2.token.mac");

  const Hello first = helloOf(handshake, 7);
  CHECK(first.header.type == wire::PacketType::kHello);
  CHECK(first.header.sequence == 7);
  CHECK(first.header.sender_node_id == kNoNode);
  CHECK_FALSE(first.header.tagged());
  REQUIRE(first.payload.size() == wire::kMinHelloPayloadBytes + 12);
  CHECK(std::equal(nonce.begin(), nonce.end(), first.payload.begin()));
  CHECK(std::all_of(first.payload.begin() + wire::kHelloNonceBytes, first.payload.begin() + wire::kMinHelloPayloadBytes,
                    [](std::byte b) { return b == std::byte{0}; }));
  CHECK(std::string(reinterpret_cast<const char*>(first.payload.data()) + wire::kMinHelloPayloadBytes, 12) ==
        "v2.token.mac");

  const HelloCookie cookie = cookieOf(0xC5);
  CHECK(handshake.onAnswer(challenge(cookie, kEdge, 7).view()) == Step::kChallenged);
  CHECK_FALSE(handshake.joined());
  const Hello second = helloOf(handshake, 8);
  CHECK(second.header.sequence == 8);
  CHECK(std::equal(nonce.begin(), nonce.end(), second.payload.begin()));
  CHECK(std::equal(cookie.begin(), cookie.end(), second.payload.begin() + wire::kHelloNonceBytes));
  CHECK(second.payload.size() == first.payload.size());

  // A later CHALLENGE (a new slot) replaces the cookie.
  const HelloCookie newer = cookieOf(0xD6);
  CHECK(handshake.onAnswer(challenge(newer).view()) == Step::kChallenged);
  const Hello third = helloOf(handshake, 9);
  CHECK(std::equal(newer.begin(), newer.end(), third.payload.begin() + wire::kHelloNonceBytes));
}

TEST_CASE("JoinHandshake: an empty token makes a minimal HELLO", "[join_handshake]") {
  JoinHandshake handshake(nonceOf(1), "");
  CHECK(helloOf(handshake, 0).payload.size() == wire::kMinHelloPayloadBytes);
}

TEST_CASE("JoinHandshake: WELCOME gives the session key, reflexive address and edge", "[join_handshake]") {
  JoinHandshake handshake(nonceOf(0x20), "");
  REQUIRE(handshake.onAnswer(challenge(cookieOf(1)).view()) == Step::kChallenged);
  CHECK(handshake.onAnswer(welcome(kSessionKey, kReflexive).view()) == Step::kJoined);
  CHECK(handshake.joined());
  CHECK(handshake.sessionKey() == kSessionKey);
  CHECK(handshake.reflexiveAddress() == kReflexive);
  CHECK(handshake.edgeNode() == kEdge);

  // Answers to retries change nothing once joined.
  const crypto::Key128 other{};
  CHECK(handshake.onAnswer(welcome(other, Endpoint(1, 2), kEdge + 1).view()) == Step::kIgnored);
  CHECK(handshake.onAnswer(challenge(cookieOf(2)).view()) == Step::kIgnored);
  CHECK(handshake.sessionKey() == kSessionKey);
  CHECK(handshake.reflexiveAddress() == kReflexive);
  CHECK(handshake.edgeNode() == kEdge);
}

TEST_CASE("JoinHandshake: a WELCOME without a CHALLENGE first joins too", "[join_handshake]") {
  // The first CHALLENGE may be lost while the WELCOME to a retry is not.
  JoinHandshake handshake(nonceOf(0x30), "");
  CHECK(handshake.onAnswer(welcome(kSessionKey, kReflexive).view()) == Step::kJoined);
  CHECK(handshake.joined());
}

TEST_CASE("JoinHandshake: answers from sender 0, tagged answers and other types are ignored", "[join_handshake]") {
  JoinHandshake handshake(nonceOf(0x40), "");
  const Hello before = helloOf(handshake, 1);

  // Sender 0 is a client, not an edge.
  CHECK(handshake.onAnswer(challenge(cookieOf(3), kNoNode).view()) == Step::kIgnored);
  CHECK(handshake.onAnswer(welcome(kSessionKey, kReflexive, kNoNode).view()) == Step::kIgnored);

  // Edges never tag join answers: a tagged one is not from this handshake's edge.
  const crypto::Gmac key(kSessionKey);
  Answer tagged_challenge = challenge(cookieOf(4));
  tagged_challenge.size = crypto::sealPacket(key, 1, 1, tagged_challenge.buffer, tagged_challenge.size);
  CHECK(handshake.onAnswer(tagged_challenge.view()) == Step::kIgnored);
  Answer tagged_welcome = welcome(kSessionKey, kReflexive);
  tagged_welcome.size = crypto::sealPacket(key, 1, 2, tagged_welcome.buffer, tagged_welcome.size);
  CHECK(handshake.onAnswer(tagged_welcome.view()) == Step::kIgnored);

  // Other types: a keepalive answer, DATA with a cookie-sized payload, SUBSCRIBE.
  CHECK(handshake.onAnswer(answer(wire::PacketType::kHello, kEdge, 1, {}).view()) == Step::kIgnored);
  CHECK(handshake.onAnswer(answer(wire::PacketType::kData, kEdge, 1, cookieOf(5)).view()) == Step::kIgnored);
  CHECK(handshake.onAnswer(answer(wire::PacketType::kSubscribe, kEdge, 1, {}).view()) == Step::kIgnored);

  CHECK_FALSE(handshake.joined());
  const Hello after = helloOf(handshake, 1);
  CHECK(after.payload == before.payload);  // no cookie was taken from any of them
}

// The relay's side, as RelayCore::onClientHello does it with ClientGate.
struct Edge {
  relay::ClientGate gate{relay::CookieSecret{0x31, 0x41, 0x59, 0x26}};
  TimeUs now = 1'000 * relay::ClientGate::kSlotUs + 5;

  // Answers `hello` from `from`: CHALLENGE without a valid cookie, else WELCOME.
  Answer onHello(const Endpoint& from, const wire::PacketBuffer& buffer, std::size_t size) const {
    const auto parsed = wire::parsePacket(std::span<const std::byte>(buffer.data(), size));
    REQUIRE(parsed.ok());
    const auto fields = relay::splitHello(parsed->payload);
    REQUIRE(fields.has_value());
    if (!fields->hasCookie() || !gate.cookieValid(from, fields->nonce, fields->cookie, now)) {
      const relay::Cookie cookie = gate.cookie(from, fields->nonce, now);
      return answer(wire::PacketType::kChallenge, kEdge, parsed->header.sequence, cookie);
    }
    return answer(wire::PacketType::kWelcome, kEdge, parsed->header.sequence,
                  welcomePayload(gate.sessionKey(from, fields->nonce, fields->cookie), from));
  }
};

TEST_CASE("JoinHandshake: end to end against the relay's ClientGate", "[join_handshake]") {
  const Edge edge;
  const Endpoint from(0x0A000005, 33333);  // as the edge sees the client (after NAT)
  const HelloNonce nonce = nonceOf(0x50);
  JoinHandshake handshake(nonce, "");

  wire::PacketBuffer hello{};
  std::size_t size = handshake.hello(hello, 1);
  const Answer first = edge.onHello(from, hello, size);
  REQUIRE(first.view().header.type == wire::PacketType::kChallenge);
  CHECK(first.size < size);  // smaller than the HELLO it answers
  CHECK(handshake.onAnswer(first.view()) == Step::kChallenged);

  size = handshake.hello(hello, 2);
  const Answer second = edge.onHello(from, hello, size);
  REQUIRE(second.view().header.type == wire::PacketType::kWelcome);
  CHECK(second.view().header.sequence == 2);
  CHECK(second.size < size);
  CHECK(handshake.onAnswer(second.view()) == Step::kJoined);
  CHECK(handshake.edgeNode() == kEdge);
  CHECK(handshake.reflexiveAddress() == from);

  // Both sides hold the same session key: a packet the client tags (sender
  // 0, epoch 1, packet numbers from 1) verifies at the edge.
  const relay::Cookie cookie = edge.gate.cookie(from, nonce, edge.now);
  const crypto::Key128 edge_key = edge.gate.sessionKey(from, nonce, cookie);
  CHECK(handshake.sessionKey() == edge_key);
  wire::Header subscribe;
  subscribe.type = wire::PacketType::kSubscribe;
  subscribe.stream_id = makeStreamId(kEdge, 1);
  wire::PacketBuffer packet{};
  const std::size_t untagged = wire::encodePacket(subscribe, {}, packet);
  const std::size_t tagged = crypto::sealPacket(crypto::Gmac(handshake.sessionKey()), 1, 1, packet, untagged);
  const auto parsed = wire::parsePacket(std::span<const std::byte>(packet.data(), tagged));
  REQUIRE(parsed.ok());
  CHECK(crypto::verifyPacket(crypto::Gmac(edge_key), parsed.value()));

  // A HELLO from another address echoing this cookie is challenged again.
  JoinHandshake elsewhere(nonce, "");
  REQUIRE(elsewhere.onAnswer(first.view()) == Step::kChallenged);
  size = elsewhere.hello(hello, 3);
  CHECK(edge.onHello(from.withPort(33334), hello, size).view().header.type == wire::PacketType::kChallenge);
}

}  // namespace
}  // namespace overline::sdk
