#pragma once
// overline-bench-loss: the impaired path. Every system crosses the same
// number of impaired segments in series, each `one_way_delay_ms` one way plus
// the loss model in both directions, made by overline-impair
// (deploy/impair): links mode for the reference tunnels (ImpairedSegments),
// the switchboard of deploy/localmesh for Overline's relays. Both count the
// UDP payload bytes each direction takes in, which is the "wire" side of the
// overhead figure.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/endpoint.h"
#include "common/result.h"
#include "deploy/localmesh/child_process.h"

namespace overline::bench {

enum class LossModel {
  kRandom30,  // 30% independent random loss
  kGe10,      // Gilbert-Elliott, 10% long-run loss in bursts of 5 packets on average
  kNone,
};

// "random30", "ge10", "none"; nullopt for anything else.
std::optional<LossModel> parseLossModel(const std::string& name);
std::string lossModelName(LossModel model);

struct PathSpec {
  LossModel loss = LossModel::kRandom30;
  int segments = 3;
  int one_way_delay_ms = 20;
  std::uint64_t seed = 1;

  int oneWayMs() const { return segments * one_way_delay_ms; }
  // The same delay without loss: what systems connect over.
  PathSpec withoutLoss() const {
    PathSpec clean = *this;
    clean.loss = LossModel::kNone;
    return clean;
  }
  // The knobs of one direction of one segment, as overline-impair's `set`,
  // `line-set` and `pair-set` commands take them: "delay_ms=20 loss_percent=30".
  std::string knobArguments() const;
  // One line for the report: "3 segments in series, each 20 ms one way, ...".
  std::string describe() const;
};

// An address on 127.0.0.1 whose UDP port was free when asked (bound to port
// 0, read back, closed). For endpoints a child process binds, and for proxy
// sockets whose address must be written into another link's config.
Result<Endpoint, std::string> pickFreeUdpEndpoint();

// One overline-impair link: A sends to a_side, B to b_side (README of
// deploy/impair). Every address non-zero.
struct SegmentAddresses {
  Endpoint a, a_side, b, b_side;
};

// `segments` links in series from `first` (the A of the first link) to
// `last` (the B of the last one): link i forwards to link i+1's a_side, and
// link i+1 sees link i's b_side as its A. Proxy ports are picked free.
Result<std::vector<SegmentAddresses>, std::string> chainedSegments(const Endpoint& first, const Endpoint& last,
                                                                   int segments);

// An overline-impair process in links mode. It starts unimpaired; impair()
// gives every direction of every link the path's knobs. Stopped (SIGTERM,
// then SIGKILL) when destroyed; it dies with the bench too
// (localmesh::ChildProcess).
class ImpairedSegments {
 public:
  static Result<std::unique_ptr<ImpairedSegments>, std::string> start(const std::string& impair_bin,
                                                                      const std::string& work_dir,
                                                                      const std::vector<SegmentAddresses>& links,
                                                                      std::uint64_t seed);
  // "" when every link took the knobs, else the proxy's answer.
  std::string impair(const PathSpec& path);
  // UDP payload bytes every link took in so far, both directions (what the
  // endpoints put on the path, whether the model dropped it or not);
  // nullopt when the proxy does not answer `stats`.
  std::optional<std::uint64_t> wireBytes();

 private:
  ImpairedSegments(localmesh::ChildProcess process, std::size_t links)
      : process_(std::move(process)), links_(links) {}
  localmesh::ChildProcess process_;
  std::size_t links_;
};

// Sum of received_bytes over every link direction and switchboard pair of
// an overline-impair `stats` answer; nullopt when it is not one.
std::optional<std::uint64_t> offeredBytes(const std::string& stats_json);

// A fixed address in front of a peer whose UDP port is ephemeral (ristsender
// and srt-live-transmit callers bind a port of the kernel's choosing, while
// an overline-impair link needs its A up front). The shim forwards what the
// peer sends to `proxy`, from its own socket, and what comes back from
// `proxy` to the peer it last heard from: a one-client NAT on loopback.
class NatShim {
 public:
  // Binds `at` (e.g. from pickFreeUdpEndpoint, so the proxy config can name
  // it before the shim exists).
  static Result<std::unique_ptr<NatShim>, std::string> open(const Endpoint& at, const Endpoint& proxy);
  ~NatShim();
  NatShim(const NatShim&) = delete;
  NatShim& operator=(const NatShim&) = delete;

  const Endpoint& endpoint() const { return endpoint_; }

 private:
  NatShim(int fd, const Endpoint& endpoint, const Endpoint& proxy);
  void run();

  const int fd_;
  const Endpoint endpoint_;
  const Endpoint proxy_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace overline::bench
