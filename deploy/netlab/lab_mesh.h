#pragma once
// Runs a localmesh::MeshSpec inside a lab: the same harness as the loopback
// integration tests, with three differences passed through LocalMeshOptions:
//   * relay n line l binds 10.<l+1>.<n>.2:kLinePort, its lab line address;
//   * every process of node n (its relay, and the SDK tools on its edge) runs
//     in <prefix>-r<n> through `ip netns exec`. The tools join their edge on
//     its line-0 address, which is local inside that namespace: media
//     clients never cross a lab line, so line outages and loss affect only
//     relay-to-relay traffic;
//   * metrics listen on 127.0.0.1 in the relay's namespace and are fetched
//     from a thread joined to it (in_namespace.h). No management interface
//     reaches into the root namespace, so labs need no root-namespace
//     address or route and concurrent labs cannot collide.

#include <string>

#include "common/result.h"
#include "deploy/localmesh/local_mesh.h"
#include "deploy/localmesh/mesh_spec.h"
#include "deploy/netlab/lab_layout.h"

namespace overline::netlab {

// Line addresses of every node of `spec` in `layout`. Errors if a node is not
// in the lab or the spec wants more lines than the lab has.
Result<localmesh::LineAddresses, std::string> labLineAddresses(const LabLayout& layout,
                                                               const localmesh::MeshSpec& spec);

// LocalMesh options running `spec` in `layout` with the tools of `bin_dir`.
// The lab must outlive the LocalMesh started with them.
Result<localmesh::LocalMeshOptions, std::string> labMeshOptions(const LabLayout& layout,
                                                                const localmesh::MeshSpec& spec,
                                                                const std::string& bin_dir);

// Every relay of `layout` neighbour of every other, all lines, metrics on
// 127.0.0.1:9464 in each namespace: what `overline-netlab up --config-dir`
// writes configs for.
localmesh::MeshSpec fullMeshSpec(const LabLayout& layout);

}  // namespace overline::netlab
