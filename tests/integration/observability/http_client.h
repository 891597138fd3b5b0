#pragma once
// A plain HTTP request for the status-endpoint tests: unlike
// localmesh::httpGet it reports every status code, not only 200.

#include <chrono>
#include <optional>
#include <string>

namespace overline::testing {

struct HttpReply {
  long status = 0;
  std::string content_type;  // empty when the reply has none
  std::string body;
};

// `method` "GET", "POST", ... to `url` with libcurl; nullopt when no reply
// came (refused, timed out).
std::optional<HttpReply> httpRequest(const std::string& url, const std::string& method = "GET",
                                     std::chrono::milliseconds timeout = std::chrono::seconds(2));

// The status code of a GET, or 0 when no reply came.
long httpStatus(const std::string& url);

}  // namespace overline::testing
