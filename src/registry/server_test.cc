// RegistryServer and RegistryClient together over TLS on 127.0.0.1 (a port the
// kernel picks): the pin check, the verified channel, and httplib's own
// refusals answered as JSON.
#include "registry/server.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "registry/client.h"
#include "testing/fake_random.h"

namespace plexus {
namespace {

using nlohmann::json;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "plexus-server-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    paths_.dir = root_ + "/reg";
    InitOptions o;
    o.network_name = "meshnet";
    o.now_unix = static_cast<int64_t>(std::time(nullptr));
    ASSERT_TRUE(InitRegistry(paths_, o, random_).ok());
    ServerOptions options{.listen_address = "127.0.0.1", .port = 0, .hosts = {"127.0.0.1"}};
    Result<std::unique_ptr<RegistryServer>> s = RegistryServer::Start(paths_, options);
    ASSERT_TRUE(s.ok()) << s.error().message();
    server_ = std::move(*s);
    thread_ = std::thread([this] { EXPECT_TRUE(server_->Run().ok()); });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
    std::filesystem::remove_all(root_);
  }
  std::string Fingerprint() {
    Result<Registry> r = Registry::Open(paths_);
    EXPECT_TRUE(r.ok());
    return *CertificateFingerprint(r->ca->certificate());
  }
  Result<std::unique_ptr<RegistryClient>> Connect(std::string_view fingerprint) {
    return RegistryClient::ConnectPinned("127.0.0.1", static_cast<uint16_t>(server_->port()),
                                         fingerprint);
  }

  testing::FakeRandom random_{9};
  std::string root_;
  RegistryPaths paths_;
  std::unique_ptr<RegistryServer> server_;
  std::thread thread_;
};

TEST_F(ServerTest, PinnedClientGetsVerifiedAnswers) {
  Result<std::unique_ptr<RegistryClient>> c = Connect(Fingerprint());
  ASSERT_TRUE(c.ok()) << c.error().message();
  Result<HttpReply> config = (*c)->Get("/v1/config");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->status, 200);
  EXPECT_EQ(json::parse(config->body)["kind"], "network-config");
  Result<HttpReply> bad = (*c)->Post("/v1/join", "{\"token\":1}");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["error"], "token: not a string");
}

TEST_F(ServerTest, WrongFingerprintIsRefusedBeforeAnyRequest) {
  std::string fp = Fingerprint();
  fp[0] = fp[0] == '0' ? '1' : '0';
  Result<std::unique_ptr<RegistryClient>> c = Connect(fp);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("CA fingerprint mismatch"), std::string::npos)
      << c.error().message();
}

TEST_F(ServerTest, HugeBodyAndUnknownPathsGetJsonErrors) {
  Result<std::unique_ptr<RegistryClient>> c = Connect(Fingerprint());
  ASSERT_TRUE(c.ok());
  Result<HttpReply> huge = (*c)->Post("/v1/join", std::string(kMaxApiBodySize + 100, ' '));
  ASSERT_TRUE(huge.ok()) << huge.error().message();
  EXPECT_EQ(huge->status, 413);
  EXPECT_TRUE(json::parse(huge->body)["error"].get<std::string>().starts_with("body: "));
  Result<HttpReply> missing = (*c)->Get("/nothing");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(json::parse(missing->body).contains("error"));
}

TEST(ServerStopTest, StopBeforeRunReturnsAtOnce) {
  testing::FakeRandom random{4};
  std::string tmpl = (std::filesystem::temp_directory_path() / "plexus-server-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  RegistryPaths paths{tmpl + "/reg"};
  InitOptions o;
  o.network_name = "meshnet";
  o.now_unix = static_cast<int64_t>(std::time(nullptr));
  ASSERT_TRUE(InitRegistry(paths, o, random).ok());
  Result<std::unique_ptr<RegistryServer>> s =
      RegistryServer::Start(paths, {.listen_address = "127.0.0.1", .port = 0, .hosts = {"x"}});
  ASSERT_TRUE(s.ok());
  (*s)->Stop();
  EXPECT_TRUE((*s)->Run().ok());
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace plexus
