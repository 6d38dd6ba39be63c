// UapiBackend against real wireguard-go (root): the daemon's life outside the contract — how it is
// spawned, what survives kill -9, devices moved to other namespaces, thousands of peers.
#include "wireguard/uapi/uapi_backend.h"

#include <gtest/gtest.h>
#include <net/if.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "wireguard/diff.h"
#include "wireguard/tests/integration_support.h"
#include "wireguard/uapi/wireguard_go_processes.h"

namespace nwg::wg {
namespace {

using namespace std::chrono_literals;
namespace ts = testsupport;

class UapiBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = ts::wireguardGoMissing();
    NWG_REQUIRE(missing.empty(), missing);
    ASSERT_TRUE(initCrypto().ok());
    backend_ = std::make_unique<UapiBackend>(ts::testOptions());
  }
  void TearDown() override {
    if (backend_) {
      for (const auto& name : names_) {
        Status s = backend_->destroy(DeviceRef{"", name});
        EXPECT_TRUE(s.ok()) << s.error().message;
      }
    }
    for (const auto& ns : netns_) ts::sh("ip netns del " + ns);
  }

  std::string create() {
    std::string name = ts::freshName();
    names_.push_back(name);
    Status s = backend_->create(name, {});
    EXPECT_TRUE(s.ok()) << s.error().message;
    return name;
  }
  std::string addNetns(const std::string& suffix) {
    std::string ns = str("nwg-", testing::runToken(), "-", suffix);
    EXPECT_EQ(ts::sh("ip netns add " + ns), 0) << ns;
    netns_.push_back(ns);
    return ns;
  }
  std::vector<pid_t> daemonsOf(const std::string& name) {
    uapi::WireguardGoProcesses::Options o;
    o.binary = ts::kWireguardGo;
    return uapi::WireguardGoProcesses(o).findServing(name);
  }
  static std::string socketOf(const std::string& name) { return "/var/run/wireguard/" + name + ".sock"; }

  std::unique_ptr<UapiBackend> backend_;
  std::vector<std::string> names_;
  std::vector<std::string> netns_;
};

TEST_F(UapiBackendTest, DaemonRunsDetachedWithACleanEnvironment) {
  std::string name = create();
  auto pids = daemonsOf(name);
  ASSERT_EQ(pids.size(), 1u);
  pid_t pid = pids[0];
  // Its own session: a signal to the agent's process group cannot reach it.
  EXPECT_NE(::getsid(pid), ::getsid(0));
  EXPECT_NE(::getpgid(pid), ::getpgid(0));
  std::string env = ts::environOf(pid);
  EXPECT_NE(env.find("GOMEMLIMIT=256MiB\n"), std::string::npos) << env;
  // wireguard-go adds WG_PROCESS_FOREGROUND=1 for its daemon child itself; nothing else may be there.
  size_t first = env.find("WG_PROCESS_FOREGROUND=");
  ASSERT_NE(first, std::string::npos) << env;
  EXPECT_EQ(env.substr(first, 24), "WG_PROCESS_FOREGROUND=1\n");
  EXPECT_EQ(env.find("WG_PROCESS_FOREGROUND=", first + 1), std::string::npos) << env;
  EXPECT_EQ(env.find("LOG_LEVEL"), std::string::npos) << "no log_dir: the daemon must not log to our pipe";
  // The link exists here, and the socket answers.
  EXPECT_NE(::if_nametoindex(name.c_str()), 0u);
  EXPECT_TRUE(backend_->get(DeviceRef{"", name}).ok());
}

TEST_F(UapiBackendTest, LogDirReceivesTheDaemonsLogWithoutSecrets) {
  char tmpl[] = "/tmp/nwg-wglog-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  UapiBackendOptions o = ts::testOptions();
  o.log_dir = dir;
  o.log_level = "verbose";
  UapiBackend logging(o);
  std::string name = ts::freshName();
  names_.push_back(name);
  Status s = logging.create(name, {});
  ASSERT_TRUE(s.ok()) << s.error().message;
  Device update;
  update.private_key = generatePrivateKey();
  ASSERT_TRUE(logging.set(DeviceRef{"", name}, update).ok());
  auto pids = daemonsOf(name);
  ASSERT_EQ(pids.size(), 1u);
  EXPECT_NE(ts::environOf(pids[0]).find("LOG_LEVEL=verbose\n"), std::string::npos);
  ASSERT_TRUE(logging.destroy(DeviceRef{"", name}).ok());  // flushes and ends the daemon
  std::ifstream in(dir + "/" + name + ".log");
  std::stringstream log;
  log << in.rdbuf();
  std::filesystem::remove_all(dir);
  EXPECT_NE(log.str().find("UAPI"), std::string::npos) << log.str();
  EXPECT_EQ(log.str().find(update.private_key->toHex()), std::string::npos) << "the private key was logged";
}

