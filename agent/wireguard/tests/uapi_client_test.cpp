// UapiBackend's socket side without root or wireguard-go: a scripted UAPI server on a socket in a
// temporary directory stands in for the daemon (errno replies, stale sockets, hangs, early replies).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "testing/testing.h"
#include "wireguard/uapi/uapi_backend.h"
#include "wireguard/uapi/uapi_codec.h"
#include "wireguard/uapi/wireguard_go_processes.h"

namespace nwg::wg {
namespace {

// Listens on <dir>/<ifname>.sock and runs `handler` on each accepted connection, in a thread.
class ScriptedUapiServer {
 public:
  using Handler = std::function<void(int fd)>;

  ScriptedUapiServer(const std::string& path, Handler handler, int connections = 1) : path_(path) {
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    EXPECT_EQ(::listen(listen_fd_, 8), 0);
    thread_ = std::thread([this, handler, connections] {
      for (int i = 0; i < connections; ++i) {
        int fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) return;
        handler(fd);
        ::close(fd);
      }
    });
  }
  ~ScriptedUapiServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }

  // Reads one request (up to its blank line) from `fd`.
  static std::string readRequest(int fd) {
    std::string in;
    char buf[65536];
    while (in.find("\n\n") == std::string::npos) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
    }
    return in;
  }
  static void reply(int fd, const std::string& text) {
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }

 private:
  std::string path_;
  int listen_fd_ = -1;
  std::thread thread_;
};

class UapiClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(initCrypto().ok());
    char tmpl[] = "/tmp/nwg-uapi-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    UapiBackendOptions o;
    o.socket_dir = dir_;
    o.wireguard_go = "/nonexistent/wireguard-go";  // nothing here may spawn a daemon
    o.request_timeout = std::chrono::milliseconds(300);
    backend_ = std::make_unique<UapiBackend>(o);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string sock(const std::string& ifname) const { return dir_ + "/" + ifname + ".sock"; }

  std::string dir_;
  std::unique_ptr<UapiBackend> backend_;
  DeviceRef ref_{"", "wg-u1"};
};

TEST_F(UapiClientTest, GetSendsOneRequestAndDecodesTheReply) {
  std::string seen;
  {
    ScriptedUapiServer server(sock("wg-u1"), [&](int fd) {
      seen = ScriptedUapiServer::readRequest(fd);
      ScriptedUapiServer::reply(fd, "listen_port=51820\npublic_key=" + std::string(64, 'a') +
                                        "\nallowed_ip=10.0.0.1/32\nerrno=0\n\n");
    });
    auto d = backend_->get(ref_);
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(d->listen_port, 51820);
    ASSERT_EQ(d->peers.size(), 1u);
  }
  EXPECT_EQ(seen, "get=1\n\n");
}

TEST_F(UapiClientTest, SetSendsTheEncodedUpdate) {
  Device update;
  update.listen_port = 7;
  for (int i = 0; i < 2000; ++i) {  // a request larger than the socket buffers
    Peer p;
    p.public_key = publicKeyOf(generatePrivateKey());
    p.allowed_ips = {IpPrefix::parse("10.0.0.0/8").value()};
    update.peers.push_back(p);
  }
  std::string seen;
  {
    ScriptedUapiServer server(sock("wg-u1"), [&](int fd) {
      seen = ScriptedUapiServer::readRequest(fd);
      ScriptedUapiServer::reply(fd, "errno=0\n\n");
    });
    Status s = backend_->set(ref_, update);
    ASSERT_TRUE(s.ok()) << s.error().message;
  }
  EXPECT_EQ(seen, uapi::encodeSetRequest(update));
}

TEST_F(UapiClientTest, ErrnoRepliesNameTheDeviceAndTheCause) {
  ScriptedUapiServer server(
      sock("wg-u1"),
      [](int fd) {
        ScriptedUapiServer::readRequest(fd);
        ScriptedUapiServer::reply(fd, "errno=-98\n\n");
      },
      2);
  Device update;
  update.listen_port = 51820;
  Status s = backend_->set(ref_, update);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, EADDRINUSE);
  EXPECT_NE(s.error().message.find("wg-u1"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("listen port 51820"), std::string::npos) << s.error().message;

  auto g = backend_->get(ref_);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, EADDRINUSE);
  EXPECT_NE(g.error().message.find("wg-u1"), std::string::npos) << g.error().message;
}

TEST_F(UapiClientTest, EarlyReplyWhileStillWritingIsRead) {
  // wireguard-go answers as soon as a line fails and stops reading; the rest of a large request is
  // never consumed. The errno must still come through (not a write error).
  ScriptedUapiServer server(sock("wg-u1"), [](int fd) {
    char buf[1024];
    ASSERT_GT(::read(fd, buf, sizeof buf), 0);
    ScriptedUapiServer::reply(fd, "errno=-22\n\n");
    ::shutdown(fd, SHUT_RDWR);
  });
  Device update;
  for (int i = 0; i < 20000; ++i) {
    Peer p;
    p.public_key = Key();
    update.peers.push_back(p);
  }
  Status s = backend_->set(ref_, update);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, EINVAL) << s.error().message;
  EXPECT_NE(s.error().message.find("may have been applied"), std::string::npos) << s.error().message;
}

