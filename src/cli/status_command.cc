#include "cli/status_command.h"

#include <cstdio>
#include <ctime>

#include "node/config.h"
#include "node/control_client.h"
#include "node/status_format.h"

namespace plexus::cli {

StatusCommand::StatusCommand(CLI::App& parent)
    : app_(parent.add_subcommand(
          "status", "Show a running node's interface, peers, handshakes, transfer and drops")),
      socket_(node::DefaultControlSocket(node::kDefaultTunName)) {
  app_->add_flag("--json", json_, "Print the node's status document as JSON");
  app_->add_option("--socket", socket_, "The node's control socket")->capture_default_str();
}

int StatusCommand::Run() const {
  auto client = node::ControlClient::Connect(socket_);
  if (!client) {
    std::fprintf(stderr, "%s\n", client.error().message().c_str());
    return 1;
  }
  auto status = client->Request({{"command", "status"}});
  if (!status) {
    std::fprintf(stderr, "%s: %s\n", socket_.c_str(), status.error().message().c_str());
    return 1;
  }
  std::string text =
      json_ ? status->dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"
            : node::FormatStatus(*status, static_cast<int64_t>(std::time(nullptr)));
  std::fputs(text.c_str(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace plexus::cli
