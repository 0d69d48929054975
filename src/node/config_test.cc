#include "node/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "testing/fake_random.h"
#include "testing/temp_dir.h"

namespace plexus::node {
namespace {

using ::testing::HasSubstr;

std::string PrivateKeyText(uint64_t seed) {
  testing::FakeRandom random(seed);
  return crypto::PrivateKey::Generate(random).ToBase64();
}

std::string PublicKeyText(uint64_t seed) {
  testing::FakeRandom random(seed);
  return crypto::PrivateKey::Generate(random).Public().ToBase64();
}

// A minimal valid config: the node's key from seed 1.
std::string Interface(std::string_view extra = "") {
  return fmt::format("[interface]\nprivate_key = \"{}\"\n{}", PrivateKeyText(1), extra);
}

std::string Peer(uint64_t seed, std::string_view extra = "") {
  return fmt::format("\n[[peer]]\npublic_key = \"{}\"\n{}", PublicKeyText(seed), extra);
}

TEST(ConfigTest, ParsesFullConfig) {
  std::string text = Interface(
                         "listen_port = 51999\ntun = \"mesh0\"\n"
                         "addresses = [\"fd00:1::1/64\", \"10.0.0.1/24\"]\nmtu = 1380\n"
                         "control_socket = \"/tmp/x.sock\"\n") +
                     Peer(2,
                          "endpoint = \"[2001:db8::2]:51820\"\n"
                          "allowed_prefixes = [\"fd00:1::2/128\", \"10.0.0.7/24\"]\n"
                          "persistent_keepalive = 25\n"
                          "preshared_key = \"" +
                              PrivateKeyText(9) + "\"\n") +
                     Peer(3, "endpoint = \"192.0.2.3:4000\"\n");
  auto config = ParseConfig(text, "node.toml");
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->path, "node.toml");
  const InterfaceConfig& i = config->interface;
  EXPECT_EQ(i.private_key.ToBase64(), PrivateKeyText(1));
  EXPECT_EQ(i.listen_port, 51999);
  EXPECT_EQ(i.tun, "mesh0");
  ASSERT_EQ(i.addresses.size(), 2u);
  EXPECT_EQ(i.addresses[0].ToString(), "fd00:1::1/64");
  EXPECT_EQ(i.addresses[1].ToString(), "10.0.0.1/24");
  EXPECT_EQ(i.mtu, 1380);
  EXPECT_EQ(i.control_socket, "/tmp/x.sock");
  ASSERT_EQ(config->peers.size(), 2u);
  const PeerConfig& p = config->peers[0];
  EXPECT_EQ(p.public_key.ToBase64(), PublicKeyText(2));
  ASSERT_TRUE(p.endpoint.has_value());
  EXPECT_EQ(p.endpoint->ToString(), "[2001:db8::2]:51820");
  ASSERT_EQ(p.allowed_prefixes.size(), 2u);
  EXPECT_EQ(p.allowed_prefixes[0].ToString(), "fd00:1::2/128");
  EXPECT_EQ(p.allowed_prefixes[1].ToString(), "10.0.0.0/24");  // host bits cleared
  EXPECT_EQ(p.persistent_keepalive, 25);
  ASSERT_TRUE(p.preshared_key.has_value());
  EXPECT_FALSE(p.preshared_key->IsZero());
  EXPECT_EQ(config->peers[1].endpoint->ToString(), "192.0.2.3:4000");
  EXPECT_FALSE(config->peers[1].preshared_key.has_value());
}

TEST(ConfigTest, AppliesDefaults) {
  auto config = ParseConfig(Interface() + Peer(2), "node.toml");
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->interface.listen_port, kDefaultListenPort);
  EXPECT_EQ(config->interface.tun, "plx0");
  EXPECT_EQ(config->interface.mtu, kDefaultMtu);
  EXPECT_EQ(config->interface.control_socket, "/run/plexus/plx0.sock");
  EXPECT_TRUE(config->interface.addresses.empty());
  EXPECT_FALSE(config->peers[0].endpoint.has_value());
  EXPECT_EQ(config->peers[0].persistent_keepalive, 0);
}

