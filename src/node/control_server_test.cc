#include "node/control_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "node/control_client.h"
#include "testing/temp_dir.h"

namespace plexus::node {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

// Answers {"command":"status"} with a fixed result and counts calls.
class ControlServerTest : public ::testing::Test {
 protected:
  ControlHandler Handler() {
    return [this](const json& request) {
      ++calls_;
      if (request.value("command", "") == "status") return ControlOk({{"peers", json::array()}});
      return ControlError("unknown command");
    };
  }

  std::unique_ptr<ControlServer> StartServer(ControlServerOptions options = {}) {
    auto server = ControlServer::Start(path_, Handler(), options);
    EXPECT_TRUE(server) << server.error().message();
    return server ? std::move(*server) : nullptr;
  }

  // A raw connection for sending arbitrary bytes.
  int RawConnect() {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    return fd;
  }

  // Reads until a newline, EOF or 3 s; returns what was read.
  static std::string ReadLine(int fd) {
    std::string out;
    char c;
    pollfd p{fd, POLLIN, 0};
    while (poll(&p, 1, 3000) == 1 && read(fd, &c, 1) == 1) {
      out += c;
      if (c == '\n') break;
    }
    return out;
  }

  static void SendAll(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(static_cast<size_t>(n));
    }
  }

  // True when the server closed `fd` (read returns EOF or an error) within 5 s.
  static bool ClosedByPeer(int fd) {
    char buf[256];
    pollfd p{fd, POLLIN, 0};
    while (poll(&p, 1, 5000) == 1) {
      if (read(fd, buf, sizeof buf) <= 0) return true;
    }
    return false;
  }

  testing::TempDir dir_{"plexus-ctl"};
  std::string path_ = dir_.File("run/plexus/plx0.sock");
  std::atomic<int> calls_{0};
};

TEST_F(ControlServerTest, StatusRoundTrip) {
  auto server = StartServer();
  auto client = ControlClient::Connect(path_);
  ASSERT_TRUE(client) << client.error().message();
  auto result = client->Request({{"command", "status"}});
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(*result, json({{"peers", json::array()}}));
  EXPECT_EQ(calls_, 1);
}

