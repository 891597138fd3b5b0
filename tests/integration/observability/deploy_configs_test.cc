// deploy/mesh-3region: every relay config and the controller config load
// with the real loaders, and together they describe the mesh the deploy
// README promises (6 relays, 2 per region eu/us/ap, 2 lines each on two
// ISPs with distinct public addresses, all reporting to the controller).
// deploy/grafana/overline-dashboard.json is a Grafana dashboard whose
// queries all use the Prometheus data source variable.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "controller/config/controller_config.h"
#include "relay/config/relay_process_config.h"
#include "tests/shipped_configs.h"

namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(OVERLINE_SOURCE_DIR) / "deploy" / "mesh-3region";


using overline::test::withTestMeshKey;

}  // namespace

TEST_CASE("deploy/mesh-3region configs load and describe a 3-region dual-line mesh") {
  REQUIRE(fs::is_directory(kDir));
  const auto controller =
      overline::controller::parseControllerConfig(withTestMeshKey((kDir / "controller.yaml").string()));
  INFO("controller.yaml: " << (controller ? std::string() : controller.error()));
  REQUIRE(controller.ok());
  const std::string controller_address = controller.value().listen.relays.toString();
  CHECK(controller.value().listen.admin.toString() == "127.0.0.1:7400");

  std::set<std::uint32_t> node_ids;
  std::map<std::string, int> relays_per_region;
  std::set<std::string> public_addresses;
  std::set<std::string> metrics_addresses{controller.value().metrics_listen->toString()};
  int relay_files = 0;
  for (const auto& entry : fs::directory_iterator(kDir)) {
    const std::string name = entry.path().filename().string();
    if (name == "controller.yaml") continue;
    INFO(name);
    // Every other file is a relay config named after its systemd instance.
    REQUIRE(name.rfind("relay-", 0) == 0);
    REQUIRE(entry.path().extension() == ".yaml");
    ++relay_files;
    const auto relay = overline::relay::parseRelayProcessConfig(withTestMeshKey(entry.path().string()));
    INFO((relay ? std::string() : relay.error()));
    REQUIRE(relay.ok());
    const auto& config = relay.value();

    CHECK(node_ids.insert(config.core.node_id).second);
    // relay-<region>-<n>.yaml
    CHECK(name.rfind("relay-" + config.region + "-", 0) == 0);
    ++relays_per_region[config.region];

    REQUIRE(config.lines.size() == 2);
    REQUIRE(config.advertised_lines.size() == 2);
    CHECK(config.advertised_lines[0].isp != config.advertised_lines[1].isp);
    for (std::size_t i = 0; i < config.lines.size(); ++i) {
      const auto& advertised = config.advertised_lines[i];
      REQUIRE(advertised.public_address.has_value());
      CHECK(public_addresses.insert(advertised.public_address->toString()).second);
    }

    REQUIRE(config.controller.has_value());
    CHECK(config.controller->addresses == std::vector<std::string>{controller_address});
    REQUIRE(config.metrics_listen.has_value());
    CHECK(metrics_addresses.insert(config.metrics_listen->toString()).second);
  }
  CHECK(relay_files == 6);
  CHECK(relays_per_region == std::map<std::string, int>{{"ap", 2}, {"eu", 2}, {"us", 2}});
}

TEST_CASE("deploy/grafana/overline-dashboard.json is a dashboard on the Prometheus data source variable") {
  std::ifstream in(fs::path(OVERLINE_SOURCE_DIR) / "deploy" / "grafana" / "overline-dashboard.json");
  REQUIRE(in.good());
  const auto dashboard = nlohmann::json::parse(in, nullptr, false);
  REQUIRE(!dashboard.is_discarded());
  CHECK(dashboard.at("schemaVersion").get<int>() >= 36);
  CHECK(!dashboard.at("uid").get<std::string>().empty());

  bool datasource_variable = false;
  for (const auto& variable : dashboard.at("templating").at("list")) {
    if (variable.at("name") == "datasource") {
      datasource_variable = variable.at("type") == "datasource" && variable.at("query") == "prometheus";
    }
  }
  CHECK(datasource_variable);

  std::set<int> ids;
  int queries = 0;
  for (const auto& panel : dashboard.at("panels")) {
    INFO(panel.value("title", ""));
    CHECK(ids.insert(panel.at("id").get<int>()).second);
    if (panel.at("type") == "row") continue;
    CHECK(panel.at("datasource").at("uid") == "${datasource}");
    REQUIRE(!panel.at("targets").empty());
    for (const auto& target : panel.at("targets")) {
      CHECK(target.at("datasource").at("uid") == "${datasource}");
      CHECK(!target.at("expr").get<std::string>().empty());
      ++queries;
    }
  }
  CHECK(queries > 0);
}
