#pragma once
// overline-bench-loss: the systems compared over the impaired path. Each
// one takes media packets from the bench's source (send) and hands them to
// its sink (an ArrivalLog), crossing PathSpec::segments impaired segments:
//
//  * Overline: four overline-relay processes in a chain 1-2-3-4 (two lines
//    each) behind the overline-impair switchboard of deploy/localmesh, a
//    publishing sdk::Client on relay 1 and a subscribing one on relay 4.
//  * SRT / RIST end to end: one srt-live-transmit (ristsender/ristreceiver)
//    pair with all segments between the two.
//  * SRT / RIST per hop: one pair per segment, each receiver's UDP output
//    feeding the next hop's sender.
//
// Every child process is stopped when the system is destroyed, and dies
// with the bench (localmesh::ChildProcess, PR_SET_PDEATHSIG).

#include <memory>
#include <optional>
#include <span>
#include <string>

#include "bench/loss_bench_media.h"
#include "bench/loss_bench_path.h"
#include "common/result.h"
#include "common/types.h"

namespace overline::bench {

class SystemUnderTest {
 public:
  virtual ~SystemUnderTest() = default;
  // Applies the path's loss and delay to every impaired segment. Systems
  // start on the path's delay without loss, so that connection set-up
  // (which SRT's handshake does poorly at 66% loss) is not what the bench
  // measures, while receive buffers that time packets from the handshake see
  // the real transit time. "" or what failed.
  virtual std::string impairPath(const PathSpec& path) = 0;
  // Sends one media packet in at the publisher's end; false if refused.
  virtual bool send(std::span<const std::byte> payload) = 0;
  // UDP payload bytes the impaired segments took in so far, both
  // directions; nullopt when the proxy does not answer.
  virtual std::optional<std::uint64_t> wireBytes() = 0;
  // "" while every process of the system runs, else which one exited.
  virtual std::string failure() = 0;
};

struct Tools {
  std::string bin_dir;  // overline-relay, overline-impair, ... (deploy/localmesh)
  std::string srt_live_transmit;
  std::string ristsender;
  std::string ristreceiver;
};

struct RunSpec {
  PathSpec path;
  DurationUs budget_us = 400 * kMillisecond;
  // SRT latency / RIST buffer = (budget - the path's one-way delay) / tunnels
  // - this: the receive buffers of both tools add their setting to the
  // transit time, and each needs some slack for timers and scheduling.
  int reference_margin_ms = 20;
  std::string work_dir;  // an empty directory for configs and logs
};

enum class Reference { kSrt, kRist };

// SRT or RIST, end to end (per_hop false) or per hop. `note` gets the
// settings used, for the table's footnotes. `log` must outlive the system.
Result<std::unique_ptr<SystemUnderTest>, std::string> startReference(Reference reference, bool per_hop,
                                                                     const Tools& tools, const RunSpec& spec,
                                                                     ArrivalLog& log, std::string& note);

// Overline over a 4-relay chain (spec.path.segments + 1 relays).
Result<std::unique_ptr<SystemUnderTest>, std::string> startOverline(const Tools& tools, const RunSpec& spec,
                                                                    ArrivalLog& log, std::string& note);

}  // namespace overline::bench
