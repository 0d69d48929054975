#include "registry/registry_dir.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "identity/network_config.h"
#include "identity/revocation_list.h"

namespace plexus {
namespace {

using identity::CertificateAuthority;
using identity::SignedDocument;

constexpr int64_t kCaLifetimeSeconds = int64_t{20} * 365 * 24 * 3600;

Status RefuseExisting(const RegistryPaths& paths) {
  for (const std::string& p : {paths.ca_key(), paths.ca_cert(), paths.database()}) {
    std::error_code ec;
    if (std::filesystem::exists(p, ec)) {
      return MakeError("{} already exists: a registry is already initialised in {}", p, paths.dir);
    }
  }
  return Ok();
}

Status MakeDirectory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return MakeError("{}: cannot create: {}", dir, ec.message());
  if (::chmod(dir.c_str(), 0700) != 0) {
    return MakeError("{}: cannot chmod: {}", dir, std::strerror(errno));
  }
  return Ok();
}

Result<RegistrySettings> SettingsFor(const InitOptions& o, Random& random) {
  RegistrySettings s;
  s.network.network_name = o.network_name;
  s.network.network_prefix = o.ipv6_prefix ? o.ipv6_prefix->Network() : RandomUlaPrefix(random);
  s.network.node_prefix_length = o.node_prefix_length;
  if (o.ipv4_network) s.network.ipv4_network = o.ipv4_network->Network();
  s.network.ipv4_node_prefix_length = o.ipv4_node_prefix_length;
  s.domain = o.domain.empty() ? o.network_name : o.domain;
  if (!identity::IsValidDnsLabel(o.network_name)) {
    return MakeError("network name \"{}\": use a DNS label (1-63 of a-z, 0-9, -)", o.network_name);
  }
  if (o.ipv6_prefix && !o.ipv6_prefix->address().is_v6()) {
    return MakeError("prefix {}: not IPv6", o.ipv6_prefix->ToString());
  }
  if (Status v = ValidateSettings(s); !v) return v.error();
  return s;
}

Status WriteCa(const RegistryPaths& paths, const CertificateAuthority& ca) {
  Result<std::string> pem = ca.certificate().ToPem();
  if (!pem) return pem.error();
  if (Status s = ca.key().SavePemFile(paths.ca_key()); !s) return s;
  return WriteFileAtomic(paths.ca_cert(), *pem, 0644);
}

Result<std::unique_ptr<CertificateAuthority>> CreateCa(const RegistrySettings& s, int64_t now_unix,
                                                       Random& random) {
  Result<identity::IdentityKey> key = identity::IdentityKey::Generate();
  if (!key) return key.error();
  identity::CaOptions options{.network_name = s.network.network_name,
                              .now_unix = now_unix,
                              .lifetime_seconds = kCaLifetimeSeconds,
                              .address_space = {s.network.network_prefix}};
  if (s.network.ipv4_network) options.address_space.push_back(*s.network.ipv4_network);
  Result<CertificateAuthority> ca = CertificateAuthority::Create(std::move(*key), options, random);
  if (!ca) return ca.error().Wrap("creating the CA");
  return std::make_unique<CertificateAuthority>(std::move(*ca));
}

Status RequireFiles(const RegistryPaths& paths, std::initializer_list<std::string> files) {
  for (const std::string& p : files) {
    std::error_code ec;
    if (!std::filesystem::exists(p, ec)) {
      return MakeError("{} is missing: run `plexus registry init --dir {}` first", p, paths.dir);
    }
  }
  return Ok();
}

}  // namespace

Prefix RandomUlaPrefix(Random& random) {
  std::array<uint8_t, 16> b{};
  b[0] = 0xfd;  // RFC 4193 §3.1: FC00::/7 with L = 1
  ByteArray<5> global_id;
  random.Fill(global_id);
  for (size_t i = 0; i < global_id.size(); ++i) b[1 + i] = static_cast<uint8_t>(global_id[i]);
  return Prefix(IpAddress::V6(b), identity::kDefaultNetworkPrefixLength);
}

