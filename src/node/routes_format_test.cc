#include "node/routes_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace plexus::node {
namespace {

using ::testing::HasSubstr;

TEST(RoutesFormatTest, ShowsSelectedRoutesNeighboursAndOwnPrefixes) {
  const auto doc = nlohmann::json::parse(R"({
    "router_id": "01:02:03:04:05:06:07:08", "link_local": "fe80::102:304:506:708",
    "routes": [
      {"prefix": "fd00:a::/64", "source_prefix": null, "local": true, "metric": 0,
       "router_id": "01:02:03:04:05:06:07:08", "seqno": 1, "feasible": true, "selected": false},
      {"prefix": "fd00:b::/64", "source_prefix": null, "local": false, "metric": 352,
       "advertised_metric": 96, "link_cost": 256, "rtt_ms": 0.42, "next_hop": "fe80::b",
       "peer": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3OD0=", "router_id": "0b:0b:0b:0b:0b:0b:0b:0b",
       "seqno": 7, "feasible": true, "selected": true},
      {"prefix": "fd00:c::/64", "source_prefix": "fd00::/48", "local": false, "metric": 65535,
       "next_hop": "fe80::c", "router_id": "0c:0c:0c:0c:0c:0c:0c:0c", "seqno": 2,
       "feasible": false, "selected": false}
    ],
    "neighbours": [
      {"peer": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3OD0=", "address": "fe80::b",
       "link": "up", "rxcost": 256, "txcost": 256, "cost": 256, "rtt_ms": 0.42}
    ]})");
  const std::string text = FormatRoutes(doc);
  EXPECT_THAT(text,
              HasSubstr("router-id 01:02:03:04:05:06:07:08  link-local fe80::102:304:506:708"));
  EXPECT_THAT(text, HasSubstr("* fd00:b::/64"));
  EXPECT_THAT(text, HasSubstr("fe80::b (QUJDREVG…)"));
  EXPECT_THAT(text, HasSubstr("0.42 ms"));
  EXPECT_THAT(text, HasSubstr("  fd00:a::/64"));
  EXPECT_THAT(text, HasSubstr("local"));
  EXPECT_THAT(text, HasSubstr("fd00::/48"));
  EXPECT_THAT(text, HasSubstr("inf"));
  EXPECT_THAT(text, HasSubstr("unfeasible"));
  EXPECT_THAT(text, HasSubstr("up"));
}

TEST(RoutesFormatTest, MalformedDocumentsDoNotThrow) {
  for (const char* text : {"null", "[]", "{}", R"({"routes": 3})", R"({"routes": [1, null]})",
                           R"({"neighbours": [{"rtt_ms": "x"}], "router_id": 5})"}) {
    EXPECT_NO_THROW(FormatRoutes(nlohmann::json::parse(text))) << text;
  }
}

}  // namespace
}  // namespace plexus::node
