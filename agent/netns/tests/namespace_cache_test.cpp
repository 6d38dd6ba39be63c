// NamespaceCache on this host (root): objects opened inside a namespace are reused, never reach a
// namespace re-created under the same name, are closed when the namespace goes, and stay bounded.
#include "netns/namespace_cache.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "testing/testing.h"

namespace nwg::testing {
namespace {

// A UDP socket opened inside a namespace, as the cache's T.
struct Probe {
  UniqueFd socket;
  bool broken = false;
};

// The inode of the namespace a socket operates in, asked of the socket itself (SIOCGSKNS): the
// namespace the kernel acts on, not the one we believe it is in.
Result<ino_t> socketNamespace(int socket_fd) {
  int ns = ::ioctl(socket_fd, SIOCGSKNS);
  if (ns < 0) return Error::fromErrno(errno, "SIOCGSKNS");
  UniqueFd ns_fd(ns);
  struct stat st {};
  if (::fstat(ns_fd.get(), &st) != 0) return Error::fromErrno(errno, "fstat");
  return st.st_ino;
}

ino_t inodeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

class NamespaceCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { NWG_REQUIRE_ROOT(); }
  void TearDown() override {
    for (const auto& name : created_) EXPECT_TRUE(other_.remove(name).ok()) << name;
  }
  std::string track(const std::string& suffix) {
    created_.push_back("nwg-" + runToken() + "-c" + suffix);
    return created_.back();
  }

  NamespaceCache<Probe>::Open opener() {
    return [this](LinuxNamespaces::Pinned& ns) -> Result<Probe> {
      if (fail_next_open_) {
        int code = fail_next_open_;
        fail_next_open_ = 0;
        return Error("injected", code);
      }
      NWG_ASSIGN_OR_RETURN(UniqueFd fd, ns_.openSocket(ns, AF_INET, SOCK_DGRAM, 0));
      return Probe{std::move(fd), false};
    };
  }
  static bool isBroken(const Probe& p) { return p.broken; }
  std::unique_ptr<NamespaceCache<Probe>> makeCache(
      size_t capacity = NamespaceCache<Probe>::kDefaultCapacity) {
    return std::make_unique<NamespaceCache<Probe>>(ns_, opener(), isBroken, capacity);
  }
  // The namespace the cached socket of `name` operates in.
  Result<ino_t> seenThrough(NamespaceCache<Probe>& cache, const std::string& name) {
    return cache.with(name, [](Probe& p) { return socketNamespace(p.socket.get()); });
  }

  LinuxNamespaces ns_;     // the one the cache works with
  LinuxNamespaces other_;  // someone else (`ip netns`, the L3 agent): the cache hears nothing from it
  std::vector<std::string> created_;
  int fail_next_open_ = 0;
};

TEST_F(NamespaceCacheTest, ReusesOneObjectPerNamespace) {
  const std::string a = track("ra");
  const std::string b = track("rb");
  ASSERT_TRUE(other_.create(a).ok());
  ASSERT_TRUE(other_.create(b).ok());
  auto cache = makeCache();
  for (int i = 0; i < 5; ++i) {
    auto in_a = seenThrough(*cache, a);
    ASSERT_TRUE(in_a.ok()) << in_a.error().message;
    EXPECT_EQ(*in_a, inodeOf(ns_.pathOf(a)));
    auto in_b = seenThrough(*cache, b);
    ASSERT_TRUE(in_b.ok()) << in_b.error().message;
    EXPECT_EQ(*in_b, inodeOf(ns_.pathOf(b)));
  }
  EXPECT_EQ(cache->opened(), 2u);
  EXPECT_EQ(cache->size(), 2u);
}

TEST_F(NamespaceCacheTest, NeverReachesANamespaceReCreatedUnderTheSameName) {
  const std::string a = track("re");
  ASSERT_TRUE(other_.create(a).ok());
  auto cache = makeCache();
  auto first = seenThrough(*cache, a);
  ASSERT_TRUE(first.ok()) << first.error().message;
  // Deleted and re-created behind the cache's back. The cached socket keeps the old namespace alive,
  // so a cache that trusted the name would act in it.
  ASSERT_TRUE(other_.remove(a).ok());
  ASSERT_TRUE(other_.create(a).ok());
  const ino_t now = inodeOf(ns_.pathOf(a));
  ASSERT_NE(now, *first);
  auto second = seenThrough(*cache, a);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(*second, now);
  EXPECT_EQ(cache->opened(), 2u);
  EXPECT_EQ(cache->size(), 1u);
}

TEST_F(NamespaceCacheTest, AGoneNamespaceIsENOENTAndNotKept) {
  const std::string a = track("gone");
  ASSERT_TRUE(other_.create(a).ok());
  auto cache = makeCache();
  ASSERT_TRUE(seenThrough(*cache, a).ok());
  ASSERT_TRUE(other_.remove(a).ok());
  auto after = seenThrough(*cache, a);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, ENOENT);
  EXPECT_NE(after.error().message.find(a), std::string::npos) << after.error().message;
  EXPECT_EQ(cache->size(), 0u);
  auto never = seenThrough(*cache, track("never"));
  ASSERT_FALSE(never.ok());
  EXPECT_EQ(never.error().code, ENOENT);
  EXPECT_EQ(cache->size(), 0u);
}

