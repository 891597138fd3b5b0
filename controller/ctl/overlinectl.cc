// overlinectl: the operators' command line for the controller's Admin API.
//
//   overlinectl [--controller ADDR] [--pki-dir DIR] [--operator NAME] [--json] [--timeout-ms MS] COMMAND ...
//     provision NODE --region R --line NAME=IPv4:PORT[,isp=TAG] ... --capacity N
//     drain NODE | undrain NODE | remove NODE
//     nodes | links
//     path SRC DST
//     events [--from N] [--follow]
//     keys rotate | keys list
//     pki init | pki issue-controller | pki issue-relay NODE | pki issue-operator NAME [--read-only]
//
// The Admin listener is mutual TLS: overlinectl presents DIR/operator-NAME.pem
// and .key and verifies the controller with DIR/ca.pem (DIR: --pki-dir, else
// $OVERLINE_PKI_DIR, else /etc/overline/pki; NAME: --operator, else
// $OVERLINE_OPERATOR, else "admin"); --ca, --cert and --key name the files
// one by one instead. `pki` works on files only (controller/ctl/pki_command.h).
//
// Output: human-readable tables, or with --json the API's messages as JSON
// (proto field names; `events` prints one object per line).
// Exit status: 0 success; 1 the controller refused or failed the request
// (`overlinectl: node 7 is not provisioned`) or cannot be reached; 2 bad
// arguments, caught here or by the controller (INVALID_ARGUMENT).

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "common/tls/grpc_tls.h"
#include "common/tls/pki.h"
#include "common/tls/tls_files.h"
#include "controller/ctl/ctl_args.h"
#include "controller/ctl/pki_command.h"
#include "controller/ctl/text_table.h"
#include "overline/v1/admin.grpc.pb.h"

namespace overline::controller {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

std::string fromEnvironment(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

struct Options {
  std::string controller = "127.0.0.1:7400";
  std::string pki_dir = fromEnvironment("OVERLINE_PKI_DIR", "/etc/overline/pki");
  std::string operator_name = fromEnvironment("OVERLINE_OPERATOR", "admin");
  std::string ca_file;    // empty: pki_dir/ca.pem
  std::string cert_file;  // empty: pki_dir/operator-NAME.pem
  std::string key_file;   // empty: pki_dir/operator-NAME.key
  std::string server_name = tls::kControllerServerName;
  bool json = false;
  std::uint32_t timeout_ms = 10'000;
  // provision
  std::uint32_t node = 0;
  std::string region;
  std::vector<std::string> lines;
  std::string capacity;
  // path
  std::uint32_t source = 0;
  std::uint32_t destination = 0;
  // events
  std::uint64_t from = 1;
  bool follow = false;
};

int usageError(const std::string& message) {
  std::fprintf(stderr, "overlinectl: %s\n", message.c_str());
  return kExitUsage;
}

class Ctl {
 public:
  Ctl(const Options& options, const tls::IdentityFiles& identity)
      : options_(options),
        stub_(v1::Admin::NewStub(tls::mutualTlsChannel(options.controller, identity, options.server_name))) {}

  int provision();
  int setDrained(bool drained);
  int remove();
  int nodes();
  int links();
  int path();
  int events();
  int rotateKeys();
  int listKeys();

 private:
  std::unique_ptr<grpc::ClientContext> context() const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(options_.timeout_ms));
    return ctx;
  }
  // Prints a failed call's status as one line; returns the exit status.
  int failed(const grpc::Status& status) const;
  void printJson(const google::protobuf::Message& message, bool one_line = false) const;

  const Options& options_;
  std::unique_ptr<v1::Admin::Stub> stub_;
};

int Ctl::failed(const grpc::Status& status) const {
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      std::fprintf(stderr, "overlinectl: %s\n", status.error_message().c_str());
      return kExitUsage;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      std::fprintf(stderr, "overlinectl: refused by the controller: %s\n", status.error_message().c_str());
      return kExitFailed;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      std::fprintf(stderr, "overlinectl: controller at %s: %s\n", options_.controller.c_str(),
                   status.error_message().c_str());
      return kExitFailed;
    default:
      std::fprintf(stderr, "overlinectl: %s\n", status.error_message().c_str());
      return kExitFailed;
  }
}

void Ctl::printJson(const google::protobuf::Message& message, bool one_line) const {
  google::protobuf::util::JsonPrintOptions json;
  json.preserve_proto_field_names = true;
  json.always_print_primitive_fields = true;
  json.add_whitespace = !one_line;
  std::string text;
  // Serialising a message we hold cannot fail (no Any fields).
  (void)google::protobuf::util::MessageToJsonString(message, &text, json);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  std::printf("%s\n", text.c_str());
}

