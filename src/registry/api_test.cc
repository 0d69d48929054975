#include "registry/api.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "base/base64.h"
#include "identity/network_config.h"
#include "identity/peer_record.h"
#include "identity/revocation_list.h"
#include "identity/verify.h"
#include "registry/registry_dir.h"
#include "testing/fake_random.h"

namespace plexus {
namespace {

using identity::Certificate;
using identity::IdentityKey;
using identity::SignedDocument;
using nlohmann::json;

constexpr int64_t kNow = 1'800'000'000;
constexpr int64_t kHour = 3600;

Prefix P(std::string_view text) {
  Result<Prefix> p = Prefix::Parse(text);
  EXPECT_TRUE(p.ok()) << text;
  return p.ok() ? *p : Prefix();
}

struct NodeKeys {
  IdentityKey identity;
  crypto::PrivateKey wireguard;
};

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override { Init("fd12:3456:789a::/48", 64, "10.42.0.0/16"); }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  void Init(std::string_view prefix, int node_length, std::string_view ipv4) {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    std::string tmpl = (std::filesystem::temp_directory_path() / "plexus-api-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    RegistryPaths paths{dir_ + "/registry"};
    InitOptions o{.network_name = "meshnet",
                  .ipv6_prefix = P(prefix),
                  .node_prefix_length = node_length,
                  .ipv4_network = ipv4.empty() ? std::nullopt : std::optional(P(ipv4)),
                  .ipv4_node_prefix_length = 32,
                  .domain = "mesh.example",
                  .now_unix = kNow - 24 * kHour};
    Result<RegistrySettings> s = InitRegistry(paths, o, random_);
    ASSERT_TRUE(s.ok()) << s.error().message();
    api_.reset();
    Result<Registry> r = Registry::Open(paths);
    ASSERT_TRUE(r.ok()) << r.error().message();
    registry_ = std::move(*r);
    api_ = std::make_unique<RegistryApi>(*registry_.storage, *registry_.ca, random_);
  }

  std::string Token(int uses = 1, int64_t lifetime = kHour, int prefix_length = 64) {
    IssuedToken t = MakeToken(random_, UnixSeconds(std::chrono::seconds(kNow)),
                              std::chrono::seconds(lifetime), uses, prefix_length);
    EXPECT_TRUE(registry_.storage->AddToken(t.token).ok());
    return t.Text();
  }
  NodeKeys Keys() {
    Result<IdentityKey> k = IdentityKey::Generate();
    EXPECT_TRUE(k.ok());
    return NodeKeys{std::move(*k), crypto::PrivateKey::Generate(random_)};
  }
  static std::string JoinBody(const std::string& token, const std::string& name,
                              const NodeKeys& keys) {
    return json{{"token", token},
                {"name", name},
                {"identity_key", Base64Encode(keys.identity.public_key().span())},
                {"wireguard_key", keys.wireguard.Public().ToBase64()}}
        .dump();
  }
  ApiResponse Post(std::string_view path, const std::string& body, int64_t now = kNow) {
    return api_->Handle("POST", path, body, now);
  }
  ApiResponse Get(std::string_view path, int64_t now = kNow) {
    return api_->Handle("GET", path, "", now);
  }
  json Join(const std::string& token, const std::string& name, const NodeKeys& keys) {
    ApiResponse r = Post("/v1/join", JoinBody(token, name, keys));
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }
  static std::string ErrorOf(const ApiResponse& r) {
    json j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"].get<std::string>() : "<no error>";
  }
  int UsesLeft(const std::string& token) {
    Result<std::optional<plexus::Token>> t =
        registry_.storage->FindToken(token.substr(0, token.find('.')));
    return t.ok() && t->has_value() ? (*t)->uses_left : -1;
  }
  size_t NodeCount() { return registry_.storage->ListNodes()->size(); }
  SignedDocument Document(const json& j) {
    Result<SignedDocument> d = identity::DecodeSignedDocument(j.dump());
    EXPECT_TRUE(d.ok());
    return d.ok() ? std::move(*d) : SignedDocument{};
  }
  identity::IdentityPublicKey CaKey() { return registry_.ca->key().public_key(); }

  testing::FakeRandom random_{11};
  std::string dir_;
  Registry registry_;
  std::unique_ptr<RegistryApi> api_;
};

TEST_F(ApiTest, JoinIssuesACertificateThatVerifiesWithEverythingANodeNeeds) {
  NodeKeys keys = Keys();
  json j = Join(Token(), "alpha", keys);
  Result<Certificate> cert = Certificate::FromPem(j["certificate"].get<std::string>());
  ASSERT_TRUE(cert.ok());
  identity::CertificateVerdict v = identity::VerifyNodeCertificate(
      *cert, registry_.ca->certificate(), kNow, {}, keys.wireguard.Public());
  EXPECT_TRUE(v.ok()) << v.message;
  EXPECT_EQ(cert->SubjectCommonName(), "alpha");
  EXPECT_EQ(cert->DnsNames(), std::vector<std::string>{"alpha.mesh.example"});
  EXPECT_EQ(j["serial"], cert->SerialHex());
  EXPECT_EQ(j["prefix"], "fd12:3456:789a::/64");
  EXPECT_EQ(j["address"], "fd12:3456:789a::1");
  EXPECT_EQ(j["ipv4"], "10.42.0.1/32");
  identity::VerifiedNetworkConfig config =
      identity::VerifyNetworkConfig(Document(j["network_config"]), CaKey(), 0);
  ASSERT_TRUE(config.verdict.ok()) << config.verdict.message;
  EXPECT_EQ(config.config.network_prefix, P("fd12:3456:789a::/48"));
  EXPECT_TRUE(identity::VerifyRevocationList(Document(j["crl"]), CaKey(), 0).verdict.ok());
  EXPECT_TRUE(j["bootstrap"].is_array());
  EXPECT_EQ(NodeCount(), 1u);
}

TEST_F(ApiTest, UsedTokenIsRefusedAndNothingChanges) {
  std::string token = Token(1);
  NodeKeys a = Keys();
  NodeKeys b = Keys();
  Join(token, "alpha", a);
  ApiResponse r = Post("/v1/join", JoinBody(token, "beta", b));
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(ErrorOf(r).find("token"), std::string::npos) << ErrorOf(r);
  EXPECT_NE(ErrorOf(r).find("no use left"), std::string::npos) << ErrorOf(r);
  EXPECT_EQ(NodeCount(), 1u);
}

TEST_F(ApiTest, ExpiredTokenIsRefused) {
  std::string token = Token(1, kHour);
  ApiResponse r = api_->Handle("POST", "/v1/join", JoinBody(token, "alpha", Keys()), kNow + kHour);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(ErrorOf(r).find("expired"), std::string::npos) << ErrorOf(r);
  EXPECT_EQ(UsesLeft(token), 1);
  EXPECT_EQ(NodeCount(), 0u);
}

TEST_F(ApiTest, UnknownWrongAndMalformedTokensAreRefused) {
  std::string real = Token(1);
  std::string unknown = "AAAAAAAAAAA" + real.substr(real.find('.'));
  std::string wrong_secret = real.substr(0, real.find('.') + 1) + "AAAAAAAAAAAAAAAAAAAAAA";
  for (const std::string& token : {unknown, wrong_secret, std::string("not-a-token")}) {
    ApiResponse r = Post("/v1/join", JoinBody(token, "alpha", Keys()));
    EXPECT_EQ(r.status, 403) << token;
    EXPECT_TRUE(ErrorOf(r).starts_with("token: ")) << ErrorOf(r);
  }
  EXPECT_EQ(UsesLeft(real), 1);
  EXPECT_EQ(NodeCount(), 0u);
}

TEST_F(ApiTest, MalformedJoinRequestsAre400NamingTheField) {
  NodeKeys k = Keys();
  json good = json::parse(JoinBody(Token(), "alpha", k));
  auto with = [&](const char* field, json value) {
    json j = good;
    j[field] = std::move(value);
    return j.dump();
  };
  json missing = good;
  missing.erase("wireguard_key");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{not json", "body: not valid JSON"},
      {"[1,2,3]", "body: not a JSON object"},
      {"", "body: not valid JSON"},
      {with("token", 42), "token: not a string"},
      {with("name", json::array()), "name: not a string"},
      {with("name", "Bad_Name"), "name: "},
      {with("name", std::string(64, 'a')), "name: "},
      {with("identity_key", "!!!"), "identity_key: not base64"},
      {with("identity_key", "AAAA"), "identity_key: 3 bytes, want 32"},
      {with("wireguard_key", nullptr), "wireguard_key: not a string"},
      {with("extra", 1), "extra: unknown field"},
      {missing.dump(), "wireguard_key: missing"},
  };
  for (const auto& [body, want] : cases) {
    ApiResponse r = Post("/v1/join", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_TRUE(ErrorOf(r).starts_with(want)) << body << " -> " << ErrorOf(r);
  }
  EXPECT_EQ(NodeCount(), 0u);
}

TEST_F(ApiTest, HugeBodyIs413) {
  std::string body(kMaxApiBodySize + 1, ' ');
  ApiResponse r = Post("/v1/join", body);
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(ErrorOf(r).starts_with("body: ")) << ErrorOf(r);
}

TEST_F(ApiTest, InvalidUtf8InARequestNeverCrashes) {
  std::string body = "{\"token\":\"\xff\xfe\",\"name\":\"a\"}";
  ApiResponse r = Post("/v1/join", body);
  EXPECT_EQ(r.status, 400);
}

TEST_F(ApiTest, TakenNameIs409AndKeepsTheTokenUse) {
  Join(Token(), "alpha", Keys());
  std::string token = Token(1);
  ApiResponse r = Post("/v1/join", JoinBody(token, "alpha", Keys()));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(ErrorOf(r), "name: node alpha already exists");
  EXPECT_EQ(UsesLeft(token), 1);
}

TEST_F(ApiTest, UnknownPathIs404AndWrongMethodIs405) {
  EXPECT_EQ(Get("/v1/nothing").status, 404);
  EXPECT_EQ(Get("/v2/join").status, 404);
  EXPECT_EQ(Get("/v1/join").status, 405);
  EXPECT_EQ(Post("/v1/crl", "{}").status, 405);
  EXPECT_EQ(api_->Handle("DELETE", "/v1/config", "", kNow).status, 405);
}

TEST_F(ApiTest, NoPrefixIsIssuedTwiceAndAFullNetworkIsAClearError) {
  Init("fd00:1::/126", 127, "");
  std::string token = Token(5, kHour, 127);
  std::set<std::string> prefixes;
  for (const char* name : {"alpha", "beta"}) prefixes.insert(Join(token, name, Keys())["prefix"]);
  EXPECT_EQ(prefixes, (std::set<std::string>{"fd00:1::/127", "fd00:1::2/127"}));
  ApiResponse r = Post("/v1/join", JoinBody(token, "gamma", Keys()));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(ErrorOf(r), "prefix: network full: no free /127 left in fd00:1::/126");
  EXPECT_EQ(UsesLeft(token), 3);
  registry_.storage->RevokeNode("alpha", UnixSeconds(std::chrono::seconds(kNow))).ok();
  EXPECT_EQ(Post("/v1/join", JoinBody(token, "delta", Keys())).status, 409)
      << "a revoked node's prefix stays allocated";
}

TEST_F(ApiTest, TokenPrefixLengthDecidesTheNodePrefix) {
  json j = Join(Token(1, kHour, 56), "alpha", Keys());
  EXPECT_EQ(j["prefix"], "fd12:3456:789a::/56");
  json k = Join(Token(1, kHour, 64), "beta", Keys());
  EXPECT_EQ(k["prefix"], "fd12:3456:789a:100::/64");
}

TEST_F(ApiTest, RenewGivesANewCertificateForTheSamePrefix) {
  NodeKeys keys = Keys();
  json joined = Join(Token(), "alpha", keys);
  Result<std::string> request = MakeRenewRequest("alpha", keys.identity, kNow + 60);
  ASSERT_TRUE(request.ok());
  ApiResponse r = Post("/v1/renew", *request, kNow + 60);
  ASSERT_EQ(r.status, 200) << r.body;
  json renewed = json::parse(r.body);
  EXPECT_EQ(renewed["prefix"], joined["prefix"]);
  EXPECT_EQ(renewed["ipv4"], joined["ipv4"]);
  EXPECT_NE(renewed["serial"], joined["serial"]);
  EXPECT_EQ((*registry_.storage->FindNode("alpha"))->serial, renewed["serial"]);
  EXPECT_EQ(Post("/v1/renew", *request, kNow + 61).status, 403) << "a replay is refused";
}

TEST_F(ApiTest, RenewWithABadSignatureOrStaleTimestampIsRefused) {
  NodeKeys keys = Keys();
  json joined = Join(Token(), "alpha", keys);
  NodeKeys other = Keys();
  Result<std::string> forged = MakeRenewRequest("alpha", other.identity, kNow + 60);
  ApiResponse r = Post("/v1/renew", *forged, kNow + 60);
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(ErrorOf(r).starts_with("signature: ")) << ErrorOf(r);
  json tampered = json::parse(*MakeRenewRequest("alpha", keys.identity, kNow + 60));
  tampered["signature"] = Base64Encode(Bytes(64, std::byte{7}));
  EXPECT_EQ(Post("/v1/renew", tampered.dump(), kNow + 60).status, 403);
  Result<std::string> stale = MakeRenewRequest("alpha", keys.identity, kNow + 60);
  r = Post("/v1/renew", *stale, kNow + 60 + kMaxRequestClockSkewSeconds + 1);
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(ErrorOf(r).starts_with("timestamp: ")) << ErrorOf(r);
  EXPECT_EQ(Post("/v1/renew", "{\"kind\":1}", kNow).status, 400);
  EXPECT_EQ((*registry_.storage->FindNode("alpha"))->serial, joined["serial"]);
}

TEST_F(ApiTest, RevokeThenTheCrlHoldsEveryCertificateOfTheNode) {
  NodeKeys keys = Keys();
  json joined = Join(Token(2), "alpha", keys);
  Join(Token(), "beta", Keys());
  json renewed = json::parse(
      Post("/v1/renew", *MakeRenewRequest("alpha", keys.identity, kNow + 60), kNow + 60).body);
  uint64_t config_before = Document(json::parse(Get("/v1/config").body)).version;
  ASSERT_TRUE(registry_.storage->RevokeNode("alpha", UnixSeconds(std::chrono::seconds(kNow))).ok());
  identity::VerifiedRevocationList crl =
      identity::VerifyRevocationList(Document(json::parse(Get("/v1/crl").body)), CaKey(), 1);
  ASSERT_TRUE(crl.verdict.ok()) << crl.verdict.message;
  EXPECT_EQ(crl.list.version(), 2u);
  EXPECT_TRUE(crl.list.IsRevoked(joined["serial"].get<std::string>()));
  EXPECT_TRUE(crl.list.IsRevoked(renewed["serial"].get<std::string>()));
  EXPECT_EQ(crl.list.serials().size(), 2u);
  identity::VerifiedNetworkConfig config = identity::VerifyNetworkConfig(
      Document(json::parse(Get("/v1/config").body)), CaKey(), config_before);
  ASSERT_TRUE(config.verdict.ok()) << config.verdict.message;
  EXPECT_EQ(config.config.crl_version, 2u);
  Result<std::string> renew = MakeRenewRequest("alpha", keys.identity, kNow + 120);
  EXPECT_EQ(Post("/v1/renew", *renew, kNow + 120).status, 403) << "a revoked node cannot renew";
}

TEST_F(ApiTest, ConfigSetBumpsTheSignedVersion) {
  SignedDocument before = Document(json::parse(Get("/v1/config").body));
  Result<int64_t> v = registry_.storage->UpdateSettings(
      [](const SettingsMap& m) { return ApplySetting(m, "client_count", "5"); });
  ASSERT_TRUE(v.ok()) << v.error().message();
  identity::VerifiedNetworkConfig after = identity::VerifyNetworkConfig(
      Document(json::parse(Get("/v1/config").body)), CaKey(), before.version);
  ASSERT_TRUE(after.verdict.ok()) << after.verdict.message;
  EXPECT_EQ(after.version, before.version + 1);
  EXPECT_EQ(after.config.client_count, 5u);
}

TEST_F(ApiTest, ConfigSetRefusesBadKeysAndValuesAndChangesNothing) {
  int64_t version = *registry_.storage->NetworkVersion();
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"colour", "blue", "colour: unknown key (settable: "},
      {"network_prefix", "fd00::/48", "network_prefix: fixed at `registry init`"},
      {"client_count", "many", "client_count: \"many\" is not an integer"},
      {"max_clients", "2", "max_clients: 2 is below client_count 3"},
      {"babel_hello_interval_ms", "1005", "babel_hello_interval_ms: 1005 is not a multiple"},
      {"grants", "gw1", "grants: \"gw1\" is not node=prefix"},
      {"domain", "Not A Domain", "domain: "},
  };
  for (const auto& [key, value, want] : cases) {
    const std::string& k = key;  // clang 14 cannot capture structured bindings
    const std::string& val = value;
    Result<int64_t> v = registry_.storage->UpdateSettings(
        [&](const SettingsMap& m) { return ApplySetting(m, k, val); });
    ASSERT_FALSE(v.ok()) << key;
    EXPECT_TRUE(v.error().message().starts_with(want)) << v.error().message();
  }
  EXPECT_EQ(*registry_.storage->NetworkVersion(), version);
}

TEST_F(ApiTest, HeartbeatStoresThePeerRecordAndBootstrapHandsItOut) {
  NodeKeys keys = Keys();
  json joined = Join(Token(), "alpha", keys);
  identity::PeerRecord record{
      joined["certificate"].get<std::string>(), {*Endpoint::Parse("192.0.2.1:51820")}, kNow + 10};
  Result<SignedDocument> doc = identity::SignPeerRecord(record, keys.identity);
  ASSERT_TRUE(doc.ok());
  std::string body = identity::EncodeSignedDocument(*doc);
  ApiResponse r = Post("/v1/heartbeat", body, kNow + 10);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Post("/v1/heartbeat", body, kNow + 11).status, 403) << "a replay is refused";
  json peers = json::parse(Get("/v1/bootstrap", kNow + 20).body)["peers"];
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(Document(peers[0]).issued_at, kNow + 10);
  json later = Join(Token(), "beta", Keys());
  EXPECT_EQ(later["bootstrap"].size(), 1u);
  EXPECT_TRUE(json::parse(Get("/v1/bootstrap", kNow + 2 * kHour).body)["peers"].empty());
  NodeKeys stranger = Keys();
  record.timestamp = kNow + 30;
  Result<SignedDocument> forged = identity::SignPeerRecord(record, stranger.identity);
  EXPECT_FALSE(forged.ok()) << "SignPeerRecord refuses a key that is not the certificate's";
}

}  // namespace
}  // namespace plexus
