// plexus: one binary, subcommands (DESIGN.md §1).
//
// Exit codes: 0 success, 1 the command failed, 2 bad usage (CLI11's message).
#include <CLI/CLI.hpp>
#include <ctime>
#include <iostream>

#include "cli/join_command.h"
#include "cli/key_commands.h"
#include "cli/node_command.h"
#include "cli/query_command.h"
#include "cli/registry_command.h"
#include "node/routes_format.h"
#include "node/status_format.h"

#ifndef PLEXUS_VERSION
#define PLEXUS_VERSION "unknown"
#endif

namespace plexus::cli {
namespace {

constexpr int kUsageError = 2;

int Main(int argc, char** argv) {
  CLI::App app("plexus: a mesh VPN whose links speak the WireGuard protocol", "plexus");
  app.set_version_flag("--version", "plexus " PLEXUS_VERSION);
  app.require_subcommand(0, 1);
  GenkeyCommand genkey(app);
  PubkeyCommand pubkey(app);
  NodeCommand node(app);
  RegistryCommand registry(app);
  JoinCommand join(app);
  QueryCommand status(app, "status",
                      "Show a running node's interface, peers, handshakes, transfer and drops",
                      [](const nlohmann::json& j) {
                        return node::FormatStatus(j, static_cast<int64_t>(std::time(nullptr)));
                      });
  QueryCommand routes(app, "routes",
                      "Show a running node's Babel neighbours and routes (metric, RTT, next hop)",
                      [](const nlohmann::json& j) { return node::FormatRoutes(j); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kUsageError;
  }
  if (genkey.selected()) return genkey.Run();
  if (pubkey.selected()) return pubkey.Run();
  if (node.selected()) return node.Run();
  if (registry.selected()) return registry.Run();
  if (join.selected()) return join.Run();
  if (status.selected()) return status.Run();
  if (routes.selected()) return routes.Run();
  std::cerr << app.help();
  return kUsageError;
}

}  // namespace
}  // namespace plexus::cli

int main(int argc, char** argv) {
  // CLI11 and the standard library report misuse by throwing; say what
  // happened instead of aborting.
  try {
    return plexus::cli::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "plexus: " << e.what() << "\n";
    return 1;
  }
}
