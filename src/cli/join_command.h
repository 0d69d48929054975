// `plexus join URL [--dir D] [--name NAME] [--config-out FILE] [--tun plx0]`:
// enrol this machine in a network with one command (DESIGN.md §1, like tinc
// invitations). It makes the node's Ed25519 identity key and X25519
// WireGuard key, enrols with the registry named by the URL (pinning its CA,
// docs/decisions/0005-join-url.md), checks what comes back, and writes
//
//   <dir>/identity.key        Ed25519 identity key (PKCS#8 PEM, 0600)
//   <dir>/wireguard.key       X25519 private key, base64 as `wg genkey` (0600)
//   <dir>/node.crt            the node certificate
//   <dir>/ca.crt              the network CA certificate
//   <dir>/network-config.json the signed network config
//   <dir>/crl.json            the signed CRL
//   <dir>/peers.json          bootstrap peer records (signed by each peer)
//   <dir>/registry.json       registry host, port, CA fingerprint, node name
//   <config-out>              a ready `plexus node` config (default <dir>/node.toml)
//
// then prints the node's name, prefix and address. Refuses a directory that
// already holds an identity key.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace plexus::cli {

class JoinCommand {
 public:
  explicit JoinCommand(CLI::App& parent);
  bool selected() const { return app_->parsed(); }
  int Run() const;

 private:
  CLI::App* app_;
  std::string url_;
  std::string dir_ = "/var/lib/plexus";
  std::string name_;
  std::string config_out_;
  std::string tun_ = "plx0";
};

}  // namespace plexus::cli
