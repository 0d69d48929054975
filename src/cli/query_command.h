// `plexus status|routes [--json] [--socket PATH]`: asks a running node for a
// document over the control socket (node/control_server.h) and prints it,
// as text through a formatter or as JSON.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace plexus::cli {

class QueryCommand {
 public:
  using Formatter = std::function<std::string(const nlohmann::json&)>;

  // `name` is both the subcommand and the control-socket command.
  QueryCommand(CLI::App& parent, const std::string& name, const std::string& description,
               Formatter format);

  bool selected() const { return app_->parsed(); }
  // 0, or 1 with a message on stderr when the node cannot be asked.
  int Run() const;

 private:
  CLI::App* app_;
  std::string command_;
  Formatter format_;
  bool json_ = false;
  std::string socket_;
};

}  // namespace plexus::cli