TEST_F(UapiBackendTest, KilledDaemonIsReportedMissingAndCanBeRecreated) {
  std::string name = create();
  Device update;
  update.private_key = generatePrivateKey();
  ASSERT_TRUE(backend_->set(DeviceRef{"", name}, update).ok());
  auto pids = daemonsOf(name);
  ASSERT_EQ(pids.size(), 1u);
  ASSERT_EQ(::kill(pids[0], SIGKILL), 0);
  for (int i = 0; i < 200 && ts::processAlive(pids[0]); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_FALSE(ts::processAlive(pids[0]));
  ASSERT_TRUE(std::filesystem::exists(socketOf(name))) << "kill -9 leaves the socket behind";
  // The kernel closes the listener a moment after the process is reaped.
  for (int i = 0; i < 200 && ts::socketAccepts(socketOf(name)); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_FALSE(ts::socketAccepts(socketOf(name)));
  // And removes its tun link (create refuses a name in use) a moment later still: on a loaded
  // machine the link can outlive the listener (seen in CI).
  for (int i = 0; i < 500 && ::if_nametoindex(name.c_str()) != 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(::if_nametoindex(name.c_str()), 0u) << "the tun of a killed wireguard-go stays";

  auto start = std::chrono::steady_clock::now();
  auto got = backend_->get(DeviceRef{"", name});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ENODEV) << got.error().message;
  EXPECT_NE(got.error().message.find("stale"), std::string::npos) << got.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "a stale socket must not hang";

  Status again = backend_->create(name, {});
  ASSERT_TRUE(again.ok()) << again.error().message;
  auto fresh = backend_->get(DeviceRef{"", name});
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_FALSE(fresh->private_key.has_value()) << "a new daemon starts empty";
}

TEST_F(UapiBackendTest, DestroyFindsADeviceMovedToAnotherNamespace) {
  std::string ns = addNetns("mv");
  std::string name = create();
  ASSERT_EQ(ts::sh(str("ip link set ", name, " netns ", ns)), 0);
  EXPECT_EQ(::if_nametoindex(name.c_str()), 0u);
  // The UAPI socket is host-global: the device is still reachable from here.
  EXPECT_TRUE(backend_->get(DeviceRef{ns, name}).ok());
  Status create_again = backend_->create(name, {});
  ASSERT_FALSE(create_again.ok());
  EXPECT_EQ(create_again.error().code, EEXIST) << create_again.error().message;

  auto pids = daemonsOf(name);
  ASSERT_EQ(pids.size(), 1u);
  Status s = backend_->destroy(DeviceRef{ns, name});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_FALSE(ts::processAlive(pids[0]));
  EXPECT_FALSE(std::filesystem::exists(socketOf(name)));
  EXPECT_NE(ts::sh(str("ip -n ", ns, " link show ", name)), 0) << "the link must be gone";
}

TEST_F(UapiBackendTest, DestroyOfAStuckDaemonEscalates) {
  std::string name = create();
  auto pids = daemonsOf(name);
  ASSERT_EQ(pids.size(), 1u);
  ASSERT_EQ(::kill(pids[0], SIGSTOP), 0);  // SIGTERM stays pending; only SIGKILL ends it
  UapiBackendOptions o = ts::testOptions();
  o.stop_timeout = 300ms;
  o.request_timeout = 300ms;
  UapiBackend impatient(o);
  auto got = impatient.get(DeviceRef{"", name});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ETIMEDOUT) << got.error().message;
  Status s = impatient.destroy(DeviceRef{"", name});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_FALSE(ts::processAlive(pids[0]));
  EXPECT_FALSE(std::filesystem::exists(socketOf(name)));
}

TEST_F(UapiBackendTest, FailedListenPortLeavesNoSocketUntilFixed) {
  std::string a = create();
  std::string b = create();
  Device update;
  update.listen_port = 0;  // random
  ASSERT_TRUE(backend_->set(DeviceRef{"", a}, update).ok());
  auto port = backend_->get(DeviceRef{"", a})->listen_port;
  ASSERT_TRUE(port.has_value());
  update.listen_port = port;
  Status s = backend_->set(DeviceRef{"", b}, update);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, EADDRINUSE);
  // wireguard-go's documented quirk: b now has no UDP socket, so the diff re-sends its port.
  auto after = backend_->get(DeviceRef{"", b});
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->listen_port.has_value());
  // Fixing it takes a port that is free: another program may hold the one next to a's, so try the
  // kernel's choices of free ports (each checked by binding it) until one is set.
  Device wanted;
  Status fixed = fail("not tried");
  for (int attempt = 0; attempt < 5 && !fixed.ok(); ++attempt) {
    wanted.listen_port = ts::freeUdpPort();
    Device fix = diff(*after, wanted);
    ASSERT_TRUE(fix.listen_port.has_value());
    fixed = backend_->set(DeviceRef{"", b}, fix);
    if (!fixed.ok()) {
      ASSERT_EQ(fixed.error().code, EADDRINUSE) << fixed.error().message;
    }
  }
  ASSERT_TRUE(fixed.ok()) << fixed.error().message;
  EXPECT_EQ(backend_->get(DeviceRef{"", b})->listen_port, wanted.listen_port);
}