TEST(ConfigTest, ParsesBabelSection) {
  auto config = ParseConfig(Interface() + Peer(2) +
                                "[babel]\nhello_interval = 0.5\nupdate_interval = 2\n"
                                "link_quality = \"two-out-of-three\"\nrtt_min = 5\nrtt_max = 50\n"
                                "max_rtt_penalty = 200\nannounce = [\"fd00:9::1/64\"]\n"
                                "link_probe_interval = 0.1\nlink_timeout = 0.4\n"
                                "seqno_file = \"/tmp/s\"\n",
                            "node.toml");
  ASSERT_TRUE(config) << config.error().message();
  const BabelConfig& b = config->babel;
  EXPECT_EQ(b.hello_interval_s, 0.5);
  EXPECT_EQ(b.update_interval_s, 2.0);
  EXPECT_FALSE(b.etx);
  EXPECT_EQ(b.rtt_min_ms, 5);
  EXPECT_EQ(b.rtt_max_ms, 50);
  EXPECT_EQ(b.max_rtt_penalty, 200);
  ASSERT_EQ(b.announce.size(), 1u);
  EXPECT_EQ(b.announce[0].ToString(), "fd00:9::/64");
  EXPECT_EQ(b.link_probe_interval_s, 0.1);
  EXPECT_EQ(b.link_timeout_s, 0.4);
  EXPECT_EQ(b.seqno_file, "/tmp/s");
  EXPECT_TRUE(config->peers[0].allowed_prefixes.empty());  // a mesh peer
}

TEST(ConfigTest, ParsesNetworks) {
  auto config =
      ParseConfig(Interface("networks = [\"fd00:1::5/48\", \"10.42.0.0/16\"]\n"), "node.toml");
  ASSERT_TRUE(config) << config.error().message();
  ASSERT_EQ(config->interface.networks.size(), 2u);
  EXPECT_EQ(config->interface.networks[0].ToString(), "fd00:1::/48");
  EXPECT_EQ(config->interface.networks[1].ToString(), "10.42.0.0/16");
}

TEST(ConfigTest, BabelDefaults) {
  auto config = ParseConfig(Interface(), "node.toml");
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->babel.hello_interval_s, 1.0);
  EXPECT_FALSE(config->babel.update_interval_s.has_value());
  EXPECT_TRUE(config->babel.etx);
  EXPECT_TRUE(config->babel.announce.empty());
}

TEST(ConfigTest, DefaultSocketFollowsTunName) {
  auto config = ParseConfig(Interface("tun = \"wg7\"\n"), "node.toml");
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->interface.control_socket, "/run/plexus/wg7.sock");
}

TEST(ConfigTest, ListenPortZeroMeansEphemeral) {
  auto config = ParseConfig(Interface("listen_port = 0\n"), "node.toml");
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->interface.listen_port, 0);
}

TEST(ConfigTest, ResolvesHostNameEndpoints) {
  auto config = ParseConfig(Interface() + Peer(2, "endpoint = \"localhost:51820\"\n"), "n.toml");
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->peers[0].endpoint->port(), 51820);
}

struct BadConfig {
  std::string name;
  std::string text;
  std::string expected;  // a substring of the error, including file:line and key
};

void PrintTo(const BadConfig& c, std::ostream* os) {
  *os << c.name;
}

class BadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigTest, IsRefusedWithFileLineAndKey) {
  auto config = ParseConfig(GetParam().text, "node.toml");
  ASSERT_FALSE(config) << "accepted: " << GetParam().text;
  EXPECT_THAT(config.error().message(), HasSubstr(GetParam().expected));
}

