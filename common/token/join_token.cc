#include "common/token/join_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>

#include "common/check/invariant.h"

namespace overline::token {
namespace {

constexpr std::string_view kPrefix = "v2.";
constexpr std::string_view kMacContext = "overline-join-v2|";
constexpr std::size_t kMacBytes = 32;
// expires (8), roles (1), prefix_bits (1), scope value (8), edge count (1).
constexpr std::size_t kFixedBodyBytes = 19;
constexpr std::size_t kEdgeBytes = 4;
constexpr std::size_t kMaxBodyBytes = kFixedBodyBytes + kMaxTokenEdges * kEdgeBytes;
constexpr std::uint8_t kMaxPrefixBits = 64;

// Unpadded base64url length of `bytes` bytes.
constexpr std::size_t base64Chars(std::size_t bytes) { return (bytes * 4 + 2) / 3; }
constexpr std::size_t kMacChars = base64Chars(kMacBytes);         // 43
constexpr std::size_t kMaxBodyChars = base64Chars(kMaxBodyBytes);  // 68
static_assert(kPrefix.size() + kMaxBodyChars + 1 + kMacChars < 200, "a token must fit a HELLO with room to spare");

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64UrlUnpadded(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(base64Chars(bytes.size()));
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    const std::uint32_t v = (bytes[i] << 16) | (rest == 2 ? bytes[i + 1] << 8 : 0);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    if (rest == 2) out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Strict unpadded base64url: only the alphabet, no padding, and canonical
// (the unused low bits of the last character zero), so that one byte string
// has exactly one spelling. nullopt otherwise.
std::optional<std::vector<std::uint8_t>> decodeBase64Url(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (const char c : text) {
    const int value = base64Value(c);
    if (value < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out.push_back(static_cast<std::uint8_t>(bits >> bit_count));
      bits &= (1u << bit_count) - 1;
    }
  }
  if (bits != 0) return std::nullopt;  // leftover bits set: not canonical
  return out;
}

void putBigEndian(std::vector<std::uint8_t>& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

std::uint64_t getBigEndian(std::span<const std::uint8_t> in, std::size_t offset, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | in[offset + static_cast<std::size_t>(i)];
  return value;
}

// The mask of a prefix's bits (the top `bits` bits of a stream id).
StreamId prefixMask(std::uint8_t bits) {
  if (bits == 0) return 0;
  return ~StreamId{0} << (kMaxPrefixBits - std::min(bits, kMaxPrefixBits));
}

std::string hexByte(std::uint8_t value) {
  char text[5];
  std::snprintf(text, sizeof(text), "0x%02x", value);
  return text;
}

std::vector<std::uint8_t> encodeBody(const JoinGrant& grant) {
  std::vector<std::uint8_t> body;
  body.reserve(kFixedBodyBytes + grant.edges.size() * kEdgeBytes);
  putBigEndian(body, static_cast<std::uint64_t>(grant.expires_unix_s), 8);
  body.push_back(grant.roles);
  body.push_back(grant.scope.prefix_bits);
  putBigEndian(body, grant.scope.value, 8);
  body.push_back(static_cast<std::uint8_t>(grant.edges.size()));
  for (const NodeId node : grant.edges) putBigEndian(body, node, 4);
  return body;
}

// The grant in `body`, or nullopt when it is not one grantProblem accepts.
std::optional<JoinGrant> decodeBody(std::span<const std::uint8_t> body) {
  if (body.size() < kFixedBodyBytes) return std::nullopt;
  JoinGrant grant;
  grant.expires_unix_s = static_cast<std::int64_t>(getBigEndian(body, 0, 8));
  grant.roles = body[8];
  grant.scope.prefix_bits = body[9];
  grant.scope.value = getBigEndian(body, 10, 8);
  const std::size_t edge_count = body[18];
  if (body.size() != kFixedBodyBytes + edge_count * kEdgeBytes) return std::nullopt;
  for (std::size_t i = 0; i < edge_count; ++i) {
    grant.edges.push_back(static_cast<NodeId>(getBigEndian(body, kFixedBodyBytes + i * kEdgeBytes, 4)));
  }
  if (grantProblem(grant)) return std::nullopt;
  return grant;
}

std::array<std::uint8_t, kMacBytes> macOf(std::span<const std::uint8_t> key, std::span<const std::uint8_t> body,
                                          std::string_view client_address) {
  std::string message(kMacContext);
  message.append(reinterpret_cast<const char*>(body.data()), body.size());
  message += '|';
  message.append(client_address);
  std::array<std::uint8_t, kMacBytes> mac{};
  unsigned int mac_len = 0;
  // HMAC() fails only on an unusable digest or a key larger than int, which
  // parseHexKey and the config never produce: a broken invariant.
  const unsigned char* result =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &mac_len);
  if (result == nullptr || mac_len != kMacBytes) std::abort();
  return mac;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool StreamScope::contains(StreamId id) const {
  const StreamId mask = prefixMask(prefix_bits);
  return (id & mask) == (value & mask);
}

StreamScope StreamScope::any() { return {}; }

StreamScope StreamScope::exactly(StreamId id) { return {kMaxPrefixBits, id}; }

StreamScope StreamScope::prefix(StreamId value, std::uint8_t bits) {
  const std::uint8_t clamped = std::min(bits, kMaxPrefixBits);
  return {clamped, value & prefixMask(clamped)};
}

bool JoinGrant::allows(Role role, StreamId stream) const {
  return (roles & static_cast<std::uint8_t>(role)) != 0 && scope.contains(stream);
}

std::optional<std::string> grantProblem(const JoinGrant& grant) {
  if (grant.roles == 0) return std::string("roles: none (need publish 0x01, subscribe 0x02 or both)");
  if ((grant.roles & ~kAllRoles) != 0) {
    return "roles: " + hexByte(grant.roles) + " has bits other than publish (0x01) and subscribe (0x02)";
  }
  if (grant.scope.prefix_bits > kMaxPrefixBits) {
    return "scope.prefix_bits: " + std::to_string(grant.scope.prefix_bits) + " is more than 64";
  }
  if ((grant.scope.value & ~prefixMask(grant.scope.prefix_bits)) != 0) {
    return "scope.value: bits below the " + std::to_string(grant.scope.prefix_bits) + "-bit prefix are set";
  }
  if (grant.edges.empty() || grant.edges.size() > kMaxTokenEdges) {
    return "edges: expected 1.." + std::to_string(kMaxTokenEdges) + " edges, got " +
           std::to_string(grant.edges.size());
  }
  for (std::size_t i = 0; i < grant.edges.size(); ++i) {
    if (grant.edges[i] == kNoNode) return "edges[" + std::to_string(i) + "]: node id 0";
    if (std::find(grant.edges.begin(), grant.edges.begin() + static_cast<std::ptrdiff_t>(i), grant.edges[i]) !=
        grant.edges.begin() + static_cast<std::ptrdiff_t>(i)) {
      return "edges[" + std::to_string(i) + "]: node " + std::to_string(grant.edges[i]) + " is listed twice";
    }
  }
  return std::nullopt;
}

std::string signJoinToken(std::span<const std::uint8_t> key, const JoinGrant& grant,
                          std::string_view client_address) {
  if (!OVERLINE_INVARIANT(!grantProblem(grant))) return {};
  const std::vector<std::uint8_t> body = encodeBody(grant);
  return std::string(kPrefix) + base64UrlUnpadded(body) + "." + base64UrlUnpadded(macOf(key, body, client_address));
}

std::string_view toString(TokenError error) {
  switch (error) {
    case TokenError::kMalformed: return "malformed";
    case TokenError::kBadSignature: return "bad_signature";
    case TokenError::kExpired: return "expired";
    case TokenError::kWrongEdge: return "wrong_edge";
  }
  return "unknown";
}

namespace {

struct TokenParts {
  std::vector<std::uint8_t> body;
  std::vector<std::uint8_t> mac;
  JoinGrant grant;
};

// The format checks: "v2.<body>.<mac>", both canonical base64url, the body
// a well-formed grant. Nothing is verified.
std::optional<TokenParts> splitToken(std::string_view token) {
  if (!token.starts_with(kPrefix)) return std::nullopt;
  const std::string_view rest = token.substr(kPrefix.size());
  const std::size_t dot = rest.find('.');
  if (dot == std::string_view::npos || dot > kMaxBodyChars) return std::nullopt;
  const std::string_view body_text = rest.substr(0, dot);
  const std::string_view mac_text = rest.substr(dot + 1);
  if (mac_text.size() != kMacChars) return std::nullopt;  // also: a second '.' and anything after
  auto body = decodeBase64Url(body_text);
  auto mac = decodeBase64Url(mac_text);
  if (!body || !mac) return std::nullopt;
  auto grant = decodeBody(*body);
  if (!grant) return std::nullopt;
  return TokenParts{std::move(*body), std::move(*mac), std::move(*grant)};
}

}  // namespace

Result<JoinGrant, TokenError> verifyJoinToken(std::span<const std::uint8_t> key, std::string_view token,
                                              NodeId node_id, std::string_view client_address,
                                              std::int64_t now_unix_s) {
  auto parts = splitToken(token);
  if (!parts) return Err(TokenError::kMalformed);
  const auto expected = macOf(key, parts->body, client_address);
  if (CRYPTO_memcmp(expected.data(), parts->mac.data(), kMacBytes) != 0) return Err(TokenError::kBadSignature);
  JoinGrant& grant = parts->grant;
  if (std::find(grant.edges.begin(), grant.edges.end(), node_id) == grant.edges.end()) {
    return Err(TokenError::kWrongEdge);
  }
  if (now_unix_s >= grant.expires_unix_s) return Err(TokenError::kExpired);
  return std::move(grant);
}

std::optional<JoinGrant> readUnverifiedGrant(std::string_view token) {
  auto parts = splitToken(token);
  if (!parts) return std::nullopt;
  return std::move(parts->grant);
}

Result<std::vector<std::uint8_t>, std::string> parseHexKey(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && is_space(text[begin])) ++begin;
  while (end > begin && is_space(text[end - 1])) --end;
  const std::string_view hex = text.substr(begin, end - begin);
  for (std::size_t i = 0; i < hex.size(); ++i) {
    if (hexValue(hex[i]) < 0) {
      return Err("expected hex digits, got '" + std::string(1, hex[i]) + "' at offset " + std::to_string(i));
    }
  }
  if (hex.size() % 2 != 0) return Err(std::string("odd number of hex digits"));
  if (hex.size() / 2 < kMinKeyBytes) {
    return Err("key too short: " + std::to_string(hex.size() / 2) + " bytes, need at least " +
               std::to_string(kMinKeyBytes));
  }
  std::vector<std::uint8_t> key(hex.size() / 2);
  for (std::size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<std::uint8_t>(hexValue(hex[2 * i]) * 16 + hexValue(hex[2 * i + 1]));
  }
  return key;
}

}  // namespace overline::token