TEST_F(UapiClientTest, MissingSocketIsEnodev) {
  auto g = backend_->get(ref_);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, ENODEV);
  EXPECT_NE(g.error().message.find("wg-u1"), std::string::npos);
  EXPECT_EQ(backend_->set(ref_, Device{}).error().code, ENODEV);
  EXPECT_TRUE(backend_->destroy(ref_).ok());
}

TEST_F(UapiClientTest, StaleSocketIsEnodevAndDestroyRemovesIt) {
  {
    // A socket file whose listener is gone: what `kill -9` of wireguard-go leaves behind.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock("wg-u1").c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  ASSERT_TRUE(std::filesystem::exists(sock("wg-u1")));
  auto g = backend_->get(ref_);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, ENODEV);
  EXPECT_NE(g.error().message.find("stale"), std::string::npos) << g.error().message;
  Status d = backend_->destroy(ref_);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_FALSE(std::filesystem::exists(sock("wg-u1")));
}

TEST_F(UapiClientTest, SilentDaemonTimesOut) {
  ScriptedUapiServer server(sock("wg-u1"), [](int fd) {
    ScriptedUapiServer::readRequest(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(800));  // longer than the 300 ms timeout
  });
  auto start = std::chrono::steady_clock::now();
  auto g = backend_->get(ref_);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, ETIMEDOUT) << g.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(790))
      << "did not wait it out";
}

TEST_F(UapiClientTest, ConnectionClosedWithoutReplyIsAnError) {
  ScriptedUapiServer server(sock("wg-u1"), [](int fd) {
    ScriptedUapiServer::readRequest(fd);
    ScriptedUapiServer::reply(fd, "listen_port=1\n");  // half a reply, then close
  });
  auto g = backend_->get(ref_);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, EPIPE) << g.error().message;
}

TEST_F(UapiClientTest, AnOversizedReplyIsRefused) {
  UapiBackendOptions o;
  o.socket_dir = dir_;
  o.wireguard_go = "/nonexistent/wireguard-go";
  o.request_timeout = std::chrono::milliseconds(2000);
  o.max_reply = 1 << 20;
  UapiBackend small(o);
  ScriptedUapiServer server(sock("wg-u1"), [](int fd) {
    ScriptedUapiServer::readRequest(fd);
    const std::string line = "allowed_ip=10.0.0.1/32\n";
    std::string flood;
    while (flood.size() < (2u << 20)) flood += line;  // 2 MB and no end in sight
    (void)::send(fd, flood.data(), flood.size(), MSG_NOSIGNAL);
  });
  auto g = small.get(ref_);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, EMSGSIZE) << g.error().message;
}

TEST_F(UapiClientTest, MalformedReplyNamesTheDevice) {
  ScriptedUapiServer server(sock("wg-u1"), [](int fd) {
    ScriptedUapiServer::readRequest(fd);
    ScriptedUapiServer::reply(fd, "listen_port=99999\nerrno=0\n\n");
  });
  auto g = backend_->get(ref_);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("device wg-u1: get"), std::string::npos) << g.error().message;
}

TEST_F(UapiClientTest, CreateRefusesALiveSocketAndBadSettings) {
  ScriptedUapiServer server(sock("wg-u1"), [](int) {});
  Status s = backend_->create("wg-u1", {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, EEXIST) << s.error().message;

  EXPECT_EQ(backend_->create("--help", {}).error().code, EINVAL);
  UapiBackendOptions o = backend_->options();
  o.memory_limit = "lots";
  UapiBackend bad(o);
  Status m = bad.create("wg-u2", {});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, EINVAL);
  EXPECT_NE(m.error().message.find("memory limit"), std::string::npos) << m.error().message;
}

