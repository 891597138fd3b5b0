#pragma once
// Builds small topologies for controller/core tests: nodes with one line each
// unless told otherwise, links symmetric and measured on every line pair.

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "controller/core/topology.h"

namespace overline::controller::testing {

// Measured figures of one link, applied to every line pair of it.
struct LinkFigures {
  DurationUs rtt_us = 0;
  DurationUs jitter_us = 0;
  double loss = 0.0;
  LinkState state = LinkState::kUp;
};

inline LinkFigures rttMs(DurationUs rtt_ms) { return LinkFigures{rtt_ms * kMillisecond}; }

class TopologyBuilder {
 public:
  TopologyBuilder& node(NodeId id, std::string region = "eu",
                        std::vector<std::string> isps = {"isp-a"}) {
    topology_.nodes.push_back(NodeInfo{id, std::move(region), std::move(isps), 0, 0.0, false});
    return *this;
  }
  TopologyBuilder& nodes(std::initializer_list<NodeId> ids) {
    for (NodeId id : ids) node(id);
    return *this;
  }
  NodeInfo& info(NodeId id) {
    for (NodeInfo& n : topology_.nodes) {
      if (n.id == id) return n;
    }
    throw std::logic_error("no such node");
  }
  // from -> to on every line pair.
  TopologyBuilder& oneWay(NodeId from, NodeId to, LinkFigures figures) {
    const auto lines_of = [this](NodeId id) { return info(id).line_isps.size(); };
    for (std::size_t i = 0; i < lines_of(from); ++i) {
      for (std::size_t j = 0; j < lines_of(to); ++j) {
        topology_.links.push_back(LinkMeasurement{from, static_cast<LineIndex>(i), to,
                                                  static_cast<LineIndex>(j), figures.rtt_us,
                                                  figures.jitter_us, figures.loss, figures.state});
      }
    }
    return *this;
  }
  // Both directions.
  TopologyBuilder& link(NodeId a, NodeId b, LinkFigures figures) {
    return oneWay(a, b, figures).oneWay(b, a, figures);
  }
  // Sets the figures of every measurement between a and b (both directions).
  TopologyBuilder& update(NodeId a, NodeId b, LinkFigures figures) {
    for (LinkMeasurement& m : topology_.links) {
      if ((m.from == a && m.to == b) || (m.from == b && m.to == a)) {
        m.rtt_us = figures.rtt_us;
        m.jitter_us = figures.jitter_us;
        m.loss = figures.loss;
        m.state = figures.state;
      }
    }
    return *this;
  }
  const Topology& topology() const { return topology_; }

 private:
  Topology topology_;
};

}  // namespace overline::controller::testing