TEST_F(NamespaceCacheTest, RemoveAndListCloseWhatIsHeldInGoneNamespaces) {
  const std::string a = track("la");
  const std::string b = track("lb");
  const std::string c = track("lc");
  for (const auto& n : {a, b, c}) ASSERT_TRUE(other_.create(n).ok());
  auto cache = makeCache();
  for (const auto& n : {a, b, c}) ASSERT_TRUE(seenThrough(*cache, n).ok());
  ASSERT_TRUE(seenThrough(*cache, "").ok());
  EXPECT_EQ(cache->size(), 4u);
  // Removing through the cache's LinuxNamespaces closes at once.
  ASSERT_TRUE(ns_.remove(a).ok());
  EXPECT_EQ(cache->size(), 3u);
  // Removed by someone else: the next list() notices.
  ASSERT_TRUE(other_.remove(b).ok());
  EXPECT_EQ(cache->size(), 3u);
  ASSERT_TRUE(ns_.list().ok());
  EXPECT_EQ(cache->size(), 2u);  // c and the agent's own namespace
  auto in_c = seenThrough(*cache, c);
  ASSERT_TRUE(in_c.ok());
  EXPECT_EQ(*in_c, inodeOf(ns_.pathOf(c)));
}

TEST_F(NamespaceCacheTest, OwnNamespaceIsOpenedOnceOnTheCallersThread) {
  auto cache = makeCache();
  for (int i = 0; i < 3; ++i) {
    auto own = seenThrough(*cache, "");
    ASSERT_TRUE(own.ok()) << own.error().message;
    EXPECT_EQ(*own, inodeOf("/proc/self/ns/net"));
  }
  EXPECT_EQ(cache->opened(), 1u);
}

TEST_F(NamespaceCacheTest, LeastRecentlyUsedMakesRoomBeyondCapacity) {
  const std::string a = track("ca");
  const std::string b = track("cb");
  const std::string c = track("cc");
  for (const auto& n : {a, b, c}) ASSERT_TRUE(other_.create(n).ok());
  auto cache = makeCache(2);
  ASSERT_TRUE(seenThrough(*cache, a).ok());
  ASSERT_TRUE(seenThrough(*cache, b).ok());
  ASSERT_TRUE(seenThrough(*cache, a).ok());  // b is now the least recently used
  ASSERT_TRUE(seenThrough(*cache, c).ok());
  EXPECT_EQ(cache->size(), 2u);
  EXPECT_EQ(cache->opened(), 3u);
  ASSERT_TRUE(seenThrough(*cache, a).ok());  // still held
  EXPECT_EQ(cache->opened(), 3u);
  ASSERT_TRUE(seenThrough(*cache, b).ok());  // evicted: opened again
  EXPECT_EQ(cache->opened(), 4u);
}