std::vector<BadConfig> BadConfigs() {
  std::string key1 = PrivateKeyText(1);
  return {
      {"TomlSyntax", Interface("mtu = = 3\n"), "node.toml:3:"},
      {"MissingInterface", Peer(2), "node.toml: missing [interface]"},
      {"InterfaceArray", "[[interface]]\nprivate_key = \"x\"\n", "node.toml:1: interface: must be"},
      {"PeerTable", Interface() + "[peer]\npublic_key = \"x\"\n", "node.toml:3: peer: must be"},
      {"UnknownRootKey", "color = 3\n" + Interface(), "node.toml:1: color: unknown key"},
      {"UnknownInterfaceKey", Interface("listen_prot = 5\n"),
       "node.toml:3: [interface] listen_prot: unknown key"},
      {"UnknownPeerKey", Interface() + Peer(2, "endpiont = \"1.2.3.4:5\"\n"),
       "node.toml:6: [[peer]] #1 endpiont: unknown key"},
      {"MissingPrivateKey", "[interface]\nmtu = 1400\n",
       "node.toml:1: [interface] private_key: missing"},
      {"BothPrivateKeys", Interface("private_key_file = \"k\"\n"),
       "node.toml:2: [interface] private_key: give either"},
      {"BadPrivateKey", "[interface]\nprivate_key = \"abc\"\n",
       "node.toml:2: [interface] private_key: not a base64 32-byte private key"},
      {"MissingKeyFile", "[interface]\nprivate_key_file = \"/nonexistent/plexus.key\"\n",
       "node.toml:2: [interface] private_key_file: cannot read /nonexistent/plexus.key: No such "
       "file"},
      {"PortType", Interface("listen_port = \"51820\"\n"),
       "node.toml:3: [interface] listen_port: expected an integer, got a string"},
      {"PortRange", Interface("listen_port = 70000\n"),
       "node.toml:3: [interface] listen_port: 70000 is out of range 0..65535"},
      {"MtuHigh", Interface("mtu = 99999\n"),
       "node.toml:3: [interface] mtu: 99999 is out of range 1280..9000"},
      {"MtuLow", Interface("mtu = 1279\n"), "node.toml:3: [interface] mtu: 1279 is out of range"},
      {"TunTooLong", Interface("tun = \"abcdefghijklmnop\"\n"),
       "node.toml:3: [interface] tun: \"abcdefghijklmnop\" is not a valid interface name"},
      {"TunSlash", Interface("tun = \"a/b\"\n"), "node.toml:3: [interface] tun:"},
      {"TunSpace", Interface("tun = \"a b\"\n"), "node.toml:3: [interface] tun:"},
      {"TunEmpty", Interface("tun = \"\"\n"), "node.toml:3: [interface] tun:"},
      {"AddressesNotArray", Interface("addresses = \"fd00::1/64\"\n"),
       "node.toml:3: [interface] addresses: expected an array of strings, got a string"},
      {"AddressElementType", Interface("addresses = [\n\"fd00::1/64\",\n7]\n"),
       "node.toml:5: [interface] addresses: expected a string"},
      {"AddressInvalid", Interface("addresses = [\"fd00::1/129\"]\n"),
       "node.toml:3: [interface] addresses: prefix length 129"},
      {"SocketEmpty", Interface("control_socket = \"\"\n"),
       "node.toml:3: [interface] control_socket: must not be empty"},
      {"SocketTooLong", Interface("control_socket = \"/" + std::string(120, 'a') + "\"\n"),
       "node.toml:3: [interface] control_socket: /aaa"},
      {"PeerMissingKey", Interface() + "\n[[peer]]\nendpoint = \"192.0.2.1:1\"\n",
       "node.toml:4: [[peer]] #1 public_key: missing"},
      {"PeerBadKey", Interface() + Peer(2) + "\n[[peer]]\npublic_key = \"AAAA\"\n",
       "node.toml:8: [[peer]] #2 public_key: not a base64 32-byte key"},
      {"PeerZeroKey",
       Interface() + "\n[[peer]]\npublic_key = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"\n",
       "node.toml:5: [[peer]] #1 public_key: is all zeros"},
      {"PeerOwnKey", Interface() + Peer(1), "node.toml:5: [[peer]] #1 public_key: is this node's"},
      {"DuplicatePeer", Interface() + Peer(2) + Peer(2),
       "node.toml:8: [[peer]] #2 public_key: duplicates the public key of [[peer]] #1"},
      {"BadEndpoint", Interface() + Peer(2, "endpoint = \"fd00::1:51820\"\n"),
       "node.toml:6: [[peer]] #1 endpoint: IPv6 endpoint needs brackets"},
      {"EndpointPortZero", Interface() + Peer(2, "endpoint = \"192.0.2.1:0\"\n"),
       "node.toml:6: [[peer]] #1 endpoint: port 0"},
      {"EndpointHostBadPort", Interface() + Peer(2, "endpoint = \"example.org:99999\"\n"),
       "node.toml:6: [[peer]] #1 endpoint: invalid port"},
      {"KeepaliveRange", Interface() + Peer(2, "persistent_keepalive = -1\n"),
       "node.toml:6: [[peer]] #1 persistent_keepalive: -1 is out of range 0..65535"},
      {"BadPsk", Interface() + Peer(2, "preshared_key = \"c2hvcnQ=\"\n"),
       "node.toml:6: [[peer]] #1 preshared_key: not a base64 32-byte key"},
      {"OverlapSame",
       Interface() + Peer(2, "allowed_prefixes = [\"10.0.0.2/32\"]\n") +
           Peer(3, "allowed_prefixes = [\"10.0.0.2/32\"]\n"),
       "node.toml:10: [[peer]] #2 allowed_prefixes: 10.0.0.2/32 overlaps 10.0.0.2/32 of [[peer]] "
       "#1"},
      {"OverlapContaining",
       Interface() + Peer(2, "allowed_prefixes = [\"fd00:1::2/128\"]\n") +
           Peer(3, "allowed_prefixes = [\"fd00::/16\"]\n"),
       "node.toml:10: [[peer]] #2 allowed_prefixes: fd00::/16 overlaps fd00:1::2/128"},
      {"BabelNotTable", "babel = 3\n" + Interface(), "node.toml:1: babel: must be a table"},
      {"BabelUnknownKey", Interface() + "[babel]\nhello = 1\n",
       "node.toml:4: [babel] hello: unknown key"},
      {"BabelHelloType", Interface() + "[babel]\nhello_interval = \"1s\"\n",
       "node.toml:4: [babel] hello_interval: expected a number of seconds, got a string"},
      {"BabelHelloRange", Interface() + "[babel]\nhello_interval = 0.001\n",
       "node.toml:4: [babel] hello_interval: 0.001 is out of range"},
      {"BabelQuality", Interface() + "[babel]\nlink_quality = \"wifi\"\n",
       "node.toml:4: [babel] link_quality: \"wifi\": expected"},
      {"BabelRttOrder", Interface() + "[babel]\nrtt_min = 50\nrtt_max = 20\n",
       "node.toml:5: [babel] rtt_max: rtt_max (20 ms) must be greater than rtt_min (50 ms)"},
      {"BabelTimeoutShort", Interface() + "[babel]\nlink_probe_interval = 1\nlink_timeout = 0.5\n",
       "node.toml:5: [babel] link_timeout: 0.5 s must be longer"},
      {"BabelAnnounce", Interface() + "[babel]\nannounce = [\"fd00::/129\"]\n",
       "node.toml:4: [babel] announce: prefix length 129"},
      {"IdentityNotTable", "identity = 1\n" + Interface(),
       "node.toml:1: identity: must be a table, written [identity]"},
      {"IdentityNoDir", Interface() + "[identity]\nregistry_interval = 5\n",
       "node.toml:3: [identity] dir: required"},
      {"IdentityUnknownKey", Interface() + "[identity]\ndir = \"/x\"\nregistry = 1\n",
       "node.toml:5: [identity] registry: unknown key"},
      {"IdentityInterval", Interface() + "[identity]\ndir = \"/x\"\nregistry_interval = 0\n",
       "node.toml:5: [identity] registry_interval: 0 is out of range"},
      {"IdentityAccept", Interface() + "[identity]\ndir = \"/x\"\naccept_unknown = \"yes\"\n",
       "node.toml:5: [identity] accept_unknown: expected true or false, got a string"},
  };
}

