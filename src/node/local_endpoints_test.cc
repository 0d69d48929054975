#include "node/local_endpoints.h"

#include <gtest/gtest.h>

#include <vector>

#include "identity/peer_record.h"

namespace plexus::node {
namespace {

InterfaceAddress Up(std::string interface, std::string_view address) {
  return {std::move(interface), *IpAddress::Parse(address), true, false};
}

EndpointFilter Port(uint16_t port) {
  EndpointFilter f;
  f.port = port;
  return f;
}

std::vector<std::string> Strings(const std::vector<Endpoint>& endpoints) {
  std::vector<std::string> out;
  out.reserve(endpoints.size());
  for (const Endpoint& e : endpoints) out.push_back(e.ToString());
  return out;
}

TEST(SelectEndpointsTest, KeepsRoutableAddressesWithThePort) {
  std::vector<InterfaceAddress> a = {Up("eth0", "192.0.2.7"), Up("eth0", "2001:db8::7")};
  EXPECT_EQ(Strings(SelectEndpoints(a, Port(51820))),
            (std::vector<std::string>{"192.0.2.7:51820", "[2001:db8::7]:51820"}));
}

TEST(SelectEndpointsTest, DropsLoopbackLinkLocalAndDownInterfaces) {
  std::vector<InterfaceAddress> a = {
      {"lo", *IpAddress::Parse("127.0.0.1"), true, true},
      Up("eth0", "127.0.0.2"),
      Up("eth0", "::1"),
      Up("eth0", "169.254.3.4"),
      Up("eth0", "fe80::1"),
      Up("eth0", "0.0.0.0"),
      {"eth1", *IpAddress::Parse("198.51.100.1"), false, false},
      Up("eth2", "203.0.113.9"),
  };
  EXPECT_EQ(Strings(SelectEndpoints(a, Port(7))), (std::vector<std::string>{"203.0.113.9:7"}));
}

TEST(SelectEndpointsTest, DropsTheTunDeviceAndOverlayAddresses) {
  std::vector<Prefix> overlay = {*Prefix::Parse("fd00:1::/48"), *Prefix::Parse("10.42.0.0/16")};
  std::vector<InterfaceAddress> a = {Up("plexus0", "2001:db8::1"), Up("eth0", "fd00:1:0:5::1"),
                                     Up("eth0", "10.42.0.9"), Up("eth0", "10.43.0.9")};
  EndpointFilter f{.port = 9, .exclude = overlay, .exclude_interface = "plexus0"};
  EXPECT_EQ(Strings(SelectEndpoints(a, f)), (std::vector<std::string>{"10.43.0.9:9"}));
}

TEST(SelectEndpointsTest, NoPortMeansNoEndpoints) {
  std::vector<InterfaceAddress> a = {Up("eth0", "192.0.2.7")};
  EXPECT_TRUE(SelectEndpoints(a, Port(0)).empty());
}

TEST(SelectEndpointsTest, DropsDuplicatesAndCapsTheCount) {
  std::vector<InterfaceAddress> a = {Up("eth0", "192.0.2.1"), Up("eth1", "192.0.2.1")};
  for (int i = 2; i < 40; ++i) a.push_back(Up("eth0", fmt::format("192.0.2.{}", i)));
  std::vector<Endpoint> e = SelectEndpoints(a, Port(1));
  ASSERT_EQ(e.size(), identity::kMaxPeerRecordEndpoints);
  EXPECT_EQ(e[0].ToString(), "192.0.2.1:1");
  EXPECT_EQ(e[1].ToString(), "192.0.2.2:1");
}

TEST(LocalEndpointsTest, ReadsThisHostWithoutLoopback) {
  Result<std::vector<Endpoint>> e = LocalEndpoints(Port(51820));
  ASSERT_TRUE(e.ok()) << e.error().message();
  for (const Endpoint& x : *e) {
    EXPECT_NE(x.address().ToString(), "127.0.0.1");
    EXPECT_NE(x.address().ToString(), "::1");
    EXPECT_EQ(x.port(), 51820);
  }
}

}  // namespace
}  // namespace plexus::node
