#include "identity/network_config.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "identity/test_util.h"

namespace plexus::identity {
namespace {

using test::P;

NetworkConfig Sample() {
  NetworkConfig c;
  c.network_name = "meshnet";
  c.network_prefix = P("fd12:3456:789a::/48");
  c.ipv4_network = P("10.42.0.0/16");
  c.ipv4_node_prefix_length = 30;
  c.client_count = 4;
  c.max_clients = 20;
  c.tunnel_refresh = std::chrono::seconds(900);
  c.babel_hello_interval = std::chrono::milliseconds(2500);
  c.crl_version = 7;
  c.grants = {{.node_name = "gw1", .prefix = P("::/0")},
              {.node_name = "gw1", .prefix = P("0.0.0.0/0")},
              {.node_name = "edge", .prefix = P("2001:db8::/32")}};
  return c;
}

// The error message from parsing `c`'s payload with `edit` applied to its JSON.
std::string ParseErrorAfter(const std::function<void(nlohmann::json&)>& edit) {
  Result<Bytes> payload = NetworkConfigToPayload(Sample());
  EXPECT_TRUE(payload.ok());
  nlohmann::json j = nlohmann::json::parse(AsChars(*payload));
  edit(j);
  Result<NetworkConfig> c = NetworkConfigFromPayload(document_json::CanonicalJson(j));
  return c ? "" : c.error().message();
}

std::string ValidationError(const std::function<void(NetworkConfig&)>& edit) {
  NetworkConfig c = Sample();
  edit(c);
  Status s = ValidateNetworkConfig(c);
  return s ? "" : s.error().message();
}

TEST(NetworkConfigTest, PayloadRoundTrip) {
  Result<Bytes> payload = NetworkConfigToPayload(Sample());
  ASSERT_TRUE(payload.ok()) << payload.error().message();
  Result<NetworkConfig> back = NetworkConfigFromPayload(*payload);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, Sample());
}

TEST(NetworkConfigTest, PayloadRoundTripWithoutIpv4OrGrants) {
  NetworkConfig c = Sample();
  c.ipv4_network.reset();
  c.ipv4_node_prefix_length = kDefaultIpv4NodePrefixLength;
  c.grants.clear();
  Result<Bytes> payload = NetworkConfigToPayload(c);
  ASSERT_TRUE(payload.ok());
  EXPECT_EQ(AsChars(*payload).find("ipv4"), std::string_view::npos);
  Result<NetworkConfig> back = NetworkConfigFromPayload(*payload);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, c);
}

TEST(NetworkConfigTest, PayloadIsCanonicalJson) {
  Result<Bytes> payload = NetworkConfigToPayload(Sample());
  ASSERT_TRUE(payload.ok());
  EXPECT_EQ(AsChars(*payload),
            R"({"babel_hello_interval_ms":2500,"client_count":4,"crl_version":7,)"
            R"("grants":[{"node":"gw1","prefix":"::/0"},{"node":"gw1","prefix":"0.0.0.0/0"},)"
            R"({"node":"edge","prefix":"2001:db8::/32"}],"ipv4_network":"10.42.0.0/16",)"
            R"("ipv4_node_prefix_length":30,"max_clients":20,"network_name":"meshnet",)"
            R"("network_prefix":"fd12:3456:789a::/48","node_prefix_length":64,)"
            R"("tunnel_refresh_seconds":900})");
}

TEST(NetworkConfigTest, GrantedPrefixesByNode) {
  EXPECT_EQ(GrantedPrefixes(Sample(), "gw1"), (std::vector<Prefix>{P("::/0"), P("0.0.0.0/0")}));
  EXPECT_TRUE(GrantedPrefixes(Sample(), "alpha").empty());
}

