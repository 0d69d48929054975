#include "registry/storage.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "registry/prefix_allocator.h"
#include "testing/fake_random.h"

namespace plexus {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr UnixSeconds kNow{seconds(1'800'000'000)};

Prefix P(std::string_view text) {
  Result<Prefix> p = Prefix::Parse(text);
  EXPECT_TRUE(p.ok()) << text;
  return p.ok() ? *p : Prefix();
}

NodeRecord Node(int i) {
  NodeRecord n;
  n.name = fmt::format("node{}", i);
  n.serial = fmt::format("{:016x}", 0x1000 + i);
  n.certificate_pem =
      fmt::format("-----BEGIN CERTIFICATE-----\nnode{}\n-----END CERTIFICATE-----\n", i);
  n.prefix = P(fmt::format("fd12:3456:789a:{:x}::/64", i));
  n.ipv4 = P(fmt::format("10.42.{}.{}/32", i / 256, i % 256));
  n.wireguard_key = fmt::format("wg-key-{}", i);
  n.identity_key = fmt::format("id-key-{}", i);
  n.issued_at = kNow;
  n.expires_at = kNow + hours(24 * 365);
  return n;
}

class StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "plexus-storage-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "registry.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<RegistryStorage> OpenOrDie() {
    Result<std::unique_ptr<RegistryStorage>> s = RegistryStorage::Open(path_);
    EXPECT_TRUE(s.ok()) << s.error().message();
    return s.ok() ? std::move(*s) : nullptr;
  }
  IssuedToken AddToken(RegistryStorage& storage, int uses, int prefix_length = 64) {
    IssuedToken t = MakeToken(random_, kNow, hours(1), uses, prefix_length);
    EXPECT_TRUE(storage.AddToken(t.token).ok());
    return t;
  }
  static TokenUse Use(const IssuedToken& t, UnixSeconds now = kNow) {
    return TokenUse{t.token.id, &t.secret, now};
  }
  int UsesLeft(RegistryStorage& storage, const std::string& id) {
    Result<std::optional<Token>> t = storage.FindToken(id);
    EXPECT_TRUE(t.ok() && t->has_value());
    return t.ok() && t->has_value() ? (*t)->uses_left : -1;
  }
  void SetRawSchemaVersion(int version) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE schema_version SET version = ?1", -1, &s, nullptr),
              SQLITE_OK);
    sqlite3_bind_int(s, 1, version);
    EXPECT_EQ(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(db);
  }

