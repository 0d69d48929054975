// `plexus genkey` and `plexus pubkey`: interchangeable with `wg genkey` and
// `wg pubkey` (base64 X25519 keys, one per line).
#pragma once

#include <CLI/CLI.hpp>

namespace plexus::cli {

// Prints a new private key.
class GenkeyCommand {
 public:
  explicit GenkeyCommand(CLI::App& parent);
  bool selected() const { return app_->parsed(); }
  int Run() const;

 private:
  CLI::App* app_;
};

// Reads a private key on stdin and prints its public key.
class PubkeyCommand {
 public:
  explicit PubkeyCommand(CLI::App& parent);
  bool selected() const { return app_->parsed(); }
  int Run() const;

 private:
  CLI::App* app_;
};

}  // namespace plexus::cli