TEST_F(ControlServerTest, SeveralRequestsOnOneConnection) {
  auto server = StartServer();
  auto client = ControlClient::Connect(path_);
  ASSERT_TRUE(client) << client.error().message();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(client->Request({{"command", "status"}}));
  auto bad = client->Request({{"command", "frobnicate"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "unknown command");
  EXPECT_EQ(calls_, 4);
}

TEST_F(ControlServerTest, PipelinedRequestsAreAnsweredInOrder) {
  auto server = StartServer();
  int fd = RawConnect();
  SendAll(fd, "{\"command\":\"status\"}\n{\"command\":\"x\"}\n");
  EXPECT_THAT(ReadLine(fd), HasSubstr("\"ok\":true"));
  EXPECT_THAT(ReadLine(fd), HasSubstr("unknown command"));
  close(fd);
}

TEST_F(ControlServerTest, CreatesDirectoryAndSocketWithModes) {
  auto server = StartServer();
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  ASSERT_EQ(stat(dir_.File("run/plexus").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
}

TEST_F(ControlServerTest, BadJsonGetsAnErrorAndTheConnectionStaysUsable) {
  auto server = StartServer();
  int fd = RawConnect();
  SendAll(fd, "{not json\n");
  EXPECT_THAT(ReadLine(fd), HasSubstr("{\"error\":\"request is not valid JSON\",\"ok\":false}"));
  SendAll(fd, "[1,2]\n");
  EXPECT_THAT(ReadLine(fd), HasSubstr("request must be a JSON object"));
  SendAll(fd, "{\"command\":\"status\"}\r\n");
  EXPECT_THAT(ReadLine(fd), HasSubstr("\"ok\":true"));
  EXPECT_EQ(calls_, 1);
  close(fd);
}

TEST_F(ControlServerTest, OversizedLineIsRefusedAndClosed) {
  auto server = StartServer();
  int fd = RawConnect();
  SendAll(fd, std::string(64 * 1024 + 100, 'x'));
  EXPECT_THAT(ReadLine(fd), HasSubstr("request line is longer than 65536 bytes"));
  EXPECT_TRUE(ClosedByPeer(fd));
  close(fd);
  EXPECT_EQ(calls_, 0);
  // The server is still fine.
  auto client = ControlClient::Connect(path_);
  ASSERT_TRUE(client);
  EXPECT_TRUE(client->Request({{"command", "status"}}));
}

TEST_F(ControlServerTest, StalledClientIsDropped) {
  auto server = StartServer({.stall_timeout = std::chrono::milliseconds(100)});
  int fd = RawConnect();
  SendAll(fd, "{\"command\":");  // and then nothing
  EXPECT_TRUE(ClosedByPeer(fd));
  close(fd);
}

TEST_F(ControlServerTest, IdleClientIsDropped) {
  auto server = StartServer({.idle_timeout = std::chrono::milliseconds(100)});
  int fd = RawConnect();
  EXPECT_TRUE(ClosedByPeer(fd));
  close(fd);
}

TEST_F(ControlServerTest, LastLineWithoutNewlineIsAnsweredAtEndOfInput) {
  auto server = StartServer();
  int fd = RawConnect();
  SendAll(fd, "{\"command\":\"status\"}");
  shutdown(fd, SHUT_WR);
  EXPECT_THAT(ReadLine(fd), HasSubstr("\"ok\":true"));
  close(fd);
}

TEST_F(ControlServerTest, HandlerExceptionBecomesAnErrorResponse) {
  auto server =
      ControlServer::Start(path_, [](const json&) -> json { throw std::runtime_error("boom"); });
  ASSERT_TRUE(server);
  auto client = ControlClient::Connect(path_);
  ASSERT_TRUE(client);
  auto result = client->Request({{"command", "status"}});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(), "internal error: boom");
}

TEST_F(ControlServerTest, StopRemovesTheSocketFile) {
  auto server = StartServer();
  ASSERT_TRUE(std::filesystem::exists(path_));
  server->Stop();
  EXPECT_FALSE(std::filesystem::exists(path_));
  server->Stop();  // idempotent
}

TEST_F(ControlServerTest, DestructorRemovesTheSocketFile) {
  StartServer().reset();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(ControlServerTest, SecondServerOnTheSamePathIsRefused) {
  auto first = StartServer();
  auto second = ControlServer::Start(path_, Handler());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().message(),
            fmt::format("control socket {} is in use by another plexus node", path_));
  // The first server still works and keeps its file.
  auto client = ControlClient::Connect(path_);
  ASSERT_TRUE(client);
  EXPECT_TRUE(client->Request({{"command", "status"}}));
}

TEST_F(ControlServerTest, StaleSocketFileIsReplaced) {
  std::filesystem::create_directories(dir_.File("run/plexus"));
  {
    // Bind and close without unlinking: what a crashed node leaves behind.
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    close(fd);
  }
  ASSERT_TRUE(std::filesystem::exists(path_));
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = ControlClient::Connect(path_);
  ASSERT_TRUE(client) << client.error().message();
  EXPECT_TRUE(client->Request({{"command", "status"}}));
}

TEST_F(ControlServerTest, RegularFileInTheWayIsNotRemoved) {
  std::filesystem::create_directories(dir_.File("run/plexus"));
  std::ofstream(path_) << "precious";
  auto server = ControlServer::Start(path_, Handler());
  ASSERT_FALSE(server);
  EXPECT_THAT(server.error().message(), HasSubstr("exists and is not a socket"));
  EXPECT_TRUE(std::filesystem::exists(path_));
}

TEST_F(ControlServerTest, ClientExplainsThatTheNodeIsNotRunning) {
  auto client = ControlClient::Connect(path_);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().message(),
            fmt::format("cannot connect to {}: No such file or directory — is `plexus node` "
                        "running?",
                        path_));
}

TEST_F(ControlServerTest, ClientTimesOutWhenTheNodeDoesNotAnswer) {
  std::atomic<bool> release{false};
  auto server = ControlServer::Start(path_, [&](const json&) {
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return ControlOk(nullptr);
  });
  ASSERT_TRUE(server);
  auto client = ControlClient::Connect(path_, std::chrono::milliseconds(100));
  ASSERT_TRUE(client);
  auto result = client->Call({{"command", "status"}});
  release = true;
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message(), HasSubstr("did not answer within 100 ms"));
}

TEST(UnwrapControlResponseTest, UnwrapsResultAndError) {
  EXPECT_EQ(*UnwrapControlResponse(ControlOk({{"a", 1}})), json({{"a", 1}}));
  EXPECT_EQ(UnwrapControlResponse(ControlError("nope")).error().message(), "nope");
  EXPECT_FALSE(UnwrapControlResponse(json::object()));
  EXPECT_FALSE(UnwrapControlResponse(json::array()));
}

}  // namespace
}  // namespace plexus::node
