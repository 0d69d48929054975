// Nodes with [identity]: links authorised by certificate over link control
// (DESIGN.md §2.3), end to end over the in-memory fakes with real
// certificates, real Babel and the real data plane.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>

#include "identity/certificate_authority.h"
#include "identity/revocation_list.h"
#include "node/node_test_util.h"
#include "testing/temp_dir.h"

namespace plexus::node::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t kDay = int64_t{24} * 3600;

int64_t Now() {
  return static_cast<int64_t>(std::time(nullptr));
}

Prefix P(std::string_view text) {
  return *Prefix::Parse(text);
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

struct Network {
  testing::FakeRandom random{77};
  identity::CertificateAuthority ca;

  explicit Network(const std::string& name)
      : ca(*identity::CertificateAuthority::Create(
            *identity::IdentityKey::Generate(),
            identity::CaOptions{.network_name = name,
                                .now_unix = Now() - kDay,
                                .lifetime_seconds = 3650 * kDay,
                                .address_space = {P("fd00::/48"), P("10.0.0.0/16")}},
            random)) {}

  // The state directory `plexus join` would write for `node` named `name`
  // holding `prefixes`.
  identity::Certificate Enrol(TestNode& node, const std::string& dir, const std::string& name,
                              std::vector<Prefix> prefixes) {
    identity::IdentityKey key = *identity::IdentityKey::Generate();
    identity::NodeCertificateRequest request{.node_name = name,
                                             .network_domain = "mesh.test",
                                             .identity_key = key.public_key(),
                                             .wireguard_key = node.key.Public(),
                                             .prefixes = std::move(prefixes),
                                             .lifetime_seconds = 30 * kDay};
    identity::Certificate cert = *ca.IssueNodeCertificate(request, Now() - 60, random);
    WriteFile(dir + "/ca.crt", *ca.certificate().ToPem());
    WriteFile(dir + "/node.crt", *cert.ToPem());
    node.config.identity = IdentityConfig{.dir = dir};
    node.config.babel.hello_interval_s = 0.1;
    return cert;
  }

  // A CRL revoking `serials`, as the registry signs it.
  identity::SignedDocument Crl(uint64_t version, const std::vector<std::string>& serials) const {
    return *identity::RevocationList::Create(version, serials)->Sign(Now(), ca.key());
  }
};

NodeOptions Options(const char* endpoint, std::vector<std::string> prefixes) {
  NodeOptions o;
  o.endpoint = endpoint;
  o.prefixes = std::move(prefixes);
  return o;
}

// The authorisation object of `node`'s peer with `key`; null when none.
json Authorisation(const TestNode& node, const crypto::PublicKey& key) {
  const json status = node.StatusJson();
  for (const json& p : status["peers"]) {
    if (p["public_key"] == key.ToBase64()) return p["authorisation"];
  }
  return nullptr;
}

bool IsAuthorised(const TestNode& node, const crypto::PublicKey& key) {
  json a = Authorisation(node, key);
  return a.is_object() && a["state"] == "authorised";
}

bool HasRoute(const TestNode& node, const std::string& prefix) {
  const json routes = node.node->RoutesJson();
  for (const json& r : routes["routes"]) {
    if (r["prefix"] == prefix && r["selected"] == true) return true;
  }
  return false;
}

std::vector<Bytes> DataReceived(NodeHarness& h, TestNode& n, size_t count,
                                milliseconds timeout = milliseconds(5000)) {
  std::vector<Bytes> got;
  h.PumpUntil(
      [&] {
        for (testing::FakeTun::Packet& p : n.tun->TakeWritten()) {
          // Only the test's UDP packets (port 6000), not the kernel-bound extras.
          if (p.data.size() > 42 && LoadBe16(&p.data[42]) == 6000) got.push_back(p.data);
        }
        return got.size() >= count;
      },
      timeout);
  return got;
}

class NodeIdentityTest : public ::testing::Test {
 protected:
  NodeIdentityTest()
      : net_("meshnet"),
        a_(h_.Add(Options("192.0.2.1:51820", {"fd00:0:0:1::1/64"}))),
        b_(h_.Add(Options("192.0.2.2:51820", {"fd00:0:0:2::1/64"}))) {}

  void Enrol() {
    cert_a_ = net_.Enrol(a_, dir_.Sub("a"), "alpha", {P("fd00:0:0:1::/64")});
    cert_b_ = net_.Enrol(b_, dir_.Sub("b"), "bravo", {P("fd00:0:0:2::/64")});
  }

  testing::TempDir dir_{"plexus-id"};
  Network net_;
  NodeHarness h_;
  TestNode& a_;
  TestNode& b_;
  std::optional<identity::Certificate> cert_a_, cert_b_;
};

TEST_F(NodeIdentityTest, MeshLinkCarriesOnlyLinkControlUntilAuthorisedThenRoutes) {
  Enrol();
  NodeHarness::AddPeer(a_, b_, std::vector<std::string>{});
  NodeHarness::AddPeer(b_, a_, std::vector<std::string>{});
  ASSERT_TRUE(h_.Start());
  ASSERT_TRUE(h_.PumpUntil([&] {
    return IsAuthorised(a_, b_.key.Public()) && IsAuthorised(b_, a_.key.Public());
  })) << a_.StatusJson().dump();
  EXPECT_EQ(Authorisation(a_, b_.key.Public())["name"], "bravo");
  EXPECT_EQ(a_.StatusJson()["identity"]["name"], "alpha");
  EXPECT_EQ(a_.StatusJson()["identity"]["network"], "meshnet");
  ASSERT_TRUE(h_.PumpUntil(
      [&] { return HasRoute(a_, "fd00:0:0:2::/64") && HasRoute(b_, "fd00:0:0:1::/64"); }));
  const Bytes ab = NumberedPacket("fd00:0:0:1::1", "fd00:0:0:2::1", 1);
  a_.tun->InjectPacket(ab);
  EXPECT_THAT(DataReceived(h_, b_, 1), ::testing::ElementsAre(ab));
}

TEST_F(NodeIdentityTest, RoutesOutsideTheOriginatorsBlocksAreRefused) {
  Enrol();
  b_.config.babel.announce = {P("fd00:0:0:1::/64"), P("fd00:0:0:9::/64")};  // not b's
  NodeHarness::AddPeer(a_, b_, std::vector<std::string>{});
  NodeHarness::AddPeer(b_, a_, std::vector<std::string>{});
  ASSERT_TRUE(h_.Start());
  ASSERT_TRUE(h_.PumpUntil([&] { return HasRoute(a_, "fd00:0:0:2::/64"); }));
  h_.PumpFor(milliseconds(500));
  EXPECT_FALSE(HasRoute(a_, "fd00:0:0:9::/64"));
  EXPECT_GT(a_.StatusJson()["counters"]["babel_updates_filtered"].get<uint64_t>(), 0u);
}

TEST_F(NodeIdentityTest, CertificateOfAnotherNetworkIsRefusedAndNothingButLinkControlPasses) {
  Network foreign("othernet");
  cert_a_ = net_.Enrol(a_, dir_.Sub("a"), "alpha", {P("fd00:0:0:1::/64")});
  cert_b_ = foreign.Enrol(b_, dir_.Sub("b"), "bravo", {P("fd00:0:0:2::/64")});
  NodeHarness::AddPeer(a_, b_, std::vector<std::string>{});
  NodeHarness::AddPeer(b_, a_, std::vector<std::string>{});
  ASSERT_TRUE(h_.Start());
  ASSERT_TRUE(h_.PumpUntil([&] {
    json x = Authorisation(a_, b_.key.Public());
    return x.is_object() && x["state"] == "rejected";
  })) << a_.StatusJson().dump();
  EXPECT_EQ(Authorisation(a_, b_.key.Public())["reason"], "wrong-ca");
  h_.PumpFor(milliseconds(500));
  EXPECT_FALSE(HasRoute(a_, "fd00:0:0:2::/64"));
  EXPECT_FALSE(HasRoute(b_, "fd00:0:0:1::/64"));
}

// b has no identity: it runs Babel at once and sends data, a lets nothing
// but link control in and keeps asking for a certificate.
TEST_F(NodeIdentityTest, PeerWithoutCertificateGetsNothingButLinkControlThrough) {
  cert_a_ = net_.Enrol(a_, dir_.Sub("a"), "alpha", {P("fd00:0:0:1::/64")});
  b_.config.babel.hello_interval_s = 0.1;
  NodeHarness::AddPeer(a_, b_, std::vector<std::string>{});
  NodeHarness::AddPeer(b_, a_, std::vector<std::string>{});
  ASSERT_TRUE(h_.Start());
  ASSERT_TRUE(h_.PumpUntil([&] { return a_.Drops("unauthorised_link") >= 3; }))
      << a_.StatusJson().dump();
  EXPECT_EQ(Authorisation(a_, b_.key.Public())["state"], "awaiting_certificate");
  const Bytes ba = NumberedPacket("fd00:0:0:2::1", "fd00:0:0:1::1", 3);
  b_.node->SetRoutedForTesting(
      {{P("fd00:0:0:1::/64"), std::nullopt, {ForwardingTarget::Kind::kPeer, 0}}});
  const uint64_t before = a_.Drops("unauthorised_link");
  b_.tun->InjectPacket(ba);
  ASSERT_TRUE(h_.PumpUntil([&] { return a_.Drops("unauthorised_link") > before; }));
  EXPECT_TRUE(DataReceived(h_, a_, 1, milliseconds(200)).empty());
  EXPECT_FALSE(HasRoute(a_, "fd00:0:0:2::/64"));
}

TEST_F(NodeIdentityTest, UnknownInitiatorIsAdmittedAndAuthorisedByItsCertificate) {
  Enrol();
  NodeHarness::AddPeer(a_, b_, std::vector<std::string>{});  // b knows nobody
  ASSERT_TRUE(h_.Start());
  ASSERT_TRUE(h_.PumpUntil([&] { return IsAuthorised(b_, a_.key.Public()); }))
      << b_.StatusJson().dump();
  EXPECT_EQ(b_.StatusJson()["peers"][0]["admitted"], true);
  ASSERT_TRUE(h_.PumpUntil([&] { return HasRoute(b_, "fd00:0:0:1::/64"); }));
  const Bytes ba = NumberedPacket("fd00:0:0:2::1", "fd00:0:0:1::1", 2);
  b_.tun->InjectPacket(ba);
  EXPECT_THAT(DataReceived(h_, a_, 1), ::testing::ElementsAre(ba));
}

TEST_F(NodeIdentityTest, UnknownInitiatorOfAnotherNetworkIsRemoved) {
  Network foreign("othernet");
  cert_a_ = foreign.Enrol(a_, dir_.Sub("a"), "alpha", {P("fd00:0:0:1::/64")});
  cert_b_ = net_.Enrol(b_, dir_.Sub("b"), "bravo", {P("fd00:0:0:2::/64")});
  NodeHarness::AddPeer(a_, b_, std::vector<std::string>{});
  ASSERT_TRUE(h_.Start());
  // b admits a, refuses its certificate and forgets it.
  ASSERT_TRUE(h_.PumpUntil([&] {
    return b_.StatusJson()["counters"].is_object() &&
           b_.StatusJson()["identity"]["counters"]["rejections"].get<uint64_t>() > 0 &&
           b_.StatusJson()["peers"].empty();
  })) << b_.StatusJson().dump();
  const json refused = b_.StatusJson()["identity"]["refused"];
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0]["public_key"], a_.key.Public().ToBase64());
  EXPECT_EQ(refused[0]["reason"], "wrong-ca");
  // b's certificate reached a before b let go: a knows why.
  EXPECT_EQ(Authorisation(a_, b_.key.Public())["state"], "rejected");
  EXPECT_EQ(Authorisation(a_, b_.key.Public())["reason"], "wrong-ca");
}

