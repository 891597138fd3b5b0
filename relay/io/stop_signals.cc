#include "relay/io/stop_signals.h"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>

#include "relay/io/uv_handle.h"

namespace overline::relay {

StopSignals::StopSignals(uv_loop_t& loop, std::function<void(int signum)> on_stop, int signal_count)
    : on_stop_(std::move(on_stop)), signals_left_(signal_count) {
  constexpr std::array<int, 2> kSignals = {SIGINT, SIGTERM};
  for (std::size_t i = 0; i < handles_.size(); ++i) {
    handles_[i] = new uv_signal_t{};
    uv_signal_init(&loop, handles_[i]);  // cannot fail on a live loop
    handles_[i]->data = this;
    if (const int rc = uv_signal_start(handles_[i], &StopSignals::onSignal, kSignals[i]); rc != 0) {
      // Only fails for an invalid signal number.
      spdlog::critical("cannot watch signal {}: {}", kSignals[i], uv_strerror(rc));
      std::abort();
    }
  }
}

StopSignals::~StopSignals() { close(); }

void StopSignals::close() {
  for (uv_signal_t*& handle : handles_) {
    if (handle == nullptr) continue;
    uv_signal_stop(handle);
    closeAndFree(handle);
    handle = nullptr;
  }
}

void StopSignals::onSignal(uv_signal_t* handle, int signum) {
  auto* self = static_cast<StopSignals*>(handle->data);
  if (self == nullptr) return;
  // Close first after the last one: on_stop runs no more than signal_count
  // times even if signals arrive in one loop turn (closed handles have no
  // data), and a later signal gets the default action.
  if (self->signals_left_ <= 0) return;
  if (--self->signals_left_ == 0) self->close();
  if (self->on_stop_) self->on_stop_(signum);
}

}  // namespace overline::relay
