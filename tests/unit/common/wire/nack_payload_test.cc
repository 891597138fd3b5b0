// Byte-level tests of the NACK payload codec (common/wire/nack_payload.h):
// expected bytes are written by hand, never produced by the encoder under test.

#include "common/wire/nack_payload.h"

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "tests/unit/common/wire/hand_written_bytes.h"

namespace overline::wire {
namespace {

using testing::Bytes;
using testing::bytes;

TEST_CASE("A NACK payload is a list of big-endian u32 sequence numbers") {
  const Bytes payload = bytes({0x00, 0x00, 0x00, 0x05, 0xDE, 0xAD, 0xBE, 0xEF});
  const auto parsed = parseNackPayload(payload);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->count == 2);
  CHECK(parsed->sequences[0] == 5);
  CHECK(parsed->sequences[1] == 0xDEADBEEF);

  const std::vector<std::uint32_t> sequences{5, 0xDEADBEEF};
  Bytes out(kMaxNackPayloadBytes);
  const std::size_t size = encodeNackPayload(sequences, out);
  out.resize(size);
  CHECK(out == payload);
}

TEST_CASE("The largest NACK carries 64 sequences and round-trips") {
  std::vector<std::uint32_t> sequences;
  for (std::uint32_t i = 0; i < kMaxNackSequences; ++i) sequences.push_back(0xFFFFFFF0u + i);
  Bytes out(kMaxNackPayloadBytes);
  REQUIRE(encodeNackPayload(sequences, out) == 256);
  const auto parsed = parseNackPayload(out);
  REQUIRE(parsed.ok());
  CHECK(std::vector<std::uint32_t>(parsed->view().begin(), parsed->view().end()) == sequences);
}

TEST_CASE("Malformed NACK payloads are rejected with a reason") {
  CHECK(parseNackPayload({}).error() == NackError::kEmpty);
  CHECK(parseNackPayload(bytes({0, 0, 0})).error() == NackError::kNotMultipleOf4);
  CHECK(parseNackPayload(bytes({0, 0, 0, 1, 0})).error() == NackError::kNotMultipleOf4);
  CHECK(parseNackPayload(Bytes(kMaxNackPayloadBytes + 4)).error() == NackError::kTooMany);
  CHECK(parseNackPayload(Bytes(kMaxNackPayloadBytes + 2)).error() == NackError::kNotMultipleOf4);
  CHECK(toString(NackError::kTooMany) == "too_many");
}

}  // namespace
}  // namespace overline::wire