TEST_F(NamespaceCacheTest, OutOfDescriptorsGivesBackOlderEntriesAndRetries) {
  const std::string a = track("fa");
  const std::string b = track("fb");
  const std::string c = track("fc");
  for (const auto& n : {a, b, c}) ASSERT_TRUE(other_.create(n).ok());
  auto cache = makeCache();
  ASSERT_TRUE(seenThrough(*cache, a).ok());
  ASSERT_TRUE(seenThrough(*cache, b).ok());
  fail_next_open_ = EMFILE;
  auto in_c = seenThrough(*cache, c);
  ASSERT_TRUE(in_c.ok()) << in_c.error().message;
  EXPECT_EQ(*in_c, inodeOf(ns_.pathOf(c)));
  EXPECT_LT(cache->size(), 3u);
  // Any other failure to open is returned as it is.
  fail_next_open_ = EACCES;
  auto refused = seenThrough(*cache, track("fd"));
  ASSERT_FALSE(refused.ok());
}

TEST_F(NamespaceCacheTest, ABrokenReusedObjectIsReplacedAndTheUseRetriedOnce) {
  const std::string a = track("br");
  ASSERT_TRUE(other_.create(a).ok());
  auto cache = makeCache();
  ASSERT_TRUE(seenThrough(*cache, a).ok());
  int calls = 0;
  auto breakFirst = [&](Probe& p) -> Status {
    if (++calls == 1) {
      p.broken = true;
      return Error("socket broke", EIO);
    }
    return okStatus();
  };
  Status retried = cache->with(a, breakFirst);
  EXPECT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(cache->opened(), 2u);
  EXPECT_EQ(cache->broken(), 1u);

  // Not for uses that must not run twice: the error comes back and the next use gets a new object.
  calls = 0;
  Status once = cache->with(a, breakFirst, NamespaceCache<Probe>::Retry::kNever);
  ASSERT_FALSE(once.ok());
  EXPECT_EQ(once.error().code, EIO);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(cache->size(), 0u);
  ASSERT_TRUE(seenThrough(*cache, a).ok());
  EXPECT_EQ(cache->opened(), 3u);

  // A failure that leaves the object usable (the kernel refused the request) keeps it.
  Status refused = cache->with(a, [](Probe&) -> Status { return Error("refused", EPERM); });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(cache->size(), 1u);
  EXPECT_EQ(cache->opened(), 3u);
}

TEST_F(NamespaceCacheTest, ANewObjectThatBreaksIsNotRetried) {
  const std::string a = track("nb");
  ASSERT_TRUE(other_.create(a).ok());
  auto cache = makeCache();
  int calls = 0;
  Status s = cache->with(a, [&](Probe& p) -> Status {
    ++calls;
    p.broken = true;
    return Error("socket broke", EIO);
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(cache->size(), 0u);
}

// Each cache keeps a few descriptors per namespace; a process allowed few descriptors keeps fewer
// namespaces open rather than run out of descriptors for everything else.
TEST(NamespaceCacheCapacity, FollowsTheDescriptorLimit) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  auto capacityAt = [&](rlim_t soft) {
    rlimit lower = saved;
    lower.rlim_cur = std::min(soft, saved.rlim_max);
    EXPECT_EQ(::setrlimit(RLIMIT_NOFILE, &lower), 0);
    size_t capacity = NamespaceCache<Probe>::capacityForDescriptorLimit();
    EXPECT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
    return capacity;
  };
  EXPECT_EQ(capacityAt(1024), 64u);
  EXPECT_EQ(capacityAt(100), 16u);
  if (saved.rlim_max >= 8192) {
    EXPECT_EQ(capacityAt(8192), NamespaceCache<Probe>::kDefaultCapacity);
  }
}

}  // namespace
}  // namespace nwg::testing
