#include "sdk/tools/session_event_printer.h"

#include <iostream>
#include <string>

namespace overline::sdk::tools {
namespace {

const char* nameOf(SessionEventType type) {
  switch (type) {
    case SessionEventType::kJoined: return "joined";
    case SessionEventType::kConnected: return "connected";
    case SessionEventType::kEdgeChanged: return "edge_changed";
    case SessionEventType::kLost: return "lost";
  }
  return "unknown";  // unreachable: every type is handled above
}

}  // namespace

EventCallback SessionEventPrinter::callback() {
  return [this](const SessionEvent& event) {
    std::lock_guard lock(mutex_);
    if (started_) {
      print(event);
    } else {
      held_.push_back(event);
    }
  };
}

void SessionEventPrinter::start(const Event& first_line, NodeId first_edge, const Event& joined_fields) {
  std::lock_guard lock(mutex_);
  joined_fields_ = joined_fields;
  printEvent(first_line);
  bool first_joined_told = false;
  for (const SessionEvent& event : held_) {
    if (event.type == SessionEventType::kJoined && event.new_edge == first_edge && !first_joined_told) {
      first_joined_told = true;  // what `first_line` says
      continue;
    }
    if (event.type == SessionEventType::kConnected && event.old_edge == kNoNode) continue;  // ditto
    print(event);
  }
  held_.clear();
  started_ = true;
}

void SessionEventPrinter::print(const SessionEvent& event) const {
  Event line;
  switch (event.type) {
    case SessionEventType::kJoined:
      line = {{"event", nameOf(event.type)}, {"edge_node", event.new_edge}};
      for (const auto& [key, value] : joined_fields_.items()) line[key] = value;
      line["edge"] = event.new_endpoint.toString();
      break;
    case SessionEventType::kConnected:
    case SessionEventType::kEdgeChanged:
      line = {{"event", nameOf(event.type)},
              {"old", event.old_edge},
              {"new", event.new_edge},
              {"edge", event.new_endpoint.toString()}};
      break;
    case SessionEventType::kLost: line = {{"event", "lost"}, {"old", event.old_edge}}; break;
  }
  printEvent(line);
  std::cerr << (std::string("event ") + nameOf(event.type) + " old=" + std::to_string(event.old_edge) +
                " new=" + std::to_string(event.new_edge) + "\n")
            << std::flush;
}

}  // namespace overline::sdk::tools