  testing::FakeRandom random_{3};
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(StorageTest, CreatesAndReopensKeepingData) {
  IssuedToken t = [&] {
    auto storage = OpenOrDie();
    IssuedToken t = AddToken(*storage, 2);
    EXPECT_TRUE(storage->AddNode(Node(1), Use(t)).ok());
    EXPECT_TRUE(storage->SetSetting("name", "example").ok());
    EXPECT_TRUE(storage->UpsertEndpoints({"node1", R"(["192.0.2.1:51820"])", kNow, ""}).ok());
    return t;
  }();
  auto storage = OpenOrDie();
  ASSERT_TRUE(storage);
  Result<std::optional<NodeRecord>> n = storage->FindNode("node1");
  ASSERT_TRUE(n.ok() && n->has_value());
  EXPECT_EQ(**n, Node(1));
  EXPECT_EQ(UsesLeft(*storage, t.token.id), 1);
  Result<std::optional<std::string>> name = storage->GetSetting("name");
  ASSERT_TRUE(name.ok() && name->has_value());
  EXPECT_EQ(**name, "example");
  Result<std::optional<EndpointsRecord>> e = storage->FindEndpoints("node1");
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_EQ((*e)->endpoints_json, R"(["192.0.2.1:51820"])");
  EXPECT_EQ((*e)->last_seen, kNow);
}

TEST_F(StorageTest, UsesWriteAheadLogging) {
  auto storage = OpenOrDie();
  ASSERT_TRUE(storage);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST_F(StorageTest, MigratesAnEmptyFile) {
  std::ofstream(path_).close();
  ASSERT_EQ(std::filesystem::file_size(path_), 0u);
  auto storage = OpenOrDie();
  ASSERT_TRUE(storage);
  Result<std::vector<NodeRecord>> nodes = storage->ListNodes();
  ASSERT_TRUE(nodes.ok());
  EXPECT_TRUE(nodes->empty());
  Result<int64_t> version = storage->NetworkVersion();
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 0);
}

TEST_F(StorageTest, RefusesANewerSchema) {
  OpenOrDie().reset();
  SetRawSchemaVersion(7);
  Result<std::unique_ptr<RegistryStorage>> s = RegistryStorage::Open(path_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("database schema 7 is newer than this plexus (knows 2)"),
            std::string::npos)
      << s.error().message();
}

TEST_F(StorageTest, RefusesSomethingThatIsNotADatabase) {
  std::ofstream(path_) << "this is not an SQLite database, just some text that is long enough";
  Result<std::unique_ptr<RegistryStorage>> s = RegistryStorage::Open(path_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find(path_), std::string::npos) << s.error().message();
}

TEST_F(StorageTest, SingleUseTokenRefusesASecondUse) {
  auto storage = OpenOrDie();
  IssuedToken t = AddToken(*storage, 1);
  ASSERT_TRUE(storage->AddNode(Node(1), Use(t)).ok());
  Status second = storage->AddNode(Node(2), Use(t));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message(), "AddNode: token " + t.token.id + " has no use left");
  EXPECT_FALSE(storage->FindNode("node2")->has_value());
  EXPECT_EQ(UsesLeft(*storage, t.token.id), 0);
}

TEST_F(StorageTest, NUseTokenAllowsExactlyNUses) {
  auto storage = OpenOrDie();
  IssuedToken t = AddToken(*storage, 3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(storage->AddNode(Node(i), Use(t)).ok()) << i;
  EXPECT_FALSE(storage->AddNode(Node(3), Use(t)).ok());
  EXPECT_EQ(storage->ListNodes()->size(), 3u);
}

TEST_F(StorageTest, ExpiredTokenIsRefused) {
  auto storage = OpenOrDie();
  IssuedToken t = AddToken(*storage, 1);
  Status s = storage->AddNode(Node(1), Use(t, kNow + hours(2)));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "AddNode: token " + t.token.id + " has expired");
  EXPECT_EQ(UsesLeft(*storage, t.token.id), 1);
}

TEST_F(StorageTest, WrongSecretAndUnknownTokenAreRefused) {
  auto storage = OpenOrDie();
  IssuedToken t = AddToken(*storage, 1);
  IssuedToken other = MakeToken(random_, kNow, hours(1), 1, 64);
  Status wrong = storage->AddNode(Node(1), TokenUse{t.token.id, &other.secret, kNow});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message(), "AddNode: wrong token secret");
  Status unknown = storage->AddNode(Node(1), Use(other));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message(), "AddNode: no token " + other.token.id);
  EXPECT_EQ(UsesLeft(*storage, t.token.id), 1);
  EXPECT_TRUE(storage->ListNodes()->empty());
}

TEST_F(StorageTest, TokenFixesThePrefixLength) {
  auto storage = OpenOrDie();
  IssuedToken t = AddToken(*storage, 1, 56);
  Status s = storage->AddNode(Node(1), Use(t));  // a /64
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("grants a /56, not a /64"), std::string::npos);
  NodeRecord n = Node(1);
  n.prefix = P("fd12:3456:789a:100::/56");
  EXPECT_TRUE(storage->AddNode(n, Use(t)).ok());
}

TEST_F(StorageTest, DuplicatePrefixRollsBackTheTokenUse) {
  auto storage = OpenOrDie();
  IssuedToken t = AddToken(*storage, 5);
  ASSERT_TRUE(storage->AddNode(Node(1), Use(t)).ok());
  NodeRecord dup = Node(2);
  dup.prefix = Node(1).prefix;
  Status s = storage->AddNode(dup, Use(t));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "AddNode: UNIQUE constraint failed: nodes.prefix");
  EXPECT_EQ(UsesLeft(*storage, t.token.id), 4);
  EXPECT_FALSE(storage->FindNode("node2")->has_value());
}

