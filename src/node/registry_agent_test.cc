// RegistryAgent against a real registry: an in-process RegistryServer on
// 127.0.0.1 (a port the kernel picks) with a scratch registry directory;
// nodes join through the real HTTPS API and get a state dir as `plexus join`
// writes it. Admin changes (revoke, config set) go through the registry's
// storage, as the `plexus registry` commands do.
#include "node/registry_agent.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/base64.h"
#include "identity/network_config.h"
#include "identity/peer_record.h"
#include "identity/revocation_list.h"
#include "identity/verify.h"
#include "node/local_endpoints.h"
#include "registry/client.h"
#include "registry/network_settings.h"
#include "registry/registry_dir.h"
#include "registry/server.h"
#include "registry/token.h"
#include "testing/fake_random.h"

namespace plexus::node {
namespace {

using identity::Certificate;
using identity::SignedDocument;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr Duration kTestInterval = std::chrono::milliseconds(200);

int64_t UnixNow() {
  return static_cast<int64_t>(std::time(nullptr));
}

// Polls `done` until it holds or `timeout` passes.
bool Eventually(const std::function<bool()>& done, Duration timeout = std::chrono::seconds(15)) {
  auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

class RecordingSink final : public RegistryAgentSink {
 public:
  void RegistryDocument(SignedDocument doc) override {
    std::lock_guard lock(mutex_);
    documents_.push_back(std::move(doc));
  }
  void CertificateRenewed(Bytes der) override {
    std::lock_guard lock(mutex_);
    certificates_.push_back(std::move(der));
  }
  // The newest document of `kind` delivered (version 0 when none).
  SignedDocument Latest(std::string_view kind) const {
    std::lock_guard lock(mutex_);
    SignedDocument out;
    for (const SignedDocument& d : documents_) {
      if (d.kind == kind && d.version > out.version) out = d;
    }
    return out;
  }
  std::vector<Bytes> certificates() const {
    std::lock_guard lock(mutex_);
    return certificates_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<SignedDocument> documents_;
  std::vector<Bytes> certificates_;
};

class RegistryAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "plexus-agent-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    paths_.dir = root_ + "/registry";
    InitOptions o;
    o.network_name = "meshnet";
    o.now_unix = UnixNow();
    ASSERT_TRUE(InitRegistry(paths_, o, random_).ok());
    StartRegistry(0);
    Result<std::unique_ptr<RegistryStorage>> storage = OpenRegistryStorage(paths_);
    ASSERT_TRUE(storage.ok()) << storage.error().message();
    storage_ = std::move(*storage);
    Result<Registry> r = Registry::Open(paths_);
    ASSERT_TRUE(r.ok());
    fingerprint_ = *CertificateFingerprint(r->ca->certificate());
  }
  void TearDown() override {
    StopRegistry();
    std::filesystem::remove_all(root_);
  }
  // Serves the registry dir on 127.0.0.1:`port` (0: a port the kernel picks).
  void StartRegistry(int port) {
    ServerOptions options{.listen_address = "127.0.0.1", .port = port, .hosts = {"127.0.0.1"}};
    Result<std::unique_ptr<RegistryServer>> s = RegistryServer::Start(paths_, options);
    ASSERT_TRUE(s.ok()) << s.error().message();
    server_ = std::move(*s);
    thread_ = std::thread([this] { EXPECT_TRUE(server_->Run().ok()); });
  }
  void StopRegistry() {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  std::unique_ptr<RegistryClient> Client() {
    Result<std::unique_ptr<RegistryClient>> c = RegistryClient::ConnectPinned(
        "127.0.0.1", static_cast<uint16_t>(server_->port()), fingerprint_);
    EXPECT_TRUE(c.ok()) << c.error().message();
    return c ? std::move(*c) : nullptr;
  }

  // Joins `name` through POST /v1/join and writes its state dir as `plexus
  // join` does; returns the dir.
  std::string Join(const std::string& name) {
    IssuedToken token = MakeToken(random_, UnixSeconds(std::chrono::seconds(UnixNow())),
                                  std::chrono::hours(1), 1, 64);
    EXPECT_TRUE(storage_->AddToken(token.token).ok());
    Result<identity::IdentityKey> key = identity::IdentityKey::Generate();
    EXPECT_TRUE(key.ok());
    crypto::PrivateKey wg = crypto::PrivateKey::Generate(random_);
    json body{{"token", token.Text()},
              {"name", name},
              {"identity_key", Base64Encode(key->public_key().span())},
              {"wireguard_key", wg.Public().ToBase64()}};
    Result<HttpReply> reply = Client()->Post("/v1/join", body.dump());
    EXPECT_TRUE(reply.ok() && reply->status == 200) << (reply ? reply->body : "no answer");
    json j = json::parse(reply->body);
    std::string dir = root_ + "/" + name;
    std::filesystem::create_directories(dir);
    EXPECT_TRUE(key->SavePemFile(dir + "/identity.key").ok());
    json info{{"host", "127.0.0.1"},
              {"port", server_->port()},
              {"ca_fingerprint", fingerprint_},
              {"name", name},
              {"network", "meshnet"}};
    Write(dir + "/wireguard.key", wg.ToBase64() + "\n");
    Write(dir + "/node.crt", j["certificate"].get<std::string>());
    Write(dir + "/ca.crt", j["ca_certificate"].get<std::string>());
    Write(dir + "/network-config.json", j["network_config"].dump(2) + "\n");
    Write(dir + "/crl.json", j["crl"].dump(2) + "\n");
    Write(dir + "/peers.json", j["bootstrap"].dump(2) + "\n");
    Write(dir + "/registry.json", info.dump(2) + "\n");
    return dir;
  }
  static void Write(const std::string& path, const std::string& text) {
    EXPECT_TRUE(WriteFileAtomic(path, text, 0600).ok()) << path;
  }

  std::unique_ptr<RegistryAgent> MakeAgent(const std::string& dir,
                                           double renew_fraction = 1.0 / 3) {
    RegistryAgentParams p;
    p.state_dir = dir;
    p.interval = kTestInterval;
    p.listen_port = 51820;
    p.renew_fraction = renew_fraction;
    Result<std::unique_ptr<RegistryAgent>> a = RegistryAgent::Create(p, sink_);
    EXPECT_TRUE(a.ok()) << a.error().message();
    return a ? std::move(*a) : nullptr;
  }

  // The records in GET /v1/bootstrap.
  std::vector<identity::PeerRecord> BootstrapRecords() {
    Result<HttpReply> r = Client()->Get("/v1/bootstrap");
    EXPECT_TRUE(r.ok());
    std::vector<identity::PeerRecord> out;
    json answer = json::parse(r->body);
    for (const json& item : answer["peers"]) {
      Result<SignedDocument> doc = identity::DecodeSignedDocument(item.dump());
      out.push_back(*identity::PeerRecordFromDocument(*doc));
    }
    return out;
  }
  // The names in GET /v1/bootstrap.
  std::vector<std::string> BootstrapNames() {
    Result<HttpReply> r = Client()->Get("/v1/bootstrap");
    EXPECT_TRUE(r.ok());
    std::vector<std::string> names;
    json answer = json::parse(r->body);
    for (const json& item : answer["peers"]) {
      Result<SignedDocument> doc = identity::DecodeSignedDocument(item.dump());
      Result<identity::PeerRecord> rec = identity::PeerRecordFromDocument(*doc);
      names.push_back(Certificate::FromPem(rec->certificate_pem)->SubjectCommonName());
    }
    return names;
  }

  testing::FakeRandom random_{21};
  std::string root_;
  RegistryPaths paths_;
  std::unique_ptr<RegistryServer> server_;
  std::thread thread_;
  std::unique_ptr<RegistryStorage> storage_;
  std::string fingerprint_;
  RecordingSink sink_;
};

TEST(RenewalTimingTest, RenewsWhenLessThanTheFractionIsLeft) {
  EXPECT_FALSE(ShouldRenew(0, 300, 0, 1.0 / 3));
  EXPECT_FALSE(ShouldRenew(0, 300, 200, 1.0 / 3));  // exactly a third left
  EXPECT_TRUE(ShouldRenew(0, 300, 201, 1.0 / 3));
  EXPECT_TRUE(ShouldRenew(0, 300, 400, 1.0 / 3));  // expired
  EXPECT_FALSE(ShouldRenew(1000, 2000, 1000, 1.0));
  EXPECT_TRUE(ShouldRenew(1000, 2000, 1001, 1.0));
}

TEST(RenewalTimingTest, RenewalTimeIsTheFirstSecondShouldRenewHolds) {
  for (double f : {0.01, 0.25, 1.0 / 3, 0.5, 0.9999, 1.0}) {
    for (int64_t lifetime : {1, 7, 300, 2592300}) {
      int64_t nb = 1'700'000'000;
      int64_t t = RenewalTimeUnix(nb, nb + lifetime, f);
      EXPECT_TRUE(ShouldRenew(nb, nb + lifetime, t, f)) << f << " " << lifetime;
      EXPECT_FALSE(ShouldRenew(nb, nb + lifetime, t - 1, f)) << f << " " << lifetime;
    }
  }
}

TEST(RenewalTimingTest, PeerRecordTimestampsStrictlyIncrease) {
  EXPECT_EQ(NextPeerRecordTimestamp(100, 0), 100);
  EXPECT_EQ(NextPeerRecordTimestamp(100, 100), 101);
  EXPECT_EQ(NextPeerRecordTimestamp(100, 105), 106);
}

TEST(RenewalTimingTest, JitterStaysWithinTenPercent) {
  Duration i = std::chrono::seconds(10);
  EXPECT_EQ(JitteredInterval(i, 0.0), std::chrono::seconds(9));
  EXPECT_EQ(JitteredInterval(i, 0.5), std::chrono::seconds(10));
  EXPECT_EQ(JitteredInterval(i, 1.0), std::chrono::seconds(11));
}

TEST_F(RegistryAgentTest, HeartbeatReachesTheRegistry) {
  std::string dir = Join("alpha");
  std::unique_ptr<RegistryAgent> agent = MakeAgent(dir);
  ASSERT_NE(agent, nullptr);
  agent->Start();
  ASSERT_TRUE(Eventually([&] { return agent->status().heartbeats_sent >= 2; }));
  RegistryAgent::Status s = agent->status();
  EXPECT_TRUE(s.reachable);
  EXPECT_GE(s.last_contact_unix, UnixNow() - 5);
  EXPECT_EQ(s.last_error, "");
  EXPECT_EQ(s.crl_version, 1u);
  EXPECT_EQ(s.config_version, 1u);
  EXPECT_EQ(s.renewals, 0u);  // a fresh certificate has two thirds left
  EXPECT_GT(s.next_renewal_unix, UnixNow() + 3600);
  EXPECT_GT(s.certificate_not_after, s.next_renewal_unix);
  EXPECT_EQ(BootstrapNames(), std::vector<std::string>{"alpha"});
  // The record carries this host's endpoints with the node's port.
  EndpointFilter filter;
  filter.port = 51820;
  Result<std::vector<Endpoint>> local = LocalEndpoints(filter);
  ASSERT_TRUE(local.ok());
  ASSERT_EQ(BootstrapRecords().size(), 1u);
  EXPECT_EQ(BootstrapRecords()[0].endpoints, *local);
  agent->Stop();
  EXPECT_TRUE(sink_.certificates().empty());
}

TEST_F(RegistryAgentTest, DeliversRevocationAndConfigChanges) {
  std::string dir = Join("alpha");
  Join("beta");
  std::unique_ptr<RegistryAgent> agent = MakeAgent(dir);
  ASSERT_NE(agent, nullptr);
  agent->Start();
  ASSERT_TRUE(Eventually([&] { return agent->status().heartbeats_sent >= 1; }));
  Result<std::optional<NodeRecord>> beta = storage_->FindNode("beta");
  ASSERT_TRUE(beta.ok() && beta->has_value());
  ASSERT_TRUE(storage_->RevokeNode("beta", UnixSeconds(std::chrono::seconds(UnixNow()))).ok());
  Result<int64_t> config_version = storage_->UpdateSettings(
      [](const SettingsMap& current) { return ApplySetting(current, "client_count", "5"); });
  ASSERT_TRUE(config_version.ok()) << config_version.error().message();

  ASSERT_TRUE(Eventually([&] {
    return sink_.Latest(identity::kRevocationListKind).version == 2 &&
           sink_.Latest(identity::kNetworkConfigKind).version ==
               static_cast<uint64_t>(*config_version);
  }));
  Result<Certificate> ca = Certificate::FromPem(*ReadTextFile(dir + "/ca.crt"));
  identity::IdentityPublicKey ca_key = *ca->SubjectPublicKey();
  // The CRL on disk is the one delivered, and names beta's certificate.
  Result<SignedDocument> crl = identity::DecodeSignedDocument(*ReadTextFile(dir + "/crl.json"));
  ASSERT_TRUE(crl.ok());
  identity::VerifiedRevocationList list = identity::VerifyRevocationList(*crl, ca_key, 1);
  ASSERT_TRUE(list.verdict.ok()) << list.verdict.message;
  EXPECT_TRUE(list.list.IsRevoked((*beta)->serial));
  Result<SignedDocument> config =
      identity::DecodeSignedDocument(*ReadTextFile(dir + "/network-config.json"));
  ASSERT_TRUE(config.ok());
  identity::VerifiedNetworkConfig vc = identity::VerifyNetworkConfig(*config, ca_key, 1);
  ASSERT_TRUE(vc.verdict.ok()) << vc.verdict.message;
  EXPECT_EQ(vc.version, static_cast<uint64_t>(*config_version));
  EXPECT_EQ(vc.config.client_count, 5u);
  RegistryAgent::Status s = agent->status();
  EXPECT_EQ(s.crl_version, 2u);
  EXPECT_EQ(s.config_version, static_cast<uint64_t>(*config_version));
}

TEST_F(RegistryAgentTest, RenewsANearlyExpiredCertificate) {
  std::string dir = Join("alpha");
  Result<Certificate> old_cert = Certificate::FromPem(*ReadTextFile(dir + "/node.crt"));
  ASSERT_TRUE(old_cert.ok());
  // The registry backdates notBefore, so more than 1/10000 of the lifetime is gone.
  std::unique_ptr<RegistryAgent> agent = MakeAgent(dir, 0.9999);
  ASSERT_NE(agent, nullptr);
  agent->Start();
  ASSERT_TRUE(Eventually([&] { return agent->status().renewals >= 1; }));
  agent->Stop();
  std::vector<Bytes> renewed = sink_.certificates();
  ASSERT_FALSE(renewed.empty());
  Result<Certificate> on_disk = Certificate::FromPem(*ReadTextFile(dir + "/node.crt"));
  ASSERT_TRUE(on_disk.ok());
  EXPECT_EQ(*on_disk->ToDer(), renewed.back());
  EXPECT_NE(on_disk->SerialHex(), old_cert->SerialHex());
  Result<Certificate> ca = Certificate::FromPem(*ReadTextFile(dir + "/ca.crt"));
  identity::CertificateVerdict v =
      identity::VerifyNodeCertificate(*on_disk, *ca, UnixNow(), {}, *old_cert->WireGuardKey());
  EXPECT_TRUE(v.ok()) << v.message;
  EXPECT_EQ(*on_disk->SubjectPublicKey(), *old_cert->SubjectPublicKey());
  // The registry's current certificate for alpha is the one on disk...
  Result<std::optional<NodeRecord>> node = storage_->FindNode("alpha");
  ASSERT_TRUE(node.ok() && node->has_value());
  EXPECT_EQ((*node)->serial, on_disk->SerialHex());
  // ...and heartbeats carry on with it.
  uint64_t before = agent->status().heartbeats_sent;
  agent = MakeAgent(dir);
  ASSERT_NE(agent, nullptr);
  agent->Start();
  ASSERT_TRUE(Eventually([&] { return agent->status().heartbeats_sent >= 1; }));
  EXPECT_GT(before, 0u);
  EXPECT_EQ(agent->status().renewals, 0u);
}

TEST_F(RegistryAgentTest, RevokedNodeKeepsGoing) {
  std::string dir = Join("alpha");
  ASSERT_TRUE(storage_->RevokeNode("alpha", UnixSeconds(std::chrono::seconds(UnixNow()))).ok());
  std::unique_ptr<RegistryAgent> agent = MakeAgent(dir);
  ASSERT_NE(agent, nullptr);
  agent->Start();
  ASSERT_TRUE(Eventually([&] { return agent->status().last_error != ""; }));
  RegistryAgent::Status s = agent->status();
  EXPECT_TRUE(s.reachable);
  EXPECT_NE(s.last_error.find("403"), std::string::npos) << s.last_error;
  EXPECT_NE(s.last_error.find("revoked"), std::string::npos) << s.last_error;
  EXPECT_EQ(s.heartbeats_sent, 0u);
}

TEST_F(RegistryAgentTest, UnreachableRegistryShowsInStatusAndStopIsPrompt) {
  std::string dir = Join("alpha");
  StopRegistry();
  std::unique_ptr<RegistryAgent> agent = MakeAgent(dir);
  ASSERT_NE(agent, nullptr);
  agent->Start();
  ASSERT_TRUE(Eventually([&] { return agent->status().last_error != ""; }));
  RegistryAgent::Status s = agent->status();
  EXPECT_FALSE(s.reachable);
  EXPECT_EQ(s.last_contact_unix, 0);
  EXPECT_NE(s.last_error.find("127.0.0.1"), std::string::npos) << s.last_error;
  auto start = SteadyClock::now();
  agent->Stop();
  EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(1));
}

TEST_F(RegistryAgentTest, ReachableAgainWhenTheRegistryComesBack) {
  std::string dir = Join("alpha");
  int port = server_->port();
  StopRegistry();
  std::unique_ptr<RegistryAgent> agent = MakeAgent(dir);
  ASSERT_NE(agent, nullptr);
  agent->Start();
  ASSERT_TRUE(Eventually([&] { return agent->status().last_error != ""; }));
  EXPECT_FALSE(agent->status().reachable);
  StartRegistry(port);
  ASSERT_TRUE(Eventually([&] { return agent->status().heartbeats_sent >= 1; }));
  RegistryAgent::Status s = agent->status();
  EXPECT_TRUE(s.reachable);
  EXPECT_GT(s.last_contact_unix, 0);
}

// A registry that accepts TCP connections and never answers: Stop() must not
// wait for more than the read timeout.
TEST_F(RegistryAgentTest, StopIsPromptInTheMiddleOfARequest) {
  std::string dir = Join("alpha");
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);  // the kernel completes handshakes; nobody reads
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  json info = json::parse(*ReadTextFile(dir + "/registry.json"));
  info["port"] = ntohs(addr.sin_port);
  Write(dir + "/registry.json", info.dump());
  std::unique_ptr<RegistryAgent> agent = MakeAgent(dir);
  ASSERT_NE(agent, nullptr);
  agent->Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto start = SteadyClock::now();
  agent->Stop();
  EXPECT_LT(SteadyClock::now() - start, std::chrono::milliseconds(3000));
  ::close(fd);
}

TEST_F(RegistryAgentTest, MalformedRegistryJsonIsNamed) {
  std::string dir = Join("alpha");
  RegistryAgentParams p;
  p.state_dir = dir;
  Write(dir + "/registry.json", "{\"host\": \"127.0.0.1\"");
  Result<std::unique_ptr<RegistryAgent>> a = RegistryAgent::Create(p, sink_);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message().find(dir + "/registry.json: not a JSON object"), std::string::npos)
      << a.error().message();
  Write(dir + "/registry.json", R"({"host":"127.0.0.1","port":0,"ca_fingerprint":"x","name":"a"})");
  a = RegistryAgent::Create(p, sink_);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message().find("registry.json: port:"), std::string::npos)
      << a.error().message();
}

TEST_F(RegistryAgentTest, MissingOrForeignFilesAreNamed) {
  std::string dir = Join("alpha");
  std::string other = Join("beta");
  RegistryAgentParams p;
  p.state_dir = dir;
  std::filesystem::remove(dir + "/crl.json");
  Result<std::unique_ptr<RegistryAgent>> a = RegistryAgent::Create(p, sink_);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message().find(dir + "/crl.json"), std::string::npos) << a.error().message();
  std::filesystem::copy_file(other + "/crl.json", dir + "/crl.json");
  std::filesystem::copy_file(other + "/node.crt", dir + "/node.crt",
                             std::filesystem::copy_options::overwrite_existing);
  a = RegistryAgent::Create(p, sink_);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message().find(dir + "/node.crt"), std::string::npos) << a.error().message();
  p.renew_fraction = 0;
  a = RegistryAgent::Create(p, sink_);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message().find("renew_fraction"), std::string::npos) << a.error().message();
}

}  // namespace
}  // namespace plexus::node
