// The registry's state directory (DESIGN.md §1) and what `registry init`
// puts in it:
//
//   <dir>/ca.key        the network CA's Ed25519 key (PKCS#8 PEM, 0600)
//   <dir>/ca.crt        the CA's self-signed certificate
//   <dir>/registry.db   RegistryStorage (SQLite, WAL): settings, nodes, tokens
//   <dir>/server.key    the HTTPS server key (0600), made by `registry serve`
//   <dir>/server.crt    the HTTPS server certificate, signed by the CA
//
// Also the signed documents the registry hands out, built from the database
// at the moment they are asked for (so `config set` and `revoke`, run by
// another process on the same database, take effect at once):
//   network config   version = the storage's network version (1 after init)
//   CRL              version = 1 + the number of revocations; the network
//                    config's crl_version names it
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/ip.h"
#include "base/random.h"
#include "base/result.h"
#include "identity/certificate_authority.h"
#include "identity/signed_document.h"
#include "registry/network_settings.h"
#include "registry/storage.h"

namespace plexus {

struct RegistryPaths {
  std::string dir;

  std::string ca_key() const { return dir + "/ca.key"; }
  std::string ca_cert() const { return dir + "/ca.crt"; }
  std::string database() const { return dir + "/registry.db"; }
  std::string server_key() const { return dir + "/server.key"; }
  std::string server_cert() const { return dir + "/server.crt"; }
};

struct InitOptions {
  std::string network_name;           // a DNS label; also the default domain
  std::optional<Prefix> ipv6_prefix;  // default: RandomUlaPrefix()
  int node_prefix_length = identity::kDefaultNodePrefixLength;
  std::optional<Prefix> ipv4_network;
  int ipv4_node_prefix_length = identity::kDefaultIpv4NodePrefixLength;
  std::string domain;  // default: the network name
  int64_t now_unix = 0;
};

// A random RFC 4193 unique local /48: fd00::/8 + a 40-bit random Global ID
// (§3.2; the CSPRNG stands in for §3.2.2's suggested SHA-1 construction).
Prefix RandomUlaPrefix(Random& random);

// Creates the CA and the database in `dir` (created 0700 if missing). Refuses
// when any of ca.key, ca.crt or registry.db already exists. Returns the
// settings written.
Result<RegistrySettings> InitRegistry(const RegistryPaths& paths, const InitOptions& options,
                                      Random& random);

// An initialised registry: its CA and its database. Owned by one thread.
struct Registry {
  std::unique_ptr<identity::CertificateAuthority> ca;
  std::unique_ptr<RegistryStorage> storage;

  static Result<Registry> Open(const RegistryPaths& paths);
};

// Only the database of an initialised registry (for admin commands that need
// no CA key); never creates one.
Result<std::unique_ptr<RegistryStorage>> OpenRegistryStorage(const RegistryPaths& paths);

// The current settings from `storage`.
Result<RegistrySettings> LoadSettings(RegistryStorage& storage);
// The network config and CRL as the registry signs them now.
Result<identity::SignedDocument> CurrentNetworkConfig(RegistryStorage& storage,
                                                      const identity::CertificateAuthority& ca,
                                                      int64_t now_unix);
Result<identity::SignedDocument> CurrentRevocationList(RegistryStorage& storage,
                                                       const identity::CertificateAuthority& ca,
                                                       int64_t now_unix);

// File helpers shared with `plexus join`: writes `path` through a temporary
// file, fsync and rename, with `mode`.
Status WriteFileAtomic(const std::string& path, std::string_view text, mode_t mode);
Result<std::string> ReadTextFile(const std::string& path);

// Lowercase hex SHA-256 of the certificate's DER, as in `openssl x509
// -fingerprint -sha256` without the colons.
Result<std::string> CertificateFingerprint(const identity::Certificate& cert);

}  // namespace plexus
