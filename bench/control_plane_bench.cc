// overline-bench-control: what mutual TLS costs the control plane.
//
//  1. Session set-up: the time from a relay creating its channel to holding
//     the HelloAck of its RelaySession, on a fresh connection each round,
//     over plaintext gRPC (how sessions ran before the control-plane trust
//     issue) and over mutual TLS with the controller's per-call certificate
//     check (common/tls/grpc_tls.h callerIdentity). Both servers run in this
//     process with the same minimal RelaySession (ack the hello), so the
//     difference is the TLS handshake and the check. Rounds alternate between
//     the two; min / median / p90 / max.
//  2. The real controller's CPU per 1,000 link reports over TLS: an
//     overline-controller of this build (localmesh), --relays fake relays
//     with mutual TLS, each reporting its links to every other relay on 2 x 2
//     line pairs every 60 ms (the controller allows a burst, then two per
//     report interval of 100 ms), for --seconds. The controller's user +
//     system CPU comes from /proc/PID/stat; the same span idle (sessions up,
//     no reports) is measured first and subtracted.
//
// Loopback only; every loop is bounded by --rounds or --seconds.

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/tls/certificate_verifier.h"
#include "common/tls/grpc_tls.h"
#include "common/tls/pki.h"
#include "common/tls/tls_files.h"
#include "deploy/localmesh/controller_process.h"
#include "deploy/localmesh/metrics_scrape.h"
#include "overline/v1/relay_session.grpc.pb.h"

namespace overline::bench {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::int64_t nowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Stats {
  double min = 0, median = 0, p90 = 0, max = 0;
};

Stats statsOf(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  const auto at = [&](double q) { return samples[static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1))]; };
  return {samples.front(), at(0.5), at(0.9), samples.back()};
}

// A RelaySession that acks the first hello, after checking the caller's
// certificate when `verifier` is set (as the controller does).
class AckService final : public v1::RelaySession::CallbackService {
 public:
  explicit AckService(std::shared_ptr<const tls::CertificateVerifier> verifier) : verifier_(std::move(verifier)) {}

  grpc::ServerBidiReactor<v1::RelayMessage, v1::ControllerMessage>* Session(
      grpc::CallbackServerContext* context) override {
    bool allowed = true;
    if (verifier_) allowed = tls::callerIdentity(*context->auth_context(), *verifier_, nowS()).ok();
    return new Reactor(allowed);
  }

 private:
  class Reactor final : public grpc::ServerBidiReactor<v1::RelayMessage, v1::ControllerMessage> {
   public:
    explicit Reactor(bool allowed) {
      if (!allowed) {
        Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "certificate"));
        return;
      }
      StartRead(&incoming_);
    }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status::OK);
        return;
      }
      ack_.mutable_hello_ack()->set_accepted(true);
      StartWrite(&ack_);
    }
    void OnWriteDone(bool) override { Finish(grpc::Status::OK); }
    void OnDone() override { delete this; }

   private:
    v1::RelayMessage incoming_;
    v1::ControllerMessage ack_;
  };

  std::shared_ptr<const tls::CertificateVerifier> verifier_;
};

struct Server {
  std::unique_ptr<AckService> service;
  std::unique_ptr<grpc::Server> server;
  std::string address;
};

Server serve(std::shared_ptr<grpc::ServerCredentials> credentials,
             std::shared_ptr<const tls::CertificateVerifier> verifier) {
  Server out;
  out.service = std::make_unique<AckService>(std::move(verifier));
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", std::move(credentials), &port);
  builder.RegisterService(out.service.get());
  out.server = builder.BuildAndStart();
  out.address = "127.0.0.1:" + std::to_string(port);
  return out;
}

// One session set-up on a new connection: channel, stream, hello, ack. ms.
double setUpOnce(const std::function<std::shared_ptr<grpc::Channel>(grpc::ChannelArguments)>& make_channel) {
  grpc::ChannelArguments arguments;
  // A connection of its own each round: gRPC would otherwise share one
  // subchannel between channels to the same address.
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  const auto started = SteadyClock::now();
  auto stub = v1::RelaySession::NewStub(make_channel(arguments));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  auto stream = stub->Session(&context);
  v1::RelayMessage hello;
  hello.mutable_hello()->set_node_id(1);
  v1::ControllerMessage ack;
  const bool ok = stream->Write(hello) && stream->Read(&ack) && ack.hello_ack().accepted();
  const double ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - started).count();
  stream->WritesDone();
  (void)stream->Finish();
  return ok ? ms : -1;
}

