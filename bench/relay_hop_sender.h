#pragma once
// DataSender: the load. DATA of one stream from the upstream neighbour
// (sealed for the relay when authentication is on) to the hop:
// sequence i, timestamp_us = the bench clock when the packet is built,
// a payload of payload_bytes, hop limit 16.
//
// Back to back it sends with UDP GSO where the kernel allows (up to
// kGsoMessagesPerCall messages of up to 51 datagrams per sendmmsg): the
// kernel's send path then costs the load far less per datagram than it
// costs the hop, whose every datagram is a separate receive and send, so
// the load can outrun even the reference forwarder on a core of its own.

#include <cstdint>
#include <functional>
#include <vector>

#include "bench/relay_hop_neighbour.h"

namespace overline::bench {

struct SendReport {
  std::size_t sent = 0;  // packets the kernel took
  TimeUs start_us = 0;   // bench clock before the first send
  TimeUs end_us = 0;     // ... and after the last
};

class DataSender {
 public:
  DataSender(FakeNeighbour& from, const Endpoint& to, StreamId stream, std::size_t payload_bytes);

  // Called before each chunk with the packets sent so far and the chunk's
  // size; may wait (the throughput phase's window); false stops sending.
  using ChunkGate = std::function<bool(std::size_t sent, std::size_t chunk)>;

  // Sequences [first, first + count) as fast as the sender (and `gate`)
  // allow: built and sealed a chunk at a time, one sendmmsg per chunk.
  // Stops early after `max_duration` (or on interrupt).
  // Chunks hold at most `max_chunk` packets (and at most what fills
  // kGsoMessagesPerCall GSO messages).
  SendReport sendBackToBack(std::uint32_t first, std::size_t count, std::size_t max_chunk, DurationUs max_duration,
                            const ChunkGate& gate);
  // The same one packet at a time at `rate_pps` on an absolute schedule
  // (clock_nanosleep to each due time; a late packet goes at once, so the
  // rate holds on average).
  SendReport sendPaced(std::uint32_t first, std::size_t count, double rate_pps, DurationUs max_duration);
  bool sendOne(std::uint32_t sequence);
  // Whether back-to-back sends used UDP GSO (false after the kernel refused it).
  bool usesGso() const { return use_gso_; }

 private:
  // Builds sequences [first, first + count) into packets_ and their sizes into sizes_.
  void buildChunk(std::uint32_t first, std::size_t count);
  // Sends packets_[0, count): GSO when every size is equal and the kernel
  // takes it, else plain sendmmsg. Returns how many were sent.
  std::size_t sendChunk(std::size_t count);

  FakeNeighbour& from_;
  const Endpoint to_;
  const StreamId stream_;
  const std::vector<std::byte> payload_;
  const std::size_t chunk_size_;             // packets per back-to-back chunk
  std::vector<wire::PacketBuffer> packets_;  // chunk_size_
  std::vector<std::size_t> sizes_;           // chunk_size_
  std::vector<std::byte> contiguous_;        // the chunk's packets back to back, for GSO
  bool use_gso_ = true;
};

}  // namespace overline::bench
