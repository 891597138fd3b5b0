/* Overline SDK C API: a thin wrapper over overline::sdk::Client.
 *
 * Valid C99 and C++. Every function that can fail returns an int error code
 * (OVERLINE_OK or a negative OVERLINE_ERR_*); overline_strerror() names it.
 * No function throws or aborts on bad input.
 *
 * Threading: as for the C++ Client. Functions may be called from any thread;
 * receive and event callbacks run on the client's own thread, one at a
 * time, and may call every function except overline_destroy().
 *
 * Stream ids are 64-bit: the upper 32 bits are the node id of the edge the
 * publisher first joined (kept when it moves), the lower 32 bits the
 * publisher's local id (text form "ORIGIN:LOCAL"). */
#ifndef OVERLINE_SDK_OVERLINE_H_
#define OVERLINE_SDK_OVERLINE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  OVERLINE_OK = 0,
  OVERLINE_ERR_INVALID_ARGUMENT = -1, /* NULL pointer, bad or repeated "IP:PORT", payload or token too large */
  OVERLINE_ERR_CONNECT = -2,          /* socket error, or no edge joined before the timeout */
  OVERLINE_ERR_SEND = -3,             /* not published, client closed, or the socket refused it */
  OVERLINE_ERR_INTERNAL = -4          /* out of memory or another unexpected failure */
};

/* Largest payload of one overline_send() (the wire format's limit). */
#define OVERLINE_MAX_PAYLOAD_BYTES 1200

typedef struct overline_client overline_client;

/* One DATA packet of a subscribed stream. `payload` is valid only during the
 * call. `timestamp_us` is the publisher's wall clock at send time. */
typedef void (*overline_receive_fn)(void* user, uint64_t stream_id, uint32_t sequence, uint64_t timestamp_us,
                                    const uint8_t* payload, size_t len);

/* Session events (the `event` argument of overline_event_fn). Node ids are
 * the edges' (0 where there is none). */
enum {
  /* The first edge joined (old_edge 0), or one joined after
   * OVERLINE_EVENT_LOST (old_edge = the edge before the loss). */
  OVERLINE_EVENT_CONNECTED = 1,
  /* The client moved: its primary edge died and another session (already
   * joined when dual-homed, else a new join) took over. Publications keep
   * their stream ids and sequence numbers, subscriptions continue; the
   * application sees a gap (none when dual-homed). old_edge == new_edge
   * when it joined the same edge again (it restarted, or it is the only
   * candidate). */
  OVERLINE_EVENT_EDGE_CHANGED = 2,
  /* No edge is joined and every candidate has failed since (new_edge 0).
   * Nothing to handle: the client keeps trying in the background and
   * reports OVERLINE_EVENT_CONNECTED when an edge answers. */
  OVERLINE_EVENT_LOST = 3,
  /* A session with edge new_edge joined (old_edge 0): every one, the first,
   * a dual-homed client's second and each replacement, before the
   * OVERLINE_EVENT_CONNECTED or _EDGE_CHANGED that makes it the primary. */
  OVERLINE_EVENT_EDGE_JOINED = 4
};

/* Called on the client's thread for each session event. It may call every
 * function except overline_destroy(). OVERLINE_EVENT_CONNECTED for the first
 * edge comes before the connect function returns. */
typedef void (*overline_event_fn)(void* user, int event, uint32_t old_edge, uint32_t new_edge);

/* Static description of an error code; never NULL. */
const char* overline_strerror(int code);

/* Connects to the edge relay at `edge` ("a.b.c.d:port"), waiting up to
 * `connect_timeout_ms` (0 = the default, 3000) for the join to complete
 * (HELLO, the edge's CHALLENGE, HELLO with its cookie, WELCOME). On success
 * stores a new client in *out; release it with overline_destroy(). */
int overline_connect(const char* edge, uint32_t connect_timeout_ms, overline_client** out);