int benchSetUp(const std::string& pki, int rounds) {
  const auto validity = tls::validFor(nowS(), 1);
  if (auto error = tls::initAuthority(pki, "bench CA", validity)) return std::fprintf(stderr, "%s\n", error->c_str()), 1;
  for (const tls::PeerIdentity& identity :
       {tls::PeerIdentity{tls::PeerRole::kController, 0, "bench"}, tls::PeerIdentity{tls::PeerRole::kRelay, 1, ""}}) {
    if (auto issued = tls::issueCertificate(pki, {identity, validity, {}}); !issued) {
      return std::fprintf(stderr, "%s\n", issued.error().c_str()), 1;
    }
  }
  const auto controller = tls::loadIdentity(pki + "/ca.pem", pki + "/controller.pem", pki + "/controller.key", nowS());
  const auto relay = tls::loadIdentity(pki + "/ca.pem", pki + "/relay-1.pem", pki + "/relay-1.key", nowS());
  const auto verifier = tls::CertificateVerifier::fromCaPem(controller->ca_pem);
  if (!controller || !relay || !verifier) return std::fprintf(stderr, "cannot load the bench PKI\n"), 1;

  Server plain = serve(grpc::InsecureServerCredentials(), nullptr);
  Server mutual = serve(tls::mutualTlsServer(controller.value()), verifier.value());
  std::vector<double> plain_ms, tls_ms;
  for (int i = 0; i < rounds; ++i) {
    const double p = setUpOnce([&](grpc::ChannelArguments args) {
      return grpc::CreateCustomChannel(plain.address, grpc::InsecureChannelCredentials(), args);
    });
    const double t = setUpOnce([&](grpc::ChannelArguments args) {
      return tls::mutualTlsChannel(mutual.address, relay.value(), tls::kControllerServerName, args);
    });
    if (p < 0 || t < 0) return std::fprintf(stderr, "a session set-up failed\n"), 1;
    plain_ms.push_back(p);
    tls_ms.push_back(t);
  }
  plain.server->Shutdown(std::chrono::system_clock::now() + 1s);
  mutual.server->Shutdown(std::chrono::system_clock::now() + 1s);
  const Stats a = statsOf(plain_ms), b = statsOf(tls_ms);
  std::printf("session set-up, channel to HelloAck on a new connection (%d rounds, ms)\n", rounds);
  std::printf("  %-22s min %6.2f  median %6.2f  p90 %6.2f  max %6.2f\n", "plaintext (before)", a.min, a.median, a.p90,
              a.max);
  std::printf("  %-22s min %6.2f  median %6.2f  p90 %6.2f  max %6.2f\n", "mutual TLS + check", b.min, b.median, b.p90,
              b.max);
  std::printf("  TLS adds %.2f ms at the median (x%.1f)\n", b.median - a.median, b.median / a.median);
  return 0;
}

// user + system CPU of `pid`, ms.
double cpuMs(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stod(field);
    if (i == 15) {
      stime = std::stod(field);
      break;
    }
  }
  return (utime + stime) * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

