#include "cli/query_command.h"

#include <cstdio>

#include "node/config.h"
#include "node/control_client.h"

namespace plexus::cli {

QueryCommand::QueryCommand(CLI::App& parent, const std::string& name,
                           const std::string& description, Formatter format)
    : app_(parent.add_subcommand(name, description)),
      command_(name),
      format_(std::move(format)),
      socket_(node::DefaultControlSocket(node::kDefaultTunName)) {
  app_->add_flag("--json", json_, "Print the node's " + name + " document as JSON");
  app_->add_option("--socket", socket_, "The node's control socket")->capture_default_str();
}

int QueryCommand::Run() const {
  auto client = node::ControlClient::Connect(socket_);
  if (!client) {
    std::fprintf(stderr, "%s\n", client.error().message().c_str());
    return 1;
  }
  auto answer = client->Request({{"command", command_}});
  if (!answer) {
    std::fprintf(stderr, "%s: %s\n", socket_.c_str(), answer.error().message().c_str());
    return 1;
  }
  std::string text =
      json_ ? answer->dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"
            : format_(*answer);
  std::fputs(text.c_str(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace plexus::cli