TEST_F(UapiClientTest, CreateReportsAMissingBinary) {
  Status s = backend_->create("wg-u3", {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("/nonexistent/wireguard-go"), std::string::npos) << s.error().message;
  EXPECT_FALSE(UapiBackend::available("/nonexistent/wireguard-go"));
  EXPECT_FALSE(UapiBackend::available(""));
}

// A stand-in for wireguard-go: a shell script, so the launch path is tested without root.
class FakeWireguardGoTest : public UapiClientTest {
 protected:
  UapiBackend withScript(const std::string& body) {
    std::string path = dir_ + "/wireguard-go";
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    UapiBackendOptions o = backend_->options();
    o.wireguard_go = path;
    o.memory_limit = "128MiB";
    o.start_timeout = std::chrono::milliseconds(2000);
    return UapiBackend(o);
  }
};

TEST_F(FakeWireguardGoTest, StartFailureCarriesWhatWireguardGoPrinted) {
  UapiBackend b = withScript("echo 'Failed to create TUN device: boom' >&2; exit 1");
  Status s = b.create("wg-u4", {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("wg-u4"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("status 1"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("boom"), std::string::npos) << s.error().message;
}

TEST_F(FakeWireguardGoTest, LaunchedWithACleanEnvironmentInItsOwnSession) {
  ::setenv("WG_PROCESS_FOREGROUND", "0", 1);  // would make a real daemon re-fork forever
  ::setenv("NWG_SECRET_SHOULD_NOT_LEAK", "1", 1);
  UapiBackend b = withScript(
      "echo \"args=$*\"; echo \"cwd=$(pwd)\"; echo \"session=$(cut -d' ' -f6 /proc/$$/stat)\"; "
      "echo \"pid=$$\"; env; exit 3");
  Status s = b.create("wg-u5", {});
  ::unsetenv("WG_PROCESS_FOREGROUND");
  ::unsetenv("NWG_SECRET_SHOULD_NOT_LEAK");
  ASSERT_FALSE(s.ok());
  const std::string& out = s.error().message;
  EXPECT_NE(out.find("status 3"), std::string::npos) << out;
  EXPECT_NE(out.find("args=wg-u5 |"), std::string::npos) << out;
  EXPECT_NE(out.find("cwd=/ |"), std::string::npos) << out;
  // A session leader (session id = its pid): signals to the agent's process group do not reach it.
  size_t sid = out.find("session="), pid = out.find("pid=");
  ASSERT_TRUE(sid != std::string::npos && pid != std::string::npos) << out;
  EXPECT_EQ(out.substr(sid + 8, out.find(' ', sid) - sid - 8),
            out.substr(pid + 4, out.find(' ', pid) - pid - 4))
      << out;
  EXPECT_NE(out.find("GOMEMLIMIT=128MiB"), std::string::npos) << out;
  EXPECT_EQ(out.find("WG_PROCESS_FOREGROUND"), std::string::npos) << out;
  EXPECT_EQ(out.find("NWG_SECRET_SHOULD_NOT_LEAK"), std::string::npos) << out;
  EXPECT_EQ(out.find("LOG_LEVEL"), std::string::npos) << out;
}

TEST_F(FakeWireguardGoTest, LauncherThatLeavesNoSocketIsAnError) {
  UapiBackend b = withScript("exit 0");
  Status s = b.create("wg-u6", {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("does not answer"), std::string::npos) << s.error().message;
}

TEST_F(FakeWireguardGoTest, HungLauncherIsKilledAfterTheStartTimeout) {
  UapiBackendOptions o = backend_->options();
  std::string path = dir_ + "/wireguard-go";
  std::ofstream(path) << "#!/bin/sh\nexec sleep 30\n";
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  o.wireguard_go = path;
  o.start_timeout = std::chrono::milliseconds(300);
  UapiBackend b(o);
  auto start = std::chrono::steady_clock::now();
  Status s = b.create("wg-u7", {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ETIMEDOUT) << s.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(FakeWireguardGoTest, AutoMemoryLimitIsSizedByTheDevicesExpectedPeers) {
  UapiBackendOptions o = withScript("env; exit 3").options();
  o.memory_limit = "auto";
  UapiBackend b(o);
  Status s = b.create("wg-u8", {.expected_peers = 10000});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("GOMEMLIMIT=413MiB"), std::string::npos) << s.error().message;
}

TEST(WireguardGoProcessesTest, AutoMemoryLimitGrowsWithPeers) {
  EXPECT_EQ(uapi::goMemoryLimitFor("auto", 0), "256MiB");
  EXPECT_EQ(uapi::goMemoryLimitFor("auto", 1), "257MiB");  // rounded up to a whole MiB
  EXPECT_EQ(uapi::goMemoryLimitFor("auto", 10000), "413MiB");
  EXPECT_EQ(uapi::goMemoryLimitFor("auto", 100000), "1819MiB");
  EXPECT_EQ(uapi::goMemoryLimitFor("512MiB", 100000), "512MiB");  // an explicit limit is kept
  EXPECT_EQ(uapi::goMemoryLimitFor("off", 10), "off");
}

TEST(WireguardGoProcessesTest, MemoryLimitSyntax) {
  for (const char* ok : {"512MiB", "1GiB", "300000000", "64KiB", "1TiB", "100B", "off", "auto"}) {
    EXPECT_TRUE(uapi::isValidMemoryLimit(ok)) << ok;
  }
  for (const char* bad : {"", "MiB", "1.5GiB", "1GB", "-1", "1 GiB", "1gib", "1GiB\n"}) {
    EXPECT_FALSE(uapi::isValidMemoryLimit(bad)) << bad;
  }
}

}  // namespace
}  // namespace nwg::wg
