#include "relay/io/hangup_signal.h"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>

#include "relay/io/uv_handle.h"

namespace overline::relay {

HangupSignal::HangupSignal(uv_loop_t& loop, std::function<void()> on_hangup)
    : handle_(new uv_signal_t{}), on_hangup_(std::move(on_hangup)) {
  uv_signal_init(&loop, handle_);  // cannot fail on a live loop
  handle_->data = this;
  if (const int rc = uv_signal_start(handle_, &HangupSignal::onSignal, SIGHUP); rc != 0) {
    spdlog::critical("cannot watch SIGHUP: {}", uv_strerror(rc));  // only for an invalid signal number
    std::abort();
  }
}

HangupSignal::~HangupSignal() { close(); }

void HangupSignal::close() {
  if (handle_ == nullptr) return;
  uv_signal_stop(handle_);
  closeAndFree(handle_);
  handle_ = nullptr;
}

void HangupSignal::onSignal(uv_signal_t* handle, int /*signum*/) {
  auto* self = static_cast<HangupSignal*>(handle->data);
  if (self != nullptr && self->on_hangup_) self->on_hangup_();
}

}  // namespace overline::relay