Result<RegistrySettings> InitRegistry(const RegistryPaths& paths, const InitOptions& options,
                                      Random& random) {
  Result<RegistrySettings> settings = SettingsFor(options, random);
  if (!settings) return settings.error();
  if (Status s = RefuseExisting(paths); !s) return s.error();
  if (Status s = MakeDirectory(paths.dir); !s) return s.error();
  Result<std::unique_ptr<CertificateAuthority>> ca = CreateCa(*settings, options.now_unix, random);
  if (!ca) return ca.error();
  if (Status s = WriteCa(paths, **ca); !s) return s.error();
  Result<std::unique_ptr<RegistryStorage>> storage = RegistryStorage::Open(paths.database());
  if (!storage) return storage.error();
  SettingsMap map = SettingsToMap(*settings);
  Result<int64_t> version =
      (*storage)->UpdateSettings([&](const SettingsMap& current) -> Result<SettingsMap> {
        if (!current.empty()) return MakeError("{}: already holds settings", paths.database());
        return map;
      });
  if (!version) return version.error();
  return settings;
}

Result<std::unique_ptr<RegistryStorage>> OpenRegistryStorage(const RegistryPaths& paths) {
  if (Status s = RequireFiles(paths, {paths.ca_cert(), paths.database()}); !s) return s.error();
  return RegistryStorage::Open(paths.database());
}

Result<Registry> Registry::Open(const RegistryPaths& paths) {
  if (Status s = RequireFiles(paths, {paths.ca_key(), paths.ca_cert(), paths.database()}); !s) {
    return s.error();
  }
  Result<identity::IdentityKey> key = identity::IdentityKey::LoadPemFile(paths.ca_key());
  if (!key) return key.error().Wrap(paths.ca_key());
  Result<std::string> pem = ReadTextFile(paths.ca_cert());
  if (!pem) return pem.error();
  Result<identity::Certificate> cert = identity::Certificate::FromPem(*pem);
  if (!cert) return cert.error().Wrap(paths.ca_cert());
  Result<CertificateAuthority> ca =
      CertificateAuthority::FromParts(std::move(*key), std::move(*cert));
  if (!ca) return ca.error().Wrap(paths.dir);
  Result<std::unique_ptr<RegistryStorage>> storage = RegistryStorage::Open(paths.database());
  if (!storage) return storage.error();
  Registry r;
  r.ca = std::make_unique<CertificateAuthority>(std::move(*ca));
  r.storage = std::move(*storage);
  return r;
}

Result<RegistrySettings> LoadSettings(RegistryStorage& storage) {
  Result<SettingsMap> map = storage.AllSettings();
  if (!map) return map.error();
  Result<RegistrySettings> settings = SettingsFromMap(*map);
  if (!settings) return settings.error().Wrap("registry settings");
  return settings;
}

Result<SignedDocument> CurrentNetworkConfig(RegistryStorage& storage,
                                            const CertificateAuthority& ca, int64_t now_unix) {
  Result<RegistrySettings> settings = LoadSettings(storage);
  if (!settings) return settings.error();
  Result<int64_t> version = storage.NetworkVersion();
  if (!version) return version.error();
  Result<int64_t> crl = storage.CrlVersion();
  if (!crl) return crl.error();
  settings->network.crl_version = static_cast<uint64_t>(*crl) + 1;
  return identity::SignNetworkConfig(settings->network, static_cast<uint64_t>(*version), now_unix,
                                     ca.key());
}

Result<SignedDocument> CurrentRevocationList(RegistryStorage& storage,
                                             const CertificateAuthority& ca, int64_t now_unix) {
  Result<int64_t> version = storage.CrlVersion();
  if (!version) return version.error();
  Result<std::vector<std::string>> serials = storage.RevokedSerials();
  if (!serials) return serials.error();
  Result<identity::RevocationList> list =
      identity::RevocationList::Create(static_cast<uint64_t>(*version) + 1, *serials);
  if (!list) return list.error();
  return list->Sign(now_unix, ca.key());
}

Status WriteFileAtomic(const std::string& path, std::string_view text, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return MakeError("{}: cannot create: {}", tmp, std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0 &&
            ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  int saved = errno;
  if (::close(fd) != 0 || !ok) {
    ::unlink(tmp.c_str());
    return MakeError("{}: cannot write: {}", tmp, std::strerror(saved));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return MakeError("{}: cannot rename to {}: {}", tmp, path, std::strerror(errno));
  }
  return Ok();
}

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError("{}: cannot read: {}", path, std::strerror(errno));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Result<std::string> CertificateFingerprint(const identity::Certificate& cert) {
  Result<Bytes> der = cert.ToDer();
  if (!der) return der.error();
  ByteArray<32> digest;
  unsigned int len = 0;
  if (EVP_Digest(U8(ByteSpan(*der)), der->size(), U8(MutableByteSpan(digest)), &len, EVP_sha256(),
                 nullptr) != 1 ||
      len != digest.size()) {
    return MakeError("SHA-256 of the certificate failed");
  }
  return ToHex(digest);
}

}  // namespace plexus
