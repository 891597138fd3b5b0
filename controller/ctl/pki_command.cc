#include "controller/ctl/pki_command.h"


#include <cstdio>
#include <ctime>
#include <optional>

#include "common/result.h"
#include "common/tls/peer_identity.h"
#include "common/tls/pki.h"
#include "common/tls/utc_time.h"

namespace overline::controller {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr std::uint32_t kMaxDays = 36'500;

int failed(const std::string& message, int status) {
  std::fprintf(stderr, "overlinectl: %s\n", message.c_str());
  return status;
}

std::int64_t nowUnixS() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::string joinPath(const std::string& dir, const std::string& file) {
  if (dir.empty()) return file;
  return dir.back() == '/' ? dir + file : dir + "/" + file;
}

// "/x/relay-7.pem" -> "/x/relay-7.key".
std::string keyPathOf(const std::string& cert_path) {
  const std::string suffix = ".pem";
  if (cert_path.size() >= suffix.size() &&
      cert_path.compare(cert_path.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return cert_path.substr(0, cert_path.size() - suffix.size()) + ".key";
  }
  return cert_path + ".key";
}

// Issues `identity` and reports the two files; `names` (controller only)
// lists its DNS/IP names.
int issue(const std::string& dir, const tls::IssueRequest& request, const std::string& names = {}) {
  const auto cert_path = tls::issueCertificate(dir, request);
  if (!cert_path) return failed(cert_path.error(), kExitFailed);
  const std::string names_text = names.empty() ? "" : "; names " + names;
  std::printf("wrote %s (%s, valid until %s%s)\n", cert_path.value().c_str(),
              tls::describe(request.identity).c_str(), tls::utcTime(request.validity.not_after_unix_s).c_str(),
              names_text.c_str());
  std::printf("wrote %s (its private key, mode 0600)\n", keyPathOf(cert_path.value()).c_str());
  return kExitOk;
}

}  // namespace

PkiCommand::PkiCommand(CLI::App& app) {
  pki_ = app.add_subcommand("pki", "The deployment's certificate authority: create it, issue certificates");
  pki_->require_subcommand(1);

  const auto common = [&](CLI::App* command, std::uint32_t& days) {
    command->add_option("--dir", dir_, "Directory of the CA and the issued files")->capture_default_str();
    command->add_option("--days", days, "Validity in days")->capture_default_str()->check(CLI::Range(1u, kMaxDays));
  };

  init_ = pki_->add_subcommand("init", "Create the CA (ca.pem, ca.key); never overwrites one");
  common(init_, ca_days_);
  init_->add_option("--name", ca_name_, "The CA's common name")->capture_default_str();

  controller_ = pki_->add_subcommand("issue-controller", "Issue the controller's certificate (controller.pem/.key)");
  common(controller_, leaf_days_);
  controller_->add_option("--name", controller_name_, "The controller's name")->capture_default_str();
  controller_->add_option("--san", sans_,
                          "An extra DNS name or IP address clients may dial it by (repeat); "
                          "\"overline-controller\" is always included");

  relay_ = pki_->add_subcommand("issue-relay", "Issue a relay's certificate (relay-<id>.pem/.key)");
  common(relay_, leaf_days_);
  relay_->add_option("NODE_ID", node_, "The relay's node id")->required();

  operator_ = pki_->add_subcommand("issue-operator", "Issue an operator's certificate (operator-<name>.pem/.key)");
  common(operator_, leaf_days_);
  operator_->add_option("NAME", operator_name_, "The operator's name: 1..64 of A-Z a-z 0-9 _ . -")->required();
  operator_->add_flag("--read-only", read_only_, "Allow only the Admin API's reads");
}

bool PkiCommand::chosen() const { return pki_->parsed(); }

int PkiCommand::run() const {
  if (init_->parsed()) return init();
  if (controller_->parsed()) return issueController();
  if (relay_->parsed()) return issueRelay();
  if (operator_->parsed()) return issueOperator();
  return failed("pki: a subcommand is required", kExitUsage);
}

int PkiCommand::init() const {
  if (ca_name_.empty() || ca_name_.size() > 64) return failed("bad CA name: expected 1..64 characters", kExitUsage);
  const tls::Validity validity = tls::validFor(nowUnixS(), ca_days_);
  if (auto error = tls::initAuthority(dir_, ca_name_, validity)) return failed(*error, kExitFailed);
  std::printf("wrote %s (CA \"%s\", valid until %s)\n", joinPath(dir_, "ca.pem").c_str(), ca_name_.c_str(),
              tls::utcTime(validity.not_after_unix_s).c_str());
  std::printf("wrote %s (the CA's private key, mode 0600: keep it offline after issuing)\n",
              joinPath(dir_, "ca.key").c_str());
  return kExitOk;
}

int PkiCommand::issueController() const {
  const auto identity = tls::parseIdentityUri("overline:controller:" + controller_name_);
  if (!identity) return failed(identity.error(), kExitUsage);
  std::string names = tls::kControllerServerName;
  for (const std::string& san : sans_) {
    if (!tls::validExtraSan(san)) return failed("bad --san '" + san + "': expected a host name or an IP address", kExitUsage);
    if (san != tls::kControllerServerName) names += ", " + san;
  }
  tls::IssueRequest request;
  request.identity = identity.value();
  request.validity = tls::validFor(nowUnixS(), leaf_days_);
  request.extra_sans = sans_;
  return issue(dir_, request, names);
}

int PkiCommand::issueRelay() const {
  const auto identity = tls::parseIdentityUri("overline:relay:" + node_);
  if (!identity) return failed(identity.error(), kExitUsage);
  tls::IssueRequest request;
  request.identity = identity.value();
  request.validity = tls::validFor(nowUnixS(), leaf_days_);
  return issue(dir_, request);
}

int PkiCommand::issueOperator() const {
  const auto identity =
      tls::parseIdentityUri("overline:operator:" + operator_name_ + (read_only_ ? ":read" : ":write"));
  if (!identity) return failed(identity.error(), kExitUsage);
  tls::IssueRequest request;
  request.identity = identity.value();
  request.validity = tls::validFor(nowUnixS(), leaf_days_);
  return issue(dir_, request);
}

}  // namespace overline::controller
