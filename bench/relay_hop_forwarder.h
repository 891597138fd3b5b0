#pragma once
// The reference forwarder: the machine's limit for one hop, written for the
// bench.
//
// One thread reads datagrams from one UDP socket with recvmmsg (up to
// kBatchSize per call) and sends each, unchanged, to every destination with
// sendmmsg: one call per received batch (kBatchSize x K datagrams; more
// calls only when the kernel takes fewer). It parses nothing and keeps no
// state: the most any relay built on the same socket calls could forward on
// that core.
//
// It runs in a child process (this binary, --run-forwarder), started like
// the relay (HopProcess: its own session, pinned to the hop's CPU), so that
// both hops are scheduled alike; as a thread of the bench it would share
// the bench's scheduling group, and its CPU share, with the load threads.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/relay_hop_process.h"

namespace overline::bench {

// Parent side: starts `this binary --run-forwarder --forward-to D1,D2,...`.
// The HopProcess's address() is where to send.
Result<std::unique_ptr<HopProcess>, std::string> startReferenceForwarder(const std::vector<Endpoint>& destinations,
                                                                         std::optional<int> cpu);

// Child side: binds 127.0.0.1:0, writes its address to `ready_file`, then
// forwards until SIGTERM or SIGINT (or the bench's death: PR_SET_PDEATHSIG).
// Returns the exit status.
int runReferenceForwarder(const std::vector<Endpoint>& destinations, const std::string& ready_file);

}  // namespace overline::bench
