#include "io/netlink.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "io/kernel_tun_device.h"
#include "io/test_netns.h"

namespace plexus::io {
namespace {

Prefix P(std::string_view text) {
  return *Prefix::Parse(text);
}

// Output of a shell command run in the calling thread's netns.
std::string Shell(const std::string& command) {
  std::string out;
  FILE* f = ::popen(command.c_str(), "r");
  if (f == nullptr) return out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  ::pclose(f);
  return out;
}

class NetlinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why_not;
    netns_ = ScopedNetns::Enter(why_not);
    if (!netns_) GTEST_SKIP() << why_not;
    auto nl = Netlink::Open();
    ASSERT_TRUE(nl.ok()) << nl.error().message();
    nl_.emplace(std::move(nl).value());
    auto tun = KernelTunDevice::Open({.name = "plxtest0", .vnet_header = false});
    if (!tun) GTEST_SKIP() << tun.error().message();
    tun_ = std::move(tun).value();
    auto link = nl_->FindLink("plxtest0");
    ASSERT_TRUE(link.ok()) << link.error().message();
    link_ = *link;
  }

  bool HasRoute(const Route& want) {
    auto routes = nl_->ListRoutes(want.destination.family(), want.table);
    EXPECT_TRUE(routes.ok());
    return std::any_of(routes->begin(), routes->end(), [&](const Route& r) {
      return r.destination == want.destination.Network() && r.type == want.type &&
             r.source == (want.source ? std::optional(want.source->Network()) : std::nullopt) &&
             (!want.link || (r.link && r.link->index == want.link->index));
    });
  }

  std::unique_ptr<ScopedNetns> netns_;
  std::optional<Netlink> nl_;
  std::unique_ptr<KernelTunDevice> tun_;
  Link link_;
};

TEST_F(NetlinkTest, FindsLoopbackAndNamesMissingInterface) {
  auto lo = nl_->FindLink("lo");
  ASSERT_TRUE(lo.ok());
  EXPECT_EQ(lo->index, 1);
  EXPECT_TRUE(lo->up);
  auto missing = nl_->FindLink("nosuch0");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("nosuch0"), std::string::npos);
}

TEST_F(NetlinkTest, SetsMtuAndLinkState) {
  EXPECT_FALSE(link_.up);
  ASSERT_TRUE(nl_->SetMtu(link_, 1420).ok());
  ASSERT_TRUE(nl_->SetLinkUp(link_, true).ok());
  auto after = nl_->FindLink("plxtest0");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->mtu, 1420u);
  EXPECT_TRUE(after->up);
  ASSERT_TRUE(nl_->SetLinkUp(link_, false).ok());
  EXPECT_FALSE(nl_->FindLink("plxtest0")->up);
  Status bad = nl_->SetMtu(link_, 10);  // below the IPv4 minimum
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("setting MTU 10 on plxtest0"), std::string::npos);
}

TEST_F(NetlinkTest, AddsListsAndDeletesAddresses) {
  ASSERT_TRUE(nl_->SetLinkUp(link_, true).ok());
  for (Prefix p : {P("fd00:1::1/64"), P("10.42.0.1/24")}) {
    Status s = nl_->AddAddress(link_, p);
    ASSERT_TRUE(s.ok()) << s.error().message();
  }
  auto listed = nl_->ListAddresses(link_);
  ASSERT_TRUE(listed.ok());
  EXPECT_NE(std::find(listed->begin(), listed->end(), P("fd00:1::1/64")), listed->end());
  EXPECT_NE(std::find(listed->begin(), listed->end(), P("10.42.0.1/24")), listed->end());
  // Cross-check with ip(8); NODAD means no "tentative" flag.
  std::string shown = Shell("ip -o addr show dev plxtest0");
  EXPECT_NE(shown.find("inet6 fd00:1::1/64"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("tentative"), std::string::npos) << shown;
  EXPECT_NE(shown.find("inet 10.42.0.1/24"), std::string::npos) << shown;

  Status again = nl_->AddAddress(link_, P("fd00:1::1/64"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(
      again.error().message().rfind("adding address fd00:1::1/64 to plxtest0: File exists", 0), 0u)
      << again.error().message();

  ASSERT_TRUE(nl_->DeleteAddress(link_, P("fd00:1::1/64")).ok());
  ASSERT_TRUE(nl_->DeleteAddress(link_, P("10.42.0.1/24")).ok());
  listed = nl_->ListAddresses(link_);
  EXPECT_EQ(std::find(listed->begin(), listed->end(), P("fd00:1::1/64")), listed->end());
  EXPECT_EQ(std::find(listed->begin(), listed->end(), P("10.42.0.1/24")), listed->end());
}

TEST_F(NetlinkTest, AddsReplacesAndDeletesRoutes) {
  ASSERT_TRUE(nl_->SetLinkUp(link_, true).ok());
  Route v6{.destination = P("fd00:1::2/128"), .link = link_};
  Route v4{.destination = P("10.43.0.0/16"), .link = link_, .metric = 7};
  for (const Route& r : {v6, v4}) {
    Status s = nl_->AddRoute(r);
    ASSERT_TRUE(s.ok()) << s.error().message();
    EXPECT_TRUE(HasRoute(r)) << r.ToString();
  }
  EXPECT_NE(Shell("ip -6 route show dev plxtest0").find("fd00:1::2 "), std::string::npos);
  EXPECT_NE(Shell("ip route show dev plxtest0").find("10.43.0.0/16"), std::string::npos);

  Status again = nl_->AddRoute(v6);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(
      again.error().message().rfind("adding route fd00:1::2/128 dev plxtest0: File exists", 0), 0u)
      << again.error().message();
  EXPECT_TRUE(nl_->ReplaceRoute(v6).ok());

  for (const Route& r : {v6, v4}) {
    Status s = nl_->DeleteRoute(r);
    ASSERT_TRUE(s.ok()) << s.error().message();
    EXPECT_FALSE(HasRoute(r)) << r.ToString();
  }
  EXPECT_FALSE(nl_->DeleteRoute(v6).ok());
}

TEST_F(NetlinkTest, UnreachableAndSourceSpecificRoutes) {
  ASSERT_TRUE(nl_->SetLinkUp(link_, true).ok());
  Route unreachable{.destination = P("fd00:9::/48"), .type = RouteType::kUnreachable};
  Status s = nl_->AddRoute(unreachable);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_TRUE(HasRoute(unreachable));
  EXPECT_NE(Shell("ip -6 route show").find("unreachable fd00:9::/48"), std::string::npos);

  Route from{.destination = P("::/0"), .link = link_, .source = P("fd00:9:1::/64")};
  s = nl_->AddRoute(from);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_TRUE(HasRoute(from));
  EXPECT_NE(Shell("ip -6 route show").find("from fd00:9:1::/64 dev plxtest0"), std::string::npos);

  EXPECT_TRUE(nl_->DeleteRoute(from).ok());
  EXPECT_TRUE(nl_->DeleteRoute(unreachable).ok());
  EXPECT_FALSE(HasRoute(unreachable));
}

TEST_F(NetlinkTest, UnicastRouteWithoutLinkIsRefused) {
  Status s = nl_->AddRoute({.destination = P("fd00:1::/64")});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("fd00:1::/64"), std::string::npos);
}

}  // namespace
}  // namespace plexus::io