// A CRL that revokes b reaches a from c (flood), and a cuts b off at once;
// the CRL is kept in a's state directory.
TEST_F(NodeIdentityTest, RevocationFloodsInAndCutsTheRevokedPeer) {
  TestNode& c = h_.Add(Options("192.0.2.3:51820", {"fd00:0:0:3::1/64"}));
  Enrol();
  const std::string dir_c = dir_.Sub("c");
  net_.Enrol(c, dir_c, "charlie", {P("fd00:0:0:3::/64")});
  NodeHarness::AddPeer(a_, b_, std::vector<std::string>{});
  NodeHarness::AddPeer(b_, a_, std::vector<std::string>{});
  NodeHarness::AddPeer(a_, c, std::vector<std::string>{});
  NodeHarness::AddPeer(c, a_, std::vector<std::string>{});
  ASSERT_TRUE(h_.Start());
  ASSERT_TRUE(h_.PumpUntil([&] { return HasRoute(a_, "fd00:0:0:2::/64"); }));
  ASSERT_TRUE(h_.PumpUntil([&] { return IsAuthorised(a_, c.key.Public()); }));

  // c restarts holding the new CRL, as after a registry poll.
  c.node->Stop();
  c.node.reset();
  WriteFile(dir_c + "/crl.json",
            identity::EncodeSignedDocument(net_.Crl(2, {cert_b_->SerialHex()})) + "\n");
  ASSERT_TRUE(h_.Restart(c));
  ASSERT_TRUE(h_.PumpUntil(
      [&] {
        json x = Authorisation(a_, b_.key.Public());
        return x.is_object() && x["state"] == "rejected";
      },
      milliseconds(15000)))
      << a_.StatusJson().dump();
  EXPECT_EQ(Authorisation(a_, b_.key.Public())["reason"], "revoked");
  EXPECT_EQ(a_.StatusJson()["identity"]["crl_version"], 2);
  ASSERT_TRUE(h_.PumpUntil([&] { return !HasRoute(a_, "fd00:0:0:2::/64"); }));
  std::ifstream kept(dir_.Sub("a") + "/crl.json");
  std::string text((std::istreambuf_iterator<char>(kept)), std::istreambuf_iterator<char>());
  Result<identity::SignedDocument> doc = identity::DecodeSignedDocument(text);
  ASSERT_TRUE(doc) << text;
  EXPECT_EQ(doc->version, 2u);
}

