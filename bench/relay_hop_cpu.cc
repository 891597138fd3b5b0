#include "bench/relay_hop_cpu.h"

#include <pthread.h>

#include <filesystem>
#include <fstream>
#include <vector>

namespace overline::bench {
namespace {

namespace fs = std::filesystem;

std::uint64_t schedstatNs(const fs::path& path) {
  std::ifstream in(path);
  std::uint64_t ns = 0;
  return (in >> ns) ? ns : 0;
}

}  // namespace

std::string CpuPlan::describe() const {
  if (!pinned()) return "nothing pinned";
  return "load (sender, receivers) on CPU " + std::to_string(*load_cpu) + ", hop (forwarder or relay process) on CPU " +
         std::to_string(*hop_cpu);
}

CpuPlan planCpus(bool allowed) {
  if (!allowed) return {};
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) != 0) return {};
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE && cpus.size() < 2; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  if (cpus.size() < 2) return {};
  return {cpus[0], cpus[1]};
}

Status pinCurrentThread(std::optional<int> cpu) {
  if (!cpu) return succeeded();
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(*cpu, &set);
  const int rc = ::pthread_setaffinity_np(::pthread_self(), sizeof(set), &set);
  if (rc != 0) return Err("cannot pin a thread to CPU " + std::to_string(*cpu) + ": error " + std::to_string(rc));
  return succeeded();
}

ScopedThreadAffinity::ScopedThreadAffinity(std::optional<int> cpu) {
  if (!cpu) return;
  cpu_set_t previous;
  CPU_ZERO(&previous);
  if (::pthread_getaffinity_np(::pthread_self(), sizeof(previous), &previous) != 0) {
    status_ = Err(std::string("cannot read this thread's CPU mask"));
    return;
  }
  previous_ = previous;
  status_ = pinCurrentThread(cpu);
}

ScopedThreadAffinity::~ScopedThreadAffinity() {
  if (previous_) ::pthread_setaffinity_np(::pthread_self(), sizeof(*previous_), &*previous_);
}

std::uint64_t processCpuNs(pid_t pid) {
  std::uint64_t total = 0;
  std::error_code ec;
  const fs::path tasks = fs::path("/proc") / std::to_string(pid) / "task";
  for (auto it = fs::directory_iterator(tasks, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    total += schedstatNs(it->path() / "schedstat");
  }
  return total;
}

std::uint64_t threadCpuNs(pid_t tid) {
  return schedstatNs(fs::path("/proc/self/task") / std::to_string(tid) / "schedstat");
}

}  // namespace overline::bench
