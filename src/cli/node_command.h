// `plexus node --config FILE [--log-level LEVEL]`: runs a node in the
// foreground until SIGINT or SIGTERM.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace plexus::cli {

class NodeCommand {
 public:
  explicit NodeCommand(CLI::App& parent);
  bool selected() const { return app_->parsed(); }
  // The node's exit code; 1 with a message on stderr for a bad config.
  int Run() const;

 private:
  CLI::App* app_;
  std::string config_path_;
  std::string log_level_ = "info";
};

}  // namespace plexus::cli
