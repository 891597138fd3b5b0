#pragma once
// SessionEventPrinter: how the SDK tools report their client's session
// events (sdk/core/session_io.h), so the demo and the integration tests can
// see which edges a tool joined and where it moved. Each event is one JSON
// line on stdout (tool_cli.h) and one line on stderr, for people:
//
//   {"event":"joined","edge_node":2,<joined fields>,"edge":"IP:PORT"}  event joined old=0 new=2
//   {"event":"edge_changed","old":1,"new":2,"edge":"IP:PORT"}         event edge_changed old=1 new=2
//   {"event":"lost","old":2}                                          event lost old=2 new=0
//   {"event":"connected","old":2,"new":3,"edge":"IP:PORT"}            event connected old=2 new=3
//
// The tool prints its first line itself ("joined" for its first edge, with
// what it learnt when connect() returned, e.g. the stream id): events come
// from the SDK thread before that, so they are held until start() and then
// follow that line, but for the first edge's own kJoined and kConnected,
// which the line tells.

#include <mutex>
#include <vector>

#include "sdk/client.h"
#include "sdk/core/session_io.h"
#include "sdk/tools/tool_cli.h"

namespace overline::sdk::tools {

class SessionEventPrinter {
 public:
  // For ClientOptions::on_event; the printer must outlive the client.
  EventCallback callback();
  // Prints `first_line` (the tool's "joined" line for `first_edge`), then
  // what was held; later events print at once. `joined_fields` go into
  // every later joined line, after edge_node (e.g. the stream).
  void start(const Event& first_line, NodeId first_edge, const Event& joined_fields);

 private:
  void print(const SessionEvent& event) const;  // mutex_ held

  std::mutex mutex_;
  bool started_ = false;
  std::vector<SessionEvent> held_;
  Event joined_fields_ = Event::object();
};

}  // namespace overline::sdk::tools
