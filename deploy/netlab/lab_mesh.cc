#include "deploy/netlab/lab_mesh.h"

#include "deploy/localmesh/metrics_scrape.h"
#include "deploy/netlab/command.h"
#include "deploy/netlab/in_namespace.h"

namespace overline::netlab {

Result<localmesh::LineAddresses, std::string> labLineAddresses(const LabLayout& layout,
                                                               const localmesh::MeshSpec& spec) {
  if (spec.lines_per_node > layout.lines()) {
    return Err{"the mesh wants " + std::to_string(spec.lines_per_node) + " lines per relay, the lab has " +
               std::to_string(layout.lines())};
  }
  localmesh::LineAddresses addresses;
  for (const auto& node : spec.nodes) {
    if (!layout.contains(LineRef{node.id, 0})) {
      return Err{"relay " + std::to_string(node.id) + " is not in the lab (1.." + std::to_string(layout.nodes()) + ")"};
    }
    for (int l = 0; l < spec.lines_per_node; ++l) addresses[node.id].push_back(layout.lineEndpoint({node.id, l}));
  }
  return addresses;
}

Result<localmesh::LocalMeshOptions, std::string> labMeshOptions(const LabLayout& layout,
                                                                const localmesh::MeshSpec& spec,
                                                                const std::string& bin_dir) {
  auto addresses = labLineAddresses(layout, spec);
  if (!addresses) return Err{addresses.error()};
  // ChildProcess execs argv[0] without a PATH search.
  const std::string ip = findExecutable("ip");
  if (ip.empty()) return Err{std::string("ip (iproute2) not found")};
  localmesh::LocalMeshOptions options;
  options.bin_dir = bin_dir;
  options.line_addresses = addresses.value();
  // `ip netns exec` execs the command in place: the child's pid is the
  // relay's (signals and PR_SET_PDEATHSIG reach it), and it keeps the
  // harness's filesystem view (configs, ready files, logs).
  options.command_prefix = [layout, ip](NodeId node) {
    return std::vector<std::string>{ip, "netns", "exec", layout.relayNamespace(node)};
  };
  options.metrics_fetch = [layout](NodeId node, const std::string& url, std::chrono::milliseconds timeout) {
    auto body = runInNamespace(layout.relayNamespace(node), [&] { return localmesh::httpGet(url, timeout); });
    return body ? body.value() : std::nullopt;
  };
  return options;
}

localmesh::MeshSpec fullMeshSpec(const LabLayout& layout) {
  localmesh::MeshSpec spec;
  for (NodeId n = 1; n <= static_cast<NodeId>(layout.nodes()); ++n) {
    spec.nodes.push_back({n, "lab"});
    for (NodeId m = n + 1; m <= static_cast<NodeId>(layout.nodes()); ++m) spec.links.push_back({n, m});
  }
  spec.lines_per_node = layout.lines();
  spec.metrics_listen = "127.0.0.1:9464";
  return spec;
}

}  // namespace overline::netlab
