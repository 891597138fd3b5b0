#pragma once
// Reads text lines from the process's stdin on the loop thread, when stdin
// is a pipe, a Unix socket or a terminal.
//
// Lines end with '\n' (a trailing '\r' is kept; the caller may trim it). A
// line longer than kMaxLineBytes is discarded up to its '\n' and reported
// with onLineTooLong(). A last line without '\n' before EOF is delivered.

#include <uv.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace overline::impair {

class StdinLines {
 public:
  static constexpr std::size_t kMaxLineBytes = 4096;

  // Callbacks run on the loop thread. A callback may call close() but must
  // not destroy the StdinLines.
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void onLine(std::string_view line) = 0;
    virtual void onLineTooLong() = 0;
    // EOF or a read error (`error` empty on EOF). No callback follows.
    virtual void onEnd(const std::string& error) = 0;
  };

  // Starts reading fd 0. Fails (and reads nothing) when stdin is a regular
  // file or a device such as /dev/null, which libuv cannot watch; the error
  // says so in one line. `loop` and `listener` must outlive the reader.
  static Result<std::unique_ptr<StdinLines>, std::string> open(uv_loop_t& loop, Listener& listener);
  ~StdinLines();  // close()
  StdinLines(const StdinLines&) = delete;
  StdinLines& operator=(const StdinLines&) = delete;

  // Stops reading and closes the handle (fd 0 itself stays open). Idempotent.
  void close();

 private:
  StdinLines(uv_any_handle* handle, Listener& listener);
  static void onAlloc(uv_handle_t* handle, std::size_t suggested_size, uv_buf_t* buf);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  // Hands every complete line in pending_ to the listener.
  void deliverLines();
  void end(const std::string& error);

  uv_any_handle* handle_;  // a uv_pipe_t or uv_tty_t; owned, freed by the close callback
  Listener& listener_;
  std::string pending_;     // text after the last '\n'
  bool discarding_ = false; // inside a line already longer than kMaxLineBytes
  char read_buffer_[4096];
};

}  // namespace overline::impair