std::string ageOf(std::int64_t unix_ms) {
  if (unix_ms == 0) return "never";
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const std::int64_t s = std::max<std::int64_t>(0, (now_ms - unix_ms) / 1000);
  if (s < 120) return std::to_string(s) + "s ago";
  if (s < 7200) return std::to_string(s / 60) + "m ago";
  if (s < 172800) return std::to_string(s / 3600) + "h ago";
  return std::to_string(s / 86400) + "d ago";
}

std::string utcTime(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[96];  // room for any int the compiler can imagine in each field
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  return text;
}

std::string fixed(double value, int decimals) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string ms(double us) { return fixed(us / 1000.0, 1); }
std::string percent(double ratio) { return fixed(ratio * 100.0, 1) + "%"; }

std::string stateName(v1::LinkState state) {
  switch (state) {
    case v1::LINK_STATE_UP: return "up";
    case v1::LINK_STATE_DEGRADED: return "degraded";
    case v1::LINK_STATE_DOWN: return "down";
    default: return "-";
  }
}

// "EVENT_TYPE_LINK_DOWN" -> "LINK_DOWN".
std::string eventName(v1::EventType type) {
  std::string name = v1::EventType_Name(type);
  const std::string prefix = "EVENT_TYPE_";
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

int Ctl::provision() {
  v1::ProvisionNodeRequest request;
  request.set_node_id(options_.node);
  request.set_region(options_.region);
  for (const std::string& spec : options_.lines) {
    auto line = parseLineSpec(spec);
    if (!line) return usageError(line.error());
    *request.add_lines() = line.value();
  }
  const auto capacity = parseCapacity(options_.capacity);
  if (!capacity) return usageError(capacity.error());
  request.set_capacity_bps(capacity.value());
  v1::ProvisionNodeResponse response;
  const grpc::Status status = stub_->ProvisionNode(context().get(), request, &response);
  if (!status.ok()) return failed(status);
  if (options_.json) {
    printJson(response);
  } else {
    std::printf("node %u %s\n", options_.node, response.created() ? "provisioned" : "updated");
  }
  return kExitOk;
}

int Ctl::setDrained(bool drained) {
  bool changed = false;
  grpc::Status status;
  if (drained) {
    v1::DrainNodeRequest request;
    request.set_node_id(options_.node);
    v1::DrainNodeResponse response;
    status = stub_->DrainNode(context().get(), request, &response);
    changed = response.changed();
    if (status.ok() && options_.json) printJson(response);
  } else {
    v1::UndrainNodeRequest request;
    request.set_node_id(options_.node);
    v1::UndrainNodeResponse response;
    status = stub_->UndrainNode(context().get(), request, &response);
    changed = response.changed();
    if (status.ok() && options_.json) printJson(response);
  }
  if (!status.ok()) return failed(status);
  if (!options_.json) {
    const char* word = drained ? "drained" : "undrained";
    std::printf(changed ? "node %u %s\n" : "node %u was already %s\n", options_.node, word);
  }
  return kExitOk;
}

int Ctl::remove() {
  v1::RemoveNodeRequest request;
  request.set_node_id(options_.node);
  v1::RemoveNodeResponse response;
  const grpc::Status status = stub_->RemoveNode(context().get(), request, &response);
  if (!status.ok()) return failed(status);
  if (options_.json) {
    printJson(response);
  } else {
    std::printf("node %u removed\n", options_.node);
  }
  return kExitOk;
}

int Ctl::nodes() {
  v1::ListNodesResponse response;
  const grpc::Status status = stub_->ListNodes(context().get(), v1::ListNodesRequest(), &response);
  if (!status.ok()) return failed(status);
  if (options_.json) {
    printJson(response);
    return kExitOk;
  }
  TextTable table({"NODE", "REGION", "CONNECTED", "DRAINED", "LAST_SEEN", "LOAD", "STREAMS", "ROUTES", "APPLIED",
                   "CAPACITY_BPS", "LINES"});
  for (const v1::Node& node : response.nodes()) {
    std::string lines;
    for (const v1::Line& line : node.lines()) {
      lines += (lines.empty() ? "" : " ") + line.name() + "=" + line.address() + "(" + line.isp() + ")";
    }
    table.addRow({std::to_string(node.node_id()), node.region(), node.connected() ? "yes" : "no",
                  node.drained() ? "yes" : "no", ageOf(node.last_seen_unix_ms()), percent(node.load()),
                  std::to_string(node.streams()), "v" + std::to_string(node.route_version()),
                  "v" + std::to_string(node.applied_route_version()), std::to_string(node.capacity_bps()), lines});
  }
  std::printf("%s", table.render().c_str());
  return kExitOk;
}

int Ctl::links() {
  v1::ListLinksResponse response;
  const grpc::Status status = stub_->ListLinks(context().get(), v1::ListLinksRequest(), &response);
  if (!status.ok()) return failed(status);
  if (options_.json) {
    printJson(response);
    return kExitOk;
  }
  TextTable table({"FROM", "LINE", "TO", "LINE", "STATE", "RTT_MS", "JITTER_MS", "LOSS", "UPDATED"});
  for (const v1::Link& link : response.links()) {
    table.addRow({std::to_string(link.from_node()), link.from_line_name(), std::to_string(link.to_node()),
                  link.to_line_name(), stateName(link.state()), ms(static_cast<double>(link.rtt_us())),
                  ms(static_cast<double>(link.jitter_us())), percent(link.loss()),
                  ageOf(link.updated_unix_ms()) + (link.stale() ? " (stale)" : "")});
  }
  std::printf("%s", table.render().c_str());
  return kExitOk;
}

void printPath(const char* title, const v1::Path& path) {
  std::string nodes;
  for (const std::uint32_t node : path.nodes()) nodes += (nodes.empty() ? "" : " -> ") + std::to_string(node);
  std::printf("%s %s  (cost %s ms)\n", title, nodes.c_str(), ms(static_cast<double>(path.cost_us())).c_str());
  TextTable hops({"  HOP", "LINES", "STATE", "RTT_MS", "LOSS"});
  for (const v1::Hop& hop : path.hops()) {
    hops.addRow({"  " + std::to_string(hop.from_node()) + " -> " + std::to_string(hop.to_node()),
                 std::to_string(hop.local_line()) + " -> " + std::to_string(hop.remote_line()),
                 stateName(hop.state()), ms(static_cast<double>(hop.rtt_us())), percent(hop.loss())});
  }
  std::printf("%s", hops.render().c_str());
}

int Ctl::path() {
  v1::GetPathRequest request;
  request.set_source(options_.source);
  request.set_destination(options_.destination);
  v1::GetPathResponse response;
  const grpc::Status status = stub_->GetPath(context().get(), request, &response);
  if (!status.ok()) return failed(status);
  if (options_.json) {
    printJson(response);
    return kExitOk;
  }
  std::printf("route version %llu\n", static_cast<unsigned long long>(response.route_version()));
  printPath("primary:", response.primary());
  if (response.has_backup()) {
    printPath(("backup (" + response.backup_kind() + "):").c_str(), response.backup());
  } else {
    std::printf("backup: none\n");
  }
  return kExitOk;
}

int Ctl::events() {
  v1::TailEventsRequest request;
  request.set_from_sequence(options_.from);
  request.set_follow(options_.follow);
  grpc::ClientContext ctx;
  if (!options_.follow) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(options_.timeout_ms));
  }
  auto reader = stub_->TailEvents(&ctx, request);
  v1::Event event;
  while (reader->Read(&event)) {
    if (options_.json) {
      printJson(event, true);
    } else {
      std::string line = "#" + std::to_string(event.sequence()) + " " + utcTime(event.time_unix_ms()) + " " +
                         eventName(event.type()) + " node " + std::to_string(event.node_id());
      if (event.peer_node_id() != 0) line += " peer " + std::to_string(event.peer_node_id());
      if (event.route_version() != 0) line += " v" + std::to_string(event.route_version());
      std::printf("%s: %s\n", line.c_str(), event.detail().c_str());
    }
    std::fflush(stdout);
  }
  const grpc::Status status = reader->Finish();
  return status.ok() ? kExitOk : failed(status);
}

