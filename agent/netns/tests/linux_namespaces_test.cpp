// LinuxNamespaces on this host (root): the Namespaces contract, iproute2 compatibility in both
// directions, and that setns() never moves the caller's thread.
#include "netns/linux_namespaces.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "netns/tests/namespaces_contract.h"
#include "testing/testing.h"

namespace nwg::testing {

INSTANTIATE_TEST_SUITE_P(Linux, NamespacesContract,
                         ::testing::Values(NamespacesTarget{
                             "linux", [] { return std::make_unique<LinuxNamespaces>(); }, true}),
                         namespacesTargetName);

namespace {

ino_t inodeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

int run(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

bool haveIp() {
  return run("ip -V") == 0;
}

class LinuxNamespacesTest : public ::testing::Test {
 protected:
  void SetUp() override { NWG_REQUIRE_ROOT(); }
  void TearDown() override {
    for (const auto& name : created_) EXPECT_TRUE(ns_.remove(name).ok()) << name;
  }
  std::string track(const std::string& suffix) {
    created_.push_back("nwg-" + runToken() + "-" + suffix);
    return created_.back();
  }
  LinuxNamespaces ns_;
  std::vector<std::string> created_;
};

}  // namespace

TEST_F(LinuxNamespacesTest, IpNetnsExecWorksOnOurNamespace) {
  NWG_REQUIRE(haveIp(), "iproute2's ip");
  const std::string name = track("ipx");
  ASSERT_TRUE(ns_.create(name).ok());
  ASSERT_TRUE(ns_.setSysctl(name, "net/ipv4/ip_forward", "1").ok());
  // `ip netns exec` sees the same namespace: the sysctl we wrote, and a link we make there is ours.
  EXPECT_EQ(run("ip netns exec " + name + " sh -c 'test $(cat /proc/sys/net/ipv4/ip_forward) = 1'"), 0);
  EXPECT_EQ(run("ip netns exec " + name + " ip link set lo up"), 0);
  EXPECT_EQ(run("ip netns list | grep -qx '" + name + "\\( (id: [0-9]*)\\)\\?'"), 0);
}

TEST_F(LinuxNamespacesTest, WeSeeWhatIpNetnsAddMade) {
  NWG_REQUIRE(haveIp(), "iproute2's ip");
  const std::string name = track("ipadd");
  ASSERT_EQ(run("ip netns add " + name), 0);
  EXPECT_TRUE(*ns_.exists(name));
  auto names = ns_.list();
  ASSERT_TRUE(names.ok());
  EXPECT_NE(std::find(names->begin(), names->end(), name), names->end());
  ASSERT_EQ(run("ip netns exec " + name + " sysctl -qw net.ipv4.ip_forward=1"), 0);
  EXPECT_EQ(*ns_.sysctl(name, "net/ipv4/ip_forward"), "1");
  ASSERT_TRUE(ns_.remove(name).ok());
  EXPECT_NE(run("ip netns exec " + name + " true"), 0);
}

TEST_F(LinuxNamespacesTest, RunInJoinsTheNamespaceOnAnotherThread) {
  const std::string name = track("run");
  ASSERT_TRUE(ns_.create(name).ok());
  const ino_t own_before = inodeOf("/proc/thread-self/ns/net");
  const ino_t target = inodeOf(ns_.pathOf(name));
  ASSERT_NE(target, 0u);
  ASSERT_NE(target, own_before);
  ino_t seen = 0;
  pid_t tid = 0;
  ASSERT_TRUE(ns_.runIn(name,
                        [&] {
                          seen = inodeOf("/proc/thread-self/ns/net");
                          tid = gettid();
                          return okStatus();
                        })
                  .ok());
  EXPECT_EQ(seen, target);
  EXPECT_NE(tid, gettid());
  EXPECT_EQ(inodeOf("/proc/thread-self/ns/net"), own_before);  // the caller never moved
}

TEST_F(LinuxNamespacesTest, RunInPropagatesTheFunctionsError) {
  const std::string name = track("err");
  ASSERT_TRUE(ns_.create(name).ok());
  Status s = ns_.runIn(name, [] { return Status(Error("inner", EPERM)); });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, EPERM);
  Status missing = ns_.runIn(track("absent"), [] { return okStatus(); });
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ENOENT);
}

