/* Compiles sdk/overline.h as C (C99, -pedantic) and exercises the C API's
 * error paths against a silent UDP socket on loopback. Exit 0 on success. */
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

int main(void) {
  overline_client* client = NULL;
  uint64_t stream = 0;
  struct sockaddr_in addr;
  socklen_t len = sizeof(addr);
  char edge[32];
  int silent;
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
  silent = socket(AF_INET, SOCK_DGRAM, 0);
  EXPECT(silent >= 0);
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT(bind(silent, (struct sockaddr*)&addr, sizeof(addr)) == 0);
  EXPECT(getsockname(silent, (struct sockaddr*)&addr, &len) == 0);
  snprintf(edge, sizeof(edge), "127.0.0.1:%u", (unsigned)ntohs(addr.sin_port));
  EXPECT(overline_connect(edge, 200, &client) == OVERLINE_ERR_CONNECT);
  EXPECT(client == NULL);
  close(silent);

  printf("c_api_smoke: ok\n");
  return 0;
}