TEST(NetworkConfigTest, ValidationNamesTheField) {
  auto has = [](const std::string& msg, std::string_view field) {
    return msg.find(field) != std::string::npos;
  };
  EXPECT_EQ(ValidationError([](NetworkConfig&) {}), "");
  EXPECT_TRUE(has(ValidationError([](NetworkConfig& c) { c.network_name = ""; }), "network_name"));
  EXPECT_TRUE(has(ValidationError([](NetworkConfig& c) { c.network_prefix = P("10.0.0.0/8"); }),
                  "network_prefix"));
  EXPECT_TRUE(has(ValidationError([](NetworkConfig& c) { c.network_prefix = P("fd00::1/48"); }),
                  "network_prefix"));
  EXPECT_TRUE(has(ValidationError([](NetworkConfig& c) { c.node_prefix_length = 48; }),
                  "node_prefix_length"));
  EXPECT_TRUE(has(ValidationError([](NetworkConfig& c) { c.node_prefix_length = 129; }),
                  "node_prefix_length"));
  EXPECT_TRUE(has(ValidationError([](NetworkConfig& c) { c.ipv4_network = P("fd00::/8"); }),
                  "ipv4_network"));
  EXPECT_TRUE(has(ValidationError([](NetworkConfig& c) { c.ipv4_node_prefix_length = 33; }),
                  "ipv4_node_prefix_length"));
  EXPECT_TRUE(has(ValidationError([](NetworkConfig& c) { c.client_count = 0; }), "client_count"));
  EXPECT_TRUE(has(ValidationError([](NetworkConfig& c) { c.max_clients = 3; }), "max_clients"));
  EXPECT_TRUE(has(ValidationError([](NetworkConfig& c) { c.tunnel_refresh = {}; }),
                  "tunnel_refresh_seconds"));
  EXPECT_TRUE(has(ValidationError([](NetworkConfig& c) {
                    c.babel_hello_interval = std::chrono::milliseconds(4005);
                  }),
                  "babel_hello_interval_ms"));
  EXPECT_TRUE(has(ValidationError([](NetworkConfig& c) { c.grants[1].node_name = "GW!"; }),
                  "grants[1].node"));
  EXPECT_TRUE(
      has(ValidationError([](NetworkConfig& c) { c.grants[2].prefix = P("2001:db8::1/32"); }),
          "grants[2].prefix"));
}

TEST(NetworkConfigTest, ParseErrorsNameTheField) {
  auto has = [](const std::string& msg, std::string_view field) {
    return msg.find(field) != std::string::npos;
  };
  EXPECT_EQ(ParseErrorAfter([](nlohmann::json&) {}), "");
  EXPECT_TRUE(has(ParseErrorAfter([](nlohmann::json& j) { j.erase("max_clients"); }),
                  "max_clients: missing"));
  EXPECT_TRUE(has(ParseErrorAfter([](nlohmann::json& j) { j["client_count"] = "4"; }),
                  "client_count: not"));
  EXPECT_TRUE(has(ParseErrorAfter([](nlohmann::json& j) { j["network_prefix"] = "nonsense"; }),
                  "network_prefix"));
  EXPECT_TRUE(has(ParseErrorAfter([](nlohmann::json& j) { j["node_prefix_length"] = 300; }),
                  "node_prefix_length"));
  EXPECT_TRUE(has(ParseErrorAfter([](nlohmann::json& j) { j["client_count"] = 1ULL << 33; }),
                  "client_count"));
  EXPECT_TRUE(has(ParseErrorAfter([](nlohmann::json& j) { j.erase("ipv4_network"); }),
                  "ipv4_network: missing"));
  EXPECT_TRUE(has(ParseErrorAfter([](nlohmann::json& j) { j["surprise"] = 1; }),
                  "surprise: unknown field"));
  EXPECT_TRUE(has(ParseErrorAfter([](nlohmann::json& j) { j["grants"][0]["prefix"] = 5; }),
                  "grants[0]: prefix"));
  EXPECT_TRUE(has(ParseErrorAfter([](nlohmann::json& j) { j["grants"][1] = "gw1"; }),
                  "grants[1]: not an object"));
  EXPECT_TRUE(
      has(ParseErrorAfter([](nlohmann::json& j) { j["crl_version"] = -1; }), "crl_version"));
}