// DESIGN.md §2.3: standard WireGuard leaves stay allowed by their key alone.
TEST_F(NodeIdentityTest, StaticLeafNeedsNoCertificate) {
  cert_a_ = net_.Enrol(a_, dir_.Sub("a"), "alpha", {P("fd00:0:0:1::/64")});
  NodeHarness::AddPeer(a_, b_, std::vector<std::string>{"fd00:0:0:2::1/128"});  // a leaf
  NodeHarness::AddPeer(b_, a_, std::vector<std::string>{"fd00:0:0:1::1/128"});
  ASSERT_TRUE(h_.Start());
  EXPECT_EQ(Authorisation(a_, b_.key.Public())["state"], "static_leaf");
  const Bytes ba = NumberedPacket("fd00:0:0:2::1", "fd00:0:0:1::1", 4);
  b_.tun->InjectPacket(ba);
  EXPECT_THAT(DataReceived(h_, a_, 1), ::testing::ElementsAre(ba));
  const Bytes ab = NumberedPacket("fd00:0:0:1::1", "fd00:0:0:2::1", 5);
  a_.tun->InjectPacket(ab);
  EXPECT_THAT(DataReceived(h_, b_, 1), ::testing::ElementsAre(ab));
  EXPECT_EQ(a_.Drops("unauthorised_link"), 0u);
}

TEST(NodeIdentityConfig, MissingStateDirectoryIsAClearError) {
  NodeHarness h;
  TestNode& a = h.Add(Options("192.0.2.1:51820", {"fd00:0:0:1::1/64"}));
  a.config.identity = IdentityConfig{.dir = "/nonexistent/plexus-state"};
  auto loop = io::EventLoop::Create(a.clock);
  ASSERT_TRUE(loop);
  auto tun = testing::FakeTun::Create("plx9", false);
  auto udp = h.network().Bind(a.endpoint, {});
  auto node = Node::Create(
      a.config,
      NodeIo{a.clock, a.random, **loop, std::move(*tun), std::move(*udp), nullptr, {}, false});
  ASSERT_FALSE(node);
  EXPECT_THAT(node.error().message(), ::testing::HasSubstr("/nonexistent/plexus-state/ca.crt"));
}

}  // namespace
}  // namespace plexus::node::test