/* As overline_connect(), presenting `join_token` (NUL-terminated, at most
 * 256 bytes; from the controller's edge allocation for this edge and this
 * client's address) in every HELLO. NULL or "" is the same as
 * overline_connect(). An edge that requires tokens never answers without a
 * valid one, so a bad token shows as OVERLINE_ERR_CONNECT. */
int overline_connect_with_token(const char* edge, const char* join_token, uint32_t connect_timeout_ms,
                                overline_client** out);

/* Connects through the first answering of `n` candidate edges
 * (`edges[i]` "a.b.c.d:port", tried in this order, e.g. the controller's)
 * and keeps the list: when the edge dies (no answer for 300 ms) the client
 * moves to the next candidate by itself and reports it through `on_event`.
 * `tokens` is NULL (no tokens) or holds n join tokens (each NULL or "" for
 * none, at most 256 bytes): tokens[i] is presented to edges[i]. `homes` is
 * 1, or 2 to stay joined to two candidates at once (every packet sent and
 * received through both: an edge dying loses nothing); 0 means 1.
 * `timeout_ms` (0 = 3000) bounds the wait for the first join over all
 * candidates. `on_event` may be NULL; `user` is passed to it. On success
 * stores a new client in *out; release it with overline_destroy(). */
int overline_connect_candidates(const char* const* edges, const char* const* tokens, size_t n, uint32_t homes,
                                uint32_t timeout_ms, overline_event_fn on_event, void* user,
                                overline_client** out);

/* Replaces the join token sent in keepalives (NUL-terminated, at most 256
 * bytes): the edge ends a session when the token it holds expires, and a
 * fresher one extends it. Call it with a new token from the controller
 * before the current one expires. Any thread. */
int overline_set_join_token(overline_client* client, const char* join_token);

/* The primary edge relay's node id (never 0 on a connected client; the last
 * one while the client is between edges); 0 for NULL. */
uint32_t overline_edge_node(const overline_client* client);

/* Declares the stream (first edge's node, local_id) published from this
 * client (the same id after any move) and
 * stores its id in *stream_id. Its sequence numbers start at 0. Its latency
 * budget is the default, 400 ms. */
int overline_publish(overline_client* client, uint32_t local_id, uint64_t* stream_id);

/* As overline_publish(), with the stream's latency budget: how long after
 * sending a packet is still useful (relays stop recovering it, subscribers
 * stop waiting for it). 10..2550 ms, rounded up to 10 ms; 0 = the default
 * (400 ms); anything else is OVERLINE_ERR_INVALID_ARGUMENT. Publishing a
 * stream again keeps its sequence and takes the new budget. */
int overline_publish_with_budget(overline_client* client, uint32_t local_id, uint32_t latency_budget_ms,
                                 uint64_t* stream_id);

/* Sends one DATA packet of `len` bytes (<= OVERLINE_MAX_PAYLOAD_BYTES; `payload`
 * may be NULL when len is 0) on a stream returned by overline_publish(),
 * through every joined edge. OVERLINE_ERR_SEND while the client is between
 * edges (the packet is lost: its sequence number is used up). */
int overline_send(overline_client* client, uint64_t stream_id, const uint8_t* payload, size_t len);

/* Subscribes to `stream_id`; `fn(user, ...)` is called for each packet, in
 * sequence order: a packet behind a missing one waits until that one
 * arrives or the stream's latency budget for it runs out; the missing one is
 * then skipped. Duplicates and packets too late are dropped. Subscribing
 * again replaces the callback. */
int overline_subscribe(overline_client* client, uint64_t stream_id, overline_receive_fn fn, void* user);

/* Leaves the stream. When this returns, its callback is not running and will
 * not be called again (unless called from that callback). */
int overline_unsubscribe(overline_client* client, uint64_t stream_id);

/* Unsubscribes everything, stops the client's thread and frees it. NULL is
 * a no-op. Must not be called from a receive callback. */
void overline_destroy(overline_client* client);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // OVERLINE_SDK_OVERLINE_H_