TEST_F(StorageTest, DuplicateNameSerialOrIpv4RollsBackTheTokenUse) {
  auto storage = OpenOrDie();
  IssuedToken t = AddToken(*storage, 5);
  ASSERT_TRUE(storage->AddNode(Node(1), Use(t)).ok());
  NodeRecord same_name = Node(2);
  same_name.name = "node1";
  NodeRecord same_serial = Node(3);
  same_serial.serial = Node(1).serial;
  NodeRecord same_ipv4 = Node(4);
  same_ipv4.ipv4 = Node(1).ipv4;
  for (const NodeRecord& n : {same_name, same_serial, same_ipv4}) {
    Status s = storage->AddNode(n, Use(t));
    ASSERT_FALSE(s.ok()) << n.name;
    EXPECT_NE(s.error().message().find("AddNode: UNIQUE constraint failed"), std::string::npos);
  }
  EXPECT_EQ(UsesLeft(*storage, t.token.id), 4);
  EXPECT_EQ(storage->ListNodes()->size(), 1u);
}

TEST_F(StorageTest, AddsNodeWithoutToken) {
  auto storage = OpenOrDie();
  NodeRecord n = Node(0);
  n.ipv4.reset();
  ASSERT_TRUE(storage->AddNode(n, std::nullopt).ok());
  EXPECT_EQ(**storage->FindNode("node0"), n);
}

TEST_F(StorageTest, RevokesByNameAndBySerial) {
  auto storage = OpenOrDie();
  ASSERT_TRUE(storage->AddNode(Node(1), std::nullopt).ok());
  ASSERT_TRUE(storage->AddNode(Node(2), std::nullopt).ok());
  ASSERT_TRUE(storage->RevokeNode("node1", kNow + hours(1)).ok());
  ASSERT_TRUE(storage->RevokeNode(Node(2).serial, kNow + hours(2)).ok());
  // Revoking again keeps the first revocation time.
  ASSERT_TRUE(storage->RevokeNode("node1", kNow + hours(3)).ok());
  NodeRecord n1 = **storage->FindNode("node1");
  NodeRecord n2 = **storage->FindNode("node2");
  EXPECT_TRUE(n1.revoked);
  EXPECT_EQ(n1.revoked_at, kNow + hours(1));
  EXPECT_TRUE(n2.revoked);
  EXPECT_EQ(n2.revoked_at, kNow + hours(2));
  Status missing = storage->RevokeNode("nobody", kNow);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(), "RevokeNode: no node with name or serial nobody");
}

TEST_F(StorageTest, AllocatedPrefixesRebuildTheAllocator) {
  auto storage = OpenOrDie();
  PrefixAllocator allocator(P("fd12:3456:789a::/48"));
  IssuedToken t = AddToken(*storage, 10);
  std::set<Prefix> added;
  for (int i = 0; i < 10; ++i) {
    NodeRecord n = Node(i);
    n.prefix = *allocator.Allocate(64);
    n.ipv4.reset();
    ASSERT_TRUE(storage->AddNode(n, Use(t)).ok());
    added.insert(n.prefix);
  }
  ASSERT_TRUE(storage->RevokeNode("node3", kNow).ok());  // revoked prefixes stay allocated
  Result<std::vector<Prefix>> stored = storage->AllocatedPrefixes();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(std::set<Prefix>(stored->begin(), stored->end()), added);
  PrefixAllocator rebuilt(P("fd12:3456:789a::/48"));
  for (const Prefix& p : *stored) ASSERT_TRUE(rebuilt.Reserve(p).ok());
  EXPECT_EQ(rebuilt.AllocatedBlocks(), allocator.AllocatedBlocks());
}

TEST_F(StorageTest, AllocatedPrefixesIncludeIpv4) {
  auto storage = OpenOrDie();
  ASSERT_TRUE(storage->AddNode(Node(1), std::nullopt).ok());
  Result<std::vector<Prefix>> stored = storage->AllocatedPrefixes();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(std::set<Prefix>(stored->begin(), stored->end()),
            (std::set<Prefix>{Node(1).prefix, *Node(1).ipv4}));
}

