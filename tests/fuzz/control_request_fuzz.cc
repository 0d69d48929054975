// libFuzzer target: the control-socket request path, both ends.
//
// The input is what a client sends on one connection before it closes it.
// The server's line handling (ServerLoop::Respond in node/control_server.cc)
// is private to that file, so Respond() below mirrors it: split at '\n',
// strip one '\r', ignore blank lines, parse each line with
// nlohmann::json::parse(line, nullptr, false), answer non-JSON and
// non-objects itself and hand objects to the real Node::HandleRequest (a
// Node over in-memory fakes, made once) before the response is dumped as one
// line. Then the client's side (node/control_client.h, status_format.h):
//   - every response line must parse as a JSON object, and
//     UnwrapControlResponse + FormatStatus of its result must not throw;
//   - each request document, being arbitrary JSON, also goes through
//     UnwrapControlResponse and FormatStatus, as a response from a buggy or
//     hostile node would: FormatStatus never throws on a malformed document.
// A broken property traps; an exception escaping aborts (a libFuzzer crash).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "io/event_loop.h"
#include "node/config.h"
#include "node/control_client.h"
#include "node/control_server.h"
#include "node/node.h"
#include "node/status_format.h"
#include "testing/fake_clock.h"
#include "testing/fake_random.h"
#include "testing/fake_tun.h"
#include "testing/fake_udp.h"

namespace {

using namespace plexus;        // NOLINT(google-build-using-namespace): fuzz harness
using namespace plexus::node;  // NOLINT(google-build-using-namespace)
using nlohmann::json;

constexpr int64_t kNowUnix = 1'700'000'000;

// A node with two peers (one with an endpoint), never started: no threads,
// no sockets beyond the fakes' eventfds.
constexpr std::string_view kConfig = R"([interface]
private_key = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQI="
addresses = ["fd00:1::1/64", "10.0.0.1/24"]
[[peer]]
public_key = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwg="
endpoint = "192.0.2.2:51820"
allowed_prefixes = ["fd00:1::2/128", "10.0.0.2/32"]
persistent_keepalive = 25
[[peer]]
public_key = "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQo="
allowed_prefixes = ["10.1.0.0/16"]
)";

struct Setup {
  testing::FakeClock clock;
  testing::FakeRandom random{1};
  testing::FakeNetwork network;
  std::unique_ptr<io::EventLoop> loop;
  std::unique_ptr<Node> node;

  Setup() {
    Result<Config> config = ParseConfig(kConfig, "fuzz.toml");
    auto loop_or = io::EventLoop::Create(clock);
    auto tun = testing::FakeTun::Create("plx0");
    auto udp = network.Bind(*Endpoint::Parse("192.0.2.1:51820"));
    if (!config || !loop_or || !tun || !udp) __builtin_trap();
    loop = std::move(*loop_or);
    auto created =
        Node::Create(*config, NodeIo{clock, random, *loop, std::move(*tun), std::move(*udp)});
    if (!created) __builtin_trap();
    node = std::move(*created);
  }
};

Node& TheNode() {
  static Setup* setup = new Setup();  // never destroyed: outlives every input
  return *setup->node;
}

std::string ResponseLine(const json& response) {
  return response.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

// The client's view of a response object, or of any document posing as one.
void ReadAsClient(const json& response) {
  if (!response.is_object()) return;
  Result<json> result = UnwrapControlResponse(response);
  if (result) (void)FormatStatus(*result, kNowUnix);
}

// ServerLoop::Respond, with the real handler.
std::string Respond(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return "";
  json request = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) return ResponseLine(ControlError("request is not valid JSON"));
  (void)FormatStatus(request, kNowUnix);
  ReadAsClient(request);
  if (!request.is_object()) return ResponseLine(ControlError("request must be a JSON object"));
  return ResponseLine(TheNode().HandleRequest(request));
}

void CheckResponse(const std::string& line) {
  if (line.empty()) return;
  if (line.back() != '\n' || line.find('\n') != line.size() - 1) __builtin_trap();
  json response = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (response.is_discarded() || !response.is_object()) __builtin_trap();
  auto ok = response.find("ok");
  if (ok == response.end() || !ok->is_boolean()) __builtin_trap();
  ReadAsClient(response);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (!in.empty()) {
    size_t nl = in.find('\n');
    std::string_view line = in.substr(0, nl);  // the last line may lack its '\n'
    CheckResponse(Respond(line));
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
  }
  return 0;
}
