#include "registry/registry_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include "testing/fake_random.h"

namespace plexus {
namespace {

constexpr int64_t kNow = 1'800'000'000;

class RegistryDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "plexus-regdir-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    paths_.dir = root_ + "/reg";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  static InitOptions Options() {
    InitOptions o;
    o.network_name = "meshnet";
    o.now_unix = kNow;
    return o;
  }

  testing::FakeRandom random_{5};
  std::string root_;
  RegistryPaths paths_;
};

TEST_F(RegistryDirTest, InitMakesAUlaNetworkAndAPrivateCaKey) {
  Result<RegistrySettings> s = InitRegistry(paths_, Options(), random_);
  ASSERT_TRUE(s.ok()) << s.error().message();
  const Prefix& p = s->network.network_prefix;
  EXPECT_EQ(p.length(), 48);
  EXPECT_EQ(static_cast<uint8_t>(p.address().bytes()[0]), 0xfd);  // RFC 4193 L = 1
  EXPECT_EQ(s->domain, "meshnet");
  struct stat st {};
  ASSERT_EQ(::stat(paths_.ca_key().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result<Registry> r = Registry::Open(paths_);
  ASSERT_TRUE(r.ok()) << r.error().message();
  Result<RegistrySettings> loaded = LoadSettings(*r->storage);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->network, s->network);
  EXPECT_EQ(*r->storage->NetworkVersion(), 1);
}

TEST_F(RegistryDirTest, InitRefusesAnExistingRegistry) {
  ASSERT_TRUE(InitRegistry(paths_, Options(), random_).ok());
  std::string before = *ReadTextFile(paths_.ca_cert());
  Result<RegistrySettings> again = InitRegistry(paths_, Options(), random_);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message().find("already exists"), std::string::npos);
  EXPECT_EQ(*ReadTextFile(paths_.ca_cert()), before);
}

TEST_F(RegistryDirTest, InitRefusesBadNamesAndPrefixes) {
  InitOptions o = Options();
  o.network_name = "Not A Label";
  EXPECT_FALSE(InitRegistry(paths_, o, random_).ok());
  o = Options();
  o.ipv6_prefix = *Prefix::Parse("10.0.0.0/8");
  EXPECT_FALSE(InitRegistry(paths_, o, random_).ok());
  o = Options();
  o.node_prefix_length = 40;
  Result<RegistrySettings> s = InitRegistry(paths_, o, random_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("node_prefix_length"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(paths_.dir)) << "nothing written on a refusal";
}

TEST_F(RegistryDirTest, OpenWithoutInitSaysWhatToDo) {
  Result<Registry> r = Registry::Open(paths_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("plexus registry init"), std::string::npos);
}

TEST(NetworkSettingsTest, GrantsRoundTripAndUnknownStoredKeysAreErrors) {
  RegistrySettings s;
  s.network.network_name = "meshnet";
  s.network.network_prefix = *Prefix::Parse("fd00:1::/48");
  s.domain = "mesh.example";
  Result<SettingsMap> m = ApplySetting(SettingsToMap(s), "grants", "gw1=::/0,gw2=0.0.0.0/0");
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->at("grants"), "gw1=::/0,gw2=0.0.0.0/0");
  Result<RegistrySettings> back = SettingsFromMap(*m);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->network.grants.size(), 2u);
  EXPECT_TRUE(ApplySetting(*m, "grants", "").ok());
  SettingsMap bad = *m;
  bad["colour"] = "blue";
  Result<RegistrySettings> r = SettingsFromMap(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "setting colour: unknown key");
}

TEST(NetworkSettingsTest, DomainsAreDnsNames) {
  EXPECT_TRUE(IsValidDomain("mesh.example"));
  EXPECT_TRUE(IsValidDomain("a"));
  EXPECT_FALSE(IsValidDomain(""));
  EXPECT_FALSE(IsValidDomain("a..b"));
  EXPECT_FALSE(IsValidDomain("Mesh.example"));
  EXPECT_FALSE(IsValidDomain("mesh.example."));
}

}  // namespace
}  // namespace plexus
