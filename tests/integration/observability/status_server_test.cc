// common/http's StatusServer alone on loopback (no processes): the status
// codes, bodies and content types of /metrics, /healthz and /readyz as the
// probes change, 404 and 405, a taken port's error, and a prompt stop.

#include "common/http/status_server.h"

#include <catch2/catch.hpp>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>

#include "tests/integration/observability/http_client.h"

namespace overline::http {
namespace {

using testing::httpRequest;
using testing::httpStatus;

const Endpoint kLoopbackAnyPort(0x7f000001, 0);

struct Fixture {
  prometheus::Registry registry;
  std::atomic<bool> alive{true};
  std::atomic<bool> ready{false};

  Fixture() {
    prometheus::BuildCounter().Name("test_things_total").Help("Things.").Register(registry).Add({}).Increment(3);
  }

  Result<std::unique_ptr<StatusServer>, std::string> start(const Endpoint& listen = kLoopbackAnyPort) {
    return StatusServer::start(
        listen, registry,
        [this] { return alive ? ProbeResult{} : ProbeResult{false, "loop silent for 6.0 s (limit 5.0 s)"}; },
        [this] { return ready ? ProbeResult{} : ProbeResult{false, "warming up"}; });
  }
};

TEST_CASE("the three paths answer with the probes' verdicts") {
  Fixture fixture;
  auto server = fixture.start();
  INFO((server ? std::string() : server.error()));
  REQUIRE(server.ok());
  const std::string base = "http://" + server.value()->listenEndpoint().toString();
  CHECK(server.value()->listenEndpoint().port() != 0);

  const auto metrics = httpRequest(base + "/metrics");
  REQUIRE(metrics.has_value());
  CHECK(metrics->status == 200);
  CHECK(metrics->content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(metrics->body.find("# TYPE test_things_total counter\ntest_things_total 3") != std::string::npos);

  auto healthz = httpRequest(base + "/healthz");
  REQUIRE(healthz.has_value());
  CHECK(healthz->status == 200);
  CHECK(healthz->body == "ok\n");
  fixture.alive = false;
  healthz = httpRequest(base + "/healthz");
  REQUIRE(healthz.has_value());
  CHECK(healthz->status == 503);
  CHECK(healthz->body == "loop silent for 6.0 s (limit 5.0 s)\n");

  auto readyz = httpRequest(base + "/readyz");
  REQUIRE(readyz.has_value());
  CHECK(readyz->status == 503);
  CHECK(readyz->body == "not ready: warming up\n");
  fixture.ready = true;
  readyz = httpRequest(base + "/readyz");
  REQUIRE(readyz.has_value());
  CHECK(readyz->status == 200);
  CHECK(readyz->body == "ready\n");
}

TEST_CASE("other paths are 404 and other methods 405") {
  Fixture fixture;
  auto server = fixture.start();
  REQUIRE(server.ok());
  const std::string base = "http://" + server.value()->listenEndpoint().toString();
  CHECK(httpStatus(base + "/") == 404);
  CHECK(httpStatus(base + "/nope") == 404);
  CHECK(httpStatus(base + "/metricsx") == 404);
  CHECK(httpStatus(base + "/readyz/more") == 404);
  CHECK(httpStatus(base + "/readyz?verbose=1") == 503);  // a query string is still /readyz
  const auto post = httpRequest(base + "/readyz", "POST");
  REQUIRE(post.has_value());
  CHECK(post->status == 405);
  CHECK(httpRequest(base + "/metrics", "DELETE")->status == 405);
}

TEST_CASE("a taken port is one clear error naming the address") {
  Fixture fixture;
  auto first = fixture.start();
  REQUIRE(first.ok());
  const Endpoint taken = first.value()->listenEndpoint();
  auto second = fixture.start(taken);
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().rfind("cannot listen on " + taken.toString() + ": ", 0) == 0);
  CHECK(second.error().find("Address already in use") != std::string::npos);
}

// civetweb alone sleeps up to 2 s in its listener's poll() before it notices
// mg_stop(); just after start that is almost all of it.
TEST_CASE("stopping takes milliseconds, not civetweb's poll quantum") {
  Fixture fixture;
  auto server = fixture.start();
  REQUIRE(server.ok());
  const std::string url = "http://" + server.value()->listenEndpoint().toString() + "/healthz";
  REQUIRE(httpStatus(url) == 200);
  const auto started = std::chrono::steady_clock::now();
  server.value().reset();
  const auto stop_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  INFO("stop took " << stop_ms << " ms");
  CHECK(stop_ms < 500);
  CHECK(httpStatus(url) == 0);  // nobody listens any more
}

}  // namespace
}  // namespace overline::http
