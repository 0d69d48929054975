// NodeIdentity: what `plexus join` left in the node's state directory, read
// and checked once at start (DESIGN.md §2.3), and the documents the node
// writes back there as newer ones arrive.
//
//   <dir>/ca.crt               the network CA (PEM)
//   <dir>/node.crt             this node's certificate (PEM), renewed in place
//   <dir>/crl.json             the newest signed CRL the node holds
//   <dir>/network-config.json  the newest signed network config
//   <dir>/registry.json        {"host","port","ca_fingerprint","name","network"}
//
// The node's own certificate must chain to the CA and carry the node's
// WireGuard key: a node that would be refused by every peer fails at start
// with the reason, instead of running cut off. An expired certificate is
// only a warning (renewal may fix it; peers will refuse the links meanwhile).
//
// Thread use: plain values and functions; SaveDocument from one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/x25519.h"
#include "identity/certificate.h"
#include "identity/signed_document.h"

namespace plexus::node {

struct NodeIdentity {
  std::string dir;
  identity::Certificate ca;
  identity::Certificate certificate;  // ours
  Bytes certificate_der;
  std::optional<identity::SignedDocument> crl;
  std::optional<identity::SignedDocument> network_config;
  std::string name;     // our certificate's CN
  std::string network;  // its O
};

// Reads and checks the state directory for the node whose WireGuard key is
// `wireguard_key`; errors name the file and what is wrong with it.
Result<NodeIdentity> LoadNodeIdentity(const std::string& dir,
                                      const crypto::PublicKey& wireguard_key, int64_t now_unix);

// Writes a newer CRL or network config (by its kind) to the state directory,
// atomically, so a restarted node starts from it without the registry.
Status SaveDocument(const std::string& dir, const identity::SignedDocument& doc);

}  // namespace plexus::node