TEST_F(UapiBackendTest, ListenPortSetRightAfterCreateIsReallyBound) {
  // wireguard-go brings a new device up a moment after its socket answers; a port set before that
  // would be accepted without binding. create() waits for the device to be up, so a conflict is
  // reported every time.
  std::string a = create();
  Device update;
  update.listen_port = 0;
  ASSERT_TRUE(backend_->set(DeviceRef{"", a}, update).ok());
  update.listen_port = backend_->get(DeviceRef{"", a})->listen_port;
  ASSERT_TRUE(update.listen_port.has_value());
  for (int i = 0; i < 10; ++i) {
    std::string b = create();
    Status s = backend_->set(DeviceRef{"", b}, update);
    ASSERT_FALSE(s.ok()) << "round " << i << ": a busy port was accepted";
    EXPECT_EQ(s.error().code, EADDRINUSE);
    ASSERT_TRUE(backend_->destroy(DeviceRef{"", b}).ok());
  }
}

TEST_F(UapiBackendTest, TwoThousandPeersThenHalfRemoved) {
  std::string name = create();
  DeviceRef ref{"", name};
  Device wanted;
  wanted.private_key = generatePrivateKey();
  for (uint32_t i = 0; i < 2000; ++i) {
    Peer p;
    p.public_key = publicKeyOf(generatePrivateKey());
    p.allowed_ips = {
        IpPrefix(IpAddress::v4({10, 66, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)}), 32)};
    wanted.peers.push_back(p);
  }
  auto empty = backend_->get(ref);
  ASSERT_TRUE(empty.ok());
  ASSERT_TRUE(backend_->set(ref, diff(*empty, wanted)).ok());
  auto full = backend_->get(ref);
  ASSERT_TRUE(full.ok()) << full.error().message;
  ASSERT_EQ(full->peers.size(), 2000u);
  EXPECT_TRUE(isEmptyUpdate(diff(*full, wanted))) << "read back differs from what was configured";

  wanted.peers.erase(wanted.peers.begin() + 500, wanted.peers.begin() + 1500);
  Device removal = diff(*full, wanted);
  ASSERT_EQ(removal.peers.size(), 1000u);
  for (const Peer& p : removal.peers) ASSERT_TRUE(p.remove);
  ASSERT_TRUE(backend_->set(ref, removal).ok());
  auto half = backend_->get(ref);
  ASSERT_TRUE(half.ok());
  EXPECT_EQ(half->peers.size(), 1000u);
  EXPECT_TRUE(isEmptyUpdate(diff(*half, wanted)));
}

TEST_F(UapiBackendTest, CreateRefusesANameTakenByAnotherLink) {
  // wireguard-go must not be started for a name that a non-WireGuard link already has.
  std::string name = ts::freshName();
  names_.push_back(name);
  // A persistent tun: wireguard-go would even attach to it.
  ASSERT_EQ(ts::sh(str("ip tuntap add dev ", name, " mode tun")), 0);
  Status s = backend_->create(name, {});
  ts::sh(str("ip tuntap del dev ", name, " mode tun"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, EEXIST) << s.error().message;
  EXPECT_NE(s.error().message.find(name), std::string::npos);
}

}  // namespace
}  // namespace nwg::wg
