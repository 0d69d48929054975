#include "node/routes_format.h"

#include <fmt/format.h>

namespace plexus::node {

namespace {

std::string Text(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return "-";
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "-";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_unsigned()) return std::to_string(it->get<uint64_t>());
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  if (it->is_number_float()) return fmt::format("{:.2f}", it->get<double>());
  if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
  return "-";
}

// The first characters of a base64 key, enough to tell peers apart.
std::string ShortKey(const std::string& key) {
  return key.size() > 8 ? key.substr(0, 8) + "…" : key;
}

std::string Rtt(const nlohmann::json& j) {
  const std::string ms = Text(j, "rtt_ms");
  return ms == "-" ? ms : ms + " ms";
}

bool Flag(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::string RouteLine(const nlohmann::json& r) {
  const std::string via =
      Flag(r, "local") ? "local"
                       : fmt::format("{} ({})", Text(r, "next_hop"), ShortKey(Text(r, "peer")));
  const std::string metric = Text(r, "metric") == "65535" ? "inf" : Text(r, "metric");
  return fmt::format("{} {:<22} {:<16} {:<36} {:>6} {:>10}  {:<23} {:>5}{}\n",
                     Flag(r, "selected") ? '*' : ' ', Text(r, "prefix"), Text(r, "source_prefix"),
                     via, metric, Rtt(r), Text(r, "router_id"), Text(r, "seqno"),
                     Flag(r, "feasible") || Flag(r, "local") ? "" : "  unfeasible");
}

std::string NeighbourLine(const nlohmann::json& n) {
  return fmt::format("  {:<12} {:<26} {:<8} {:>6} {:>6} {:>6} {:>10}\n", ShortKey(Text(n, "peer")),
                     Text(n, "address"), Text(n, "link"), Text(n, "rxcost"), Text(n, "txcost"),
                     Text(n, "cost"), Rtt(n));
}

const nlohmann::json& List(const nlohmann::json& doc, const char* key) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  if (!doc.is_object()) return kEmpty;
  auto it = doc.find(key);
  return it != doc.end() && it->is_array() ? *it : kEmpty;
}

}  // namespace

std::string FormatRoutes(const nlohmann::json& doc) {
  std::string out = fmt::format("router-id {}  link-local {}\n\n", Text(doc, "router_id"),
                                Text(doc, "link_local"));
  out += fmt::format("neighbours:\n  {:<12} {:<26} {:<8} {:>6} {:>6} {:>6} {:>10}\n", "PEER",
                     "ADDRESS", "LINK", "RXCOST", "TXCOST", "COST", "RTT");
  for (const nlohmann::json& n : List(doc, "neighbours")) out += NeighbourLine(n);
  out += fmt::format("\nroutes (* selected):\n  {:<22} {:<16} {:<36} {:>6} {:>10}  {:<23} {:>5}\n",
                     "PREFIX", "FROM", "VIA (PEER)", "METRIC", "RTT", "ROUTER-ID", "SEQNO");
  for (const nlohmann::json& r : List(doc, "routes")) out += RouteLine(r);
  return out;
}

}  // namespace plexus::node