INSTANTIATE_TEST_SUITE_P(All, BadConfigTest, ::testing::ValuesIn(BadConfigs()),
                         [](const auto& info) { return info.param.name; });

TEST(ConfigTest, IdentitySection) {
  auto none = ParseConfig(Interface(), "/etc/plexus/node.toml");
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_FALSE(none->identity);
  auto config = ParseConfig(Interface("[identity]\ndir = \"state\"\nregistry_interval = 2.5\n"
                                      "max_pending_links = 8\naccept_unknown = false\n"),
                            "/etc/plexus/node.toml");
  ASSERT_TRUE(config) << config.error().message();
  ASSERT_TRUE(config->identity);
  EXPECT_EQ(config->identity->dir, "/etc/plexus/state");
  EXPECT_EQ(config->identity->registry_interval_s, 2.5);
  EXPECT_EQ(config->identity->max_pending_links, 8);
  EXPECT_FALSE(config->identity->accept_unknown);
}

TEST(ConfigTest, NonOverlappingPrefixesOfDifferentFamiliesAreAccepted) {
  auto config = ParseConfig(Interface() + Peer(2, "allowed_prefixes = [\"::/0\"]\n") +
                                Peer(3, "allowed_prefixes = [\"0.0.0.0/0\"]\n"),
                            "node.toml");
  EXPECT_TRUE(config) << config.error().message();
}