TEST_F(StorageTest, TokenCrud) {
  auto storage = OpenOrDie();
  IssuedToken a = AddToken(*storage, 1);
  IssuedToken b = AddToken(*storage, 2, 60);
  Result<std::vector<Token>> all = storage->ListTokens();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  Token found = **storage->FindToken(b.token.id);
  EXPECT_EQ(found.secret_hash, b.token.secret_hash);
  EXPECT_EQ(found.prefix_length, 60);
  EXPECT_EQ(found.expires_at, b.token.expires_at);
  EXPECT_FALSE(storage->AddToken(a.token).ok());  // duplicate id
  ASSERT_TRUE(storage->DeleteToken(a.token.id).ok());
  EXPECT_FALSE(storage->FindToken(a.token.id)->has_value());
  EXPECT_FALSE(storage->DeleteToken(a.token.id).ok());
}

TEST_F(StorageTest, SettingsBumpTheNetworkVersion) {
  auto storage = OpenOrDie();
  EXPECT_FALSE(storage->GetSetting("client_count")->has_value());
  EXPECT_EQ(*storage->SetSetting("client_count", "10"), 1);
  EXPECT_EQ(*storage->SetSetting("client_count", "12"), 2);
  EXPECT_EQ(*storage->SetSetting("max_clients", "30"), 3);
  EXPECT_EQ(**storage->GetSetting("client_count"), "12");
  EXPECT_EQ(*storage->NetworkVersion(), 3);
}

TEST_F(StorageTest, EndpointsUpsertReplacesAndNeedsANode) {
  auto storage = OpenOrDie();
  ASSERT_TRUE(storage->AddNode(Node(1), std::nullopt).ok());
  ASSERT_TRUE(storage->UpsertEndpoints({"node1", "[]", kNow, ""}).ok());
  ASSERT_TRUE(
      storage->UpsertEndpoints({"node1", R"(["[2001:db8::1]:51820"])", kNow + hours(1), ""}).ok());
  EndpointsRecord e = **storage->FindEndpoints("node1");
  EXPECT_EQ(e.endpoints_json, R"(["[2001:db8::1]:51820"])");
  EXPECT_EQ(e.last_seen, kNow + hours(1));
  Status orphan = storage->UpsertEndpoints({"ghost", "[]", kNow, ""});
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.error().message(), "UpsertEndpoints: FOREIGN KEY constraint failed");
}

// A child process adds nodes in a loop, reporting each commit on a pipe, and
// is SIGKILLed mid-way. Every node it reported must be intact, the token's
// uses must match the nodes exactly (no use lost, none consumed twice) and no
// prefix appears twice.
TEST_F(StorageTest, SurvivesSigkillDuringAddNode) {
  constexpr int kUses = 60000;  // Node(i) stays valid up to 65535
  constexpr int kKillAfter = 40;
  IssuedToken t = [&] {
    auto storage = OpenOrDie();
    return AddToken(*storage, kUses);
  }();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    Result<std::unique_ptr<RegistryStorage>> s = RegistryStorage::Open(path_);
    if (!s) _exit(2);
    for (int i = 0; i < kUses; ++i) {
      if (!(*s)->AddNode(Node(i), TokenUse{t.token.id, &t.secret, kNow}).ok()) _exit(3);
      char c = 'x';
      if (write(fds[1], &c, 1) != 1) _exit(4);
    }
    _exit(0);
  }
  close(fds[1]);
  int reported = 0;
  char c;
  while (reported < kKillAfter && read(fds[0], &c, 1) == 1) ++reported;
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  while (read(fds[0], &c, 1) == 1) ++reported;  // commits reported before the kill
  close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  auto storage = OpenOrDie();
  ASSERT_TRUE(storage);
  Result<std::vector<NodeRecord>> nodes = storage->ListNodes();
  ASSERT_TRUE(nodes.ok());
  // The kill may land after a commit but before its report: at most one more.
  ASSERT_GE(static_cast<int>(nodes->size()), reported);
  ASSERT_LE(static_cast<int>(nodes->size()), reported + 1);
  for (int i = 0; i < static_cast<int>(nodes->size()); ++i) {
    Result<std::optional<NodeRecord>> n = storage->FindNode(Node(i).name);
    ASSERT_TRUE(n.ok() && n->has_value()) << i;
    EXPECT_EQ(**n, Node(i));
  }
  Result<std::vector<Prefix>> prefixes = storage->AllocatedPrefixes();
  ASSERT_TRUE(prefixes.ok());
  EXPECT_EQ(std::set<Prefix>(prefixes->begin(), prefixes->end()).size(), prefixes->size());
  EXPECT_EQ(UsesLeft(*storage, t.token.id) + static_cast<int>(nodes->size()), kUses);
  // And the database takes new work.
  EXPECT_TRUE(storage->AddNode(Node(kUses), TokenUse{t.token.id, &t.secret, kNow}).ok());
}

