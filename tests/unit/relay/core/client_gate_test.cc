// ClientGate (relay/core/client_gate.h): stateless cookies and session keys
// for joining clients, and the split of a HELLO's payload.

#include "relay/core/client_gate.h"

#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace overline::relay {
namespace {

constexpr DurationUs kSlot = ClientGate::kSlotUs;

CookieSecret secretOf(std::uint8_t fill) {
  CookieSecret secret{};
  secret.fill(fill);
  return secret;
}

std::array<std::byte, wire::kHelloNonceBytes> nonceOf(std::uint8_t fill) {
  std::array<std::byte, wire::kHelloNonceBytes> nonce{};
  nonce.fill(std::byte{fill});
  return nonce;
}

const Endpoint kClient(0xC0A80001, 40000);  // 192.168.0.1:40000
const CookieSecret kSecret = secretOf(0x5C);
const auto kNonce = nonceOf(0xA1);

TEST_CASE("ClientGate: a cookie is valid in its slot and the next, not later or earlier", "[client_gate]") {
  const ClientGate gate(kSecret);
  const TimeUs start = 1000 * kSlot;  // the first microsecond of a slot
  const Cookie cookie = gate.cookie(kClient, kNonce, start);
  // The whole of its slot gives the same cookie.
  CHECK(gate.cookie(kClient, kNonce, start + kSlot - 1) == cookie);
  CHECK(gate.cookie(kClient, kNonce, start + kSlot) != cookie);

  CHECK(gate.cookieValid(kClient, kNonce, cookie, start));
  CHECK(gate.cookieValid(kClient, kNonce, cookie, start + kSlot - 1));
  CHECK(gate.cookieValid(kClient, kNonce, cookie, start + kSlot));          // the next slot
  CHECK(gate.cookieValid(kClient, kNonce, cookie, start + 2 * kSlot - 1));  // its end
  CHECK_FALSE(gate.cookieValid(kClient, kNonce, cookie, start + 2 * kSlot));  // two slots later
  CHECK_FALSE(gate.cookieValid(kClient, kNonce, cookie, start + 5 * kSlot));
  CHECK_FALSE(gate.cookieValid(kClient, kNonce, cookie, start - 1));  // a cookie from the future
  // Made at the end of its slot: still only until the end of the next.
  const Cookie late = gate.cookie(kClient, kNonce, start + kSlot - 1);
  CHECK(late == cookie);
}

TEST_CASE("ClientGate: a cookie is bound to address, port, nonce and secret", "[client_gate]") {
  const ClientGate gate(kSecret);
  const TimeUs now = 77 * kSlot + 123;
  const Cookie cookie = gate.cookie(kClient, kNonce, now);
  REQUIRE(gate.cookieValid(kClient, kNonce, cookie, now));

  CHECK_FALSE(gate.cookieValid(Endpoint(0xC0A80002, 40000), kNonce, cookie, now));
  CHECK_FALSE(gate.cookieValid(kClient.withPort(40001), kNonce, cookie, now));
  CHECK_FALSE(gate.cookieValid(kClient, nonceOf(0xA2), cookie, now));
  auto nonce = kNonce;
  nonce[15] ^= std::byte{0x01};
  CHECK_FALSE(gate.cookieValid(kClient, nonce, cookie, now));
  CHECK_FALSE(ClientGate(secretOf(0x5D)).cookieValid(kClient, kNonce, cookie, now));
  CHECK(gate.cookie(Endpoint(0xC0A80002, 40000), kNonce, now) != cookie);
  CHECK(gate.cookie(kClient.withPort(40001), kNonce, now) != cookie);
  CHECK(gate.cookie(kClient, nonceOf(0xA2), now) != cookie);

  // Any changed bit of the cookie, or another size.
  for (std::size_t i = 0; i < cookie.size() * 8; ++i) {
    Cookie flipped = cookie;
    flipped[i / 8] ^= std::byte{static_cast<std::uint8_t>(1u << (i % 8))};
    CAPTURE(i);
    CHECK_FALSE(gate.cookieValid(kClient, kNonce, flipped, now));
  }
  CHECK_FALSE(gate.cookieValid(kClient, kNonce, std::span(cookie).first(15), now));
  std::vector<std::byte> longer(cookie.begin(), cookie.end());
  longer.push_back(std::byte{0});
  CHECK_FALSE(gate.cookieValid(kClient, kNonce, longer, now));
  const Cookie zero{};
  CHECK_FALSE(gate.cookieValid(kClient, kNonce, zero, now));
}

TEST_CASE("ClientGate: the session key differs per nonce, cookie and endpoint", "[client_gate]") {
  const ClientGate gate(kSecret);
  const TimeUs now = 5 * kSlot;
  const Cookie cookie = gate.cookie(kClient, kNonce, now);
  const crypto::Key128 key = gate.sessionKey(kClient, kNonce, cookie);
  CHECK(gate.sessionKey(kClient, kNonce, cookie) == key);  // stateless: the same inputs, the same key

  const Cookie next_slot = gate.cookie(kClient, kNonce, now + kSlot);
  CHECK(gate.sessionKey(kClient, kNonce, next_slot) != key);
  CHECK(gate.sessionKey(kClient, nonceOf(0xA2), cookie) != key);
  CHECK(gate.sessionKey(kClient.withPort(40001), kNonce, cookie) != key);
  CHECK(gate.sessionKey(Endpoint(0xC0A80002, 40000), kNonce, cookie) != key);
  CHECK(ClientGate(secretOf(0x5D)).sessionKey(kClient, kNonce, cookie) != key);
  // Not the cookie itself (the cookie travels in the HELLO).
  CHECK(std::memcmp(key.data(), cookie.data(), key.size()) != 0);
}

std::vector<std::byte> payloadOf(std::size_t size) {
  std::vector<std::byte> payload(size);
  for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<std::byte>(i + 1);
  return payload;
}

TEST_CASE("splitHello: short, exact and long payloads", "[client_gate]") {
  CHECK_FALSE(splitHello({}).has_value());
  CHECK_FALSE(splitHello(payloadOf(wire::kMinHelloPayloadBytes - 1)).has_value());

  const std::vector<std::byte> exact = payloadOf(wire::kMinHelloPayloadBytes);
  const auto fields = splitHello(exact);
  REQUIRE(fields.has_value());
  CHECK(fields->nonce.data() == exact.data());
  CHECK(fields->nonce.size() == wire::kHelloNonceBytes);
  CHECK(fields->cookie.data() == exact.data() + wire::kHelloNonceBytes);
  CHECK(fields->cookie.size() == wire::kCookieBytes);
  CHECK(fields->token.empty());
  CHECK(fields->hasCookie());

  const std::vector<std::byte> longer = payloadOf(wire::kMaxHelloPayloadBytes);
  const auto with_token = splitHello(longer);
  REQUIRE(with_token.has_value());
  CHECK(with_token->token.data() == longer.data() + wire::kMinHelloPayloadBytes);
  CHECK(with_token->token.size() == wire::kMaxJoinTokenBytes);
  CHECK(with_token->nonce.size() == wire::kHelloNonceBytes);
  CHECK(with_token->cookie.size() == wire::kCookieBytes);
}

TEST_CASE("HelloFields::hasCookie: any nonzero cookie byte", "[client_gate]") {
  std::vector<std::byte> payload(wire::kMinHelloPayloadBytes + 3, std::byte{0xFF});
  std::fill(payload.begin() + wire::kHelloNonceBytes, payload.begin() + wire::kMinHelloPayloadBytes, std::byte{0});
  CHECK_FALSE(splitHello(payload)->hasCookie());  // a nonce and token of 0xFF do not count
  for (std::size_t i = 0; i < wire::kCookieBytes; ++i) {
    std::vector<std::byte> one = payload;
    one[wire::kHelloNonceBytes + i] = std::byte{0x01};
    CAPTURE(i);
    CHECK(splitHello(one)->hasCookie());
  }
}

}  // namespace
}  // namespace overline::relay
