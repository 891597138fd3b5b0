#include "bench/relay_hop_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bench/relay_hop_cpu.h"

extern char** environ;

namespace overline::bench {
namespace {

namespace fs = std::filesystem;

constexpr DurationUs kReadyTimeoutUs = 10 * kSecond;
constexpr DurationUs kStopTimeoutUs = 5 * kSecond;
// How often the ready file and a stopping child are looked at.
constexpr auto kPollInterval = std::chrono::milliseconds(5);

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<fs::path, std::string> makeTempDir() {
  std::string pattern = (fs::temp_directory_path() / "overline-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return Err(errnoText("mkdtemp"));
  return fs::path(pattern);
}

}  // namespace

Result<std::unique_ptr<HopProcess>, std::string> HopProcess::start(
    std::vector<std::string> argv, const std::vector<std::pair<std::string, std::string>>& files,
    std::optional<int> cpu) {
  auto dir = makeTempDir();
  if (!dir) return Err(dir.error());
  std::unique_ptr<HopProcess> hop(new HopProcess());
  hop->dir_ = *dir;  // from here on the destructor removes it
  for (const auto& [name, contents] : files) {
    if (!(std::ofstream(hop->dir_ / name) << contents)) return Err("cannot write " + (hop->dir_ / name).string());
  }
  for (std::string& arg : argv) {
    if (const auto at = arg.find("{dir}"); at != std::string::npos) arg.replace(at, 5, hop->dir_.string());
  }
  argv.push_back("--ready-file");
  argv.push_back((hop->dir_ / "ready.json").string());
  if (auto s = hop->spawn(argv, cpu); !s) return Err(s.error());
  if (auto s = hop->waitReady(); !s) return Err(s.error());
  return hop;
}

Status HopProcess::spawn(const std::vector<std::string>& argv, std::optional<int> cpu) {
  const std::string log = (dir_ / "log.txt").string();
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  program_ = fs::path(argv[0]).filename().string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  // A session of its own, hence a scheduling group (autogroup) of its own:
  // in the bench's group the hop's CPU share on its core would shrink as the
  // load threads on the other core got busier, i.e. the faster the hop, the
  // less CPU it would get beside other processes.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
  int rc = 0;
  {
    // The child inherits this thread's CPU mask.
    const ScopedThreadAffinity on_hop_cpu(cpu);
    if (on_hop_cpu.status()) rc = ::posix_spawn(&pid_, args[0], &actions, &attributes, args.data(), environ);
    if (!on_hop_cpu.status()) {
      posix_spawn_file_actions_destroy(&actions);
      posix_spawnattr_destroy(&attributes);
      return Err(on_hop_cpu.status().error());
    }
  }
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    pid_ = -1;
    return Err("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  return succeeded();
}

Status HopProcess::waitReady() {
  const TimeUs deadline = nowUs() + kReadyTimeoutUs;
  while (nowUs() < deadline && !interrupted()) {
    if (!running()) return Err(program_ + " exited before it was ready; its log:\n" + log());
    const auto ready = readReadyFile();
    if (!ready) return Err(ready.error());
    if (*ready) return succeeded();
    std::this_thread::sleep_for(kPollInterval);
  }
  if (interrupted()) return Err(std::string(kInterruptedText));
  return Err(program_ + " was not ready within " + std::to_string(kReadyTimeoutUs / kSecond) + " s; its log:\n" +
             log());
}

Result<bool, std::string> HopProcess::readReadyFile() {
  const fs::path path = dir_ / "ready.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) return false;
  // Written atomically (temp file + rename): complete once there.
  const std::string text = readFile(path);
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const bool well_formed = !json.is_discarded() && json.is_object() && json.contains("lines") &&
                           json["lines"].is_array() && !json["lines"].empty() && json["lines"][0].contains("address") &&
                           json["lines"][0]["address"].is_string();
  if (!well_formed) return Err("unexpected ready file: " + text);
  const auto address = Endpoint::parse(json["lines"][0]["address"].get<std::string>());
  if (!address) return Err("bad address in the ready file: " + text);
  address_ = *address;
  if (json.contains("node_id") && json["node_id"].is_number_unsigned()) node_id_ = json["node_id"].get<NodeId>();
  return true;
}

bool HopProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
  pid_ = -1;
  return false;
}

std::string HopProcess::log() const { return readFile(dir_ / "log.txt"); }

void HopProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  const TimeUs deadline = nowUs() + kStopTimeoutUs;
  for (;;) {
    const pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
    if (reaped == pid_ || (reaped < 0 && errno != EINTR)) break;
    if (nowUs() > deadline) {
      std::fprintf(stderr, "warning: hop process %d ignored SIGTERM for %lld s, killing it\n", pid_,
                   static_cast<long long>(kStopTimeoutUs / kSecond));
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  pid_ = -1;
  const bool clean =
      (WIFEXITED(status) && WEXITSTATUS(status) == 0) || (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  if (!clean)
    std::fprintf(stderr, "warning: hop process ended with status 0x%x; its log:\n%s\n", status, log().c_str());
}

HopProcess::~HopProcess() {
  stop();
  std::error_code ignored;
  if (!dir_.empty()) fs::remove_all(dir_, ignored);
}

Status writeFileAtomically(const fs::path& path, const std::string& text) {
  const fs::path temp = path.string() + ".tmp";
  if (!(std::ofstream(temp) << text)) return Err("cannot write " + temp.string());
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) return Err("cannot rename " + temp.string() + ": " + ec.message());
  return succeeded();
}

}  // namespace overline::bench
