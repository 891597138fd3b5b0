#include "deploy/impair/stdin_lines.h"

#include <unistd.h>

namespace overline::impair {
namespace {

// Like relay::closeAndFree, for the handle union (its members share `data`).
void closeAndFree(uv_any_handle* handle) {
  handle->handle.data = nullptr;
  uv_close(&handle->handle, [](uv_handle_t* closed) { delete reinterpret_cast<uv_any_handle*>(closed); });
}

}  // namespace

Result<std::unique_ptr<StdinLines>, std::string> StdinLines::open(uv_loop_t& loop, Listener& listener) {
  auto* handle = new uv_any_handle{};
  int rc = 0;
  switch (uv_guess_handle(STDIN_FILENO)) {
    case UV_TTY:
      rc = uv_tty_init(&loop, &handle->tty, STDIN_FILENO, /*readable=*/1);
      break;
    case UV_NAMED_PIPE:
      rc = uv_pipe_init(&loop, &handle->pipe, /*ipc=*/0);
      if (rc == 0 && (rc = uv_pipe_open(&handle->pipe, STDIN_FILENO)) != 0) {
        closeAndFree(handle);
        return Err(std::string("cannot read stdin: ") + uv_strerror(rc));
      }
      break;
    default:
      delete handle;  // never initialised: nothing to close
      return Err(std::string("stdin is not a pipe or terminal (a file or /dev/null?)"));
  }
  if (rc != 0) {
    delete handle;  // init failed: nothing to close
    return Err(std::string("cannot read stdin: ") + uv_strerror(rc));
  }
  std::unique_ptr<StdinLines> reader(new StdinLines(handle, listener));
  if ((rc = uv_read_start(&handle->stream, &StdinLines::onAlloc, &StdinLines::onRead)) != 0) {
    return Err(std::string("cannot read stdin: ") + uv_strerror(rc));  // ~StdinLines closes the handle
  }
  return reader;
}

StdinLines::StdinLines(uv_any_handle* handle, Listener& listener) : handle_(handle), listener_(listener) {
  handle_->handle.data = this;
}

StdinLines::~StdinLines() { close(); }

void StdinLines::close() {
  if (handle_ == nullptr) return;
  uv_read_stop(&handle_->stream);
  closeAndFree(handle_);
  handle_ = nullptr;
}

void StdinLines::onAlloc(uv_handle_t* handle, std::size_t /*suggested_size*/, uv_buf_t* buf) {
  auto* self = static_cast<StdinLines*>(handle->data);
  if (self == nullptr) {
    *buf = uv_buf_init(nullptr, 0);  // libuv reports UV_ENOBUFS and reads nothing
    return;
  }
  *buf = uv_buf_init(self->read_buffer_, sizeof(self->read_buffer_));
}

void StdinLines::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<StdinLines*>(stream->data);
  if (self == nullptr) return;
  if (nread == UV_EOF) {
    self->end("");
  } else if (nread < 0) {
    self->end(uv_strerror(static_cast<int>(nread)));
  } else if (nread > 0) {
    self->pending_.append(buf->base, static_cast<std::size_t>(nread));
    self->deliverLines();
  }
}

void StdinLines::deliverLines() {
  std::size_t start = 0;
  for (std::size_t newline; handle_ != nullptr && (newline = pending_.find('\n', start)) != std::string::npos;
       start = newline + 1) {
    if (discarding_) {
      discarding_ = false;
      listener_.onLineTooLong();
    } else if (newline - start > kMaxLineBytes) {
      listener_.onLineTooLong();
    } else {
      listener_.onLine(std::string_view(pending_).substr(start, newline - start));
    }
  }
  pending_.erase(0, start);
  if (pending_.size() > kMaxLineBytes) {
    // No '\n' in sight: forget the text so far, remember to skip the rest.
    pending_.clear();
    discarding_ = true;
  }
}

void StdinLines::end(const std::string& error) {
  if (!discarding_ && !pending_.empty()) {
    const std::string last = std::move(pending_);
    listener_.onLine(last);
  }
  pending_.clear();
  if (handle_ == nullptr) return;  // the listener closed us: it expects no more callbacks
  close();
  listener_.onEnd(error);
}

}  // namespace overline::impair
