#include "node/status_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace plexus::node {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

constexpr int64_t kNow = 1700000000;

json SampleStatus() {
  return json::parse(R"({
    "interface": {"name": "plx0", "public_key": "IFACEKEY=", "listen_port": 51820,
                  "addresses": ["fd00:1::1/64", "10.0.0.1/24"], "mtu": 1420},
    "peers": [
      {"public_key": "PEERONE=", "endpoint": "192.0.2.2:51820",
       "allowed_prefixes": ["fd00:1::2/128", "10.0.0.2/32"],
       "last_handshake_unix": 1699999937, "rx_bytes": 1536, "tx_bytes": 3145728,
       "state": "established", "persistent_keepalive": 25},
      {"public_key": "PEERTWO=", "endpoint": null, "allowed_prefixes": [],
       "last_handshake_unix": 0, "rx_bytes": 0, "tx_bytes": 0,
       "state": "handshake pending", "persistent_keepalive": 0, "link": "up"}
    ],
    "drops": {"invalid_mac1": 3, "replayed": 0, "unknown_receiver": 1},
    "counters": {"rx_packets": 0}
  })");
}

TEST(StatusFormatTest, FormatsLikeWgShow) {
  EXPECT_EQ(FormatStatus(SampleStatus(), kNow),
            "interface: plx0\n"
            "  public key: IFACEKEY=\n"
            "  listening port: 51820\n"
            "  addresses: fd00:1::1/64, 10.0.0.1/24\n"
            "  mtu: 1420\n"
            "\n"
            "peer: PEERONE=\n"
            "  state: established\n"
            "  endpoint: 192.0.2.2:51820\n"
            "  allowed prefixes: fd00:1::2/128, 10.0.0.2/32\n"
            "  latest handshake: 1 minute, 3 seconds ago\n"
            "  transfer: 1.50 KiB received, 3.00 MiB sent\n"
            "  persistent keepalive: every 25 seconds\n"
            "\n"
            "peer: PEERTWO=\n"
            "  state: handshake pending\n"
            "  allowed prefixes: (none)\n"
            "  mesh link: up (routed by Babel)\n"
            "  latest handshake: never\n"
            "  transfer: 0 B received, 0 B sent\n"
            "\n"
            "drops:\n"
            "  invalid_mac1: 3\n"
            "  unknown_receiver: 1\n");
}

TEST(StatusFormatTest, ShowsNonzeroCounters) {
  json status = SampleStatus();
  status["counters"]["rx_packets"] = 42;
  EXPECT_THAT(FormatStatus(status, kNow), HasSubstr("\ncounters:\n  rx_packets: 42\n"));
}

TEST(StatusFormatTest, ShowsIdentityAndAuthorisation) {
  json status = SampleStatus();
  status["identity"] = {
      {"name", "alpha"},          {"network", "meshnet"},
      {"serial", "0a1b"},         {"certificate_not_after", kNow + 86400},
      {"crl_version", 3},         {"config_version", 2},
      {"dir", "/var/lib/plexus"}, {"refused", {{{"public_key", "KEY="}, {"reason", "revoked"}}}}};
  status["peers"][0]["authorisation"] = {
      {"state", "rejected"}, {"reason", "revoked"}, {"name", "bravo"}};
  status["peers"][0]["admitted"] = true;
  const std::string text = FormatStatus(status, kNow);
  EXPECT_THAT(text, HasSubstr("identity: alpha of network meshnet\n"));
  EXPECT_THAT(text, HasSubstr("  expires: in 1 day\n"));
  EXPECT_THAT(text, HasSubstr("  crl version: 3\n"));
  EXPECT_THAT(text, HasSubstr("  refused: KEY= (revoked)\n"));
  EXPECT_THAT(text, HasSubstr("  authorisation: rejected: revoked (bravo), connected to us\n"));
}

TEST(StatusFormatTest, OmitsDropsWhenAllZero) {
  json status = SampleStatus();
  status["drops"] = {{"invalid_mac1", 0}};
  EXPECT_THAT(FormatStatus(status, kNow), Not(HasSubstr("drops")));
}

TEST(StatusFormatTest, SurvivesMalformedDocuments) {
  EXPECT_EQ(FormatStatus(json(), kNow), "interface: \n  listening port: 0\n");
  json status = SampleStatus();
  status["peers"][0]["rx_bytes"] = "lots";
  status["peers"][0]["allowed_prefixes"] = 7;
  status["drops"] = json::array({1, 2});
  std::string text = FormatStatus(status, kNow);
  EXPECT_THAT(text, HasSubstr("transfer: 0 B received, 3.00 MiB sent"));
  EXPECT_THAT(text, HasSubstr("peer: PEERONE=\n"));
  EXPECT_EQ(FormatStatus(json::array({1}), kNow), "interface: \n  listening port: 0\n");
}

// Found by fuzzing: float fields outside int64's range made the conversion undefined.
TEST(StatusFormatTest, SaturatesFloatsOutOfRange) {
  json status = SampleStatus();
  status["interface"]["mtu"] = 1e19;
  status["peers"][0]["rx_bytes"] = 1e300;
  status["peers"][0]["tx_bytes"] = -1e300;
  std::string text = FormatStatus(status, kNow);
  EXPECT_THAT(text, HasSubstr("mtu: 9223372036854775807"));
  EXPECT_THAT(text, HasSubstr("transfer: 8388608.00 TiB received, 0 B sent"));
}

TEST(StatusFormatTest, DurationsNameEachNonzeroUnit) {
  EXPECT_EQ(FormatDuration(0), "0 seconds");
  EXPECT_EQ(FormatDuration(1), "1 second");
  EXPECT_EQ(FormatDuration(59), "59 seconds");
  EXPECT_EQ(FormatDuration(60), "1 minute");
  EXPECT_EQ(FormatDuration(63), "1 minute, 3 seconds");
  EXPECT_EQ(FormatDuration(2 * 3600 + 1), "2 hours, 1 second");
  EXPECT_EQ(FormatDuration(86400 + 3600 + 120), "1 day, 1 hour, 2 minutes");
  EXPECT_EQ(FormatDuration(2 * 365 * 86400 + 3 * 86400), "2 years, 3 days");
}

TEST(StatusFormatTest, AgoHandlesNeverNowAndClockSkew) {
  EXPECT_EQ(FormatAgo(0, kNow), "never");
  EXPECT_EQ(FormatAgo(kNow, kNow), "just now");
  EXPECT_EQ(FormatAgo(kNow - 1, kNow), "1 second ago");
  EXPECT_EQ(FormatAgo(kNow - 3600, kNow), "1 hour ago");
  EXPECT_EQ(FormatAgo(kNow + 5, kNow), "5 seconds in the future (is the system clock right?)");
}

TEST(StatusFormatTest, BytesUseBinaryUnits) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1024), "1.00 KiB");
  EXPECT_EQ(FormatBytes(1536), "1.50 KiB");
  EXPECT_EQ(FormatBytes(1024 * 1024 - 1), "1024.00 KiB");
  EXPECT_EQ(FormatBytes(5ull << 30), "5.00 GiB");
  EXPECT_EQ(FormatBytes(3ull << 40), "3.00 TiB");
  EXPECT_EQ(FormatBytes(2048ull << 40), "2048.00 TiB");
}

}  // namespace
}  // namespace plexus::node
