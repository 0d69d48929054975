#include "cli/node_command.h"

#include <cstdio>

#include "base/log.h"
#include "node/config.h"
#include "node/node.h"

namespace plexus::cli {

NodeCommand::NodeCommand(CLI::App& parent)
    : app_(parent.add_subcommand("node", "Run a node in the foreground until SIGINT/SIGTERM")) {
  app_->add_option("--config", config_path_, "The node's TOML configuration file")->required();
  app_->add_option("--log-level", log_level_, "Least severe messages to log")
      ->check(CLI::IsMember({"debug", "info", "warning", "error"}))
      ->capture_default_str();
}

int NodeCommand::Run() const {
  LogLevel level;
  if (!ParseLogLevel(log_level_, level)) return 2;  // unreachable: CLI11 checked it
  SetLogLevel(level);
  auto config = node::LoadConfig(config_path_);
  if (!config) {
    std::fprintf(stderr, "plexus node: %s\n", config.error().message().c_str());
    return 1;
  }
  return node::RunNode(*config);
}

}  // namespace plexus::cli