TEST(ConfigTest, ReadsKeyFileRelativeToConfigDirectory) {
  testing::TempDir dir("plexus-config");
  dir.Write("node.key", PrivateKeyText(4) + "\n");
  std::string path = dir.Write("node.toml", "[interface]\nprivate_key_file = \"node.key\"\n");
  auto config = LoadConfig(path);
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->interface.private_key.ToBase64(), PrivateKeyText(4));
  EXPECT_EQ(config->interface.private_key_file, dir.path() + "/node.key");
  EXPECT_EQ(config->path, path);
}

TEST(ConfigTest, WorldReadableKeyFileIsOnlyAWarning) {
  testing::TempDir dir("plexus-config");
  dir.Write("node.key", PrivateKeyText(4), 0644);
  std::string path = dir.Write("node.toml", "[interface]\nprivate_key_file = \"node.key\"\n");
  EXPECT_TRUE(LoadConfig(path));
}

TEST(ConfigTest, KeyFileWithGarbageNamesTheFile) {
  testing::TempDir dir("plexus-config");
  dir.Write("node.key", "not a key\n");
  std::string path = dir.Write("node.toml", "[interface]\nprivate_key_file = \"node.key\"\n");
  auto config = LoadConfig(path);
  ASSERT_FALSE(config);
  EXPECT_THAT(config.error().message(),
              HasSubstr(":2: [interface] private_key_file: not a base64 32-byte private key"));
}

TEST(ConfigTest, UnreadableKeyFileIsRefused) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads any file";
  testing::TempDir dir("plexus-config");
  dir.Write("node.key", PrivateKeyText(4), 0000);
  std::string path = dir.Write("node.toml", "[interface]\nprivate_key_file = \"node.key\"\n");
  auto config = LoadConfig(path);
  ASSERT_FALSE(config);
  EXPECT_THAT(config.error().message(), HasSubstr("Permission denied"));
}

TEST(ConfigTest, KeyFileThatCannotBeReadIsRefused) {
  testing::TempDir dir("plexus-config");
  std::filesystem::create_directory(dir.path() + "/node.key");
  std::string path = dir.Write("node.toml", "[interface]\nprivate_key_file = \"node.key\"\n");
  auto config = LoadConfig(path);
  ASSERT_FALSE(config);
  EXPECT_THAT(config.error().message(),
              HasSubstr(fmt::format(":2: [interface] private_key_file: cannot read {}/node.key: Is "
                                    "a directory",
                                    dir.path())));
}

TEST(ConfigTest, RelativeControlSocketIsResolvedAgainstConfigDirectory) {
  testing::TempDir dir("plexus-config");
  std::string path = dir.Write("node.toml", Interface("control_socket = \"ctl.sock\"\n"));
  auto config = LoadConfig(path);
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->interface.control_socket, dir.path() + "/ctl.sock");
}

TEST(ConfigTest, MissingConfigFileIsRefused) {
  auto config = LoadConfig("/nonexistent/node.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message(),
            "cannot read config file /nonexistent/node.toml: No such file or directory");
}

}  // namespace
}  // namespace plexus::node
