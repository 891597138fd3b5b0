#pragma once
// `overlinectl pki`: the deployment's small CA (common/tls/pki.h), so that
// nobody has to learn openssl to deploy.
//
//   overlinectl pki init [--name NAME] [--dir DIR] [--days N]
//   overlinectl pki issue-controller [--name NAME] [--san HOST_OR_IP ...] [--dir DIR] [--days N]
//   overlinectl pki issue-relay NODE_ID [--dir DIR] [--days N]
//   overlinectl pki issue-operator NAME [--read-only] [--dir DIR] [--days N]
//
// --dir defaults to /etc/overline/pki; --days to 3650 for the CA and 365 for
// the others. Each written file is reported on one line ("wrote
// /etc/overline/pki/relay-7.pem (relay 7, valid until ...)"); an error is
// one line "overlinectl: <error>" on stderr. Works offline: no controller.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace overline::controller {

class PkiCommand {
 public:
  // Registers "pki" and its subcommands on `app`. CLI11 writes the parsed
  // options into this object, so it must outlive parsing and stay put.
  explicit PkiCommand(CLI::App& app);
  PkiCommand(const PkiCommand&) = delete;
  PkiCommand& operator=(const PkiCommand&) = delete;

  // Whether the command line chose `pki` (after app.parse()).
  bool chosen() const;
  // Runs the chosen subcommand. Exit status: 0 done; 1 failed (files, the
  // CA); 2 bad arguments (node id 0, a bad name or SAN).
  int run() const;

 private:
  int init() const;
  int issueController() const;
  int issueRelay() const;
  int issueOperator() const;

  CLI::App* pki_ = nullptr;
  CLI::App* init_ = nullptr;
  CLI::App* controller_ = nullptr;
  CLI::App* relay_ = nullptr;
  CLI::App* operator_ = nullptr;

  std::string dir_ = "/etc/overline/pki";
  std::uint32_t ca_days_ = 3650;
  std::uint32_t leaf_days_ = 365;
  std::string ca_name_ = "Overline CA";
  std::string controller_name_ = "main";
  std::vector<std::string> sans_;
  std::string node_;
  std::string operator_name_;
  bool read_only_ = false;
};

}  // namespace overline::controller