TEST_F(LinuxNamespacesTest, SocketsStayInTheNamespaceTheyWereOpenedIn) {
  NWG_REQUIRE(haveIp(), "iproute2's ip");
  const std::string name = track("sock");
  ASSERT_TRUE(ns_.create(name).ok());
  // A UDP port bound through a socket opened inside the namespace is free in our own namespace.
  auto inside = ns_.openSocket(name, AF_INET, SOCK_DGRAM, 0);
  ASSERT_TRUE(inside.ok()) << inside.error().message;
  ASSERT_EQ(run("ip netns exec " + name + " ip link set lo up"), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(inside->get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(inside->get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int own = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(own, 0);
  EXPECT_EQ(::bind(own, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << "port taken in our namespace";
  ::close(own);
  // And the socket's namespace is the named one.
  ino_t sock_ns = 0;
  ASSERT_TRUE(ns_.runIn(name,
                        [&] {
                          sock_ns = inodeOf("/proc/thread-self/ns/net");
                          return okStatus();
                        })
                  .ok());
  EXPECT_EQ(sock_ns, inodeOf(ns_.pathOf(name)));
}

// The /proc/sys files sysctl() and setSysctl() keep open belong to the namespace they were opened in:
// after the name is deleted and re-created elsewhere (another LinuxNamespaces, as `ip netns` would),
// neither may read or write the old namespace, which the cached files would still reach.
TEST_F(LinuxNamespacesTest, SysctlsNeverReachANamespaceReCreatedUnderTheSameName) {
  const std::string name = track("sysre");
  ASSERT_TRUE(ns_.create(name).ok());
  ASSERT_TRUE(ns_.setSysctl(name, "net/ipv4/ip_forward", "1").ok());
  ASSERT_EQ(*ns_.sysctl(name, "net/ipv4/ip_forward"), "1");

  LinuxNamespaces other;
  ASSERT_TRUE(other.remove(name).ok());
  ASSERT_TRUE(other.create(name).ok());
  auto fresh = ns_.sysctl(name, "net/ipv4/ip_forward");
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_EQ(*fresh, "0") << "read the deleted namespace's value";

  ASSERT_TRUE(ns_.setSysctl(name, "net/ipv4/conf/all/send_redirects", "0").ok());
  // Read without any cache: a thread inside the new namespace opens the file itself.
  std::string seen;
  ASSERT_TRUE(ns_.runIn(name,
                        [&]() -> Status {
                          int fd = ::open("/proc/sys/net/ipv4/conf/all/send_redirects", O_RDONLY | O_CLOEXEC);
                          if (fd < 0) return Error::fromErrno(errno, "open");
                          char buf[16] = {};
                          ssize_t n = ::read(fd, buf, sizeof buf - 1);
                          ::close(fd);
                          if (n > 0) seen.assign(buf, static_cast<size_t>(n));
                          return okStatus();
                        })
                  .ok());
  EXPECT_EQ(seen, "0\n") << "the write went to the deleted namespace";

  // Deleted without a new one: ENOENT, as for a name that never existed.
  ASSERT_TRUE(other.remove(name).ok());
  auto gone = ns_.sysctl(name, "net/ipv4/ip_forward");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ENOENT);
}

TEST_F(LinuxNamespacesTest, OpenNamespaceOfOwnAndNamed) {
  auto own = ns_.openNamespace("");
  ASSERT_TRUE(own.ok());
  auto missing = ns_.openNamespace(track("nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ENOENT);
}

}  // namespace nwg::testing
