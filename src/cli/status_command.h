// `plexus status [--json] [--socket PATH]`: asks a running node for its
// status over the control socket and prints it (see node/status_format.h).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace plexus::cli {

class StatusCommand {
 public:
  explicit StatusCommand(CLI::App& parent);
  bool selected() const { return app_->parsed(); }
  // 0, or 1 with a message on stderr when the node cannot be asked.
  int Run() const;

 private:
  CLI::App* app_;
  bool json_ = false;
  std::string socket_;
};

}  // namespace plexus::cli