class SignedNetworkConfigTest : public ::testing::Test {
 protected:
  SignedDocument Sign(uint64_t version = 3) {
    Result<SignedDocument> doc = SignNetworkConfig(Sample(), version, test::kNow, ca_key_);
    EXPECT_TRUE(doc.ok());
    return std::move(*doc);
  }
  DocumentRejection Check(const SignedDocument& doc, uint64_t held = 2) {
    return VerifyNetworkConfig(doc, ca_key_.public_key(), held).verdict.rejection;
  }

  IdentityKey ca_key_ = test::NewKey();
};

TEST_F(SignedNetworkConfigTest, RoundTripThroughText) {
  Result<SignedDocument> doc = DecodeSignedDocument(EncodeSignedDocument(Sign()));
  ASSERT_TRUE(doc.ok()) << doc.error().message();
  VerifiedNetworkConfig v = VerifyNetworkConfig(*doc, ca_key_.public_key(), 2);
  ASSERT_TRUE(v.verdict.ok()) << v.verdict.message;
  EXPECT_EQ(v.version, 3u);
  EXPECT_EQ(v.config, Sample());
}

TEST_F(SignedNetworkConfigTest, RefusesOlderAndEqualVersions) {
  EXPECT_EQ(Check(Sign(3), 3), DocumentRejection::kSameVersion);
  EXPECT_EQ(Check(Sign(3), 4), DocumentRejection::kOlderVersion);
}

TEST_F(SignedNetworkConfigTest, RejectsTamperingAndOtherSigners) {
  SignedDocument doc = Sign();
  SignedDocument payload = doc;
  NetworkConfig bigger = Sample();
  bigger.grants.push_back({.node_name = "mallory", .prefix = P("::/0")});
  payload.payload = *NetworkConfigToPayload(bigger);
  EXPECT_EQ(Check(payload), DocumentRejection::kBadSignature);
  SignedDocument version = doc;
  version.version = 9;
  EXPECT_EQ(Check(version), DocumentRejection::kBadSignature);
  IdentityKey other = test::NewKey();
  Result<SignedDocument> foreign = SignNetworkConfig(Sample(), 3, test::kNow, other);
  ASSERT_TRUE(foreign.ok());
  EXPECT_EQ(Check(*foreign), DocumentRejection::kWrongSigner);
}

TEST_F(SignedNetworkConfigTest, RejectsCrlSignedBySameKey) {
  Result<Bytes> payload = NetworkConfigToPayload(Sample());
  ASSERT_TRUE(payload.ok());
  Result<SignedDocument> doc = SignDocument("crl", 3, test::kNow, *payload, ca_key_);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(Check(*doc), DocumentRejection::kWrongKind);
}

TEST_F(SignedNetworkConfigTest, AuthenticButInvalidPayloadIsMalformed) {
  Result<SignedDocument> doc =
      SignDocument(kNetworkConfigKind, 3, test::kNow, AsBytes(R"({"network_name":"x"})"), ca_key_);
  ASSERT_TRUE(doc.ok());
  VerifiedNetworkConfig v = VerifyNetworkConfig(*doc, ca_key_.public_key(), 2);
  EXPECT_EQ(v.verdict.rejection, DocumentRejection::kMalformed);
  EXPECT_NE(v.verdict.message.find("missing"), std::string::npos) << v.verdict.message;
}

TEST_F(SignedNetworkConfigTest, SignRefusesInvalidConfig) {
  NetworkConfig c = Sample();
  c.client_count = 0;
  EXPECT_FALSE(SignNetworkConfig(c, 1, test::kNow, ca_key_).ok());
}

}  // namespace
}  // namespace plexus::identity
