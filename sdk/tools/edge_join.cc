#include "sdk/tools/edge_join.h"

#include <vector>

#include "common/tls/tls_files.h"
#include "sdk/edge/edge_allocation.h"
#include "sdk/edge_pick.h"
#include "sdk/tools/tool_cli.h"

namespace overline::sdk::tools {
namespace {

constexpr DurationUs kAllocationTimeoutUs = 5 * kSecond;
// Bounds pickFastestEdge: its probe rounds take 20 ms (50 ms when it takes a
// second look), and an edge worth joining answers well within the rest. Only
// a silent candidate waits it out.
constexpr DurationUs kPickTimeoutUs = 500 * kMillisecond;

}  // namespace

void addEdgeFlags(CLI::App& app, EdgeFlags& flags) {
  CLI::Option* edge =
      app.add_option("--edge", flags.edges,
                     "Edge relay address (no join token); once per edge, in the order to try them: the client "
                     "moves to the next when its edge dies")
          ->type_name("IP:PORT")
          ->delimiter(',')
          ->check(edgeEndpointValidator());
  CLI::Option* controller =
      app.add_option("--controller", flags.controller,
                     "Controller gRPC address: allocate edges there and join the best (its ranking, unless "
                     "another edge answers clearly faster), with its token")
          ->type_name("IP:PORT")
          ->check(edgeEndpointValidator())
          ->excludes(edge);
  app.add_option("--controller-ca", flags.controller_ca,
                 "CA bundle (PEM) the controller's certificate must chain to (the deployment's ca.pem)")
      ->type_name("FILE")
      ->needs(controller);
  app.add_option("--region", flags.region, "Region hint for the edge allocation")->needs(controller);
  app.add_option("--isp", flags.isp, "ISP hint for the edge allocation")->needs(controller);
  app.add_option("--homes", flags.homes,
                 "Edges to stay joined to at once: 2 sends and receives through two, so one dying loses nothing")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{2}));
}

std::optional<std::string> checkEdgeFlags(const EdgeFlags& flags) {
  if (flags.edges.empty() && flags.controller.empty()) return "one of --edge and --controller is required";
  if (!flags.controller.empty() && flags.controller_ca.empty()) {
    return "--controller needs --controller-ca (the controller's Edge listener is TLS)";
  }
  return std::nullopt;
}

Result<JoinedEdge, std::string> connectToEdge(const EdgeFlags& flags, const JoinIntent& intent,
                                              ClientOptions options) {
  options.homes = flags.homes;
  if (!flags.edges.empty()) {
    std::vector<EdgeCandidate> candidates;
    for (const std::string& edge : flags.edges) candidates.push_back({*Endpoint::parse(edge), ""});
    auto client = Client::connect(candidates, options);
    if (!client) return Err{client.error()};
    return JoinedEdge{std::move(client.value()), nullptr};
  }

  auto trust = tls::loadTrust(flags.controller_ca);
  if (!trust) return Err{trust.error()};
  EdgeAllocationRequest request;
  request.controller = *Endpoint::parse(flags.controller);
  request.controller_ca_pem = trust->ca_pem;
  request.publish = intent.publish;
  request.subscribe = intent.subscribe;
  if (intent.stream) {
    request.scope_prefix_bits = 64;
    request.scope_value = *intent.stream;
  }
  request.region_hint = flags.region;
  request.isp_hint = flags.isp;
  request.timeout_us = kAllocationTimeoutUs;
  auto allocated = allocateEdges(request);
  if (!allocated) return Err{allocated.error()};
  std::vector<EdgeCandidate> candidates;
  for (const AllocatedEdge& edge : allocated.value().edges) candidates.push_back(edge.candidate);
  auto measured = pickFastestEdge(candidates, kPickTimeoutUs);
  if (!measured) return Err{measured.error()};
  // The token is bound to the address the controller saw ("a.b.c.d").
  if (const auto observed = Endpoint::parse(allocated.value().observed_address + ":0")) {
    options.expected_public_ip = observed->address();
  }
  auto client = Client::connect(candidatesOf(measured.value()), options);
  if (!client) return Err{client.error()};
  JoinedEdge joined{std::move(client.value()), nullptr};
  joined.renewer = std::make_unique<TokenRenewer>(*joined.client, request, allocated.value().expires_unix_s);
  return joined;
}

}  // namespace overline::sdk::tools
