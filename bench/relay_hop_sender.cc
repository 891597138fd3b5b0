#include "bench/relay_hop_sender.h"

#include <time.h>

#include <algorithm>
#include <cstring>

namespace overline::bench {
namespace {

wire::Header dataHeader(StreamId stream, std::uint32_t sequence) {
  wire::Header header;
  header.type = wire::PacketType::kData;
  header.stream_id = stream;
  header.sequence = sequence;
  header.timestamp_us = static_cast<std::uint64_t>(nowUs());
  return header;
}

// Sleeps until `due_us` on the bench clock (CLOCK_MONOTONIC); returns early
// only on a signal.
void sleepUntil(TimeUs due_us) {
  timespec due{};
  due.tv_sec = due_us / kSecond;
  due.tv_nsec = (due_us % kSecond) * 1000;
  ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, nullptr);
}

// A chunk fills kGsoMessagesPerCall GSO messages of the largest DATA
// (tagged) this payload makes.
std::size_t chunkSizeFor(std::size_t payload_bytes) {
  const std::size_t largest = wire::kHeaderBytes + payload_bytes + wire::kTagBytes;
  return BenchSocket::maxSegments(largest) * kGsoMessagesPerCall;
}

}  // namespace

DataSender::DataSender(FakeNeighbour& from, const Endpoint& to, StreamId stream, std::size_t payload_bytes)
    : from_(from),
      to_(to),
      stream_(stream),
      payload_(payload_bytes, std::byte{0x5A}),
      chunk_size_(chunkSizeFor(payload_bytes)),
      packets_(chunk_size_),
      sizes_(chunk_size_),
      contiguous_(chunk_size_ * wire::kMaxPacketBytes) {}

SendReport DataSender::sendBackToBack(std::uint32_t first, std::size_t count, std::size_t max_chunk,
                                      DurationUs max_duration, const ChunkGate& gate) {
  SendReport report;
  report.start_us = nowUs();
  const TimeUs deadline_us = report.start_us + max_duration;
  const std::size_t chunk_size = std::clamp<std::size_t>(max_chunk, 1, chunk_size_);
  for (std::size_t done = 0; done < count && !interrupted() && nowUs() < deadline_us;) {
    const std::size_t chunk = std::min(chunk_size, count - done);
    if (!gate(done, chunk)) break;
    buildChunk(first + static_cast<std::uint32_t>(done), chunk);
    report.sent += sendChunk(chunk);
    done += chunk;
  }
  report.end_us = nowUs();
  return report;
}

void DataSender::buildChunk(std::uint32_t first, std::size_t count) {
  from_.buildBatch(
      count,
      [&](std::size_t i, wire::Header& header) { header = dataHeader(stream_, first + static_cast<std::uint32_t>(i)); },
      payload_, packets_, sizes_);
}

std::size_t DataSender::sendChunk(std::size_t count) {
  const std::size_t size = sizes_[0];
  const bool uniform = size != 0 && std::all_of(sizes_.begin(), sizes_.begin() + static_cast<std::ptrdiff_t>(count),
                                                [&](std::size_t s) { return s == size; });
  if (use_gso_ && uniform) {
    for (std::size_t i = 0; i < count; ++i) std::memcpy(contiguous_.data() + i * size, packets_[i].data(), size);
    const auto sent = from_.socket().sendSegments(std::span(contiguous_.data(), count * size), size, to_);
    if (sent) return *sent;
    use_gso_ = false;
  }
  std::vector<std::span<const std::byte>> datagrams;
  for (std::size_t i = 0; i < count; ++i) {
    if (sizes_[i] != 0) datagrams.emplace_back(packets_[i].data(), sizes_[i]);
  }
  return from_.socket().sendBatch(datagrams, to_);
}

SendReport DataSender::sendPaced(std::uint32_t first, std::size_t count, double rate_pps, DurationUs max_duration) {
  SendReport report;
  report.start_us = nowUs();
  const TimeUs deadline_us = report.start_us + max_duration;
  const double interval_us = 1e6 / rate_pps;
  for (std::size_t i = 0; i < count && !interrupted(); ++i) {
    const TimeUs due_us = report.start_us + static_cast<TimeUs>(static_cast<double>(i) * interval_us);
    if (due_us >= deadline_us) break;
    if (due_us > nowUs()) sleepUntil(due_us);
    if (sendOne(first + static_cast<std::uint32_t>(i))) ++report.sent;
  }
  report.end_us = nowUs();
  return report;
}

bool DataSender::sendOne(std::uint32_t sequence) {
  const std::size_t size = from_.build(dataHeader(stream_, sequence), payload_, packets_[0]);
  return size != 0 && from_.socket().sendTo(std::span<const std::byte>(packets_[0].data(), size), to_);
}

}  // namespace overline::bench
