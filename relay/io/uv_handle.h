#pragma once
// Closing a libuv handle owned by a wrapper object (STYLE rule 4, as in
// mediasoup's UdpSocketHandle).
//
// Each handle is heap-allocated on its own (`new HandleType{}`) so the wrapper
// can be destroyed at once while libuv finishes the close on a later loop
// turn; the close callback then frees the handle. Loop thread only.

#include <uv.h>

namespace overline::relay {

// Clears handle->data so no late callback can reach the wrapper, then closes
// the handle and frees it in the close callback. The caller must already
// have stopped the handle's I/O (uv_udp_recv_stop, uv_timer_stop, ...), and
// the handle must have been initialised (an uninitialised one is just deleted).
template <typename HandleType>
void closeAndFree(HandleType* handle) {
  handle->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(handle),
           [](uv_handle_t* closed) { delete reinterpret_cast<HandleType*>(closed); });
}

}  // namespace overline::relay
