#pragma once
// Where the bench's work runs, and how much CPU time the hop spends.
//
// With at least two CPUs to run on, the load (sender and receivers: the
// bench's main and service threads) runs on the first and the hop (the
// reference forwarder's process, the relay process) on the second, so the
// hop's figures are not the load's share of one core. Children inherit the
// affinity of the thread that starts them: ScopedThreadAffinity moves the
// spawning thread to the hop's CPU around posix_spawn.

#include <sched.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "bench/relay_hop_basics.h"

namespace overline::bench {

struct CpuPlan {
  std::optional<int> load_cpu;  // sender and receivers; none: not pinned
  std::optional<int> hop_cpu;   // forwarder or relay process

  bool pinned() const { return load_cpu.has_value(); }
  // One line for the output, e.g. "load on CPU 0, hop on CPU 1".
  std::string describe() const;
};

// The first two CPUs this process may run on, or nothing pinned when it may
// run on fewer, or when `allowed` is false (--no-pin).
CpuPlan planCpus(bool allowed);

// Pins the calling thread to `cpu` (nothing for nullopt).
Status pinCurrentThread(std::optional<int> cpu);

// Pins the calling thread to `cpu` while it lives, then restores its mask.
class ScopedThreadAffinity {
 public:
  explicit ScopedThreadAffinity(std::optional<int> cpu);
  ~ScopedThreadAffinity();
  ScopedThreadAffinity(const ScopedThreadAffinity&) = delete;
  ScopedThreadAffinity& operator=(const ScopedThreadAffinity&) = delete;

  const Status& status() const { return status_; }

 private:
  std::optional<cpu_set_t> previous_;
  Status status_ = succeeded();
};

// CPU time (ns) all threads of process `pid` have run so far: the first
// field of /proc/PID/task/*/schedstat; 0 when unreadable.
std::uint64_t processCpuNs(pid_t pid);
// The same for one thread of this process.
std::uint64_t threadCpuNs(pid_t tid);

}  // namespace overline::bench