std::string keyEpochLine(const v1::KeyEpochInfo& epoch) {
  return "epoch " + std::to_string(epoch.epoch()) + (epoch.sending() ? " (sending)" : "") + ": created " +
         utcTime(epoch.created_unix_s() * 1000) + ", active from " + utcTime(epoch.activate_at_unix_s() * 1000);
}

int Ctl::rotateKeys() {
  v1::RotateKeysResponse response;
  const grpc::Status status = stub_->RotateKeys(context().get(), v1::RotateKeysRequest(), &response);
  if (!status.ok()) return failed(status);
  if (options_.json) {
    printJson(response);
  } else {
    std::printf("started %s\n", keyEpochLine(response.epoch()).c_str());
  }
  return kExitOk;
}

int Ctl::listKeys() {
  v1::ListKeyEpochsResponse response;
  const grpc::Status status = stub_->ListKeyEpochs(context().get(), v1::ListKeyEpochsRequest(), &response);
  if (!status.ok()) return failed(status);
  if (options_.json) {
    printJson(response);
  } else {
    for (const v1::KeyEpochInfo& epoch : response.epochs()) std::printf("%s\n", keyEpochLine(epoch).c_str());
  }
  return kExitOk;
}

}  // namespace
}  // namespace overline::controller

int main(int argc, char** argv) {
  using overline::controller::Ctl;
  using overline::controller::Options;
  Options options;
  CLI::App app{"Operate an Overline controller: provision and drain relays, read topology, routes and events.",
               "overlinectl"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the command
  app.add_option("--controller", options.controller, "Controller's gRPC address, HOST:PORT")
      ->capture_default_str();
  app.add_flag("--json", options.json, "Print JSON instead of tables");
  app.add_option("--timeout-ms", options.timeout_ms, "Deadline of each request")
      ->capture_default_str()
      ->check(CLI::Range(1u, 3'600'000u));
  app.add_option("--pki-dir", options.pki_dir, "Directory of ca.pem and operator-NAME.pem/.key ($OVERLINE_PKI_DIR)")
      ->capture_default_str();
  app.add_option("--operator", options.operator_name, "Operator certificate to present ($OVERLINE_OPERATOR)")
      ->capture_default_str();
  app.add_option("--ca", options.ca_file, "CA bundle that signed the controller (default: PKI_DIR/ca.pem)");
  app.add_option("--cert", options.cert_file, "Operator certificate (default: PKI_DIR/operator-NAME.pem)");
  app.add_option("--key", options.key_file, "Operator key (default: PKI_DIR/operator-NAME.key)");
  app.add_option("--server-name", options.server_name, "Name the controller's certificate must carry")
      ->capture_default_str();

  const auto node_arg = [&](CLI::App* command) {
    command->add_option("NODE", options.node, "Node id")->required()->check(CLI::Range(1u, 4294967295u));
  };
  CLI::App* provision = app.add_subcommand("provision", "Create or replace a node's provisioning");
  node_arg(provision);
  provision->add_option("--region", options.region, "Region, e.g. eu-west")->required();
  provision
      ->add_option("--line", options.lines,
                   "A line, in line order: NAME=IPv4:PORT[,isp=TAG] (port 0: learned from the relay); repeat")
      ->required();
  provision->add_option("--capacity", options.capacity, "Capacity in bits/s, suffix k/M/G/T allowed")->required();
  CLI::App* drain = app.add_subcommand("drain", "Stop routing transit traffic through a node");
  node_arg(drain);
  CLI::App* undrain = app.add_subcommand("undrain", "Route transit traffic through a node again");
  node_arg(undrain);
  CLI::App* remove = app.add_subcommand("remove", "Forget a node and its links");
  node_arg(remove);
  CLI::App* nodes = app.add_subcommand("nodes", "List nodes");
  CLI::App* links = app.add_subcommand("links", "List the last reported links");
  CLI::App* path = app.add_subcommand("path", "Show the pushed primary and backup route from SRC to DST");
  path->add_option("SRC", options.source, "Source node id")->required()->check(CLI::Range(1u, 4294967295u));
  path->add_option("DST", options.destination, "Destination node id")
      ->required()
      ->check(CLI::Range(1u, 4294967295u));
  CLI::App* events = app.add_subcommand("events", "Print the event log");
  events->add_option("--from", options.from, "First sequence number")->capture_default_str();
  events->add_flag("--follow", options.follow, "Keep printing new events until interrupted");
  CLI::App* keys = app.add_subcommand("keys", "Data-plane key epochs");
  keys->require_subcommand(1);
  CLI::App* keys_rotate = keys->add_subcommand("rotate", "Start a new key epoch now (relays switch after its activation delay)");
  CLI::App* keys_list = keys->add_subcommand("list", "List the live key epochs");
  const overline::controller::PkiCommand pki(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? overline::controller::kExitOk : overline::controller::kExitUsage;
  }

  if (pki.chosen()) return pki.run();

  namespace tls = overline::tls;
  const std::string stem = options.pki_dir + "/" + tls::fileStem({tls::PeerRole::kOperatorWrite, 0, options.operator_name});
  const auto identity = tls::loadIdentity(options.ca_file.empty() ? options.pki_dir + "/ca.pem" : options.ca_file,
                                          options.cert_file.empty() ? stem + ".pem" : options.cert_file,
                                          options.key_file.empty() ? stem + ".key" : options.key_file,
                                          std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
  if (!identity) return overline::controller::usageError(identity.error().message);
  Ctl ctl(options, identity.value());
  if (keys_rotate->parsed()) return ctl.rotateKeys();
  if (keys_list->parsed()) return ctl.listKeys();
  if (provision->parsed()) return ctl.provision();
  if (drain->parsed()) return ctl.setDrained(true);
  if (undrain->parsed()) return ctl.setDrained(false);
  if (remove->parsed()) return ctl.remove();
  if (nodes->parsed()) return ctl.nodes();
  if (links->parsed()) return ctl.links();
  if (path->parsed()) return ctl.path();
  if (events->parsed()) return ctl.events();
  return overline::controller::kExitUsage;
}
