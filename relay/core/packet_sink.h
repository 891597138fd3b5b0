#pragma once
// Where relay/core sends packets. The I/O adapter implements it over its
// per-line UDP sockets; tests implement it with a recording sink.

#include <cstddef>
#include <span>

#include "common/endpoint.h"
#include "common/types.h"

namespace overline::relay {

class PacketSink {
 public:
  virtual ~PacketSink() = default;
  // Sends `packet` from local line `line` to `to`. The bytes are only valid
  // for the duration of the call. Returns false if the packet could not be
  // handed to the kernel (the core counts it as a drop).
  virtual bool sendPacket(LineIndex line, const Endpoint& to, std::span<const std::byte> packet) = 0;
};

}  // namespace overline::relay