class ReportingRelay {
 public:
  ReportingRelay(const std::string& address, const tls::IdentityFiles& files, NodeId id, int relays)
      : id_(id), relays_(relays) {
    stub_ = v1::RelaySession::NewStub(tls::mutualTlsChannel(address, files, tls::kControllerServerName));
    stream_ = stub_->Session(&context_);
  }
  bool hello() {
    v1::RelayMessage message;
    v1::RelayHello* hello = message.mutable_hello();
    hello->set_node_id(id_);
    hello->set_region("eu");
    for (int line = 0; line < 2; ++line) {
      v1::Line* out = hello->add_lines();
      out->set_name(std::string(1, static_cast<char>('a' + line)));
      out->set_address("127.0." + std::to_string(id_) + "." + std::to_string(line + 1) + ":" + std::to_string(4000 + id_));
    }
    v1::ControllerMessage ack;
    if (!stream_->Write(message) || !stream_->Read(&ack) || !ack.hello_ack().accepted()) return false;
    reader_ = std::thread([this] {
      v1::ControllerMessage ignored;
      while (stream_->Read(&ignored)) {
      }
    });
    return true;
  }
  bool report() {
    v1::RelayMessage message;
    v1::RelayReport* report = message.mutable_report();
    report->set_sequence(++sequence_);
    for (int peer = 1; peer <= relays_; ++peer) {
      if (static_cast<NodeId>(peer) == id_) continue;
      for (std::uint32_t local = 0; local < 2; ++local) {
        for (std::uint32_t remote = 0; remote < 2; ++remote) {
          v1::LinkReport* link = report->add_links();
          link->set_neighbour(static_cast<NodeId>(peer));
          link->set_local_line(local);
          link->set_remote_line(remote);
          link->set_rtt_us(10'000 + 1000 * ((id_ + peer + local + remote + sequence_) % 5));
          link->set_jitter_us(300);
          link->set_loss(0.001);
          link->set_state(v1::LINK_STATE_UP);
        }
      }
    }
    return stream_->Write(message);
  }
  ~ReportingRelay() {
    context_.TryCancel();
    if (reader_.joinable()) reader_.join();
  }

 private:
  NodeId id_;
  int relays_;
  std::uint64_t sequence_ = 0;
  std::unique_ptr<v1::RelaySession::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::RelayMessage, v1::ControllerMessage>> stream_;
  std::thread reader_;
};

double metric(const std::string& url, const std::string& name) {
  const auto text = localmesh::httpGet(url, 2s);
  return text ? localmesh::valueOf(localmesh::parsePrometheusText(*text), name).value_or(0) : -1;
}

int benchReports(const std::string& bin_dir, const std::string& work, int relays, int seconds) {
  fs::create_directories(work);
  auto controller = localmesh::startController(bin_dir, work, "000102030405060708090a0b0c0d0e0f",
                                               "relays: {report_interval_ms: 100}\n");
  if (!controller) return std::fprintf(stderr, "%s\n", controller.error().c_str()), 1;
  const localmesh::RunningController& c = controller.value();
  std::vector<std::unique_ptr<ReportingRelay>> fakes;
  for (int id = 1; id <= relays; ++id) {
    const std::string prefix = "127.0." + std::to_string(id);
    auto provisioned = localmesh::provisionNode(bin_dir, work, c.ports.admin, static_cast<NodeId>(id), "eu",
                                                {{"a", prefix + ".1:" + std::to_string(4000 + id), ""},
                                                 {"b", prefix + ".2:" + std::to_string(4000 + id), "other"}},
                                                1'000'000'000);
    if (!provisioned) return std::fprintf(stderr, "%s\n", provisioned.error().c_str()), 1;
    const std::string stem = c.pki_dir + "/relay-" + std::to_string(id);
    const auto files = tls::loadIdentity(c.pki_dir + "/ca.pem", stem + ".pem", stem + ".key", nowS());
    if (!files) return std::fprintf(stderr, "%s\n", files.error().message.c_str()), 1;
    fakes.push_back(std::make_unique<ReportingRelay>(c.ports.relays.toString(), files.value(), id, relays));
    if (!fakes.back()->hello()) return std::fprintf(stderr, "relay %d: hello refused\n", id), 1;
  }
  const auto span = std::chrono::seconds(seconds);
  const double idle_before = cpuMs(c.process.pid());
  std::this_thread::sleep_for(span);
  const double idle_ms = cpuMs(c.process.pid()) - idle_before;

  const double reports_before = metric(c.metrics_url, "overline_controller_reports_received_total");
  const double cpu_before = cpuMs(c.process.pid());
  const auto end = SteadyClock::now() + span;
  for (auto next = SteadyClock::now(); next < end; next += 60ms) {
    std::this_thread::sleep_until(next);
    for (auto& fake : fakes) {
      if (!fake->report()) return std::fprintf(stderr, "a report stream broke\n"), 1;
    }
  }
  std::this_thread::sleep_for(200ms);  // the last reports land
  const double busy_ms = cpuMs(c.process.pid()) - cpu_before;
  const auto scraped = localmesh::httpGet(c.metrics_url, 2s);
  if (!scraped) return std::fprintf(stderr, "no controller metrics\n"), 1;
  const auto samples = localmesh::parsePrometheusText(*scraped);
  const double reports = localmesh::valueOf(samples, "overline_controller_reports_received_total").value_or(0) -
                         reports_before;
  const double ignored = localmesh::sumOf(samples, "overline_controller_ignored_reports_total");
  const double links_per_report = 4.0 * (relays - 1);
  std::printf("controller CPU per 1,000 link reports over mutual TLS (%d relays, %.0f links each, %d s)\n", relays,
              links_per_report, seconds);
  std::printf("  reports received %.0f (%.0f ignored by the rate bound), %.0f per second\n", reports, ignored,
              reports / seconds);
  std::printf("  controller CPU: %.0f ms busy, %.0f ms idle over the same span\n", busy_ms, idle_ms);
  std::printf("  %.1f ms of CPU per 1,000 reports (%.0f link entries), idle subtracted\n",
              (busy_ms - idle_ms) * 1000.0 / std::max(reports - ignored, 1.0), 1000 * links_per_report);
  fakes.clear();
  return 0;
}

}  // namespace
}  // namespace overline::bench

int main(int argc, char** argv) {
  int rounds = 100;
  int relays = 20;
  int seconds = 10;
  std::string bin_dir = OVERLINE_BIN_DIR;
  CLI::App app{"Control-plane TLS costs: session set-up with and without TLS, controller CPU per 1,000 reports.",
               "overline-bench-control"};
  app.add_option("--rounds", rounds, "Session set-ups per variant")->check(CLI::Range(5, 10'000))->capture_default_str();
  app.add_option("--relays", relays, "Fake relays reporting to the controller")
      ->check(CLI::Range(2, 200))
      ->capture_default_str();
  app.add_option("--seconds", seconds, "Reporting span (and the idle span before it)")
      ->check(CLI::Range(1, 120))
      ->capture_default_str();
  app.add_option("--bin-dir", bin_dir, "Where overline-controller and overlinectl are")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::string pattern = (std::filesystem::temp_directory_path() / "overline-bench-control-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return 1;
  int rc = overline::bench::benchSetUp(pattern + "/setup-pki", rounds);
  if (rc == 0) rc = overline::bench::benchReports(bin_dir, pattern + "/controller", relays, seconds);
  std::filesystem::remove_all(pattern);
  return rc;
}
