/* Compiles sdk/overline.h as C (C99, -pedantic) and exercises the C API's
 * error paths against silent UDP sockets on loopback. Exit 0 on success. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sdk/overline.h"

#define EXPECT(cond)                                                     \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                          \
    }                                                                    \
  } while (0)

/* An overline_event_fn; no event can come here (nothing ever joins). */
static int events_heard = 0;
static void on_event(void* user, int event, uint32_t old_edge, uint32_t new_edge) {
  (void)user;
  (void)event;
  (void)old_edge;
  (void)new_edge;
  ++events_heard;
}

/* Binds a UDP socket on 127.0.0.1:<ephemeral> that never answers and
 * writes its "IP:PORT" into `edge`; returns the socket, -1 on failure. */
static int silent_edge(char* edge, size_t size) {
  struct sockaddr_in addr;
  socklen_t len = sizeof(addr);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return -1;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, (struct sockaddr*)&addr, sizeof(addr)) != 0 || getsockname(fd, (struct sockaddr*)&addr, &len) != 0) {
    close(fd);
    return -1;
  }
  snprintf(edge, size, "127.0.0.1:%u", (unsigned)ntohs(addr.sin_port));
  return fd;
}

int main(void) {
  overline_client* client = NULL;
  uint64_t stream = 0;
  char edge[32];
  char second[32];
  const char* edges[2];
  const char* tokens[2];
  int silent;
  int silent_second;
  int code;

  for (code = OVERLINE_ERR_INTERNAL; code <= OVERLINE_OK; ++code) {
    EXPECT(overline_strerror(code) != NULL);
  }
  EXPECT(strcmp(overline_strerror(OVERLINE_OK), "ok") == 0);
  EXPECT(overline_strerror(12345) != NULL);

  EXPECT(overline_connect(NULL, 0, &client) == OVERLINE_ERR_INVALID_ARGUMENT);
  EXPECT(overline_connect("not an address", 0, &client) == OVERLINE_ERR_INVALID_ARGUMENT);
  EXPECT(overline_connect("127.0.0.1:0", 0, &client) == OVERLINE_ERR_INVALID_ARGUMENT);
  EXPECT(overline_connect("0.0.0.0:4000", 0, &client) == OVERLINE_ERR_INVALID_ARGUMENT);
  EXPECT(client == NULL);
  EXPECT(overline_edge_node(NULL) == 0);
  EXPECT(overline_publish(NULL, 1, &stream) == OVERLINE_ERR_INVALID_ARGUMENT);
  EXPECT(overline_publish_with_budget(NULL, 1, 400, &stream) == OVERLINE_ERR_INVALID_ARGUMENT);
  EXPECT(overline_send(NULL, stream, NULL, 0) == OVERLINE_ERR_INVALID_ARGUMENT);
  EXPECT(overline_unsubscribe(NULL, stream) == OVERLINE_ERR_INVALID_ARGUMENT);
  EXPECT(overline_set_join_token(NULL, "v2.x.y") == OVERLINE_ERR_INVALID_ARGUMENT);
  overline_destroy(NULL);

  /* An "edge" that never answers HELLO: connect must time out. */
  silent = silent_edge(edge, sizeof(edge));
  EXPECT(silent >= 0);
  EXPECT(overline_connect(edge, 200, &client) == OVERLINE_ERR_CONNECT);
  EXPECT(client == NULL);

  /* Candidates: bad arguments, then two silent edges. */
  silent_second = silent_edge(second, sizeof(second));
  EXPECT(silent_second >= 0);
  edges[0] = edge;
  edges[1] = second;
  tokens[0] = "";
  tokens[1] = NULL;
  EXPECT(overline_connect_candidates(NULL, NULL, 1, 1, 200, NULL, NULL, &client) == OVERLINE_ERR_INVALID_ARGUMENT);
  EXPECT(overline_connect_candidates(edges, tokens, 0, 1, 200, NULL, NULL, &client) == OVERLINE_ERR_INVALID_ARGUMENT);
  EXPECT(overline_connect_candidates(edges, tokens, 2, 3, 200, NULL, NULL, &client) == OVERLINE_ERR_INVALID_ARGUMENT);
  EXPECT(overline_connect_candidates(edges, tokens, 2, 1, 200, NULL, NULL, NULL) == OVERLINE_ERR_INVALID_ARGUMENT);
  edges[1] = edge; /* listed twice */
  EXPECT(overline_connect_candidates(edges, tokens, 2, 1, 200, NULL, NULL, &client) == OVERLINE_ERR_INVALID_ARGUMENT);
  edges[1] = "not an address";
  EXPECT(overline_connect_candidates(edges, tokens, 2, 1, 200, NULL, NULL, &client) == OVERLINE_ERR_INVALID_ARGUMENT);
  edges[1] = second;
  EXPECT(overline_connect_candidates(edges, tokens, 2, 2, 300, on_event, NULL, &client) == OVERLINE_ERR_CONNECT);
  EXPECT(client == NULL);
  EXPECT(events_heard == 0);
  close(silent);
  close(silent_second);

  printf("c_api_smoke: ok\n");
  return 0;
}
