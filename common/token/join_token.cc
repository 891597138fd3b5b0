#include "common/token/join_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <charconv>
#include <cstdlib>

namespace overline::token {
namespace {

constexpr std::string_view kPrefix = "v1.";
constexpr std::size_t kMacBytes = 32;
// Unpadded base64url of 32 bytes: ceil(32 * 4 / 3).
constexpr std::size_t kMacChars = 43;
// An int64 has at most 19 decimal digits.
constexpr std::size_t kMaxExpiryDigits = 19;

std::string base64UrlUnpadded(std::span<const std::uint8_t> bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
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

std::string macOf(std::span<const std::uint8_t> key, NodeId node_id, std::string_view client_address,
                  std::int64_t expires_unix_s) {
  std::string message = "overline-join-v1|" + std::to_string(node_id) + "|";
  message.append(client_address);
  message += "|" + std::to_string(expires_unix_s);
  std::array<std::uint8_t, kMacBytes> mac{};
  unsigned int mac_len = 0;
  // HMAC() fails only on an unusable digest or a key larger than int, which
  // parseHexKey and the config never produce: a broken invariant.
  const unsigned char* result =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &mac_len);
  if (result == nullptr || mac_len != kMacBytes) std::abort();
  return base64UrlUnpadded(mac);
}

bool isBase64Url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string signJoinToken(std::span<const std::uint8_t> key, NodeId node_id, std::string_view client_address,
                          std::int64_t expires_unix_s) {
  return std::string(kPrefix) + std::to_string(expires_unix_s) + "." +
         macOf(key, node_id, client_address, expires_unix_s);
}

std::string_view toString(TokenError error) {
  switch (error) {
    case TokenError::kMalformed: return "malformed";
    case TokenError::kBadSignature: return "bad_signature";
    case TokenError::kExpired: return "expired";
  }
  return "unknown";
}

Result<std::int64_t, TokenError> verifyJoinToken(std::span<const std::uint8_t> key, std::string_view token,
                                                 NodeId node_id, std::string_view client_address,
                                                 std::int64_t now_unix_s) {
  if (!token.starts_with(kPrefix)) return Err(TokenError::kMalformed);
  const std::string_view rest = token.substr(kPrefix.size());
  const std::size_t dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > kMaxExpiryDigits) return Err(TokenError::kMalformed);
  const std::string_view expiry_text = rest.substr(0, dot);
  const std::string_view mac = rest.substr(dot + 1);
  std::int64_t expires_unix_s = 0;
  const auto [end, ec] = std::from_chars(expiry_text.data(), expiry_text.data() + expiry_text.size(), expires_unix_s);
  if (ec != std::errc() || end != expiry_text.data() + expiry_text.size() || expires_unix_s < 0) {
    return Err(TokenError::kMalformed);
  }
  // Only canonical text is accepted: "+5", "05" and the like would otherwise
  // be other spellings of one signed expiry.
  if (std::to_string(expires_unix_s) != expiry_text) return Err(TokenError::kMalformed);
  if (mac.size() != kMacChars) return Err(TokenError::kMalformed);
  for (const char c : mac) {
    if (!isBase64Url(c)) return Err(TokenError::kMalformed);
  }
  const std::string expected = macOf(key, node_id, client_address, expires_unix_s);
  if (CRYPTO_memcmp(expected.data(), mac.data(), kMacChars) != 0) return Err(TokenError::kBadSignature);
  if (now_unix_s >= expires_unix_s) return Err(TokenError::kExpired);
  return expires_unix_s;
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
