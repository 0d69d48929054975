// `plexus registry ...`: create and run a network's registry, and administer
// it (DESIGN.md §1). Admin commands open the state directory's database
// directly (SQLite WAL lets them run while `registry serve` does).
//
//   registry init --name NET [--dir D] [--prefix P] [--node-prefix-length L]
//                 [--ipv4 NET4] [--ipv4-node-prefix-length L4] [--domain DOMAIN]
//   registry serve [--dir D] [--listen ADDR] [--port N] [--host NAME]...
//   registry token create [--uses N] [--expires 24h] [--prefix-length L]
//                         [--url-host H] [--url-port N] [--json]
//   registry token list [--json]      registry token delete ID
//   registry nodes [--json]           registry revoke NAME|SERIAL
//   registry config set KEY VALUE     registry config show [--json]
#pragma once

#include <CLI/CLI.hpp>
#include <memory>

namespace plexus::cli {

struct RegistryOptions;

class RegistryCommand {
 public:
  explicit RegistryCommand(CLI::App& parent);
  ~RegistryCommand();
  RegistryCommand(const RegistryCommand&) = delete;
  RegistryCommand& operator=(const RegistryCommand&) = delete;

  bool selected() const { return app_->parsed(); }
  // 0 on success; 1 with a message on stderr.
  int Run() const;

 private:
  void AddInit();
  void AddServe();
  void AddToken();
  void AddAdmin();

  CLI::App* app_;
  std::unique_ptr<RegistryOptions> o_;
};

}  // namespace plexus::cli