TEST_F(StorageTest, RevokeBumpsTheCrlAndNetworkVersionsOnce) {
  auto storage = OpenOrDie();
  ASSERT_TRUE(storage);
  ASSERT_TRUE(storage->AddNode(Node(1), std::nullopt).ok());
  EXPECT_EQ(*storage->CrlVersion(), 0);
  ASSERT_TRUE(storage->RevokeNode("node1", kNow).ok());
  ASSERT_TRUE(storage->RevokeNode("node1", kNow).ok());
  EXPECT_EQ(*storage->CrlVersion(), 1);
  EXPECT_EQ(*storage->NetworkVersion(), 1);
  EXPECT_EQ(*storage->RevokedSerials(), std::vector<std::string>{Node(1).serial});
}

TEST_F(StorageTest, RenewKeepsTheOldSerialForTheCrl) {
  auto storage = OpenOrDie();
  ASSERT_TRUE(storage);
  ASSERT_TRUE(storage->AddNode(Node(1), std::nullopt).ok());
  Renewal r{"node1", Node(1).serial, "abc123", "pem", kNow + hours(1), kNow + hours(48)};
  ASSERT_TRUE(storage->RenewNode(r).ok());
  EXPECT_EQ((*storage->FindNode("node1"))->serial, "abc123");
  Status again = storage->RenewNode(r);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message(), "RenewNode: node node1 was renewed meanwhile");
  ASSERT_TRUE(storage->RevokeNode("node1", kNow).ok());
  EXPECT_EQ(*storage->RevokedSerials(), (std::vector<std::string>{Node(1).serial, "abc123"}));
  r.old_serial = "abc123";
  EXPECT_FALSE(storage->RenewNode(r).ok()) << "a revoked node is never renewed";
}

TEST_F(StorageTest, UpdateSettingsIsAllOrNothing) {
  auto storage = OpenOrDie();
  ASSERT_TRUE(storage);
  Result<int64_t> v = storage->UpdateSettings([](const SettingsMap&) -> Result<SettingsMap> {
    return SettingsMap{{"a", "1"}, {"b", "2"}};
  });
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 1);
  Result<int64_t> failed = storage->UpdateSettings(
      [](const SettingsMap&) -> Result<SettingsMap> { return MakeError("no"); });
  EXPECT_FALSE(failed.ok());
  v = storage->UpdateSettings([](const SettingsMap& m) -> Result<SettingsMap> {
    SettingsMap next = m;
    next.erase("a");
    next["c"] = "3";
    return next;
  });
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 2);
  EXPECT_EQ(*storage->AllSettings(), (SettingsMap{{"b", "2"}, {"c", "3"}}));
}

TEST_F(StorageTest, RecentEndpointsSkipRevokedAndStaleNodes) {
  auto storage = OpenOrDie();
  ASSERT_TRUE(storage);
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(storage->AddNode(Node(i), std::nullopt).ok());
  ASSERT_TRUE(storage->UpsertEndpoints({"node1", "[]", kNow, "{}"}).ok());
  ASSERT_TRUE(storage->UpsertEndpoints({"node2", "[]", kNow + hours(1), "{}"}).ok());
  ASSERT_TRUE(storage->UpsertEndpoints({"node3", "[]", kNow - hours(5), "{}"}).ok());
  ASSERT_TRUE(storage->RevokeNode("node1", kNow).ok());
  Result<std::vector<EndpointsRecord>> recent = storage->RecentEndpoints(kNow - hours(1), 10);
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ((*recent)[0].node_name, "node2");
  EXPECT_EQ(storage->LastSeen()->size(), 3u);
}

}  // namespace
}  // namespace plexus
